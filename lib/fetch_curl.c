/* fetch_curl.c - libcurl's multi_socket API on the loop (hiperfifo's shape). */
#include "fetch_curl.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fetch_policy.h"

#define BODY_MIN_CAP (16u * 1024)
#define HDR_KEEP_CAP (16u * 1024) /* a recycled handle keeps a header buffer this big */

/* One socket curl asked us to watch. */
struct curl_sock {
	struct event *ev;
	struct fetch_curl *owner;
	struct curl_sock *prev, *next;
	curl_socket_t fd;
	int what; /* CURL_POLL_IN/OUT/INOUT */
};

/* One transfer; recycled with its easy handle. */
struct curl_xfer {
	CURL *easy;
	struct fetch_curl *owner;
	future_t *f;                     /* in flight: holds a reference */
	struct curl_xfer *next;          /* idle list or reap queue */
	struct curl_xfer *aprev, *anext; /* in flight */
	char *body;
	size_t body_len, body_cap, max_body;
	char *hdr;
	size_t hdr_len, hdr_cap;
	struct curl_slist *req_headers;
	struct fetch_policy policy;
	const char *blocked_why;
	char blocked_ip[INET6_ADDRSTRLEN];
	char errbuf[CURL_ERROR_SIZE];
	uint8_t too_large, hdr_overflow, nomem, blocked, cancelled;
};

struct fetch_curl {
	loop_t *loop;
	CURLM *multi;
	struct loop_timer timer;  /* curl's timeout */
	struct loop_timer reaper; /* removes cancelled transfers */
	struct curl_xfer *idle, *reap, *active;
	struct curl_sock *socks;
	size_t nidle, inflight;
	struct fetcher_limits lim;
	int running;
	int in_cb; /* > 0 while one of our curl callbacks runs */
	struct fetch_curl_stats stats;
};

/* ---- global init ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

/* Never undone: libcurl's global state lives as long as the process. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- calls into curl: never from inside one of its callbacks ---- */

static int curl_enter(struct fetch_curl *c)
{
	if (c->in_cb) {
		c->stats.reentry++;
		return -1;
	}
	return 0;
}

static void check_done(struct fetch_curl *c);

static void drive(struct fetch_curl *c, curl_socket_t s, int ev)
{
	if (curl_enter(c))
		return;
	curl_multi_socket_action(c->multi, s, ev, &c->running);
	check_done(c);
}

static void multi_remove(struct fetch_curl *c, struct curl_xfer *x)
{
	if (curl_enter(c) == 0)
		curl_multi_remove_handle(c->multi, x->easy);
}

/* ---- sockets ---- */

static void on_event(evutil_socket_t fd, short events, void *arg)
{
	int action = (events & EV_READ ? CURL_CSELECT_IN : 0) |
		     (events & EV_WRITE ? CURL_CSELECT_OUT : 0);
	drive(arg, fd, action);
}

static void sock_free(struct fetch_curl *c, struct curl_sock *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	event_free(s->ev); /* deletes it first; a closed fd is fine */
	free(s);
	c->stats.sockets_open--;
}

static struct curl_sock *sock_new(struct fetch_curl *c, curl_socket_t fd)
{
	struct curl_sock *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ev = event_new(loop_event_base(c->loop), fd, EV_READ | EV_PERSIST, on_event, c);
	if (!s->ev) {
		free(s);
		return NULL;
	}
	s->owner = c;
	s->fd = fd;
	s->next = c->socks;
	if (c->socks)
		c->socks->prev = s;
	c->socks = s;
	c->stats.sockets_open++;
	/* Documented as fine from the socket callback: it only files the
	 * pointer in curl's socket hash. */
	curl_multi_assign(c->multi, fd, s);
	return s;
}

static void sock_watch(struct fetch_curl *c, struct curl_sock *s, int what)
{
	short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
			     (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
	if (s->what == what)
		return;
	event_del(s->ev);
	event_assign(s->ev, loop_event_base(c->loop), s->fd, kind, on_event, c);
	event_add(s->ev, NULL);
	s->what = what;
}

/* Out of memory for a new socket: curl's own timeouts end the transfer. */
static struct curl_sock *sock_update(struct fetch_curl *c, curl_socket_t fd, int what,
				     struct curl_sock *s)
{
	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_free(c, s);
		else
			c->stats.stray_remove++;
		return NULL;
	}
	if (!s)
		s = sock_new(c, fd);
	if (s)
		sock_watch(c, s, what);
	return s;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct fetch_curl *c = userp;
	(void)easy;
	c->in_cb++;
	sock_update(c, fd, what, sockp);
	c->in_cb--;
	return 0;
}

void *fetch_curl__socket_cb(struct fetch_curl *c, int fd, int what, void *sockp)
{
	c->in_cb++;
	void *s = sock_update(c, fd, what, sockp);
	c->in_cb--;
	return s;
}

/* ---- curl's timer: one embedded loop timer ---- */

static void on_loop_timer(void *arg)
{
	drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* A 0 ms request is deferred to the next loop iteration: acting on it here
 * would call curl from inside curl. */
static int on_timer(CURLM *multi, long ms, void *userp)
{
	struct fetch_curl *c = userp;
	(void)multi;
	c->in_cb++;
	if (ms < 0) {
		loop_timer_stop(c->loop, &c->timer);
	} else if (ms == 0) {
		c->stats.timer_zero++;
		loop_timer_soon(c->loop, &c->timer);
	} else {
		uint64_t now = loop_update_time(c->loop);
		loop_timer_at(c->loop, &c->timer, now + (uint64_t)ms * 1000000u);
	}
	c->in_cb--;
	return 0;
}

/* ---- per-transfer callbacks ---- */

static int body_grow(struct curl_xfer *x, size_t need)
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
	struct curl_xfer *x = arg;
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
	struct curl_xfer *x = arg;
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

static void note_blocked(struct curl_xfer *x, const char *ip, const char *why)
{
	x->blocked = 1;
	x->blocked_why = why;
	snprintf(x->blocked_ip, sizeof x->blocked_ip, "%s", ip);
	x->owner->stats.blocked++;
}

/* The address policy, before any new connection. */
static curl_socket_t on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct curl_xfer *x = arg;
	const char *why = "";
	char ip[INET6_ADDRSTRLEN] = "?";
	(void)purpose;
	x->owner->in_cb++;
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
	x->owner->in_cb--;
	return fd;
}

/* The policy again on the connection a request will use: it may be a
 * reused one, opened for a transfer with a wider policy. */
static int on_prereq(void *arg, char *ip, char *local_ip, int port, int local_port)
{
	struct curl_xfer *x = arg;
	const char *why = "";
	(void)local_ip;
	(void)port;
	(void)local_port;
	x->owner->in_cb++;
	int rc = fetch_policy_check_str(&x->policy, ip, &why);
	if (rc != 0)
		note_blocked(x, ip, rc == CRAWL_EINVAL ? "not an IP address" : why);
	x->owner->in_cb--;
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

static CURLcode setup_callbacks(struct curl_xfer *x)
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

static CURLcode setup_limits(struct curl_xfer *x, const struct fetch_opts *o)
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

static CURLcode setup_request(struct curl_xfer *x, const char *url, const struct fetch_opts *o)
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

static int setup(struct curl_xfer *x, const char *url, const struct fetch_opts *o)
{
	if (fetch_policy_init(&x->policy, o->allow_private, o->allow_addrs) != 0)
		return CRAWL_EINVAL;
	x->max_body = o->max_body;
	x->errbuf[0] = '\0';
	CURLcode e = setup_callbacks(x);
	if (e == CURLE_OK)
		e = setup_limits(x, o);
	if (e == CURLE_OK)
		e = setup_request(x, url, o);
	if (e == CURLE_OK)
		return 0;
	return e == CURLE_OUT_OF_MEMORY ? CRAWL_ENOMEM : CRAWL_EINVAL;
}

/* ---- transfers: handles, lists ---- */

static int xfer_get(struct fetch_curl *c, struct curl_xfer **out)
{
	struct curl_xfer *x = c->idle;
	if (x) {
		c->idle = x->next;
		c->nidle--;
		c->stats.handles_reused++;
	} else {
		x = calloc(1, sizeof *x);
		if (!x)
			return CRAWL_ENOMEM;
		x->easy = curl_easy_init();
		if (!x->easy) {
			free(x);
			return CRAWL_ENOMEM;
		}
		x->owner = c;
		c->stats.handles_made++;
	}
	x->next = NULL;
	*out = x;
	return 0;
}

static void xfer_destroy(struct curl_xfer *x)
{
	curl_easy_cleanup(x->easy);
	free(x->hdr);
	free(x);
}

/* Back to the idle list (reset) or freed. x is out of the multi handle. */
static void xfer_put(struct fetch_curl *c, struct curl_xfer *x)
{
	free(x->body);
	x->body = NULL;
	x->body_len = x->body_cap = 0;
	curl_slist_free_all(x->req_headers);
	x->req_headers = NULL;
	x->hdr_len = 0;
	x->f = NULL;
	x->too_large = x->hdr_overflow = x->nomem = x->blocked = x->cancelled = 0;
	if (c->nidle >= c->lim.max_idle_handles) {
		xfer_destroy(x);
		return;
	}
	if (x->hdr_cap > HDR_KEEP_CAP) {
		free(x->hdr);
		x->hdr = NULL;
		x->hdr_cap = 0;
	}
	curl_easy_reset(x->easy);
	x->next = c->idle;
	c->idle = x;
	c->nidle++;
}

static void active_link(struct fetch_curl *c, struct curl_xfer *x)
{
	x->aprev = NULL;
	x->anext = c->active;
	if (c->active)
		c->active->aprev = x;
	c->active = x;
	c->inflight++;
}

static void active_unlink(struct fetch_curl *c, struct curl_xfer *x)
{
	if (x->aprev)
		x->aprev->anext = x->anext;
	else
		c->active = x->anext;
	if (x->anext)
		x->anext->aprev = x->aprev;
	x->aprev = x->anext = NULL;
	c->inflight--;
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

static int map_error(const struct curl_xfer *x, CURLcode r, long redirects, long oserr)
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
static const char *context_of(const struct curl_xfer *x, int err)
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
static int collect_info(struct curl_xfer *x, struct fetch_response *r)
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

static void finish_failed(struct curl_xfer *x, future_t *f, CURLcode res)
{
	struct fetch_response *r = fetch__response(f);
	long oserr = 0;
	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	int err = map_error(x, res, (long)r->redirects, oserr);
	fetch__fail(f, err, "%s: %s (curl: %s)", r->url, context_of(x, err),
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
}

/* Out of the multi handle; fills and completes the future. */
static void finish(struct fetch_curl *c, struct curl_xfer *x, CURLcode res)
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
	active_unlink(c, x);
	xfer_put(c, x);
	future_unref(f); /* the transfer's reference */
}

/* Finished transfers; cancelled ones are the reaper's. Runs from loop
 * callbacks only, after curl returned, so removal is safe here. */
static void check_done(struct fetch_curl *c)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result; /* m dies with the removal */
		char *priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		struct curl_xfer *x = (struct curl_xfer *)(void *)priv;
		if (!x || x->cancelled)
			continue;
		multi_remove(c, x);
		finish(c, x, res);
	}
}

/* ---- cancel: deferred to the reaper ---- */

static void reap(void *arg)
{
	struct fetch_curl *c = arg;
	struct curl_xfer *x;
	while ((x = c->reap) != NULL) {
		future_t *f = x->f;
		c->reap = x->next;
		multi_remove(c, x);
		active_unlink(c, x);
		fetch__detach(f);
		xfer_put(c, x);
		future_unref(f);
		c->stats.reaped++;
	}
}

static void curl_cancel(future_t *f, void *slot)
{
	struct curl_xfer *x = *(struct curl_xfer **)slot;
	struct fetch_curl *c = x->owner;
	(void)f;
	if (x->cancelled)
		return;
	x->cancelled = 1;
	x->next = c->reap;
	c->reap = x;
	loop_timer_soon(c->loop, &c->reaper);
}

/* ---- the backend ---- */

static CURLMcode multi_setup(struct fetch_curl *c)
{
	CURLM *m = c->multi;
	CURLMcode e = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, c);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_TIMERDATA, c);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, c->lim.max_total_connections);
	if (!e)
		e = curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, c->lim.max_host_connections);
	return e;
}

int fetch_curl_new(loop_t *l, const struct fetcher_limits *lim, struct fetch_curl **out)
{
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return CRAWL_ESYS;
	struct fetch_curl *c = calloc(1, sizeof *c);
	if (!c)
		return CRAWL_ENOMEM;
	c->loop = l;
	c->lim = *lim;
	loop_timer_init(&c->timer, on_loop_timer, c);
	loop_timer_init(&c->reaper, reap, c);
	c->multi = curl_multi_init();
	if (!c->multi || multi_setup(c) != CURLM_OK)
		goto fail;
	*out = c;
	return 0;
fail:
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c);
	return CRAWL_ESYS;
}

/* curl would not take the transfer. */
static void start_failed(struct fetch_curl *c, struct curl_xfer *x, future_t *f, CURLMcode mc)
{
	active_unlink(c, x);
	xfer_put(c, x);
	fetch__fail(f, mc == CURLM_OUT_OF_MEMORY ? CRAWL_ENOMEM : CRAWL_EHTTP,
		    "%s: curl refused the transfer: %s", fetch__response(f)->url,
		    curl_multi_strerror(mc));
	future_unref(f); /* the transfer's; the caller still holds one */
}

int fetch_curl_start(struct fetch_curl *c, const char *url, const struct fetch_opts *opts,
		     future_t **out)
{
	struct curl_xfer *x = NULL, **slot;
	future_t *f;
	int rc = fetch__future_new(c->loop, url, sizeof *slot, FETCH_BACKEND_CURL, curl_cancel, &f,
				   (void **)&slot);
	if (rc)
		return rc;
	rc = xfer_get(c, &x);
	if (rc == 0)
		rc = setup(x, url, opts);
	if (rc)
		goto fail;
	*slot = x;
	x->f = f;
	future_ref(f); /* the transfer's */
	active_link(c, x);
	c->stats.started++;
	CURLMcode mc = curl_enter(c) ? CURLM_RECURSIVE_API_CALL : curl_multi_add_handle(c->multi, x->easy);
	if (mc != CURLM_OK)
		start_failed(c, x, f, mc);
	*out = f;
	return 0;
fail:
	if (x)
		xfer_put(c, x);
	future_unref(f);
	return rc;
}

void fetch_curl_free(struct fetch_curl *c)
{
	if (!c)
		return;
	for (struct curl_xfer *x = c->active; x; x = x->anext) {
		if (!x->cancelled) {
			future_t *f = x->f;
			future_ref(f);
			future_cancel(f); /* queues it for the reaper */
			future_unref(f);
		}
	}
	loop_timer_stop(c->loop, &c->reaper);
	reap(c);
	loop_timer_stop(c->loop, &c->timer);
	curl_multi_cleanup(c->multi); /* may still announce socket removals */
	loop_timer_stop(c->loop, &c->timer);
	while (c->socks)
		sock_free(c, c->socks);
	while (c->idle) {
		struct curl_xfer *x = c->idle;
		c->idle = x->next;
		xfer_destroy(x);
	}
	free(c);
}

size_t fetch_curl_inflight(const struct fetch_curl *c)
{
	return c->inflight;
}

void fetch_curl_get_stats(const struct fetch_curl *c, struct fetch_curl_stats *out)
{
	*out = c->stats;
}
