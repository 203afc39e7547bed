/* coro.c - generator semantics over ctx_switch, dedicated or shared stacks. */
#include "coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "stack.h"

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* Under valgrind the bytes copied back onto a shared stack lie below where
 * that stack's pointer last was, which memcheck marked unaddressable. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define VG_WRITABLE(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#endif
#endif
#ifndef VG_WRITABLE
#define VG_WRITABLE(p, n) ((void)(p), (void)(n))
#endif

enum { SHARED_LEVELS = 32, SHARED_SIZE = 256 * 1024 };
/* A shallow suspended coroutine's live stack fits in the struct: no
 * allocation per suspend (a sleeping task keeps about 160 bytes). */
enum { INLINE_SAVE = 192 };
enum { MODE_DEDICATED, MODE_SHARED };

/* One shared stack: whose live bytes are on it now. */
struct shared {
	struct stack *stack;
	coro_t *owner;
};

struct coro {
	struct ctx ctx;
	coro_fn fn;
	void *arg;
	void *value;  /* crosses the switch: sent in, yielded out */
	void *result; /* return value once finished */
	void *data;
	coro_t *caller;        /* resumer; NULL = the thread's own stack */
	struct stack *stack;   /* dedicated stack, or NULL */
	struct shared *shared; /* bound shared stack, or NULL */
	char *saved;           /* shared mode: live bytes while evicted */
	uint32_t saved_len, saved_cap;
	size_t stack_size;
	int code; /* resume code: 0 send, < 0 thrown (CRAWL_EEXIT = close) */
	int error;
	uint8_t state, mode, finished, embedded;
#ifdef CORO_ASAN
	void *asan_fake;
	const void *caller_bottom;
	size_t caller_size;
#endif
	_Alignas(16) char inline_save[INLINE_SAVE];
};

struct thread_state {
	coro_t *current;
	unsigned depth;
	int default_shared;
	struct ctx main_ctx;
	struct shared shared[SHARED_LEVELS];
};

static _Thread_local struct thread_state ts;

#ifdef CORO_ASAN
static void san_start(void **fake, const void *bottom, size_t size)
{
	__sanitizer_start_switch_fiber(fake, bottom, size);
}
static void san_finish(void *fake, const void **bottom, size_t *size)
{
	__sanitizer_finish_switch_fiber(fake, bottom, size);
}
#define SAN_IN(c) san_finish((c)->asan_fake, &(c)->caller_bottom, &(c)->caller_size)
#define SAN_OUT(c, fake) san_start((fake), (c)->caller_bottom, (c)->caller_size)
#define SAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define san_start(fake, bottom, size) ((void)(fake), (void)(bottom), (void)(size))
#define san_finish(fake, bottom, size) ((void)(fake))
#define SAN_IN(c) ((void)(c))
#define SAN_OUT(c, fake) ((void)(c))
#define SAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static struct stack *stack_of(const coro_t *c)
{
	return c->shared ? c->shared->stack : c->stack;
}

static char *stack_top(const coro_t *c)
{
	struct stack *s = stack_of(c);
	return (char *)(((uintptr_t)s->lo + s->size) & ~(uintptr_t)15);
}

static struct ctx *caller_ctx(const coro_t *c)
{
	return c->caller ? &c->caller->ctx : &ts.main_ctx;
}

void coro_default_shared(int on)
{
	ts.default_shared = on ? 1 : 0;
}

size_t coro_size(void)
{
	return sizeof(struct coro);
}

int coro_init(coro_t *c, coro_fn fn, void *arg, const struct coro_opts *opts)
{
	if (!c || !fn)
		return CRAWL_EINVAL;
	memset(c, 0, offsetof(struct coro, inline_save));
	c->embedded = 1;
	int shared = opts ? opts->shared : 0;
	c->mode = (shared > 0 || (shared == 0 && ts.default_shared)) ? MODE_SHARED : MODE_DEDICATED;
	c->stack_size = opts && opts->stack_size ? opts->stack_size : STACK_DEFAULT_SIZE;
	c->fn = fn;
	c->arg = arg;
	c->state = CORO_CREATED;
	return 0;
}

int coro_new(coro_t **out, coro_fn fn, void *arg, const struct coro_opts *opts)
{
	if (!out || !fn)
		return CRAWL_EINVAL;
	coro_t *c = malloc(sizeof *c);
	if (!c)
		return CRAWL_ENOMEM;
	coro_init(c, fn, arg, opts);
	c->embedded = 0;
	*out = c;
	return 0;
}

/* Takes a stack at the first resume: a shared one for the current nesting
 * depth (so a coroutine never evicts one of its resumers), else dedicated.
 * A resumer bound at another depth may be running on that level's stack
 * (one first resumed deeper, now driven from shallower): binding there
 * would fail every resume with CRAWL_ESHARED, so the next level is taken. */
static int bind_stack(coro_t *c)
{
	unsigned lv = ts.depth;
	while (lv < SHARED_LEVELS && ts.shared[lv].owner &&
	       ts.shared[lv].owner->state == CORO_RUNNING)
		lv++;
	if (c->mode == MODE_SHARED && lv < SHARED_LEVELS) {
		struct shared *sh = &ts.shared[lv];
		if (!sh->stack && stack_alloc(&sh->stack, SHARED_SIZE) != 0)
			return CRAWL_ESTACK;
		c->shared = sh;
		return 0;
	}
	return stack_alloc(&c->stack, c->stack_size) ? CRAWL_ESTACK : 0;
}

static int save_live(coro_t *o)
{
	size_t len = (size_t)(stack_top(o) - (char *)o->ctx.sp);
	char *heap = o->saved == o->inline_save ? NULL : o->saved;
	if (len <= INLINE_SAVE) {
		free(heap);
		o->saved = o->inline_save;
		o->saved_cap = INLINE_SAVE;
	} else if (len > o->saved_cap || len * 2 < o->saved_cap) {
		char *p = realloc(heap, len);
		if (!p)
			return CRAWL_ENOMEM;
		o->saved = p;
		o->saved_cap = (uint32_t)len;
	}
	memcpy(o->saved, o->ctx.sp, len);
	o->saved_len = (uint32_t)len;
	return 0;
}

/* Makes c the owner of its shared stack: the suspended owner's live bytes
 * are copied out, c's copied back in. Runs on the resumer's stack, which
 * is never this one (see bind_stack). */
static int shared_enter(coro_t *c)
{
	struct shared *sh = c->shared;
	coro_t *o = sh->owner;
	if (o == c)
		return 0;
	if (o && o->state == CORO_RUNNING)
		return CRAWL_ESHARED;
	SAN_UNPOISON(sh->stack->lo, sh->stack->size);
	if (o) {
		int rc = save_live(o);
		if (rc)
			return rc;
	}
	sh->owner = c;
	if (c->state != CORO_CREATED) {
		VG_WRITABLE(c->ctx.sp, c->saved_len);
		memcpy(c->ctx.sp, c->saved, c->saved_len);
	}
	return 0;
}

static void release_stack(coro_t *c)
{
	if (c->shared && c->shared->owner == c)
		c->shared->owner = NULL;
	c->shared = NULL;
	stack_release(c->stack);
	c->stack = NULL;
	if (c->saved != c->inline_save)
		free(c->saved);
	c->saved = NULL;
	c->saved_len = c->saved_cap = 0;
}

static void coro_entry(void *p)
{
	coro_t *c = p;
	void *res = NULL;
	SAN_IN(c);
	int rc = c->fn(c->arg, &res);
	c->result = res;
	c->error = rc < 0 ? rc : 0;
	c->finished = 1;
	/* Nothing on this stack matters any more: never save it. */
	if (c->shared)
		c->shared->owner = NULL;
	SAN_OUT(c, NULL);
	ctx_switch(&c->ctx, caller_ctx(c));
	abort(); /* a finished coroutine is never resumed */
}

static int settle(coro_t *c, void **out)
{
	if (c->finished) {
		c->state = CORO_CLOSED;
		release_stack(c);
		if (out)
			*out = c->result;
		return c->error ? c->error : CORO_RETURNED;
	}
	c->state = CORO_SUSPENDED;
	if (out)
		*out = c->value;
	return 0;
}

static int prepare(coro_t *c)
{
	int rc;
	if (c->state == CORO_CREATED && !c->stack && !c->shared && (rc = bind_stack(c)) != 0)
		return rc;
	if (c->shared && (rc = shared_enter(c)) != 0)
		return rc;
	if (c->state != CORO_CREATED)
		return 0;
	struct stack *s = stack_of(c);
	return ctx_init(&c->ctx, s->lo, (size_t)(stack_top(c) - s->lo), coro_entry, c);
}

static int resume(coro_t *c, int code, void *value, void **out)
{
	int rc = prepare(c);
	if (rc)
		return rc;
	c->code = code;
	c->value = value;
	c->caller = ts.current;
	c->state = CORO_RUNNING;
	struct ctx *from = c->caller ? &c->caller->ctx : &ts.main_ctx;
	struct stack *s = stack_of(c);
	void *fake = NULL;
	ts.current = c;
	ts.depth++;
	san_start(&fake, s->lo, s->size);
	ctx_switch(from, &c->ctx);
	san_finish(fake, NULL, NULL);
	ts.depth--;
	ts.current = c->caller;
	return settle(c, out);
}

static int check_resumable(const coro_t *c)
{
	if (!c)
		return CRAWL_EINVAL;
	if (c->state == CORO_RUNNING)
		return CRAWL_ERUNNING;
	if (c->state == CORO_CLOSED)
		return CRAWL_ECLOSED;
	return 0;
}

int coro_send(coro_t *c, void *value, void **yielded)
{
	int rc = check_resumable(c);
	if (rc)
		return rc;
	if (c->state == CORO_CREATED && value)
		return CRAWL_ENOTSTARTED;
	return resume(c, 0, value, yielded);
}

int coro_throw(coro_t *c, int err, void **yielded)
{
	if (!c || err >= 0)
		return CRAWL_EINVAL;
	if (c->state == CORO_RUNNING)
		return CRAWL_ERUNNING;
	if (c->state == CORO_CLOSED)
		return err; /* as Python: throw into a finished generator raises err */
	if (c->state == CORO_CREATED) {
		c->state = CORO_CLOSED;
		c->error = err;
		return err;
	}
	return resume(c, err, NULL, yielded);
}

int coro_close(coro_t *c)
{
	if (!c)
		return CRAWL_EINVAL;
	switch (c->state) {
	case CORO_RUNNING:
		return CRAWL_ERUNNING;
	case CORO_CREATED:
		c->state = CORO_CLOSED;
		return 0;
	case CORO_CLOSED:
		return 0;
	default:
		break;
	}
	int rc = resume(c, CRAWL_EEXIT, NULL, NULL);
	if (rc == 0)
		return CRAWL_EIGNOREDEXIT;
	if (rc == CORO_RETURNED || rc == CRAWL_EEXIT)
		return 0;
	return rc;
}

int coro_start(coro_t **out, coro_fn fn, void *arg, const struct coro_opts *opts, void **first)
{
	coro_t *c = NULL;
	int rc = coro_new(&c, fn, arg, opts);
	if (rc)
		return rc;
	rc = coro_send(c, NULL, first);
	if (rc != 0) {
		coro_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

int coro_fini(coro_t *c)
{
	if (!c)
		return 0;
	if (c->state == CORO_RUNNING)
		return CRAWL_ERUNNING;
	if (c->state == CORO_SUSPENDED)
		coro_close(c); /* a coroutine that refuses is freed all the same */
	release_stack(c);
	return 0;
}

int coro_free(coro_t *c)
{
	int rc = coro_fini(c);
	if (rc == 0 && c && !c->embedded)
		free(c);
	return rc;
}

enum coro_state coro_state(const coro_t *c)
{
	return (enum coro_state)c->state;
}

const char *coro_state_name(enum coro_state s)
{
	static const char *const names[] = {"CREATED", "RUNNING", "SUSPENDED", "CLOSED"};
	return (unsigned)s < 4 ? names[s] : "UNKNOWN";
}

void *coro_result(const coro_t *c)
{
	return c->finished ? c->result : NULL;
}

int coro_error(const coro_t *c)
{
	return c->error;
}

coro_t *coro_current(void)
{
	return ts.current;
}

void coro_set_data(coro_t *c, void *data)
{
	c->data = data;
}

void *coro_get_data(const coro_t *c)
{
	return c->data;
}

size_t coro_saved_bytes(const coro_t *c)
{
	return c->saved_cap;
}

int coro_yield(void *value, void **received)
{
	coro_t *c = ts.current;
	if (!c)
		return CRAWL_ENOTCORO;
	c->value = value;
	SAN_OUT(c, &c->asan_fake);
	ctx_switch(&c->ctx, caller_ctx(c));
	SAN_IN(c);
	if (c->code)
		return c->code;
	if (received)
		*received = c->value;
	return 0;
}

/* PEP 380's expansion of "r = yield from sub", rule by rule (see coro.h). */
int coro_yield_from(coro_t *sub, void **result)
{
	if (!ts.current)
		return CRAWL_ENOTCORO;
	if (!sub || sub->state != CORO_CREATED)
		return CRAWL_EINVAL;
	void *y = NULL;
	int rc = coro_send(sub, NULL, &y);
	for (;;) {
		if (rc == CORO_RETURNED) {
			if (result)
				*result = y;
			return 0;
		}
		if (rc < 0)
			return rc;
		void *in = NULL;
		int got = coro_yield(y, &in);
		if (got == 0) {
			rc = coro_send(sub, in, &y);
		} else if (got == CRAWL_EEXIT) {
			int crc = coro_close(sub);
			return crc ? crc : CRAWL_EEXIT;
		} else {
			rc = coro_throw(sub, got, &y);
		}
	}
}

int coro_yield_from_fn(coro_fn fn, void *arg, void **result)
{
	coro_t *sub = NULL;
	int rc = coro_new(&sub, fn, arg, NULL);
	if (rc)
		return rc;
	rc = coro_yield_from(sub, result);
	coro_free(sub);
	return rc;
}
