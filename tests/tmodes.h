/* tmodes.h - running one cmocka group in both coroutine stack modes.
 *
 * The runtime promises that dedicated and shared-stack coroutines pass the
 * same tests; suites run each group twice through these setups. */
#ifndef CRAWL_TMODES_H
#define CRAWL_TMODES_H

/* cmocka group setups: coro_default_shared(0) / (1) for this thread. */
int tmodes_setup_dedicated(void **state);
int tmodes_setup_shared(void **state);

#endif
