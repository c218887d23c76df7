/* SPDX-License-Identifier: MIT */
/* consumer dns - uses an installed corio_dns: resolves localhost from the
 * hosts file (the only server named is a closed local port). */
#include <stdio.h>

#include <corio.h>
#include <corio/async.h>
#include <corio/dns.h>

corio_async(int, look, ((struct corio_resolver *, res)), (
	struct corio_addrinfo *list;
	int n;
))
{
	corio_begin();
	corio_await(self->n, corio_resolve, self->res, "localhost", NULL,
		    AF_INET, &self->list);
	corio_addrinfo_free(self->list);
	corio_return(self->n);
corio_finally:
	corio_end();
}

int main(void)
{
	struct corio_resolver_opts opts = { .servers = "127.0.0.1:1",
					    .lookups = "f" };
	struct corio_resolver *res;
	struct corio_loop *loop;
	int n = 0, ret = corio_loop_create(&loop, NULL);

	if (ret < 0) {
		printf("ok dns (%s)\n", corio_loop_unavailable_reason());
		return 0;
	}
	if (corio_resolver_create(&res, &opts) < 0)
		return 1;
	corio_spawn(loop, look__start(NULL, res, &n), NULL);
	ret = corio_loop_run(loop);
	corio_resolver_destroy(res);
	corio_loop_destroy(loop);
	if (ret || n != 1)
		return 1;
	printf("ok dns\n");
	return 0;
}
