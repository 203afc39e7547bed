/* fetch_sim.c - simulated fetches: one loop timer each. */
#include "fetch_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simweb.h"

struct fetch_sim {
	loop_t *loop;
	struct sim_xfer *head; /* in flight, for fetch_sim_free */
	size_t inflight;
};

/* Lives inside the fetch future (fetch__future_new's xfer area). While
 * armed it holds a reference to the future. */
struct sim_xfer {
	struct loop_timer timer;
	struct fetch_sim *owner;
	future_t *f;
	struct sim_xfer *prev, *next;
	const struct simweb *w;
	struct simweb_page page;
	uint64_t started;  /* loop clock, ns */
	size_t max_body;
	double timeout;    /* seconds */
	uint8_t times_out; /* the timer ends in CRAWL_ETIMEDOUT */
};

int fetch_sim_new(loop_t *l, struct fetch_sim **out)
{
	struct fetch_sim *s = calloc(1, sizeof *s);
	if (!s)
		return CRAWL_ENOMEM;
	s->loop = l;
	*out = s;
	return 0;
}

static void xfer_link(struct fetch_sim *s, struct sim_xfer *x)
{
	x->prev = NULL;
	x->next = s->head;
	if (s->head)
		s->head->prev = x;
	s->head = x;
	s->inflight++;
}

static void xfer_unlink(struct sim_xfer *x)
{
	struct fetch_sim *s = x->owner;
	if (x->prev)
		x->prev->next = x->next;
	else
		s->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	s->inflight--;
}

/* The backend's claim ends: unlink and drop its reference. */
static void xfer_release(struct sim_xfer *x)
{
	future_t *f = x->f;
	xfer_unlink(x);
	future_unref(f);
}

static int finish_ok(struct sim_xfer *x, struct fetch_response *r)
{
	char hdr[256];
	r->status = x->page.status;
	r->final_url = r->url;
	r->content_type = x->page.content_type[0] ? strdup(x->page.content_type) : NULL;
	if (x->page.content_type[0] && !r->content_type)
		return CRAWL_ENOMEM;
	int n = snprintf(hdr, sizeof hdr, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			 x->page.content_type, x->page.body_len);
	if (fetch__set_headers(r, hdr, (size_t)n) != 0)
		return CRAWL_ENOMEM;
	r->body = malloc(x->page.body_len + 1);
	if (!r->body)
		return CRAWL_ENOMEM;
	r->body_len = x->page.body_len ? simweb_render(x->w, r->url, r->body, x->page.body_len) : 0;
	if (r->body_len > x->page.body_len)
		r->body_len = x->page.body_len; /* never past what was allocated */
	r->body[r->body_len] = '\0';
	r->bytes_received = (uint64_t)n + r->body_len;
	return 0;
}

static void sim_fire(void *arg)
{
	struct sim_xfer *x = arg;
	future_t *f = x->f;
	struct fetch_response *r = fetch__response(f);
	uint64_t us = (loop_now(x->owner->loop) - x->started) / 1000;
	r->timings.total_us = us;
	if (x->times_out) {
		fetch__fail(f, CRAWL_ETIMEDOUT, "%s: timed out after %.3f s (simulated)", r->url,
			    x->timeout);
	} else if (x->page.body_len > x->max_body) {
		r->status = x->page.status;
		fetch__fail(f, CRAWL_EBODYTOOLARGE, "%s: body of %zu bytes is over the limit of %zu",
			    r->url, x->page.body_len, x->max_body);
	} else {
		r->timings.first_byte_us = us;
		if (finish_ok(x, r) == 0)
			fetch__succeed(f);
		else
			fetch__fail(f, CRAWL_ENOMEM, "%s: out of memory building the response", r->url);
	}
	xfer_release(x);
}

/* loop_close discarded the armed timer. */
static void sim_drop(void *arg)
{
	struct sim_xfer *x = arg;
	fetch__detach(x->f);
	xfer_release(x);
}

static void sim_cancel(future_t *f, void *xfer)
{
	struct sim_xfer *x = xfer;
	loop_timer_stop(x->owner->loop, &x->timer);
	fetch__detach(f);
	xfer_release(x);
}

/* Bad URL or unknown host: fail at once, as DNS would. */
static void fail_lookup(future_t *f, int rc)
{
	const char *url = fetch__response(f)->url;
	if (rc == CRAWL_EDNS)
		fetch__fail(f, rc, "%s: simulated host does not exist", url);
	else
		fetch__fail(f, CRAWL_EURL, "%s: not a simulated-web URL (sim://hK.sim/...)", url);
}

int fetch_sim_start(struct fetch_sim *s, const struct simweb *w, const char *url,
		    const struct fetch_opts *opts, future_t **out)
{
	struct sim_xfer *x;
	future_t *f;
	int rc = fetch__future_new(s->loop, url, sizeof *x, FETCH_BACKEND_SIM, sim_cancel, &f,
				   (void **)&x);
	if (rc)
		return rc;
	*out = f;
	rc = simweb_get(w, url, opts->attempt, &x->page);
	if (rc) {
		fail_lookup(f, rc);
		return 0;
	}
	x->owner = s;
	x->f = f;
	x->w = w;
	x->started = loop_now(s->loop);
	x->max_body = opts->max_body;
	x->timeout = opts->timeout;
	double delay = x->page.latency_ms / 1000.0;
	x->times_out = x->page.timeout || delay > opts->timeout;
	loop_timer_init(&x->timer, sim_fire, x);
	x->timer.drop = sim_drop;
	future_ref(f); /* the timer's */
	xfer_link(s, x);
	loop_timer_after(s->loop, &x->timer, x->times_out ? opts->timeout : delay);
	return 0;
}

void fetch_sim_free(struct fetch_sim *s)
{
	if (!s)
		return;
	while (s->head) {
		future_t *f = s->head->f;
		future_ref(f);
		future_cancel(f); /* sim_cancel unlinks it */
		future_unref(f);
	}
	free(s);
}

size_t fetch_sim_inflight(const struct fetch_sim *s)
{
	return s->inflight;
}
