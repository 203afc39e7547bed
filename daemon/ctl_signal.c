/* ctl_signal.c - waits that end cleanly on SIGINT (see ctl_signal.h). */
#include "ctl_signal.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

static volatile sig_atomic_t interrupted;
static int initialized;
static sigset_t wait_mask; /* the mask during ppoll: SIGINT let through */

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

int ctl_signal_init(void)
{
	struct sigaction sa = { 0 };
	sigset_t block;

	if (initialized)
		return 0;
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigprocmask(SIG_BLOCK, &block, &wait_mask) != 0)
		return CRAWL_ESYS;
	sigdelset(&wait_mask, SIGINT);
	initialized = 1;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctl_signal_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	for (;;) {
		struct timespec ts, *tsp = NULL;
		int64_t left = 0;
		int n;

		if (interrupted)
			return CRAWL_ECANCELLED;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000;
			tsp = &ts;
		}
		n = ppoll(fds, nfds, tsp, initialized ? &wait_mask : NULL);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return CRAWL_ESYS;
	}
}

int ctl_signal_sleep(int ms)
{
	int64_t deadline = now_ms() + ms;
	int rc;

	do {
		int64_t left = deadline - now_ms();

		rc = ctl_signal_poll(NULL, 0, left > 0 ? (int)left : 0);
		if (rc < 0)
			return rc;
	} while (now_ms() < deadline);
	return 0;
}

int ctl_signal_interrupted(void)
{
	return interrupted;
}
