/* fetch_xfer.c - one curl transfer: options, callbacks, completion. */
#include "fetch_xfer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BODY_MIN_CAP (16u * 1024)
#define HDR_KEEP_CAP (16u * 1024) /* a recycled handle keeps a header buffer this big */

/* ---- per-transfer callbacks ---- */

static int body_grow(struct fetch_xfer *x, size_t need)
{
	size_t cap = x->body_cap ? x->body_cap * 2 : BODY_MIN_CAP;
	if (cap < need)
		cap = need;
	if (cap > x->max_body)
		cap = x->max_body;
	char *p = realloc(x->body, cap + 1); /* + the NUL the response gets */
	if (!p)
		return -1;
	x->body = p;
	x->body_cap = cap;
	return 0;
}

/* Returning less than given aborts the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t len = size * n;
	if (len > x->max_body - x->body_len) {
		x->too_large = 1;
		return 0;
	}
	if (x->body_len + len > x->body_cap && body_grow(x, x->body_len + len) != 0) {
		x->nomem = 1;
		return 0;
	}
	memcpy(x->body + x->body_len, data, len);
	x->body_len += len;
	return len;
}

/* Keeps the headers of the last response only (redirect hops and 1xx
 * responses start over at their status line). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t len = size * n;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		x->hdr_len = 0;
	if (len > FETCH_RESP_HEADERS_MAX - x->hdr_len) {
		x->hdr_overflow = 1;
		return 0;
	}
	if (x->hdr_len + len > x->hdr_cap) {
		size_t cap = x->hdr_cap ? x->hdr_cap * 2 : 2048;
		while (cap < x->hdr_len + len)
			cap *= 2;
		char *p = realloc(x->hdr, cap);
		if (!p) {
			x->nomem = 1;
			return 0;
		}
		x->hdr = p;
		x->hdr_cap = cap;
	}
	memcpy(x->hdr + x->hdr_len, data, len);
	x->hdr_len += len;
	return len;
}

static void note_blocked(struct fetch_xfer *x, const char *ip, const char *why)
{
	x->blocked = 1;
	x->blocked_why = why;
	snprintf(x->blocked_ip, sizeof x->blocked_ip, "%s", ip);
	x->stats->blocked++;
}

/* The address policy, before any new connection. */
static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_xfer *x = arg;
	const char *why = "";
	char ip[INET6_ADDRSTRLEN] = "?";
	(void)purpose;
	(*x->in_cb)++;
	curl_socket_t fd = CURL_SOCKET_BAD;
	int rc = fetch_policy_check(&x->policy, &a->addr, &why);
	if (rc == 0) {
		fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	} else {
		const void *bytes = a->family == AF_INET6
			? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
			: (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
		if (a->family == AF_INET || a->family == AF_INET6)
			inet_ntop(a->family, bytes, ip, sizeof ip);
		note_blocked(x, ip, rc == CRAWL_EINVAL ? "not an IP address" : why);
	}
	(*x->in_cb)--;
	return fd;
}

/* The policy again on the connection a request will use: it may be a
 * reused one, opened for a transfer with a wider policy. */
static int on_prereq(void *arg, char *ip, char *local_ip, int port, int local_port)
{
	struct fetch_xfer *x = arg;
	const char *why = "";
	(void)local_ip;
	(void)port;
	(void)local_port;
	(*x->in_cb)++;
	int rc = fetch_policy_check_str(&x->policy, ip, &why);
	if (rc != 0)
		note_blocked(x, ip, rc == CRAWL_EINVAL ? "not an IP address" : why);
	(*x->in_cb)--;
	return rc == 0 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/* ---- transfers: setup ---- */

static long ms_of(double seconds)
{
	double ms = ceil(seconds * 1000.0);
	return ms > INT_MAX ? INT_MAX : (long)ms;
}

#define SET(opt, val)                                               \
	do {                                                        \
		if ((e = curl_easy_setopt(h, opt, val)) != CURLE_OK) \
			goto fail;                                  \
	} while (0)

static CURLcode setup_callbacks(struct fetch_xfer *x)
{
	CURL *h = x->easy;
	CURLcode e;
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_OPENSOCKETFUNCTION, on_open);
	SET(CURLOPT_OPENSOCKETDATA, x);
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, x);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
fail:
	return e;
}

static CURLcode setup_limits(struct fetch_xfer *x, const struct fetch_opts *o)
{
	CURL *h = x->easy;
	CURLcode e;
	if (o->connect_timeout > 0)
		SET(CURLOPT_CONNECTTIMEOUT_MS, ms_of(o->connect_timeout));
	SET(CURLOPT_TIMEOUT_MS, ms_of(o->timeout));
	SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
	SET(CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, o->max_redirects);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(o->max_body > (size_t)INT64_MAX / 2
							    ? INT64_MAX / 2
							    : o->max_body));
fail:
	return e;
}

static CURLcode setup_request(struct fetch_xfer *x, const char *url, const struct fetch_opts *o)
{
	CURL *h = x->easy;
	CURLcode e = CURLE_OK;
	for (size_t i = 0; o->headers && o->headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(x->req_headers, o->headers[i]);
		if (!l)
			return CURLE_OUT_OF_MEMORY;
		x->req_headers = l;
	}
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPGET, 1L);
	SET(CURLOPT_USERAGENT, o->user_agent);
	SET(CURLOPT_ACCEPT_ENCODING, o->accept_encoding);
	SET(CURLOPT_PROXY, o->proxy ? o->proxy : "");
	if (x->req_headers)
		SET(CURLOPT_HTTPHEADER, x->req_headers);
fail:
	return e;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_headers(const struct curl_slist *l, const char *const *h)
{
	size_t i = 0;
	for (; l && h && h[i]; l = l->next, i++)
		if (strcmp(l->data, h[i]) != 0)
			return 0;
	return !l && !(h && h[i]);
}

static int applied_match(const struct fetch_xfer *x, const struct fetch_opts *o)
{
	const struct fetch_xfer_applied *a = &x->applied;
	return a->valid && a->connect_timeout == o->connect_timeout && a->timeout == o->timeout &&
	       a->low_speed_limit == o->low_speed_limit && a->low_speed_time == o->low_speed_time &&
	       a->max_redirects == o->max_redirects && a->max_body == o->max_body &&
	       same_str(a->accept_encoding, o->accept_encoding) &&
	       same_str(a->user_agent, o->user_agent) && same_str(a->proxy, o->proxy) &&
	       same_headers(x->req_headers, o->headers);
}

static void applied_clear(struct fetch_xfer_applied *a)
{
	free(a->accept_encoding);
	free(a->user_agent);
	free(a->proxy);
	memset(a, 0, sizeof *a);
}

static char *copy_or_null(const char *s, int *ok)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		*ok = 0;
	return c;
}

/* Without memory for the copies the snapshot stays invalid: the next
 * fetch applies everything again. */
static void applied_record(struct fetch_xfer_applied *a, const struct fetch_opts *o)
{
	int ok = 1;
	a->connect_timeout = o->connect_timeout;
	a->timeout = o->timeout;
	a->low_speed_limit = o->low_speed_limit;
	a->low_speed_time = o->low_speed_time;
	a->max_redirects = o->max_redirects;
	a->max_body = o->max_body;
	a->accept_encoding = copy_or_null(o->accept_encoding, &ok);
	a->user_agent = copy_or_null(o->user_agent, &ok);
	a->proxy = copy_or_null(o->proxy, &ok);
	a->valid = (uint8_t)ok;
}

static CURLcode setup_all(struct fetch_xfer *x, const char *url, const struct fetch_opts *o)
{
	applied_clear(&x->applied);
	curl_slist_free_all(x->req_headers);
	x->req_headers = NULL;
	curl_easy_reset(x->easy);
	CURLcode e = setup_callbacks(x);
	if (e == CURLE_OK)
		e = setup_limits(x, o);
	if (e == CURLE_OK)
		e = setup_request(x, url, o);
	if (e == CURLE_OK)
		applied_record(&x->applied, o);
	return e;
}

int fetch_xfer_setup(struct fetch_xfer *x, const char *url, const struct fetch_opts *o)
{
	CURLcode e;
	if (fetch_policy_init(&x->policy, o->allow_private, o->allow_addrs) != 0)
		return CRAWL_EINVAL;
	x->max_body = o->max_body;
	x->errbuf[0] = '\0';
	if (applied_match(x, o))
		e = curl_easy_setopt(x->easy, CURLOPT_URL, url);
	else
		e = setup_all(x, url, o);
	if (e == CURLE_OK)
		return 0;
	x->applied.valid = 0;
	return e == CURLE_OUT_OF_MEMORY ? CRAWL_ENOMEM : CRAWL_EINVAL;
}

/* ---- life cycle ---- */

int fetch_xfer_new(struct fetch_curl *owner, int *in_cb, struct fetch_curl_stats *stats,
		   struct fetch_xfer **out)
{
	struct fetch_xfer *x = calloc(1, sizeof *x);
	if (!x)
		return CRAWL_ENOMEM;
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return CRAWL_ENOMEM;
	}
	x->owner = owner;
	x->in_cb = in_cb;
	x->stats = stats;
	*out = x;
	return 0;
}

void fetch_xfer_free(struct fetch_xfer *x)
{
	if (!x)
		return;
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->req_headers);
	applied_clear(&x->applied);
	free(x->body);
	free(x->hdr);
	free(x);
}

void fetch_xfer_recycle(struct fetch_xfer *x)
{
	free(x->body);
	x->body = NULL;
	x->body_len = x->body_cap = 0;
	x->hdr_len = 0;
	if (x->hdr_cap > HDR_KEEP_CAP) {
		free(x->hdr);
		x->hdr = NULL;
		x->hdr_cap = 0;
	}
	x->f = NULL;
	x->next = NULL;
	x->too_large = x->hdr_overflow = x->nomem = x->blocked = x->cancelled = 0;
}

/* ---- completion ---- */

static int is_tls_error(CURLcode r)
{
	switch (r) {
	case CURLE_SSL_CONNECT_ERROR: case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_INITFAILED: case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED: case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

static int map_error(const struct fetch_xfer *x, CURLcode r, long redirects, long oserr)
{
	if (x->blocked && (r == CURLE_COULDNT_CONNECT || r == CURLE_ABORTED_BY_CALLBACK))
		return CRAWL_EADDRBLOCKED;
	if (r == CURLE_FILESIZE_EXCEEDED || (r == CURLE_WRITE_ERROR && x->too_large))
		return CRAWL_EBODYTOOLARGE;
	if (x->nomem || r == CURLE_OUT_OF_MEMORY)
		return CRAWL_ENOMEM;
	if (is_tls_error(r))
		return CRAWL_ETLS;
	switch (r) {
	case CURLE_UNSUPPORTED_PROTOCOL:
		return redirects > 0 ? CRAWL_EREDIRSCHEME : CRAWL_ESCHEME;
	case CURLE_URL_MALFORMAT:
		return CRAWL_EURL;
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
		return CRAWL_EDNS;
	case CURLE_COULDNT_CONNECT:
		return oserr == ECONNREFUSED ? CRAWL_ECONNREFUSED : CRAWL_ECONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return CRAWL_ETIMEDOUT;
	case CURLE_TOO_MANY_REDIRECTS:
		return CRAWL_EREDIRECTS;
	case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
		return oserr == ECONNRESET ? CRAWL_ERESET : CRAWL_EHTTP;
	default:
		return CRAWL_EHTTP;
	}
}

/* Our context for a failure; curl's own words follow it. */
static const char *context_of(const struct fetch_xfer *x, int err)
{
	static _Thread_local char buf[160];
	switch (err) {
	case CRAWL_EADDRBLOCKED:
		snprintf(buf, sizeof buf,
			 "address %s refused by policy (%s); allow_private or allow_addrs permits it",
			 x->blocked_ip, x->blocked_why ? x->blocked_why : "special");
		return buf;
	case CRAWL_EBODYTOOLARGE:
		snprintf(buf, sizeof buf, "body larger than the limit of %zu bytes", x->max_body);
		return buf;
	case CRAWL_EREDIRSCHEME:
		return "redirect to a scheme other than http or https refused";
	default:
		return x->hdr_overflow ? "response headers too large" : crawl_strerror(err);
	}
}

static uint64_t info_us(CURL *h, CURLINFO what)
{
	curl_off_t v = 0;
	curl_easy_getinfo(h, what, &v);
	return v > 0 ? (uint64_t)v : 0;
}

static void collect_times(CURL *h, struct fetch_timings *t)
{
	t->dns_us = info_us(h, CURLINFO_NAMELOOKUP_TIME_T);
	t->connect_us = info_us(h, CURLINFO_CONNECT_TIME_T);
	t->tls_us = info_us(h, CURLINFO_APPCONNECT_TIME_T);
	t->first_byte_us = info_us(h, CURLINFO_STARTTRANSFER_TIME_T);
	t->total_us = info_us(h, CURLINFO_TOTAL_TIME_T);
}

/* What every response gets, success or not. Errors: CRAWL_ENOMEM. */
static int collect_info(struct fetch_xfer *x, struct fetch_response *r)
{
	CURL *h = x->easy;
	long status = 0, redirects = 0, hsize = 0;
	char *eff = NULL, *ct = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hsize);
	r->status = status;
	r->redirects = redirects > 0 ? (unsigned)redirects : 0;
	r->bytes_received = info_us(h, CURLINFO_SIZE_DOWNLOAD_T) + (uint64_t)(hsize > 0 ? hsize : 0);
	collect_times(h, &r->timings);
	r->final_url = eff && strcmp(eff, r->url) != 0 ? strdup(eff) : r->url;
	r->content_type = ct ? strdup(ct) : NULL;
	if (!r->final_url) {
		r->final_url = r->url;
		return CRAWL_ENOMEM;
	}
	if (ct && !r->content_type)
		return CRAWL_ENOMEM;
	return fetch__set_headers(r, x->hdr, x->hdr_len);
}

static void finish_failed(struct fetch_xfer *x, future_t *f, CURLcode res)
{
	struct fetch_response *r = fetch__response(f);
	long oserr = 0;
	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	int err = map_error(x, res, (long)r->redirects, oserr);
	fetch__fail(f, err, "%s: %s (curl: %s)", r->url, context_of(x, err),
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
}

void fetch_xfer_finish(struct fetch_xfer *x, CURLcode res)
{
	future_t *f = x->f;
	struct fetch_response *r = fetch__response(f);
	int rc = collect_info(x, r);
	if (res == CURLE_OK && rc == 0) {
		if (!x->body && body_grow(x, 0) != 0) {
			fetch__fail(f, CRAWL_ENOMEM, "%s: out of memory", r->url);
		} else {
			x->body[x->body_len] = '\0';
			r->body = x->body;
			r->body_len = x->body_len;
			x->body = NULL; /* the response owns it now */
			fetch__succeed(f);
		}
	} else if (res == CURLE_OK) {
		fetch__fail(f, rc, "%s: out of memory collecting the response", r->url);
	} else {
		finish_failed(x, f, res);
	}
}
