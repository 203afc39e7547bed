/* ctx.h - the machine context switch under the coroutines (internal to lib/).
 *
 * Two backends behind one interface, picked at build time: a small assembly
 * routine per CPU (switch_x86_64.S, switch_aarch64.S) that saves only the
 * callee-saved registers and the FPU/SSE control words, and a ucontext
 * fallback (-DCORO_UCONTEXT, or any other CPU) that is portable but makes two
 * signal-mask system calls per switch.
 */
#ifndef CRAWL_CTX_H
#define CRAWL_CTX_H

#include <stddef.h>

#if !defined(CORO_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define CORO_UCONTEXT 1
#endif

#ifdef CORO_UCONTEXT
#include <ucontext.h>
#endif

struct ctx {
	void *sp; /* saved stack pointer (asm); the live stack's low end */
#ifdef CORO_UCONTEXT
	ucontext_t uc;
	void (*entry)(void *);
	void *arg;
#endif
};

/* Prepares c so that the first ctx_switch into it calls entry(arg) on the
 * stack [lo, lo + size). entry must never return. Returns 0, or CRAWL_ESYS
 * when the ucontext backend's getcontext fails. */
int ctx_init(struct ctx *c, void *lo, size_t size, void (*entry)(void *), void *arg);

/* Saves the running context into from and resumes to. Returns when something
 * switches back to from. */
void ctx_switch(struct ctx *from, struct ctx *to);

/* "asm-x86_64", "asm-aarch64" or "ucontext". */
const char *ctx_backend(void);

#endif
