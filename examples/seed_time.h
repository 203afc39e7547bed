/* seed_time.h - the two clocks the seed's asyncio examples use: Python's
 * time.time() for the elapsed line, and time.sleep(), which blocks the
 * whole thread (the contrast to task_sleep, which blocks one task). */
#ifndef CRAWL_EXAMPLES_SEED_TIME_H
#define CRAWL_EXAMPLES_SEED_TIME_H

#include <time.h>

static inline double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* time.sleep: blocks the thread, not only the coroutine. */
static inline void blocking_sleep(double seconds)
{
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

#endif
