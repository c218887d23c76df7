/* A request router with a handler table: each route holds a pointer to an
 * async handler, the dispatcher awaits through it, and a middleware chain
 * awaits the next handler through a pointer too.  Several requests are
 * served by concurrent tasks, each handler suspending in the middle. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <corio/await.h>

struct req {
	const char *method;
	const char *path;
	int arg;
	char reply[64];
};

/* The type of every handler: `handler_fn *` is awaited like a call. */
typedef async int handler_fn(struct req *);
/* Observers, through a pointer typedef. */
typedef async void (*observer_ptr)(const struct req *, int status);

struct route {
	const char *method;
	const char *path;
	handler_fn *handler;
};

static async int get_time(struct req *r);
static async int put_value(struct req *r);
static async int not_found(struct req *r);

static int stored = 5;

static const struct route routes[] = {
	{ "GET", "/time", get_time },
	{ "PUT", "/value", &put_value },
};

static async int get_time(struct req *r)
{
	await corio_sleep(CORIO_MS(1));
	snprintf(r->reply, sizeof r->reply, "time %d", 42 + r->arg);
	return 200;
}

static async int put_value(struct req *r)
{
	await corio_yield();
	if (r->arg < 0)
		corio_throw(-EINVAL);
	stored = r->arg;
	snprintf(r->reply, sizeof r->reply, "stored %d", stored);
	return 201;
}

static async int not_found(struct req *r)
{
	await corio_yield();
	snprintf(r->reply, sizeof r->reply, "no %s %s", r->method, r->path);
	return 404;
}

/* Middleware: logs around the next handler, which it gets as a pointer. */
static async int logged(handler_fn *next, struct req *r)
{
	int status = await next(r);

	printf("%s %s -> %d\n", r->method, r->path, status);
	return status;
}

static async void count_status(const struct req *r, int status)
{
	static int seen;

	await corio_yield();
	seen++;
	printf("observer %d: %s %d\n", seen, r->path, status);
}

static handler_fn *lookup(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (!strcmp(routes[i].method, method) &&
		    !strcmp(routes[i].path, path))
			return routes[i].handler;
	return not_found;
}

async int serve(struct req *r)
{
	handler_fn *h = lookup(r->method, r->path);
	observer_ptr observers[2] = { count_status, count_status };
	int status = await logged(h, r);

	for (int i = 0; i < 2; i++)
		await observers[i](r, status);
	return status;
}

int main(void)
{
	struct req reqs[] = {
		{ "GET", "/time", 1, "" },
		{ "PUT", "/value", 9, "" },
		{ "GET", "/missing", 0, "" },
		{ "PUT", "/value", -1, "" },
	};
	enum { N = sizeof reqs / sizeof reqs[0] };
	struct corio_loop *loop;
	struct corio_task *t[N];
	int result[N], status[N];

	if (corio_loop_create(&loop, NULL) < 0)
		return 77;
	for (int i = 0; i < N; i++) {
		result[i] = -1;
		if (corio_spawn(loop, serve__start(NULL, &reqs[i], &result[i]),
				&t[i]) < 0)
			return 3;
	}
	if (corio_loop_run(loop) < 0)
		return 3;
	for (int i = 0; i < N; i++) {
		corio_task_reap(t[i], &status[i]);
		printf("%s %s: %d status %d \"%s\"\n", reqs[i].method,
		       reqs[i].path, result[i], status[i], reqs[i].reply);
	}
	printf("stored=%d\n", stored);
	return corio_loop_destroy(loop) == 0 ? 0 : 4;
}
