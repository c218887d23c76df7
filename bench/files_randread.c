/* SPDX-License-Identifier: MIT */
/*
 * files_randread - random 4 KiB reads from a file in the page cache:
 * corio with QD reads in flight (QD tasks on one loop) against a plain
 * pread(2) loop, in the same process, on the same file and offsets.
 *
 * Usage: files_randread FILE [--reads N] [--qd N] [--runs N]
 * FILE must exist (bench/files.sh makes a 256 MiB one and reads it once so
 * it is cached).  Each run does N reads per method; the two methods take
 * turns so a noisy neighbour hurts both.  Prints name=value lines: the
 * median IOPS and CPU time per read of each, and the ratio corio/pread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>

#define BLOCK 4096

struct bench {
	int fd;
	uint64_t blocks;	/* file size / BLOCK */
	uint64_t reads;		/* to do per run */
	uint64_t issued;	/* corio: reads claimed so far */
	uint64_t errors;
};

/* xorshift64*: cheap, and the same sequence for every method. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_pread(struct bench *b)
{
	static char buf[BLOCK] __attribute__((aligned(BLOCK)));
	uint64_t seed = 0x9e3779b97f4a7c15ull, i;

	for (i = 0; i < b->reads; i++) {
		off_t off = (off_t)(next_rand(&seed) % b->blocks) * BLOCK;

		if (pread(b->fd, buf, BLOCK, off) != BLOCK)
			b->errors++;
	}
	return 0;
}

corio_async_static(int, reader, ((struct bench *, b), (uint64_t, seed)), (
	int64_t off;
	ssize_t n;
	char buf[BLOCK];
))
{
	corio_begin();
	while (self->b->issued < self->b->reads) {
		self->b->issued++;
		self->off = (int64_t)(next_rand(&self->seed) %
				      self->b->blocks) * BLOCK;
		corio_await(self->n, corio_read, self->b->fd, self->buf, BLOCK,
			    self->off);
		if (self->n != BLOCK)
			self->b->errors++;
	}
	corio_return(0);
corio_finally:
	corio_end();
}

static int run_corio(struct corio_loop *loop, struct bench *b, int qd)
{
	int i, ret;

	b->issued = 0;
	for (i = 0; i < qd; i++) {
		ret = corio_spawn(loop, reader__start(NULL, b,
				  0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
				  NULL), NULL);
		if (ret < 0)
			return ret;
	}
	return corio_loop_run(loop);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double iops[2][64], cpu[2][64];
	struct corio_loop *loop;
	struct bench b = { .reads = 200000 };
	struct stat st;
	int qd = 32, runs = 5, i, m, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: files_randread FILE [--reads N] "
			"[--qd N] [--runs N]\n");
		return 2;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--reads"))
			b.reads = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--qd"))
			qd = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			runs = atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc || !b.reads || qd < 1 || qd > 4096 || runs < 1 ||
	    runs > 64) {
		fprintf(stderr, "files_randread: bad arguments\n");
		return 2;
	}
	b.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (b.fd < 0 || fstat(b.fd, &st) < 0 || st.st_size < BLOCK) {
		fprintf(stderr, "files_randread: %s: %s\n", argv[1],
			b.fd < 0 ? strerror(errno) : "too small");
		return 1;
	}
	b.blocks = (uint64_t)st.st_size / BLOCK;
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "files_randread: %s\n",
			corio_loop_unavailable_reason());
		return 1;
	}
	for (i = 0; i < runs; i++) {
		for (m = 0; m < 2; m++) {
			double t0 = now_s(), c0 = cpu_s(), t, c;

			ret = m == 0 ? run_pread(&b) : run_corio(loop, &b, qd);
			t = now_s() - t0;
			c = cpu_s() - c0;
			if (ret < 0) {
				fprintf(stderr, "files_randread: %s\n",
					corio_strerror(ret));
				return 1;
			}
			iops[m][i] = (double)b.reads / t;
			cpu[m][i] = c * 1e9 / (double)b.reads;
		}
	}
	corio_loop_destroy(loop);
	close(b.fd);
	if (b.errors) {
		fprintf(stderr, "files_randread: %llu short reads\n",
			(unsigned long long)b.errors);
		return 1;
	}
	{
		double pi = median(iops[0], runs), ci = median(iops[1], runs);
		double pc = median(cpu[0], runs), cc = median(cpu[1], runs);

		printf("randread_file_mib=%lld\n",
		       (long long)(st.st_size >> 20));
		printf("randread_reads_per_run=%llu\nrandread_runs=%d\n",
		       (unsigned long long)b.reads, runs);
		printf("randread_pread_iops=%.0f\n", pi);
		printf("randread_pread_cpu_ns_per_read=%.0f\n", pc);
		printf("randread_corio_qd%d_iops=%.0f\n", qd, ci);
		printf("randread_corio_qd%d_cpu_ns_per_read=%.0f\n", qd, cc);
		printf("randread_corio_vs_pread_iops_ratio=%.2f\n", ci / pi);
		printf("randread_corio_vs_pread_cpu_ratio=%.2f\n", cc / pc);
	}
	return 0;
}
