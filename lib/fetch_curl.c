/* fetch_curl.c - libcurl's multi_socket API on the loop (hiperfifo's shape). */
#include "fetch_curl.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "fetch_xfer.h"

/* One socket curl asked us to watch. */
struct curl_sock {
	struct event *ev;
	struct fetch_curl *owner;
	struct curl_sock *prev, *next;
	curl_socket_t fd;
	int what; /* CURL_POLL_IN/OUT/INOUT */
};

struct fetch_curl {
	loop_t *loop;
	CURLM *multi;
	struct loop_timer timer;  /* curl's timeout */
	struct loop_timer reaper; /* removes cancelled transfers */
	struct fetch_xfer *idle, *reap, *active;
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

static void multi_remove(struct fetch_curl *c, struct fetch_xfer *x)
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
	if (++c->stats.sockets_open > c->stats.sockets_peak)
		c->stats.sockets_peak = c->stats.sockets_open;
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

/* ---- transfers: handles, lists ---- */

static int xfer_get(struct fetch_curl *c, struct fetch_xfer **out)
{
	struct fetch_xfer *x = c->idle;
	if (x) {
		c->idle = x->next;
		c->nidle--;
		c->stats.handles_reused++;
	} else {
		int rc = fetch_xfer_new(c, &c->in_cb, &c->stats, &x);
		if (rc)
			return rc;
		c->stats.handles_made++;
	}
	x->next = NULL;
	*out = x;
	return 0;
}

/* Back to the idle list (keeping its options) or freed. x is out of the
 * multi handle. */
static void xfer_put(struct fetch_curl *c, struct fetch_xfer *x)
{
	fetch_xfer_recycle(x);
	if (c->nidle >= c->lim.max_idle_handles) {
		fetch_xfer_free(x);
		return;
	}
	x->next = c->idle;
	c->idle = x;
	c->nidle++;
}

static void active_link(struct fetch_curl *c, struct fetch_xfer *x)
{
	x->aprev = NULL;
	x->anext = c->active;
	if (c->active)
		c->active->aprev = x;
	c->active = x;
	c->inflight++;
}

static void active_unlink(struct fetch_curl *c, struct fetch_xfer *x)
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

/* Out of the multi handle; completes the future. */
static void finish(struct fetch_curl *c, struct fetch_xfer *x, CURLcode res)
{
	future_t *f = x->f;
	fetch_xfer_finish(x, res);
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
		struct fetch_xfer *x = (struct fetch_xfer *)(void *)priv;
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
	struct fetch_xfer *x;
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
	struct fetch_xfer *x = *(struct fetch_xfer **)slot;
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
static void start_failed(struct fetch_curl *c, struct fetch_xfer *x, future_t *f, CURLMcode mc)
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
	struct fetch_xfer *x = NULL, **slot;
	future_t *f;
	int rc = fetch__future_new(c->loop, url, sizeof *slot, FETCH_BACKEND_CURL, curl_cancel, &f,
				   (void **)&slot);
	if (rc)
		return rc;
	rc = xfer_get(c, &x);
	if (rc == 0)
		rc = fetch_xfer_setup(x, url, opts);
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
	for (struct fetch_xfer *x = c->active; x; x = x->anext) {
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
		struct fetch_xfer *x = c->idle;
		c->idle = x->next;
		fetch_xfer_free(x);
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
