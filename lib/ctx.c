#include "ctx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#ifdef CORO_UCONTEXT

static _Thread_local struct ctx *starting;

/* makecontext passes only ints; the context being started is handed over in
 * a thread-local instead, read before anything else can switch. */
static void ctx_trampoline(void)
{
	struct ctx *c = starting;
	c->entry(c->arg);
}

int ctx_init(struct ctx *c, void *lo, size_t size, void (*entry)(void *), void *arg)
{
	if (getcontext(&c->uc) != 0)
		return CRAWL_ESYS;
	c->uc.uc_stack.ss_sp = lo;
	c->uc.uc_stack.ss_size = size;
	c->uc.uc_link = NULL;
	c->entry = entry;
	c->arg = arg;
	c->sp = (char *)lo + size;
	makecontext(&c->uc, ctx_trampoline, 0);
	return 0;
}

void ctx_switch(struct ctx *from, struct ctx *to)
{
	/* The live stack ends a little below this frame: swapcontext keeps its
	 * registers in the ucontext, not on the stack, so a margin covers the
	 * call itself and the red zone. */
	from->sp = (char *)__builtin_frame_address(0) - 256;
	starting = to;
	swapcontext(&from->uc, &to->uc);
}

const char *ctx_backend(void)
{
	return "ucontext";
}

#else

void ctx__trampoline(void);

#if defined(__x86_64__)
/* Frame the asm switch pops: mxcsr+fpucw, r15, r14, r13 (entry), r12 (arg),
 * rbx, rbp, return address (the trampoline). */
enum { FRAME_WORDS = 8, PAD = 16 };

int ctx_init(struct ctx *c, void *lo, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
	uint64_t *f = (uint64_t *)(top - PAD - FRAME_WORDS * 8);
	uint32_t csr[2] = {0x1F80, 0x037F}; /* default MXCSR and x87 control word */

	memset(f, 0, FRAME_WORDS * 8 + PAD);
	memcpy(&f[0], csr, sizeof csr);
	f[3] = (uint64_t)(uintptr_t)entry;
	f[4] = (uint64_t)(uintptr_t)arg;
	f[7] = (uint64_t)(uintptr_t)ctx__trampoline;
	c->sp = f;
	return 0;
}

const char *ctx_backend(void)
{
	return "asm-x86_64";
}

#elif defined(__aarch64__)
/* Frame: x19 (entry) x20 (arg) .. x28, x29, x30 (trampoline), d8-d15, fpcr. */
enum { FRAME_BYTES = 176 };

int ctx_init(struct ctx *c, void *lo, size_t size, void (*entry)(void *), void *arg)
{
	uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
	uint64_t *f = (uint64_t *)(top - FRAME_BYTES);

	memset(f, 0, FRAME_BYTES);
	f[0] = (uint64_t)(uintptr_t)entry;
	f[1] = (uint64_t)(uintptr_t)arg;
	f[11] = (uint64_t)(uintptr_t)ctx__trampoline;
	c->sp = f;
	return 0;
}

const char *ctx_backend(void)
{
	return "asm-aarch64";
}
#endif

#endif
