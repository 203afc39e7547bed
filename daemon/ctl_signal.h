/* ctl_signal.h - crawlctl's Ctrl-C: waits that end cleanly on SIGINT.
 *
 * ctl_signal_init blocks SIGINT and installs a handler that only records
 * it. From then on SIGINT is delivered only inside ctl_signal_poll and
 * ctl_signal_sleep, which unblock it atomically for the wait (ppoll), so a
 * Ctrl-C that arrives between a check and a wait is never lost: the next
 * wait returns at once. One process-wide state; not for threads.
 */
#ifndef CRAWLD_CTL_SIGNAL_H
#define CRAWLD_CTL_SIGNAL_H

#include <poll.h>

#include "error.h"

/* Blocks SIGINT and installs the recording handler. Returns 0 or CRAWL_ESYS
 * (sigaction or sigprocmask failed). Calling it twice is harmless. */
int ctl_signal_init(void);

/* poll(2) over fds for at most timeout_ms (-1: no limit) with SIGINT let
 * through. Returns the number of ready descriptors (0 on timeout),
 * CRAWL_ECANCELLED once SIGINT has come (now or before), or CRAWL_ESYS.
 * Without ctl_signal_init it is a plain poll that EINTR does not end. */
int ctl_signal_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

/* Sleeps ms milliseconds (0..86400000) unless SIGINT comes: 0 after the
 * full time, CRAWL_ECANCELLED on SIGINT. */
int ctl_signal_sleep(int ms);

/* Non-zero once SIGINT has been received. */
int ctl_signal_interrupted(void);

#endif
