#include "stack.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif

enum { CACHE_MAX = 64 };

struct stack_cache {
	struct stack *head;
	unsigned count;
};

static _Thread_local struct stack_cache cache;

static size_t page_size(void)
{
	static size_t ps;
	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

static int stack_map(struct stack **out, size_t size)
{
	size_t ps = page_size();
	/* A size near SIZE_MAX would wrap below into a tiny mapping. */
	if (size > SIZE_MAX / 2)
		return CRAWL_ESTACK;
	size_t len = round_up(size + sizeof(struct stack), ps) + ps;
	char *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (map == MAP_FAILED)
		return CRAWL_ESTACK;
	if (mprotect(map, ps, PROT_NONE) != 0)
		goto fail;
	/* The header sits at the top so the cache needs no separate allocation. */
	struct stack *s = (struct stack *)(map + len - sizeof(struct stack));
	s->lo = map + ps;
	s->size = (size_t)((char *)s - s->lo) & ~(size_t)15;
	s->next = NULL;
	s->vg_id = 0;
#ifdef HAVE_VALGRIND
	s->vg_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + s->size);
#endif
	*out = s;
	return 0;
fail:
	munmap(map, len);
	return CRAWL_ESTACK;
}

static void stack_unmap(struct stack *s)
{
	size_t ps = page_size();
	char *map = s->lo - ps;
#ifdef HAVE_VALGRIND
	VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
	size_t len = (size_t)((char *)s + sizeof(struct stack) - map);
	munmap(map, len);
}

int stack_alloc(struct stack **out, size_t size)
{
	if (size == 0)
		size = STACK_DEFAULT_SIZE;
	if (size == STACK_DEFAULT_SIZE && cache.head) {
		*out = cache.head;
		cache.head = cache.head->next;
		cache.count--;
		return 0;
	}
	return stack_map(out, size);
}

void stack_release(struct stack *s)
{
	if (!s)
		return;
	if (s->size >= STACK_DEFAULT_SIZE && s->size < STACK_DEFAULT_SIZE + page_size() &&
	    cache.count < CACHE_MAX) {
		s->next = cache.head;
		cache.head = s;
		cache.count++;
		return;
	}
	stack_unmap(s);
}

void stack_cache_trim(void)
{
	while (cache.head) {
		struct stack *s = cache.head;
		cache.head = s->next;
		stack_unmap(s);
	}
	cache.count = 0;
}
