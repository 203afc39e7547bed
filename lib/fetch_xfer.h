/* fetch_xfer.h - one transfer of the curl backend (internal to lib/fetch_curl).
 *
 * A fetch_xfer is an easy handle with what one fetch needs around it: the
 * options applied to the handle, the body and header buffers, the address
 * policy and the callbacks curl calls for this transfer (body and header
 * data, opening a socket, the request about to go out). Once curl reports
 * the transfer done, fetch_xfer_finish turns what was collected into the
 * fetch response, or maps curl's error to a CRAWL_E* code and a message.
 * fetch_curl.c owns the lists (idle, in flight, reap queue) and the multi
 * handle; this file never calls into the multi handle.
 *
 * The callbacks here only record: they never call back into curl.
 */
#ifndef CRAWL_FETCH_XFER_H
#define CRAWL_FETCH_XFER_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>

#include "fetch.h"
#include "fetch_curl.h"
#include "fetch_policy.h"

/* The options last applied to a recycled handle: when the next fetch asks
 * for the same, only its URL is set (no curl_easy_reset and two dozen
 * setopt calls per fetch). Private to fetch_xfer.c. */
struct fetch_xfer_applied {
	double connect_timeout, timeout;
	long low_speed_limit, low_speed_time, max_redirects;
	size_t max_body;
	char *accept_encoding, *user_agent, *proxy; /* copies (NULL as given) */
	uint8_t valid;
};

/* Fields up to `cancelled` are fetch_curl.c's; the rest are private. */
struct fetch_xfer {
	CURL *easy;
	struct fetch_curl *owner;
	future_t *f;                      /* in flight: holds a reference */
	struct fetch_xfer *next;          /* idle list or reap queue */
	struct fetch_xfer *aprev, *anext; /* in flight */
	uint8_t cancelled;

	int *in_cb;                       /* the owner's "inside curl" depth */
	struct fetch_curl_stats *stats;   /* the owner's counters */
	char *body;
	size_t body_len, body_cap, max_body;
	char *hdr;
	size_t hdr_len, hdr_cap;
	struct curl_slist *req_headers;   /* part of the applied options */
	struct fetch_xfer_applied applied;
	struct fetch_policy policy;
	const char *blocked_why;
	char blocked_ip[INET6_ADDRSTRLEN];
	char errbuf[CURL_ERROR_SIZE];
	uint8_t too_large, hdr_overflow, nomem, blocked;
};

/* A new transfer with a fresh easy handle. owner, in_cb and stats are kept
 * (the backend outlives its transfers). Errors: CRAWL_ENOMEM. */
int fetch_xfer_new(struct fetch_curl *owner, int *in_cb, struct fetch_curl_stats *stats,
		   struct fetch_xfer **out);

/* Frees x and its handle; x must be out of the multi handle. NULL is fine. */
void fetch_xfer_free(struct fetch_xfer *x);

/* Prepares x for a fetch of url (copied by curl) with opts (validated by
 * fetch(); strings copied, nothing kept). Errors: CRAWL_EINVAL (an
 * allow-list fetch_policy_init refuses, an option curl refuses),
 * CRAWL_ENOMEM. */
int fetch_xfer_setup(struct fetch_xfer *x, const char *url, const struct fetch_opts *opts);

/* After a transfer: drops its body and per-transfer state, keeps the
 * handle's options for the next fetch. Clears f, next and cancelled. */
void fetch_xfer_recycle(struct fetch_xfer *x);

/* curl finished x with res: fills x->f's response and completes x->f
 * (result or error). The caller still holds the transfer's reference. */
void fetch_xfer_finish(struct fetch_xfer *x, CURLcode res);

#endif
