/* testserver.c - the local HTTP server of the test suites and of `make run`.
 *
 * A deterministic generated site (/ and /page/K) plus fault endpoints (slow, reset, huge,
 * redirects, gzip, chunked, ...) on libevent's evhttp. It listens on loopback only, announces
 * its port through --port-file (written atomically) and on stdout, and exits 0 on SIGTERM or
 * SIGINT or after --max-seconds; 2 is a usage error, 1 a runtime failure.
 *
 * A request that outlives its handler (delay, slow, huge, reset) has a `struct pending`,
 * registered as its connection's close callback: when the client goes away, or the server
 * shuts down, that callback frees the timer and, if evhttp detached the unfinished request
 * from the dying connection (it then no longer owns it), the request too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <zlib.h>

#define EXIT_USAGE 2
#define MAX_DELAY_MS 60000L
#define ROBOTS_MAX (500 * 1024)
#define SLOW_CHUNKS 20
#define HUGE_CHUNK 65536
#define HUGE_TOTAL (1LL << 30)
#define GZIP_REPEAT 100

static const char default_robots[] = "User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n";
static const char gzip_line[] = "hello gzip\n";
static const char ct_html[] = "text/html; charset=utf-8";
static const char ct_text[] = "text/plain; charset=utf-8";
static const char broken_html[] =
    "<html><head><title>Broken page</head>\n<body><div class=main><p>unclosed <b>bold "
    "<i>italic\n<a href=/page/1 class=one>one</a> a stray < here, and 3 < 4 >\n"
    "<p><a href=\"/page/2\" id=two>two\n<table><tr><td>cell</div></span>\n<p attr=\n";
static char huge_fill[HUGE_CHUNK]; /* the bytes of /huge and /reset */

struct opts {
	const char *addr, *port_file, *robots_file;
	long port, pages, links, page_size, max_seconds, robots_fail;
	bool private_links;
};

struct server {
	struct opts o;
	struct event_base *base;
	struct evhttp *http;
	char origin[80]; /* "http://127.0.0.1:PORT", for absolute links */
	char *robots;    /* --robots content, or NULL for the default */
	size_t robots_len;
	long robots_served; /* requests for /robots.txt so far */
	char plain[sizeof(gzip_line) * GZIP_REPEAT]; /* the /gzip text ... */
	unsigned char gz[1024];                      /* ... and its gzip form */
	size_t plain_len, gz_len;
	struct pending *pending; /* every request still in progress */
};

struct pending {
	struct server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *timer;
	long long n; /* delay in ms, chunks or bytes sent so far */
	struct pending *prev, *next;
};

/* One request as the handlers see it: rest is the path after the route's prefix. */
struct call {
	struct server *srv;
	struct evhttp_request *req;
	const char *path, *rest;
};

/* ---- replies ------------------------------------------------------------------------------ */

static void reply(struct evhttp_request *req, int code, const char *ctype, const void *data,
                  size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL && evbuffer_add(b, data, len) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
		evhttp_send_reply(req, code, NULL, b);
	} else {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	}
	evbuffer_free(b);
}

static void reply_text(struct evhttp_request *req, int code, const char *text)
{
	reply(req, code, ct_text, text, strlen(text));
}

static void reply_redirect(struct evhttp_request *req, const char *location)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
	reply_text(req, HTTP_MOVETEMP, "redirect\n");
}

/* Strict decimal in [lo, hi]: no sign, no spaces, no trailing bytes. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* The decoded query parameter key, or NULL; the caller clears q (it owns the value). */
static const char *query_get(struct evhttp_request *req, struct evkeyvalq *q, const char *key)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	TAILQ_INIT(q);
	if (qs == NULL || evhttp_parse_query_str(qs, q) != 0)
		return NULL;
	return evhttp_find_header(q, key);
}

/* ---- requests in progress ----------------------------------------------------------------- */

static void pending_free(struct pending *p, bool clear_closecb)
{
	if (clear_closecb)
		evhttp_connection_set_closecb(p->evcon, NULL, NULL);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->srv->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p);
}

/* evhttp calls this when the connection goes down under an unfinished request. */
static void pending_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = p->req;

	(void)evcon;
	pending_free(p, false);
	if (evhttp_request_get_connection(req) == NULL) /* detached: nobody else frees it */
		evhttp_request_free(req);
}

/* Tracks c->req until pending_done; timer_cb (may be NULL) gets the pending. NULL after
 * an allocation failure, which it has already answered with a 500. */
static struct pending *pending_new(const struct call *c, event_callback_fn timer_cb)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		goto fail;
	p->srv = c->srv;
	p->req = c->req;
	p->evcon = evhttp_request_get_connection(c->req);
	if (timer_cb != NULL && (p->timer = evtimer_new(c->srv->base, timer_cb, p)) == NULL)
		goto fail;
	p->next = c->srv->pending;
	if (p->next != NULL)
		p->next->prev = p;
	c->srv->pending = p;
	evhttp_connection_set_closecb(p->evcon, pending_closed, p);
	return p;
fail:
	free(p);
	evhttp_send_error(c->req, HTTP_INTERNAL, NULL);
	return NULL;
}

/* Stops tracking p and hands back its request for the final reply. */
static struct evhttp_request *pending_done(struct pending *p)
{
	struct evhttp_request *req = p->req;

	pending_free(p, true);
	return req;
}

static void timer_in_ms(struct event *ev, long long ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

/* ---- the generated site ------------------------------------------------------------------- */

/* Link i of page k. Page 0 is always linked as "/" (never /page/0), so that the site seen
 * from / has exactly `pages` URLs; page 0's own links avoid the bare relative form because
 * it is served at / too, where that form would resolve elsewhere. */
static void page_href(const struct server *srv, long k, long i, char *buf, size_t n)
{
	long pages = srv->o.pages;
	long j = i == 0 ? (k + 1) % pages : (k * 7 + i * 13 + 1) % pages;
	const char *frag = i % 3 == 2 ? "#x" : "";
	long form = (k + i) % 4;

	if (j == 0)
		snprintf(buf, n, "%s%s%s", form == 2 ? srv->origin : "", form == 1 ? "../" : "/",
		         frag);
	else if (form == 0)
		snprintf(buf, n, "/page/%ld%s", j, frag);
	else if (form == 2)
		snprintf(buf, n, "%s/page/%ld%s", srv->origin, j, frag);
	else if (form == 1 || k == 0)
		snprintf(buf, n, "../page/%ld%s", j, frag);
	else
		snprintf(buf, n, "%ld%s", j, frag); /* relative to /page/ */
}

static const char *page_extra_link(const struct server *srv, long k)
{
	static const char *const extra[] = {"http://offsite.invalid/x",
	                                    "mailto:someone@offsite.invalid", "javascript:void(0)",
	                                    NULL};

	return k == 0 && srv->o.private_links ? "/private/x" : extra[k % 4];
}

static int page_build(const struct server *srv, long k, struct evbuffer *b)
{
	static const char tail[] = "</body></html>\n";
	const char *extra = page_extra_link(srv, k);
	char href[160];
	int rc;

	rc = evbuffer_add_printf(b,
	                         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	                         "<title>Page %ld</title></head>\n<body><h1>Page %ld</h1>\n<ul>\n",
	                         k, k);
	for (long i = 0; rc >= 0 && i < srv->o.links; i++) {
		page_href(srv, k, i, href, sizeof(href));
		rc = evbuffer_add_printf(b, "<li><a href=\"%s\">link %ld</a></li>\n", href, i);
	}
	if (rc >= 0 && extra != NULL)
		rc = evbuffer_add_printf(b, "<li><a href=\"%s\">elsewhere</a></li>\n", extra);
	if (rc >= 0)
		rc = evbuffer_add_printf(b, "</ul>\n");
	for (long line = 0;
	     rc >= 0 && evbuffer_get_length(b) + sizeof(tail) - 1 < (size_t)srv->o.page_size;
	     line++)
		rc = evbuffer_add_printf(b,
		                         "<p>Page %ld, filler line %ld: the quick brown fox "
		                         "jumps over the lazy dog.</p>\n",
		                         k, line);
	return rc < 0 ? -1 : evbuffer_add(b, tail, sizeof(tail) - 1);
}

/* "/" is page 0 too. */
static void h_page(const struct call *c)
{
	struct evbuffer *b;
	long k = 0;

	if (strcmp(c->path, "/") != 0 && !parse_long(c->rest, 0, c->srv->o.pages - 1, &k)) {
		reply_text(c->req, HTTP_NOTFOUND, "no such page\n");
		return;
	}
	if ((b = evbuffer_new()) == NULL || page_build(c->srv, k, b) != 0) {
		evhttp_send_error(c->req, HTTP_INTERNAL, NULL);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
		                  ct_html);
		evhttp_send_reply(c->req, HTTP_OK, NULL, b);
	}
	evbuffer_free(b);
}

/* ---- immediate endpoints ------------------------------------------------------------------ */

static void h_status(const struct call *c)
{
	char body[32];
	long code;

	if (!parse_long(c->rest, 101, 599, &code)) {
		reply_text(c->req, HTTP_NOTFOUND, "status must be 101..599\n");
		return;
	}
	snprintf(body, sizeof(body), "status %ld\n", code);
	reply_text(c->req, (int)code, body);
}

static void h_redirect(const struct call *c)
{
	char loc[48];
	long n;

	if (strcmp(c->path, "/redirect-loop") == 0) {
		reply_redirect(c->req, "/redirect-loop");
	} else if (!parse_long(c->rest, 0, LONG_MAX, &n)) {
		reply_text(c->req, HTTP_NOTFOUND, "bad redirect count\n");
	} else {
		if (n == 0)
			snprintf(loc, sizeof(loc), "/page/0");
		else
			snprintf(loc, sizeof(loc), "/redirect/%ld", n - 1);
		reply_redirect(c->req, loc);
	}
}

static void h_redirect_to(const struct call *c)
{
	struct evkeyvalq q;
	const char *url = query_get(c->req, &q, "url");
	size_t len = url != NULL ? strlen(url) : 0;
	bool ok = len > 0 && len <= 2048;

	for (size_t i = 0; ok && i < len; i++) /* no CR/LF: no header injection */
		ok = (unsigned char)url[i] >= 0x20 && url[i] != 0x7f;
	if (ok)
		reply_redirect(c->req, url);
	else
		reply_text(c->req, HTTP_BADREQUEST, "need ?url=U, printable, at most 2048 bytes\n");
	evhttp_clear_headers(&q);
}

static void h_gzip(const struct call *c)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);
	const char *ae =
	    evhttp_find_header(evhttp_request_get_input_headers(c->req), "Accept-Encoding");

	evhttp_add_header(out, "Vary", "Accept-Encoding");
	if (ae == NULL || strcasestr(ae, "gzip") == NULL) {
		reply(c->req, HTTP_OK, ct_text, c->srv->plain, c->srv->plain_len);
		return;
	}
	evhttp_add_header(out, "Content-Encoding", "gzip");
	reply(c->req, HTTP_OK, ct_text, c->srv->gz, c->srv->gz_len);
}

static void h_chunked(const struct call *c)
{
	char chunk[32];

	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type", ct_text);
	evhttp_send_reply_start(c->req, HTTP_OK, NULL); /* HTTP/1.1 and no length: chunked */
	for (int i = 1; i <= 5; i++) {
		struct evbuffer *b = evbuffer_new();

		snprintf(chunk, sizeof(chunk), "chunk %d of 5\n", i);
		if (b != NULL && evbuffer_add(b, chunk, strlen(chunk)) == 0)
			evhttp_send_reply_chunk(c->req, b);
		evbuffer_free(b);
	}
	evhttp_send_reply_end(c->req);
}

static void h_robots(const struct call *c)
{
	if (c->srv->robots_served++ < c->srv->o.robots_fail)
		reply_text(c->req, 503, "robots.txt is unavailable for now\n");
	else if (c->srv->robots != NULL)
		reply(c->req, HTTP_OK, ct_text, c->srv->robots, c->srv->robots_len);
	else
		reply_text(c->req, HTTP_OK, default_robots);
}

static void h_private(const struct call *c)
{
	reply_text(c->req, HTTP_OK, "private page: robots.txt should have kept you out\n");
}

static void h_broken(const struct call *c)
{
	reply(c->req, HTTP_OK, ct_html, broken_html, sizeof(broken_html) - 1);
}

static void h_headers(const struct call *c)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(c->req);
	struct evbuffer *b = evbuffer_new();
	int rc = b == NULL ? -1 : 0;

	for (struct evkeyval *h = TAILQ_FIRST(in); h != NULL && rc >= 0; h = TAILQ_NEXT(h, next))
		rc = evbuffer_add_printf(b, "%s: %s\n", h->key, h->value);
	if (rc < 0) {
		evhttp_send_error(c->req, HTTP_INTERNAL, NULL);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
		                  ct_text);
		evhttp_send_reply(c->req, HTTP_OK, NULL, b);
	}
	evbuffer_free(b);
}

/* ---- endpoints that take time ------------------------------------------------------------- */

static void delay_fire(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	char body[48];

	(void)fd;
	(void)what;
	snprintf(body, sizeof(body), "delayed %lld ms\n", p->n);
	reply_text(pending_done(p), HTTP_OK, body);
}

static void h_delay(const struct call *c)
{
	struct evkeyvalq q;
	struct pending *p;
	long ms;

	if (!parse_long(query_get(c->req, &q, "ms"), 0, LONG_MAX, &ms)) {
		reply_text(c->req, HTTP_BADREQUEST, "need ?ms=N\n");
	} else if ((p = pending_new(c, delay_fire)) != NULL) {
		p->n = ms < MAX_DELAY_MS ? ms : MAX_DELAY_MS;
		timer_in_ms(p->timer, p->n);
	}
	evhttp_clear_headers(&q);
}

static void slow_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct evbuffer *b = evbuffer_new();

	(void)fd;
	(void)what;
	p->n++;
	if (b != NULL && evbuffer_add_printf(b, "slow chunk %02lld of %d\n", p->n, SLOW_CHUNKS) > 0)
		evhttp_send_reply_chunk(p->req, b);
	evbuffer_free(b);
	if (p->n < SLOW_CHUNKS)
		timer_in_ms(p->timer, 100);
	else
		evhttp_send_reply_end(pending_done(p));
}

static void h_slow(const struct call *c)
{
	struct pending *p = pending_new(c, slow_tick);

	if (p == NULL)
		return;
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type", ct_text);
	evhttp_send_reply_start(c->req, HTTP_OK, NULL);
	timer_in_ms(p->timer, 100);
}

/* evhttp calls this each time the previous chunk has gone to the kernel, so at most one
 * chunk is buffered however slowly the client reads. */
static void huge_more(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;
	struct evbuffer *b = p->n < HUGE_TOTAL ? evbuffer_new() : NULL;

	(void)evcon;
	if (b != NULL && evbuffer_add_reference(b, huge_fill, HUGE_CHUNK, NULL, NULL) == 0) {
		p->n += HUGE_CHUNK;
		evhttp_send_reply_chunk_with_cb(p->req, b, huge_more, p);
	} else {
		evhttp_send_reply_end(pending_done(p));
	}
	evbuffer_free(b);
}

static void h_huge(const struct call *c)
{
	struct pending *p;

	if ((p = pending_new(c, NULL)) == NULL)
		return;
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
	                  "application/octet-stream");
	evhttp_send_reply_start(c->req, HTTP_OK, NULL);
	huge_more(p->evcon, p);
}

/* Closes the client's socket with SO_LINGER 0, so the client gets an RST instead of a FIN.
 * evhttp_connection_free alone would shutdown(SHUT_WR) first, and the client would see a
 * clean EOF; so a spare socket is dup2'ed over the descriptor (closing the connection's
 * last reference: the RST goes out) and evhttp then shuts down and closes the spare. */
static void reset_socket(evutil_socket_t sock)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int spare = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (setsockopt(sock, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
		perror("testserver: SO_LINGER");
	else if (spare < 0 || dup2(spare, sock) < 0)
		perror("testserver: /reset falls back to a plain close");
	if (spare >= 0)
		close(spare);
}

/* Runs from the pending's timer, not from evhttp's write callback, so that evhttp is not
 * inside its own code while the connection is freed. */
static void reset_now(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct evhttp_connection *evcon = p->evcon;
	evutil_socket_t sock = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));

	(void)fd;
	(void)what;
	if (sock >= 0)
		reset_socket(sock);
	pending_free(p, true);
	evhttp_connection_free(evcon); /* also frees the unfinished request */
}

static void reset_flushed(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;

	(void)evcon;
	event_active(p->timer, EV_TIMEOUT, 0);
}

/* Promises 100000 bytes, sends 1000, then resets the connection. */
static void h_reset(const struct call *c)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(c->req);
	struct evbuffer *b = NULL;
	struct pending *p;

	if ((p = pending_new(c, reset_now)) == NULL)
		return;
	if ((b = evbuffer_new()) == NULL || evbuffer_add(b, huge_fill, 1000) != 0) {
		event_active(p->timer, EV_TIMEOUT, 0);
	} else {
		evhttp_add_header(out, "Content-Type", ct_text);
		evhttp_add_header(out, "Content-Length", "100000");
		evhttp_send_reply_start(c->req, HTTP_OK, NULL);
		evhttp_send_reply_chunk_with_cb(c->req, b, reset_flushed, p);
	}
	evbuffer_free(b);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static const struct route {
	const char *path;
	bool prefix;
	void (*fn)(const struct call *c);
} routes[] = {
    /* clang-format off */
	{"/", false, h_page},			{"/page/", true, h_page},
	{"/status/", true, h_status},		{"/delay", false, h_delay},
	{"/slow", false, h_slow},		{"/reset", false, h_reset},
	{"/redirect/", true, h_redirect},	{"/redirect-loop", false, h_redirect},
	{"/redirect-to", false, h_redirect_to},	{"/huge", false, h_huge},
	{"/gzip", false, h_gzip},		{"/chunked", false, h_chunked},
	{"/robots.txt", false, h_robots},	{"/private/", true, h_private},
	{"/broken", false, h_broken},		{"/headers", false, h_headers},
    /* clang-format on */
};

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct call c = {.srv = arg, .req = req};

	c.path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0; c.path != NULL && i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);

		if (r->prefix ? strncmp(c.path, r->path, n) == 0 : strcmp(c.path, r->path) == 0) {
			c.rest = c.path + n;
			r->fn(&c);
			return;
		}
	}
	reply_text(req, HTTP_NOTFOUND, "not found\n");
}

/* ---- start-up ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: testserver [options]\n"
	           "  --addr A          loopback address to listen on (default 127.0.0.1)\n"
	           "  --port N          port, 0 = any free one (default 0)\n"
	           "  --port-file PATH  once listening, write the port there (atomically)\n"
	           "  --pages N         pages of the generated site, 1..1000000 (default 100)\n"
	           "  --links N         links per generated page, 1..1000 (default 10)\n"
	           "  --page-size B     approximate body size of a page (default 8192)\n"
	           "  --robots FILE     serve FILE as /robots.txt\n"
	           "  --robots-fail N   answer the first N requests for /robots.txt with 503\n"
	           "  --private-links   page 0 also links to /private/x (for robots tests)\n"
	           "  --max-seconds N   exit by itself after N seconds (default 600)\n"
	           "  --help            this text\n");
}

static bool is_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* clang-format off */
enum { O_ADDR, O_PORT_FILE, O_ROBOTS, O_PORT, O_PAGES, O_LINKS, O_PAGE_SIZE, O_MAX_SECONDS,
       O_ROBOTS_FAIL, O_PRIVATE, O_HELP };
/* clang-format on */

/* 0 to run, 1 after --help, -1 after a usage error (already reported). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	/* clang-format off */
	static const struct option lo[] = {
		{"addr", 1, NULL, O_ADDR},		{"port-file", 1, NULL, O_PORT_FILE},
		{"robots", 1, NULL, O_ROBOTS},		{"port", 1, NULL, O_PORT},
		{"pages", 1, NULL, O_PAGES},		{"links", 1, NULL, O_LINKS},
		{"page-size", 1, NULL, O_PAGE_SIZE},	{"max-seconds", 1, NULL, O_MAX_SECONDS},
		{"robots-fail", 1, NULL, O_ROBOTS_FAIL},
		{"private-links", 0, NULL, O_PRIVATE},	{"help", 0, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	static const long lim[][2] = {
	    {0, 65535}, {1, 1000000}, {1, 1000}, {0, 16 << 20}, {1, 86400}, {0, 1000000}};
	const char **strs[] = {&o->addr, &o->port_file, &o->robots_file};
	long *nums[] = {&o->port,      &o->pages,	&o->links,
			&o->page_size, &o->max_seconds, &o->robots_fail};
	int c;

	*o = (struct opts){
	    .addr = "127.0.0.1", .pages = 100, .links = 10, .page_size = 8192, .max_seconds = 600};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c >= O_ADDR && c <= O_ROBOTS) {
			*strs[c] = optarg;
		} else if (c >= O_PORT && c <= O_ROBOTS_FAIL) {
			if (!parse_long(optarg, lim[c - O_PORT][0], lim[c - O_PORT][1],
			                nums[c - O_PORT])) {
				fprintf(stderr,
				        "testserver: --%s wants an integer in %ld..%ld, not '%s'\n",
				        lo[c].name, lim[c - O_PORT][0], lim[c - O_PORT][1], optarg);
				return -1;
			}
		} else if (c == O_PRIVATE) {
			o->private_links = true;
		} else if (c == O_HELP) {
			usage(stdout);
			return 1;
		} else {
			fprintf(stderr, "try 'testserver --help'\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "testserver: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!is_loopback(o->addr)) {
		fprintf(stderr,
		        "testserver: refusing to listen on '%s': only loopback addresses "
		        "(127.0.0.0/8, ::1) are allowed\n",
		        o->addr);
		return -1;
	}
	return 0;
}

static int read_robots(struct server *srv, const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL || (srv->robots = malloc(ROBOTS_MAX + 1)) == NULL)
		goto fail;
	srv->robots_len = fread(srv->robots, 1, ROBOTS_MAX + 1, f);
	if (ferror(f) || srv->robots_len > ROBOTS_MAX) {
		errno = ferror(f) ? EIO : EFBIG;
		goto fail;
	}
	fclose(f);
	return 0;
fail:
	fprintf(stderr, "testserver: --robots %s: %s\n", path, strerror(errno));
	if (f != NULL)
		fclose(f);
	return -1;
}

static int make_gzip_body(struct server *srv)
{
	z_stream z = {0};
	int rc;

	for (int i = 0; i < GZIP_REPEAT; i++)
		memcpy(srv->plain + i * (sizeof(gzip_line) - 1), gzip_line, sizeof(gzip_line) - 1);
	srv->plain_len = (sizeof(gzip_line) - 1) * GZIP_REPEAT;
	/* windowBits 15 + 16 asks zlib for the gzip wrapper */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	z.next_in = (Bytef *)srv->plain;
	z.avail_in = (uInt)srv->plain_len;
	z.next_out = srv->gz;
	z.avail_out = sizeof(srv->gz);
	rc = deflate(&z, Z_FINISH);
	srv->gz_len = sizeof(srv->gz) - z.avail_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* Written to PATH.tmp then renamed, so a reader never sees a partial number. */
static int write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", port) < 0)
		goto fail;
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		f = NULL;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "testserver: --port-file %s: %s\n", path, strerror(errno));
	if (f != NULL)
		fclose(f);
	return -1;
}

/* Binds, learns the port, fills srv->origin and announces the port. */
static int server_listen(struct server *srv)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int port;

	bs = evhttp_bind_socket_with_handle(srv->http, srv->o.addr, (ev_uint16_t)srv->o.port);
	if (bs == NULL ||
	    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len)) {
		fprintf(stderr, "testserver: cannot listen on %s port %ld: %s\n", srv->o.addr,
		        srv->o.port, strerror(errno));
		return -1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                      : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(srv->origin, sizeof(srv->origin),
	         ss.ss_family == AF_INET6 ? "http://[%s]:%d" : "http://%s:%d", srv->o.addr, port);
	if (srv->o.port_file != NULL && write_port_file(srv->o.port_file, port) != 0)
		return -1;
	printf("listening on %s\n", srv->origin + strlen("http://"));
	return fflush(stdout) == 0 ? 0 : -1;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	if (what & EV_TIMEOUT) /* a signal is the normal way to stop: no message for it */
		fprintf(stderr, "testserver: --max-seconds %ld reached, exiting\n",
		        srv->o.max_seconds);
	event_base_loopexit(srv->base, NULL);
}

static int server_run(struct server *srv)
{
	struct event *sigterm = evsignal_new(srv->base, SIGTERM, on_stop, srv);
	struct event *sigint = evsignal_new(srv->base, SIGINT, on_stop, srv);
	struct event *limit = evtimer_new(srv->base, on_stop, srv);
	struct timeval tv = {.tv_sec = srv->o.max_seconds};
	int rc = -1;

	if (sigterm == NULL || sigint == NULL || limit == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL) || evtimer_add(limit, &tv))
		goto out;
	if (server_listen(srv) == 0)
		rc = event_base_dispatch(srv->base) < 0 ? -1 : 0;
out:
	if (limit != NULL)
		event_free(limit);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	return rc;
}

int main(int argc, char **argv)
{
	static struct server srv; /* large (the gzip buffers); static keeps it off the stack */
	int rc = parse_args(argc, argv, &srv.o);

	if (rc != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (srv.o.robots_file != NULL && read_robots(&srv, srv.o.robots_file) != 0)
		return EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN); /* a vanished client must not kill the server */
	memset(huge_fill, 'h', sizeof(huge_fill));
	rc = -1;
	if (make_gzip_body(&srv) != 0 || (srv.base = event_base_new()) == NULL ||
	    (srv.http = evhttp_new(srv.base)) == NULL)
		goto out;
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET); /* HEAD would stall /huge */
	evhttp_set_max_headers_size(srv.http, 32 * 1024);
	evhttp_set_max_body_size(srv.http, 64 * 1024);
	evhttp_set_timeout(srv.http, 120); /* longer than the longest /delay */
	evhttp_set_gencb(srv.http, dispatch, &srv);
	rc = server_run(&srv);
out:
	if (srv.http != NULL)
		evhttp_free(srv.http); /* close callbacks free the pending requests */
	while (srv.pending != NULL)
		pending_free(srv.pending, false);
	if (srv.base != NULL)
		event_base_free(srv.base);
	libevent_global_shutdown();
	free(srv.robots);
	if (rc != 0)
		fprintf(stderr, "testserver: failed\n");
	return rc == 0 ? 0 : 1;
}
