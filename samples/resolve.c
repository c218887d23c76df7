/* SPDX-License-Identifier: MIT */
/*
 * resolve - look up every name on the command line at once and print the
 * addresses, in the order the names were given.
 *
 *	resolve [-s SERVERS] [-l LOOKUPS] [-4 | -6] NAME...
 *
 * -s takes c-ares's server list ("127.0.0.1:5353,[::1]:53"), -l the lookup
 * order ("fb": hosts file then DNS; "f"; "b").  Without them the system's
 * configuration applies.  Exits 1 if any name failed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <corio.h>
#include <corio/async.h>
#include <corio/dns.h>

struct job {
	const char *name;
	int ret;			/* count or -errno */
	struct corio_addrinfo *list;
};

corio_async(int, lookup, ((struct corio_resolver *, res),
			  (struct job *, job), (int, family)), ())
{
	corio_begin();
	corio_await(self->job->ret, corio_resolve, self->res, self->job->name,
		    NULL, self->family, &self->job->list);
	corio_return(self->job->ret);
corio_finally:
	corio_end();
}

static void print_job(const struct job *job)
{
	const struct corio_addrinfo *ai;
	char buf[INET6_ADDRSTRLEN];

	if (job->ret < 0) {
		printf("%s: %s\n", job->name, corio_resolve_strerror(job->ret));
		return;
	}
	for (ai = job->list; ai; ai = ai->next) {
		const void *a = ai->family == AF_INET ?
			(const void *)&((const struct sockaddr_in *)
					(const void *)&ai->addr)->sin_addr :
			(const void *)&((const struct sockaddr_in6 *)
					(const void *)&ai->addr)->sin6_addr;

		printf("%s %s\n", job->name,
		       inet_ntop(ai->family, a, buf, sizeof(buf)));
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: resolve [-s SERVERS] [-l LOOKUPS] [-4|-6] NAME...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct corio_resolver_opts opts = { 0 };
	struct corio_resolver *res;
	struct corio_loop *loop;
	struct job *jobs;
	int family = AF_UNSPEC, opt, i, n, ret, failed = 0;

	while ((opt = getopt(argc, argv, "s:l:46")) != -1) {
		switch (opt) {
		case 's':
			opts.servers = optarg;
			break;
		case 'l':
			opts.lookups = optarg;
			break;
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		default:
			return usage();
		}
	}
	n = argc - optind;
	if (n <= 0)
		return usage();
	jobs = calloc((size_t)n, sizeof(*jobs));
	if (!jobs)
		return 1;
	ret = corio_loop_create(&loop, NULL);
	if (ret < 0) {
		fprintf(stderr, "resolve: %s\n", corio_loop_unavailable_reason());
		free(jobs);
		return 1;
	}
	ret = corio_resolver_create(&res, &opts);
	if (ret < 0) {
		fprintf(stderr, "resolve: %s\n", corio_strerror(ret));
		corio_loop_destroy(loop);
		free(jobs);
		return 1;
	}
	/* One task per name: the queries are all in flight together. */
	for (i = 0; i < n; i++) {
		jobs[i].name = argv[optind + i];
		ret = corio_spawn(loop, lookup__start(NULL, res, &jobs[i],
						      family, NULL), NULL);
		if (ret < 0)
			jobs[i].ret = ret;
	}
	ret = corio_loop_run(loop);
	if (ret < 0)
		fprintf(stderr, "resolve: %s\n", corio_strerror(ret));
	for (i = 0; i < n; i++) {
		print_job(&jobs[i]);
		failed |= jobs[i].ret < 0;
		corio_addrinfo_free(jobs[i].list);
	}
	corio_resolver_destroy(res);
	corio_loop_destroy(loop);
	free(jobs);
	return ret < 0 || failed;
}
