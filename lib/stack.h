/* stack.h - coroutine stacks (internal to lib/).
 *
 * A stack is one anonymous mapping: a PROT_NONE guard page at the low end (an
 * overflow faults there instead of corrupting memory), then the usable bytes,
 * committed lazily by the kernel as they are touched. Freed stacks of the
 * default size go to a per-thread LIFO cache, so creating and finishing a
 * coroutine costs no system call in the steady state. Each stack costs two
 * kernel mappings (vm.max_map_count bounds how many can exist at once).
 */
#ifndef CRAWL_STACK_H
#define CRAWL_STACK_H

#include <stddef.h>

#define STACK_DEFAULT_SIZE ((size_t)256 * 1024)

struct stack {
	char *lo;         /* lowest usable byte */
	size_t size;      /* usable bytes, above the guard page */
	struct stack *next; /* cache link; the struct lives at the top of the mapping */
	unsigned vg_id;   /* valgrind's id for the registered stack */
};

/* Returns a stack of at least size usable bytes (0 = default) in *out.
 * Errors: CRAWL_ESTACK (mmap or mprotect failed: out of memory or mappings). */
int stack_alloc(struct stack **out, size_t size);

/* Returns s to the cache or unmaps it. NULL is fine. */
void stack_release(struct stack *s);

/* Unmaps every cached stack of this thread. */
void stack_cache_trim(void);

#endif
