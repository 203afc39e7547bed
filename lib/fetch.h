/* fetch.h - one awaitable fetch(url, options) -> response, two backends.
 *
 * A fetcher belongs to one loop. fetch() starts a transfer and returns a
 * future at once; a task awaits it:
 *
 *     future_t *f;
 *     struct fetch_response *r;
 *     if (fetch(fetcher, "http://example.com/", &opts, &f) == 0) {
 *             int rc = task_await(f, (void **)&r);
 *             if (rc != 0)   // a CRAWL_E* code; the message is in
 *                     ...    // fetch_response_of(f)->message
 *             future_unref(f);   // r dies with f
 *     }
 *
 * The fetcher routes by scheme: http and https go to libcurl's multi
 * interface driven by the loop (lib/fetch_curl), sim goes to the simulated
 * web (lib/fetch_sim, a loop timer per fetch). Both kinds mix freely in one
 * loop, thousands in flight, and give the same response object and the same
 * error codes. A URL that does not parse fails the future at once with
 * CRAWL_EURL, another scheme with CRAWL_ESCHEME.
 *
 * The future FINISHES with a struct fetch_response * (any HTTP status,
 * 404 and 503 included, is a success: a response), or with an error:
 *   CRAWL_EURL, CRAWL_ESCHEME      the URL (at once)
 *   CRAWL_EDNS                     the host name does not resolve
 *   CRAWL_ECONNREFUSED             nobody listens on the port
 *   CRAWL_ECONNECT                 another connect failure (unreachable, ...)
 *   CRAWL_EADDRBLOCKED             the address is refused by policy
 *                                  (lib/fetch_policy.h), redirects included
 *   CRAWL_ETIMEDOUT                connect or total timeout, or too slow
 *   CRAWL_ETLS                     TLS handshake or certificate
 *   CRAWL_EREDIRECTS               more redirects than max_redirects
 *   CRAWL_EREDIRSCHEME             a redirect to a scheme other than http(s)
 *   CRAWL_EBODYTOOLARGE            the body passed max_body (transfer aborted)
 *   CRAWL_ERESET                   the peer reset the connection
 *   CRAWL_EHTTP                    another protocol failure (bad reply,
 *                                  bad content encoding, cut-off body, ...)
 *   CRAWL_ENOMEM
 * Cancelling the future (future_cancel, or cancelling the awaiting task)
 * stops the transfer; the future ends CANCELLED.
 *
 * Either way, once the future is done, fetch_response_of(f) gives the
 * response with error, message and whatever was learnt before the failure.
 *
 * Threads: a fetcher and its futures belong to the loop's thread.
 */
#ifndef CRAWL_FETCH_H
#define CRAWL_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "future.h"

struct simweb;
struct fetcher;
struct fetch_curl;

#define FETCH_DEFAULT_USER_AGENT "crawld/0.1 (+https://github.com/crawld)"
#define FETCH_URL_MAX 8192         /* longest URL accepted, bytes */
#define FETCH_HEADERS_MAX 64       /* extra request headers at most */
#define FETCH_HEADER_LINE_MAX 8192 /* longest extra header line */
#define FETCH_RESP_HEADERS_MAX (256 * 1024) /* response header bytes kept */

/* Per-fetch options. Fill with fetch_opts_init, then change fields. Nothing
 * here is kept after fetch() returns except simweb, which must outlive the
 * sim fetches that use it. */
struct fetch_opts {
	double connect_timeout;      /* seconds; default 10 */
	double timeout;              /* whole transfer incl. redirects, seconds;
				      * default 30; the sim backend's too */
	long low_speed_limit;        /* bytes/s ... */
	long low_speed_time;         /* ... for this many seconds: abort with
				      * CRAWL_ETIMEDOUT; default 1 B/s for 30 s;
				      * 0 disables */
	long max_redirects;          /* default 10; 0: do not follow (a 3xx is
				      * then the response) */
	size_t max_body;             /* body bytes (decoded); default 16 MiB */
	const char *accept_encoding; /* default "" (every encoding curl
				      * decodes: gzip, deflate, br, zstd as
				      * built); NULL: send none, no decoding */
	const char *user_agent;      /* default FETCH_DEFAULT_USER_AGENT */
	const char *const *headers;  /* NULL or a NULL-terminated list of
				      * "Name: value" lines, at most
				      * FETCH_HEADERS_MAX */
	const char *proxy;           /* NULL: no proxy (the environment's
				      * *_proxy variables are ignored) */
	int allow_private;           /* 1: connect to any address */
	const char *allow_addrs;     /* addresses / CIDR blocks allowed even
				      * though special ("127.0.0.1,::1") */
	const struct simweb *simweb; /* for sim:// (NULL: the fetcher's) */
	unsigned attempt;            /* sim: attempt number (retries differ) */
};

/* Microseconds from the start of the transfer to each milestone (curl's
 * cumulative times, redirects included in total). Zero when not reached. */
struct fetch_timings {
	uint64_t dns_us, connect_us, tls_us, first_byte_us, total_us;
};

struct fetch_header {
	const char *name;  /* as sent, e.g. "Content-Type" */
	const char *value; /* leading and trailing blanks trimmed */
};

enum fetch_backend { FETCH_BACKEND_NONE, FETCH_BACKEND_CURL, FETCH_BACKEND_SIM };

/* The outcome. Owned by the fetch future: valid while a reference to the
 * future is held; read-only. Strings are NUL-terminated. */
struct fetch_response {
	int error;             /* 0, or the CRAWL_E* code the future failed with */
	char *message;         /* NULL on success; else what failed, with
				* curl's own words and our context */
	long status;           /* HTTP status of the last response, 0 if none */
	char *url;             /* the URL asked for */
	char *final_url;       /* after redirects (== url when none) */
	unsigned redirects;    /* redirects followed */
	char *content_type;    /* the Content-Type header, NULL if none */
	struct fetch_header *headers; /* of the last response, in order */
	size_t nheaders;
	char *body;            /* decoded body, NUL added (not counted); NULL
				* on failure */
	size_t body_len;
	uint64_t bytes_received; /* header + body bytes as received (before
				  * content decoding) */
	struct fetch_timings timings;
	enum fetch_backend backend;
};

/* Global limits of one fetcher (its curl multi handle). */
struct fetcher_limits {
	long max_total_connections; /* default 256; 0 = no limit */
	long max_host_connections;  /* default 16; 0 = no limit */
	size_t max_idle_handles;    /* finished curl handles kept for reuse;
				     * default 256 */
};

void fetch_opts_init(struct fetch_opts *o);
void fetcher_limits_init(struct fetcher_limits *lim);

/* Creates the fetcher of loop l (kept: l must outlive it). lim may be NULL
 * (defaults); it is copied. Errors: CRAWL_EINVAL, CRAWL_ENOMEM, CRAWL_ESYS
 * (libcurl could not be initialised). */
int fetcher_new(loop_t *l, const struct fetcher_limits *lim, struct fetcher **out);

/* Frees the fetcher: every fetch still in flight is cancelled (its future
 * ends CANCELLED, its transfer is removed). Call it before loop_close. NULL
 * is fine. Not from inside one of the fetcher's own callbacks. */
void fetcher_free(struct fetcher *fr);

/* The simulated web used by sim:// fetches whose opts->simweb is NULL. Kept,
 * not owned: it must outlive the fetches (or be replaced). NULL clears. */
void fetcher_set_simweb(struct fetcher *fr, const struct simweb *w);

/* Number of fetches in flight (both backends). */
size_t fetcher_inflight(const struct fetcher *fr);

/* Starts fetching url (copied, not kept) with opts (NULL: defaults; not
 * kept, see struct fetch_opts). On success returns 0 and *out holds the
 * caller's reference to a new future (future_unref when done). URL and
 * scheme problems are reported through the future, not here.
 * Errors (no future made): CRAWL_EINVAL (a NULL argument, a closed loop,
 * bad options: negative or NaN timeouts, too many or too long headers, an
 * allow_addrs list fetch_policy_init refuses, a sim fetch with no simweb),
 * CRAWL_ENOMEM. */
int fetch(struct fetcher *fr, const char *url, const struct fetch_opts *opts, future_t **out);

/* The response of a done fetch future, also when it failed (error and
 * message set) or was cancelled (error CRAWL_ECANCELLED). NULL while
 * pending or if f is not a fetch future. Owned by f. */
const struct fetch_response *fetch_response_of(const future_t *f);

/* The value of the first response header called name (case-insensitive),
 * or NULL. */
const char *fetch_response_header(const struct fetch_response *r, const char *name);

/* ---- internal: the seam between fetch.c and the backends ---- */

/* Called by future_cancel on a fetch still in flight, after the future is
 * marked CANCELLED: the backend must stop the transfer (it may defer) and
 * then call fetch__detach. */
typedef void (*fetch__cancel_fn)(future_t *f, void *xfer);

/* A pending fetch future with xfer_size zeroed bytes of backend state
 * (aligned for any type) in *xfer, and its url copied into resp->url.
 * One reference, the caller's. Errors: CRAWL_ENOMEM. */
int fetch__future_new(loop_t *l, const char *url, size_t xfer_size, enum fetch_backend b,
		      fetch__cancel_fn cancel, future_t **out, void **xfer);
struct fetch_response *fetch__response(future_t *f);
void *fetch__xfer(future_t *f);
/* Completes f with its response as the result (resp->error stays 0), or
 * with err and a printf-style message (stored in resp->message). Both end
 * the backend's claim on f (no cancel will come). */
void fetch__succeed(future_t *f);
void fetch__fail(future_t *f, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* After a cancel: the backend has let go of the transfer. */
void fetch__detach(future_t *f);
/* The fetcher's curl backend (for its tests and benchmarks: stats). */
struct fetch_curl *fetcher__curl(struct fetcher *fr);
/* Builds resp->headers from raw "Name: value\r\n" lines (a status line or
 * other lines without a colon are skipped). Errors: CRAWL_ENOMEM. */
int fetch__set_headers(struct fetch_response *r, const char *raw, size_t len);

#endif
