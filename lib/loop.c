/* loop.c - ready queue, timers and libevent poll phase. */
#include "loop.h"

#include <event2/event.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Timer wheel geometry (see "timers" below) and where a timer is. */
enum { WHEEL_SHIFT = 20, WHEEL_SLOTS = 4096, WHEEL_WORDS = WHEEL_SLOTS / 64 };
enum { IN_NONE, IN_READY, IN_NEAR, IN_FAR, IN_WHEEL };

/* A 1-based min-heap of timers by deadline. */
struct timer_heap {
	struct loop_timer **v;
	uint32_t n, cap;
};

struct loop {
	struct event_base *base;
	struct event *wake;   /* timeout for the earliest timer */
	struct event *keep;   /* keeps epoll blocking when nothing else is registered */
	int keep_fd;
	uint64_t now;
	uint64_t last_poll; /* when I/O was last polled (ns) */
	struct loop_timer ready;               /* ready queue: circular list sentinel */
	struct loop_timer mark;                /* end of the batch run_ready runs */
	struct timer_heap near, far;           /* see "timers" below */
	uint64_t wheel_tick;                   /* the current tick */
	uint32_t nwheel;                       /* timers in the wheel */
	struct loop_timer *slots[WHEEL_SLOTS]; /* lists, by tick */
	uint64_t slot_bits[WHEEL_WORDS];       /* non-empty slots */
	struct loop__task_link tasks;          /* pending tasks (circular list) */
	loop_report_fn report;
	void *report_arg;
	uint8_t running, stopping, closed;
};

struct loop_handle {
	struct loop_timer t;
	loop_t *loop;
	loop_fn fn;
	void *arg;
	int refs;
	uint8_t ran;
};

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void on_keep(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;
	(void)what;
	(void)arg;
	if (read(fd, &v, sizeof v) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

static int loop_open_base(loop_t *l)
{
	l->base = event_base_new();
	if (!l->base)
		return CRAWL_ESYS;
#ifdef __linux__
	if (strcmp(event_base_get_method(l->base), "epoll") != 0)
		return CRAWL_ESYS;
#endif
	l->wake = evtimer_new(l->base, on_wake, l);
	l->keep_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!l->wake || l->keep_fd < 0)
		return l->wake ? CRAWL_ESYS : CRAWL_ENOMEM;
	l->keep = event_new(l->base, l->keep_fd, EV_READ | EV_PERSIST, on_keep, l);
	if (!l->keep)
		return CRAWL_ENOMEM;
	if (event_add(l->keep, NULL) != 0)
		return CRAWL_ESYS;
	return 0;
}

static void loop_release_base(loop_t *l)
{
	if (l->keep)
		event_free(l->keep);
	if (l->wake)
		event_free(l->wake);
	if (l->keep_fd >= 0)
		close(l->keep_fd);
	if (l->base)
		event_base_free(l->base);
	l->keep = l->wake = NULL;
	l->base = NULL;
	l->keep_fd = -1;
}

int loop_new(loop_t **out)
{
	loop_t *l = calloc(1, sizeof *l);
	if (!l)
		return CRAWL_ENOMEM;
	l->keep_fd = -1;
	l->tasks.prev = l->tasks.next = &l->tasks;
	l->ready.prev = l->ready.next = &l->ready;
	int rc = loop_open_base(l);
	if (rc)
		goto fail;
	l->now = clock_ns();
	l->wheel_tick = l->now >> WHEEL_SHIFT;
	*out = l;
	return 0;
fail:
	loop_release_base(l);
	free(l);
	return rc;
}

void loop_set_report(loop_t *l, loop_report_fn fn, void *arg)
{
	l->report = fn;
	l->report_arg = arg;
	if (fn && l->base)
		loop__report(l, 7, "event loop backend: %s", event_base_get_method(l->base));
}

void loop__report(loop_t *l, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!l->report)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	l->report(l->report_arg, level, buf);
}

uint64_t loop_now(const loop_t *l)
{
	return l->now;
}

double loop_time(const loop_t *l)
{
	return (double)l->now / 1e9;
}

uint64_t loop_update_time(loop_t *l)
{
	l->now = clock_ns();
	return l->now;
}

struct event_base *loop_event_base(loop_t *l)
{
	return l->base;
}

int loop_is_closed(const loop_t *l)
{
	return l->closed;
}

int loop_is_running(const loop_t *l)
{
	return l->running;
}

/* ---- timers: a wheel in front of two heaps ----
 *
 * Time is cut into ticks of 2^WHEEL_SHIFT ns (about 1 ms). A timer due in
 * the current tick (or earlier) is in the near heap, exactly ordered; one
 * due within the next WHEEL_SLOTS ticks is in its tick's slot of the wheel
 * (an unordered list: O(1) in and out, no cache miss per heap level); one
 * due later still is in the far heap. As the clock passes a tick, that
 * tick's slot moves into the near heap, and far timers that now fit move
 * into the wheel. So the near heap holds about one millisecond of timers
 * and a million sleeping tasks cost no heap slot each. */

static void heap_set(struct timer_heap *h, uint32_t i, struct loop_timer *t)
{
	h->v[i] = t;
	t->heap_index = i;
}

static void heap_up(struct timer_heap *h, uint32_t i)
{
	struct loop_timer *t = h->v[i];
	while (i > 1 && h->v[i / 2]->deadline > t->deadline) {
		heap_set(h, i, h->v[i / 2]);
		i /= 2;
	}
	heap_set(h, i, t);
}

static void heap_down(struct timer_heap *h, uint32_t i)
{
	struct loop_timer *t = h->v[i];
	for (;;) {
		uint32_t c = i * 2;
		if (c > h->n)
			break;
		if (c < h->n && h->v[c + 1]->deadline < h->v[c]->deadline)
			c++;
		if (h->v[c]->deadline >= t->deadline)
			break;
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, t);
}

static int heap_push(struct timer_heap *h, struct loop_timer *t)
{
	if (h->n + 1 >= h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 64;
		struct loop_timer **v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return CRAWL_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->n++;
	heap_set(h, h->n, t);
	heap_up(h, h->n);
	return 0;
}

static void heap_remove(struct timer_heap *h, struct loop_timer *t)
{
	uint32_t i = t->heap_index;
	struct loop_timer *last = h->v[h->n--];
	t->heap_index = 0;
	if (last == t)
		return;
	heap_set(h, i, last);
	if (i > 1 && h->v[i / 2]->deadline > last->deadline)
		heap_up(h, i);
	else
		heap_down(h, i);
}

static struct loop_timer *heap_top(const struct timer_heap *h)
{
	return h->n ? h->v[1] : NULL;
}

static uint32_t slot_of(uint64_t tick)
{
	return (uint32_t)(tick % WHEEL_SLOTS);
}

static void wheel_link(loop_t *l, struct loop_timer *t)
{
	uint32_t s = slot_of(t->deadline >> WHEEL_SHIFT);
	t->prev = NULL;
	t->next = l->slots[s];
	if (t->next)
		t->next->prev = t;
	l->slots[s] = t;
	l->slot_bits[s / 64] |= (uint64_t)1 << (s % 64);
	l->nwheel++;
}

/* The slot follows from the deadline: no back pointer needed. */
static void wheel_unlink(loop_t *l, struct loop_timer *t)
{
	uint32_t s = slot_of(t->deadline >> WHEEL_SHIFT);
	if (t->prev)
		t->prev->next = t->next;
	else
		l->slots[s] = t->next;
	if (t->next)
		t->next->prev = t->prev;
	if (!l->slots[s])
		l->slot_bits[s / 64] &= ~((uint64_t)1 << (s % 64));
	t->next = t->prev = NULL;
	l->nwheel--;
}

/* The first tick after the current one whose slot is not empty, or
 * UINT64_MAX: one pass over the bitmap, starting past the current slot. */
static uint64_t wheel_next_tick(const loop_t *l)
{
	if (!l->nwheel)
		return UINT64_MAX;
	uint32_t start = slot_of(l->wheel_tick + 1);
	for (uint32_t k = 0; k <= WHEEL_WORDS; k++) {
		uint32_t w = (start / 64 + k) % WHEEL_WORDS;
		uint64_t bits = l->slot_bits[w];
		if (k == 0)
			bits &= ~(uint64_t)0 << (start % 64);
		else if (k == WHEEL_WORDS)
			bits &= ((uint64_t)1 << (start % 64)) - 1;
		if (bits) {
			uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(bits);
			return l->wheel_tick + 1 + (s + WHEEL_SLOTS - start) % WHEEL_SLOTS;
		}
	}
	return UINT64_MAX;
}

static void ready_push(loop_t *l, struct loop_timer *t);

/* Files t by its deadline. Out of memory for a heap: it runs early rather
 * than never. */
static void timer_place(loop_t *l, struct loop_timer *t)
{
	uint64_t tick = t->deadline >> WHEEL_SHIFT;
	if (tick > l->wheel_tick && tick - l->wheel_tick < WHEEL_SLOTS) {
		wheel_link(l, t);
		t->where = IN_WHEEL;
		return;
	}
	int far = tick > l->wheel_tick;
	if (heap_push(far ? &l->far : &l->near, t) == 0)
		t->where = far ? IN_FAR : IN_NEAR;
	else
		ready_push(l, t);
}

/* Every far timer is later than every wheel timer: they come in once the
 * wheel has moved. */
static void far_migrate(loop_t *l)
{
	struct loop_timer *t;
	while ((t = heap_top(&l->far)) &&
	       (t->deadline >> WHEEL_SHIFT) < l->wheel_tick + WHEEL_SLOTS) {
		heap_remove(&l->far, t);
		timer_place(l, t);
	}
}

static void pop_due(loop_t *l)
{
	struct loop_timer *t;
	while ((t = heap_top(&l->near)) && t->deadline <= l->now) {
		heap_remove(&l->near, t);
		ready_push(l, t);
	}
}

/* Moves the wheel to the clock's tick, slot by slot in tick order, and
 * queues what is due, in deadline order. Emptying the near heap after
 * each slot keeps it small even when the loop is far behind. */
static void run_due_timers(loop_t *l)
{
	uint64_t target = l->now >> WHEEL_SHIFT;
	pop_due(l);
	for (uint64_t tick; (tick = wheel_next_tick(l)) <= target;) {
		uint32_t s = slot_of(tick);
		l->wheel_tick = tick;
		while (l->slots[s]) {
			struct loop_timer *t = l->slots[s];
			wheel_unlink(l, t);
			timer_place(l, t);
		}
		pop_due(l);
	}
	if (target > l->wheel_tick)
		l->wheel_tick = target;
	far_migrate(l);
	pop_due(l);
}

/* The earliest moment something may be due (a wheel slot's start), or 0
 * if no timer is armed. */
static int next_wakeup(const loop_t *l, uint64_t *when)
{
	struct loop_timer *t = heap_top(&l->near);
	uint64_t tick = wheel_next_tick(l);
	if (t)
		*when = t->deadline;
	else if (tick != UINT64_MAX)
		*when = tick << WHEEL_SHIFT;
	else if ((t = heap_top(&l->far)))
		*when = t->deadline;
	else
		return 0;
	return 1;
}

/* ---- embedded timers ---- */

void loop_timer_init(struct loop_timer *t, loop_fn fn, void *arg)
{
	memset(t, 0, sizeof *t);
	t->fn = fn;
	t->arg = arg;
}

int loop_timer_armed(const struct loop_timer *t)
{
	return t->where != IN_NONE;
}

static int ready_empty(const loop_t *l)
{
	return l->ready.next == &l->ready;
}

static void ready_link(loop_t *l, struct loop_timer *t)
{
	t->prev = l->ready.prev;
	t->next = &l->ready;
	l->ready.prev->next = t;
	l->ready.prev = t;
}

static void ready_unlink(struct loop_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static void ready_push(loop_t *l, struct loop_timer *t)
{
	t->where = IN_READY;
	ready_link(l, t);
}

void loop_timer_stop(loop_t *l, struct loop_timer *t)
{
	switch (t->where) {
	case IN_READY:
		ready_unlink(t);
		break;
	case IN_NEAR:
		heap_remove(&l->near, t);
		break;
	case IN_FAR:
		heap_remove(&l->far, t);
		break;
	case IN_WHEEL:
		wheel_unlink(l, t);
		break;
	default:
		break;
	}
	t->where = IN_NONE;
}

/* Already queued: it keeps its place. */
void loop_timer_soon(loop_t *l, struct loop_timer *t)
{
	if (t->where == IN_READY)
		return;
	loop_timer_stop(l, t);
	ready_push(l, t);
}

void loop_timer_at(loop_t *l, struct loop_timer *t, uint64_t deadline_ns)
{
	loop_timer_stop(l, t);
	t->deadline = deadline_ns;
	timer_place(l, t);
}

void loop_timer_after(loop_t *l, struct loop_timer *t, double seconds)
{
	if (!(seconds > 0)) {
		loop_timer_soon(l, t);
		return;
	}
	/* Beyond 1e18 ns (31 years) means never: converting a double beyond
	 * the range of uint64_t is undefined, and call_later(1e30) is valid. */
	double ns = seconds * 1e9;
	loop_timer_at(l, t, ns > 1e18 ? UINT64_MAX : l->now + (uint64_t)ns);
}

/* ---- call_soon / call_later handles ---- */

static void handle_unref(loop_handle_t *h)
{
	if (--h->refs == 0)
		free(h);
}

static void handle_drop(void *arg)
{
	handle_unref(arg);
}

static void handle_run(void *arg)
{
	loop_handle_t *h = arg;
	h->ran = 1;
	h->fn(h->arg);
	handle_unref(h);
}

static int handle_new(loop_t *l, loop_fn fn, void *arg, loop_handle_t **out, loop_handle_t **h)
{
	if (l->closed)
		return CRAWL_ELOOPCLOSED;
	if (!fn)
		return CRAWL_EINVAL;
	*h = calloc(1, sizeof **h);
	if (!*h)
		return CRAWL_ENOMEM;
	loop_timer_init(&(*h)->t, handle_run, *h);
	(*h)->t.drop = handle_drop;
	(*h)->loop = l;
	(*h)->fn = fn;
	(*h)->arg = arg;
	(*h)->refs = out ? 2 : 1;
	if (out)
		*out = *h;
	return 0;
}

int loop_call_soon(loop_t *l, loop_fn fn, void *arg, loop_handle_t **out)
{
	loop_handle_t *h;
	int rc = handle_new(l, fn, arg, out, &h);
	if (rc == 0)
		loop_timer_soon(l, &h->t);
	return rc;
}

int loop_call_later(loop_t *l, double delay, loop_fn fn, void *arg, loop_handle_t **out)
{
	if (!(delay >= 0) || isinf(delay))
		return CRAWL_EINVAL;
	loop_handle_t *h;
	int rc = handle_new(l, fn, arg, out, &h);
	if (rc == 0)
		loop_timer_after(l, &h->t, delay);
	return rc;
}

int loop_handle_cancel(loop_handle_t *h)
{
	int rc = h->ran ? CRAWL_EDONE : 0;
	if (!h->ran && loop_timer_armed(&h->t)) {
		loop_timer_stop(h->loop, &h->t);
		h->refs--; /* the loop's reference: nothing will run it now */
	}
	handle_unref(h);
	return rc;
}

void loop_handle_release(loop_handle_t *h)
{
	handle_unref(h);
}

/* ---- running ---- */

/* While callbacks are ready, I/O is polled at most every POLL_BUSY_NS: a
 * non-blocking epoll_wait is a system call (about 1 us here), more than a
 * task's whole wake-up, and a burst of ready callbacks must not pay it on
 * every iteration. I/O still gets its turn within that bound. */
#define POLL_BUSY_NS 50000u

static void poll_io(loop_t *l)
{
	int flags = EVLOOP_ONCE;
	uint64_t when;
	if (!ready_empty(l)) {
		uint64_t now = loop_update_time(l);
		if (now - l->last_poll < POLL_BUSY_NS)
			return;
		flags |= EVLOOP_NONBLOCK;
	} else if (next_wakeup(l, &when)) {
		uint64_t now = loop_update_time(l);
		uint64_t ns = when > now ? when - now : 0;
		struct timeval tv = {(time_t)(ns / 1000000000u), (suseconds_t)((ns % 1000000000u + 999) / 1000)};
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec++;
			tv.tv_usec -= 1000000;
		}
		if (ns == 0)
			flags |= EVLOOP_NONBLOCK;
		else
			evtimer_add(l->wake, &tv);
	}
	event_base_loop(l->base, flags);
	evtimer_del(l->wake);
	l->last_poll = loop_update_time(l);
}

/* Runs what was ready when the phase began; what they schedule goes
 * behind the mark and waits for the next iteration. A timer stopped
 * meanwhile is unlinked, so it is simply not met. */
static void run_ready(loop_t *l)
{
	ready_link(l, &l->mark);
	for (;;) {
		struct loop_timer *t = l->ready.next;
		ready_unlink(t);
		if (t == &l->mark)
			break;
		t->where = IN_NONE;
		t->fn(t->arg);
	}
}

static int loop_enter(loop_t *l)
{
	if (l->closed)
		return CRAWL_ELOOPCLOSED;
	if (l->running)
		return CRAWL_ELOOPRUNNING;
	l->running = 1;
	l->stopping = 0;
	loop_update_time(l);
	return 0;
}

static void loop_iterate(loop_t *l)
{
	poll_io(l);
	run_due_timers(l);
	run_ready(l);
}

int loop_run_forever(loop_t *l)
{
	int rc = loop_enter(l);
	if (rc)
		return rc;
	while (!l->stopping)
		loop_iterate(l);
	l->running = 0;
	l->stopping = 0;
	return 0;
}

void loop_stop(loop_t *l)
{
	l->stopping = 1;
}

int loop__run_until(loop_t *l, const uint8_t *flag)
{
	int rc = loop_enter(l);
	if (rc)
		return rc;
	while (!*flag && !l->stopping)
		loop_iterate(l);
	l->running = 0;
	l->stopping = 0;
	return *flag ? 0 : CRAWL_EPENDING;
}

void loop__task_add(loop_t *l, struct loop__task_link *link)
{
	link->next = l->tasks.next;
	link->prev = &l->tasks;
	l->tasks.next->prev = link;
	l->tasks.next = link;
}

void loop__task_remove(loop_t *l, struct loop__task_link *link)
{
	(void)l;
	if (!link->next)
		return;
	link->prev->next = link->next;
	link->next->prev = link->prev;
	link->next = link->prev = NULL;
}

/* The next armed timer in any structure, or NULL. */
static struct loop_timer *any_timer(const loop_t *l)
{
	if (!ready_empty(l))
		return l->ready.next;
	if (heap_top(&l->near))
		return heap_top(&l->near);
	if (heap_top(&l->far))
		return heap_top(&l->far);
	uint64_t tick = wheel_next_tick(l);
	return tick != UINT64_MAX ? l->slots[slot_of(tick)] : NULL;
}

/* One by one: a drop may stop other timers. */
static void drop_timers(loop_t *l)
{
	struct loop_timer *t;
	while ((t = any_timer(l))) {
		loop_timer_stop(l, t);
		if (t->drop)
			t->drop(t->arg);
	}
}

int loop_close(loop_t *l)
{
	if (l->running)
		return CRAWL_ELOOPRUNNING;
	if (l->closed)
		return 0;
	l->closed = 1;
	int n = 0;
	while (l->tasks.next != &l->tasks) {
		struct loop__task_link *link = l->tasks.next;
		loop__task_remove(l, link);
		loop__report(l, 4, "Task was destroyed but it is pending!");
		link->destroy(link);
		n++;
	}
	drop_timers(l);
	free(l->near.v);
	free(l->far.v);
	memset(&l->near, 0, sizeof l->near);
	memset(&l->far, 0, sizeof l->far);
	loop_release_base(l);
	return n;
}

void loop_free(loop_t *l)
{
	if (!l)
		return;
	loop_close(l);
	free(l);
}
