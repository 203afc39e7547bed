/* fetch_curl.h - the libcurl backend of fetch (internal to lib/fetch).
 *
 * One curl multi handle per loop, driven the way curl's hiperfifo example
 * drives it: curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION:
 * a libevent event on the loop's event_base per socket) and when to call it
 * back (CURLMOPT_TIMERFUNCTION: one embedded loop timer); we call
 * curl_multi_socket_action from those events and collect finished
 * transfers with curl_multi_info_read. Nothing blocks and nothing polls.
 *
 * Rules kept (each has a test):
 *   - no call into curl from inside a curl callback: a timer request of
 *     0 ms arms the loop timer for the next iteration instead of acting;
 *   - easy handles are removed only from loop callbacks, never from inside
 *     curl; a cancel is deferred to a loop timer (the reaper);
 *   - CURL_POLL_REMOVE for a socket we never watched, or one already
 *     closed, is harmless.
 *
 * Redirects are followed by curl (CURLOPT_FOLLOWLOCATION) with
 * CURLOPT_REDIR_PROTOCOLS_STR "http,https"; a redirect elsewhere ends with
 * CURLE_UNSUPPORTED_PROTOCOL after at least one redirect, which becomes
 * CRAWL_EREDIRSCHEME. The address policy (lib/fetch_policy) is applied
 * twice per request: in CURLOPT_OPENSOCKETFUNCTION before any new
 * connection is made, and in CURLOPT_PREREQFUNCTION on the connection a
 * request is about to use (a reused connection, opened for a fetch that was
 * allowed more, does not slip through). With a proxy, the address judged
 * is the proxy's: the proxy resolves the target.
 *
 * Easy handles are recycled through a free list (curl_easy_reset); the DNS
 * cache and the connection pool are the multi handle's, shared by all its
 * transfers; HTTP/2 multiplexing is on (CURLPIPE_MULTIPLEX).
 */
#ifndef CRAWL_FETCH_CURL_H
#define CRAWL_FETCH_CURL_H

#include <stdint.h>

#include "fetch.h"

struct fetch_curl;

/* Counters for tests and benchmarks. */
struct fetch_curl_stats {
	uint64_t started;        /* transfers added to the multi handle */
	uint64_t handles_made;   /* curl_easy_init calls */
	uint64_t handles_reused; /* transfers that took a recycled handle */
	uint64_t timer_zero;     /* 0 ms timer requests (deferred, not run) */
	uint64_t reentry;        /* calls into curl from inside a curl
				  * callback: must stay 0 */
	uint64_t stray_remove;   /* CURL_POLL_REMOVE for an unknown socket */
	uint64_t reaped;         /* cancelled transfers removed by the reaper */
	uint64_t blocked;        /* connections refused by the policy */
	uint64_t sockets_open;   /* sockets watched right now */
};

/* The curl backend of loop l (kept). lim is copied. Errors: CRAWL_ENOMEM,
 * CRAWL_ESYS (curl_global_init or curl_multi_init failed). */
int fetch_curl_new(loop_t *l, const struct fetcher_limits *lim, struct fetch_curl **out);

/* Cancels and removes every transfer in flight, frees the handles, the
 * socket events and the multi handle. NULL is fine. */
void fetch_curl_free(struct fetch_curl *c);

/* Starts a transfer of url (an http or https URL already checked by fetch;
 * copied) with opts (validated by fetch(); nothing kept). *out gets the
 * caller's reference to the future; a failure of curl to accept the
 * transfer fails the future. Errors (no future made): CRAWL_ENOMEM,
 * CRAWL_EINVAL (opts->allow_addrs refused by fetch_policy_init). */
int fetch_curl_start(struct fetch_curl *c, const char *url, const struct fetch_opts *opts,
		     future_t **out);

size_t fetch_curl_inflight(const struct fetch_curl *c);
void fetch_curl_get_stats(const struct fetch_curl *c, struct fetch_curl_stats *out);

/* Test hook: calls the CURLMOPT_SOCKETFUNCTION callback as curl would
 * (what is a CURL_POLL_* value; sockp the pointer curl_multi_assign stored,
 * or NULL for a socket never announced) and returns the record that
 * callback keeps for fd afterwards (NULL after CURL_POLL_REMOVE). */
void *fetch_curl__socket_cb(struct fetch_curl *c, int fd, int what, void *sockp);

#endif
