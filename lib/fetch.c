/* fetch.c - the fetch future, options, routing by scheme. */
#include "fetch.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch_curl.h"
#include "fetch_policy.h"
#include "fetch_sim.h"
#include "url.h"

struct fetcher {
	loop_t *loop;
	struct fetch_curl *curl;
	struct fetch_sim *sim;
	const struct simweb *simweb;
};

/* A fetch future: the future, its response, and the backend's state. */
struct fetch_fut {
	struct future fut; /* first: a fetch future is a future */
	struct fetch_response resp;
	fetch__cancel_fn cancel;
	uint8_t active; /* the backend still holds the transfer */
	max_align_t xfer[];
};

static int fetch_ops_cancel(future_t *f);
static void fetch_ops_destroy(future_t *f);
static const struct future_ops fetch_ops = {"Fetch", fetch_ops_cancel, fetch_ops_destroy};

void fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof *o);
	o->connect_timeout = 10;
	o->timeout = 30;
	o->low_speed_limit = 1;
	o->low_speed_time = 30;
	o->max_redirects = 10;
	o->max_body = 16u * 1024 * 1024;
	o->accept_encoding = "";
	o->user_agent = FETCH_DEFAULT_USER_AGENT;
}

void fetcher_limits_init(struct fetcher_limits *lim)
{
	lim->max_total_connections = 256;
	lim->max_host_connections = 16;
	lim->max_idle_handles = 256;
}

/* ---- the future ---- */

static struct fetch_fut *ff_of(future_t *f)
{
	return (struct fetch_fut *)(void *)f;
}

int fetch__future_new(loop_t *l, const char *url, size_t xfer_size, enum fetch_backend b,
		      fetch__cancel_fn cancel, future_t **out, void **xfer)
{
	size_t size = offsetof(struct fetch_fut, xfer) + xfer_size;
	struct fetch_fut *ff = calloc(1, size);
	if (!ff)
		return CRAWL_ENOMEM;
	ff->resp.url = strdup(url);
	if (!ff->resp.url) {
		free(ff);
		return CRAWL_ENOMEM;
	}
	future__init(&ff->fut, l, &fetch_ops);
	ff->resp.backend = b;
	ff->cancel = cancel;
	ff->active = 1;
	*out = &ff->fut;
	if (xfer)
		*xfer = ff->xfer;
	return 0;
}

struct fetch_response *fetch__response(future_t *f)
{
	return &ff_of(f)->resp;
}

void *fetch__xfer(future_t *f)
{
	return ff_of(f)->xfer;
}

void fetch__detach(future_t *f)
{
	ff_of(f)->active = 0;
}

void fetch__succeed(future_t *f)
{
	struct fetch_fut *ff = ff_of(f);
	ff->active = 0;
	ff->resp.error = 0;
	future_set_result(f, &ff->resp);
}

static void set_message(struct fetch_response *r, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void set_message(struct fetch_response *r, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	free(r->message);
	r->message = strdup(buf); /* NULL on no memory: the code still tells */
}

void fetch__fail(future_t *f, int err, const char *fmt, ...)
{
	struct fetch_fut *ff = ff_of(f);
	va_list ap;
	ff->active = 0;
	ff->resp.error = err;
	va_start(ap, fmt);
	set_message(&ff->resp, fmt, ap);
	va_end(ap);
	free(ff->resp.body); /* a failed fetch has no body */
	ff->resp.body = NULL;
	ff->resp.body_len = 0;
	future_set_error(f, err);
}

/* The backend's cancel runs last: it may drop the backend's reference. */
static int fetch_ops_cancel(future_t *f)
{
	struct fetch_fut *ff = ff_of(f);
	int rc = future__set_cancelled(f);
	if (rc)
		return rc;
	ff->resp.error = CRAWL_ECANCELLED;
	free(ff->resp.message);
	ff->resp.message = strdup("fetch cancelled");
	if (ff->active && ff->cancel)
		ff->cancel(f, ff->xfer);
	return 0;
}

static void fetch_ops_destroy(future_t *f)
{
	struct fetch_fut *ff = ff_of(f);
	struct fetch_response *r = &ff->resp;
	if (r->final_url != r->url)
		free(r->final_url);
	free(r->url);
	free(r->message);
	free(r->content_type);
	free(r->headers);
	free(r->body);
	free(ff);
}

const struct fetch_response *fetch_response_of(const future_t *f)
{
	if (!f || !future_is(f) || f->ops != &fetch_ops || !future_done(f))
		return NULL;
	return &((const struct fetch_fut *)(const void *)f)->resp;
}

const char *fetch_response_header(const struct fetch_response *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* ---- headers ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t count_header_lines(const char *raw, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - raw) : len;
		if (memchr(raw + i, ':', end - i))
			n++;
		i = end + 1;
	}
	return n;
}

/* Copies one "Name: value" line into the arena at *pos; fills h. */
static void add_header(struct fetch_header *h, char *arena, size_t *pos, const char *line,
		       size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen = (size_t)(colon - line), vs = nlen + 1, ve = len;
	while (nlen > 0 && is_blank(line[nlen - 1]))
		nlen--;
	while (vs < ve && is_blank(line[vs]))
		vs++;
	while (ve > vs && is_blank(line[ve - 1]))
		ve--;
	h->name = arena + *pos;
	memcpy(arena + *pos, line, nlen);
	arena[*pos + nlen] = '\0';
	*pos += nlen + 1;
	h->value = arena + *pos;
	memcpy(arena + *pos, line + vs, ve - vs);
	arena[*pos + ve - vs] = '\0';
	*pos += ve - vs + 1;
}

/* One allocation: the array, then the strings. */
int fetch__set_headers(struct fetch_response *r, const char *raw, size_t len)
{
	size_t n = count_header_lines(raw, len), pos = 0, k = 0;
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
	if (n == 0)
		return 0;
	struct fetch_header *h = malloc(n * sizeof *h + len + 2 * n);
	if (!h)
		return CRAWL_ENOMEM;
	char *arena = (char *)(h + n);
	for (size_t i = 0; i < len && k < n;) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - raw) : len;
		if (memchr(raw + i, ':', end - i))
			add_header(&h[k++], arena, &pos, raw + i, end - i);
		i = end + 1;
	}
	r->headers = h;
	r->nheaders = k;
	return 0;
}

/* ---- the fetcher ---- */

int fetcher_new(loop_t *l, const struct fetcher_limits *lim, struct fetcher **out)
{
	struct fetcher_limits dflt;
	if (!l || !out)
		return CRAWL_EINVAL;
	if (!lim) {
		fetcher_limits_init(&dflt);
		lim = &dflt;
	}
	struct fetcher *fr = calloc(1, sizeof *fr);
	if (!fr)
		return CRAWL_ENOMEM;
	fr->loop = l;
	int rc = fetch_sim_new(l, &fr->sim);
	if (rc == 0)
		rc = fetch_curl_new(l, lim, &fr->curl);
	if (rc)
		goto fail;
	*out = fr;
	return 0;
fail:
	fetch_sim_free(fr->sim);
	free(fr);
	return rc;
}

void fetcher_free(struct fetcher *fr)
{
	if (!fr)
		return;
	fetch_curl_free(fr->curl);
	fetch_sim_free(fr->sim);
	free(fr);
}

void fetcher_set_simweb(struct fetcher *fr, const struct simweb *w)
{
	fr->simweb = w;
}

struct fetch_curl *fetcher__curl(struct fetcher *fr)
{
	return fr->curl;
}

size_t fetcher_inflight(const struct fetcher *fr)
{
	return fetch_curl_inflight(fr->curl) + fetch_sim_inflight(fr->sim);
}

/* ---- fetch ---- */

static int valid_seconds(double s)
{
	return s >= 0 && isfinite(s);
}

static int check_headers(const char *const *h)
{
	size_t n = 0;
	for (; h && h[n]; n++) {
		size_t len = strnlen(h[n], FETCH_HEADER_LINE_MAX + 1);
		if (n >= FETCH_HEADERS_MAX || len > FETCH_HEADER_LINE_MAX || len == 0)
			return CRAWL_EINVAL;
		if (strpbrk(h[n], "\r\n") || !strchr(h[n], ':'))
			return CRAWL_EINVAL; /* no header injection */
	}
	return 0;
}

static int check_opts(const struct fetch_opts *o)
{
	struct fetch_policy p;
	if (!valid_seconds(o->connect_timeout) || !valid_seconds(o->timeout) || o->timeout <= 0)
		return CRAWL_EINVAL;
	if (o->low_speed_limit < 0 || o->low_speed_time < 0 || o->max_redirects < 0)
		return CRAWL_EINVAL;
	if (!o->user_agent)
		return CRAWL_EINVAL;
	if (check_headers(o->headers))
		return CRAWL_EINVAL;
	return fetch_policy_init(&p, o->allow_private, o->allow_addrs);
}

enum route { ROUTE_BAD_URL, ROUTE_BAD_SCHEME, ROUTE_HTTP, ROUTE_SIM };

/* Reads the scheme by RFC 3986's grammar: ALPHA *( ALPHA / DIGIT / + - . ) ":" */
static enum route route_of(const char *url)
{
	size_t n = 0;
	if (!((url[0] | 0x20) >= 'a' && (url[0] | 0x20) <= 'z'))
		return ROUTE_BAD_URL;
	while (url[n] && url[n] != ':' && n < 32) {
		char c = url[n];
		if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return ROUTE_BAD_URL;
		n++;
	}
	if (url[n] != ':')
		return ROUTE_BAD_URL;
	if ((n == 4 && strncasecmp(url, "http", 4) == 0) ||
	    (n == 5 && strncasecmp(url, "https", 5) == 0))
		return ROUTE_HTTP;
	if (n == 3 && strncasecmp(url, "sim", 3) == 0)
		return ROUTE_SIM;
	return ROUTE_BAD_SCHEME;
}

/* A future that has already failed (URL problems). */
static int fail_at_once(loop_t *l, const char *url, int err, future_t **out)
{
	char shown[128];
	int rc = fetch__future_new(l, url, 0, FETCH_BACKEND_NONE, NULL, out, NULL);
	if (rc)
		return rc;
	snprintf(shown, sizeof shown, "%s", url);
	fetch__fail(*out, err, "%s: %s%s", shown, crawl_strerror(err),
		    err == CRAWL_ESCHEME ? " (only http, https and sim)" : "");
	return 0;
}

/* http(s): uriparser must accept it (url_host parses it fully). */
static int check_http_url(const char *url)
{
	char host[URL_HOST_MAX];
	int rc = url_host(url, host, sizeof host);
	return rc == CRAWL_EINVAL ? CRAWL_EURL : rc;
}

int fetch(struct fetcher *fr, const char *url, const struct fetch_opts *opts, future_t **out)
{
	struct fetch_opts dflt;
	if (!fr || !url || !out || loop_is_closed(fr->loop))
		return CRAWL_EINVAL;
	if (!opts) {
		fetch_opts_init(&dflt);
		opts = &dflt;
	}
	int rc = check_opts(opts);
	if (rc)
		return rc;
	if (strnlen(url, FETCH_URL_MAX + 1) > FETCH_URL_MAX)
		return fail_at_once(fr->loop, "(URL longer than FETCH_URL_MAX)", CRAWL_EURL, out);
	switch (route_of(url)) {
	case ROUTE_SIM: {
		const struct simweb *w = opts->simweb ? opts->simweb : fr->simweb;
		return w ? fetch_sim_start(fr->sim, w, url, opts, out) : CRAWL_EINVAL;
	}
	case ROUTE_HTTP:
		rc = check_http_url(url);
		if (rc == CRAWL_ENOMEM)
			return rc;
		if (rc)
			return fail_at_once(fr->loop, url, rc, out);
		return fetch_curl_start(fr->curl, url, opts, out);
	case ROUTE_BAD_SCHEME:
		return fail_at_once(fr->loop, url, CRAWL_ESCHEME, out);
	default:
		return fail_at_once(fr->loop, url, CRAWL_EURL, out);
	}
}
