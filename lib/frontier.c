/* frontier.c - host table, per-host queues and the pick. */
#include "frontier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct frontier_node {
	struct frontier_node *next;
	char *referrer;
	unsigned depth, attempt;
	char url[]; /* flexible: one allocation per queued URL (+ referrer) */
};

struct frontier {
	struct frontier_host **table;
	size_t nbuckets, nhosts, queued;
	struct frontier_host *ring; /* hosts with queued URLs */
	int per_host_max;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

int frontier_new(struct frontier **out, int per_host_max)
{
	struct frontier *f = calloc(1, sizeof *f);
	if (!f)
		return CRAWL_ENOMEM;
	f->nbuckets = 256;
	f->table = calloc(f->nbuckets, sizeof *f->table);
	if (!f->table) {
		free(f);
		return CRAWL_ENOMEM;
	}
	f->per_host_max = per_host_max > 0 ? per_host_max : 1;
	*out = f;
	return 0;
}

static void host_free(struct frontier_host *h)
{
	struct frontier_node *n = h->head;
	while (n) {
		struct frontier_node *next = n->next;
		free(n->referrer);
		free(n);
		n = next;
	}
	free(h->key);
	free(h);
}

void frontier_free(struct frontier *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nbuckets; i++) {
		struct frontier_host *h = f->table[i];
		while (h) {
			struct frontier_host *next = h->hnext;
			host_free(h);
			h = next;
		}
	}
	free(f->table);
	free(f);
}

static int grow(struct frontier *f)
{
	size_t n = f->nbuckets * 2;
	struct frontier_host **t = calloc(n, sizeof *t);
	if (!t)
		return CRAWL_ENOMEM;
	for (size_t i = 0; i < f->nbuckets; i++) {
		struct frontier_host *h = f->table[i];
		while (h) {
			struct frontier_host *next = h->hnext;
			size_t b = hash_str(h->key) & (n - 1);
			h->hnext = t[b];
			t[b] = h;
			h = next;
		}
	}
	free(f->table);
	f->table = t;
	f->nbuckets = n;
	return 0;
}

int frontier_host(struct frontier *f, const char *key, struct frontier_host **out)
{
	size_t b = hash_str(key) & (f->nbuckets - 1);
	for (struct frontier_host *h = f->table[b]; h; h = h->hnext) {
		if (strcmp(h->key, key) == 0) {
			*out = h;
			return 0;
		}
	}
	if (f->nhosts >= f->nbuckets && grow(f) == 0)
		b = hash_str(key) & (f->nbuckets - 1);
	struct frontier_host *h = calloc(1, sizeof *h);
	if (!h || !(h->key = strdup(key))) {
		free(h);
		return CRAWL_ENOMEM;
	}
	h->hnext = f->table[b];
	f->table[b] = h;
	f->nhosts++;
	*out = h;
	return 0;
}

void frontier_each_host(struct frontier *f, void (*fn)(void *arg, struct frontier_host *h),
			void *arg)
{
	for (size_t i = 0; i < f->nbuckets; i++)
		for (struct frontier_host *h = f->table[i]; h; h = h->hnext)
			fn(arg, h);
}

static void ring_add(struct frontier *f, struct frontier_host *h)
{
	if (!f->ring) {
		h->rnext = h->rprev = h;
		f->ring = h;
		return;
	}
	h->rnext = f->ring;
	h->rprev = f->ring->rprev;
	f->ring->rprev->rnext = h;
	f->ring->rprev = h;
}

static void ring_remove(struct frontier *f, struct frontier_host *h)
{
	if (h->rnext == h) {
		f->ring = NULL;
	} else {
		h->rprev->rnext = h->rnext;
		h->rnext->rprev = h->rprev;
		if (f->ring == h)
			f->ring = h->rnext;
	}
	h->rnext = h->rprev = NULL;
}

int frontier_push(struct frontier *f, struct frontier_host *h, const char *url,
		  const char *referrer, unsigned depth, unsigned attempt)
{
	size_t len = strlen(url);
	struct frontier_node *n = malloc(sizeof *n + len + 1);
	if (!n)
		return CRAWL_ENOMEM;
	memcpy(n->url, url, len + 1);
	n->referrer = referrer ? strdup(referrer) : NULL;
	if (referrer && !n->referrer) {
		free(n);
		return CRAWL_ENOMEM;
	}
	n->next = NULL;
	n->depth = depth;
	n->attempt = attempt;
	if (h->tail)
		h->tail->next = n;
	else
		h->head = n;
	h->tail = n;
	if (h->queued++ == 0)
		ring_add(f, h);
	f->queued++;
	return 0;
}

static int host_may_start(const struct frontier *f, const struct frontier_host *h, uint64_t now)
{
	return h->ready && h->active < f->per_host_max && h->next_ok <= now;
}

/* The host to take from: smallest head depth among hosts that may start,
 * the first such from the ring's cursor (which then moves past it). */
static struct frontier_host *pick(struct frontier *f, uint64_t now, uint64_t *wake)
{
	struct frontier_host *best = NULL, *h = f->ring;
	*wake = 0;
	if (!h)
		return NULL;
	do {
		if (host_may_start(f, h, now)) {
			if (!best || h->head->depth < best->head->depth)
				best = h;
		} else if (h->ready && h->active < f->per_host_max) {
			if (!*wake || h->next_ok < *wake)
				*wake = h->next_ok;
		}
		h = h->rnext;
	} while (h != f->ring);
	return best;
}

int frontier_next(struct frontier *f, uint64_t now, struct frontier_item *item,
		  struct frontier_host **host, uint64_t *wake)
{
	struct frontier_host *h = pick(f, now, wake);
	if (!h)
		return 0;
	struct frontier_node *n = h->head;
	h->head = n->next;
	if (!h->head)
		h->tail = NULL;
	f->queued--;
	f->ring = h->rnext; /* rotate: the next pick starts after this host */
	if (--h->queued == 0)
		ring_remove(f, h);
	item->referrer = n->referrer;
	item->depth = n->depth;
	item->attempt = n->attempt;
	/* Hand the node's block over as the URL string: no copy, no malloc. */
	memmove(n, n->url, strlen(n->url) + 1);
	item->url = (char *)n;
	h->active++;
	h->next_ok = now + h->delay_ns;
	*host = h;
	return 1;
}

void frontier_done(struct frontier *f, struct frontier_host *h)
{
	(void)f;
	if (h->active > 0)
		h->active--;
}

void frontier_item_clear(struct frontier_item *item)
{
	free(item->url);
	free(item->referrer);
	item->url = item->referrer = NULL;
}

size_t frontier_queued(const struct frontier *f)
{
	return f->queued;
}

unsigned frontier_min_depth(const struct frontier *f)
{
	unsigned d = UINT32_MAX;
	const struct frontier_host *h = f->ring;
	if (!h)
		return d;
	do {
		for (const struct frontier_node *n = h->head; n; n = n->next)
			if (n->depth < d)
				d = n->depth;
		h = h->rnext;
	} while (h != f->ring);
	return d;
}

int frontier_save(const struct frontier *f, char **buf, size_t *len)
{
	char *p = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&p, &n);
	if (!m)
		return CRAWL_ENOMEM;
	const struct frontier_host *h = f->ring;
	if (h) {
		do {
			for (const struct frontier_node *q = h->head; q; q = q->next)
				fprintf(m, "%u\t%u\t%s\t%s\n", q->depth, q->attempt, q->url,
					q->referrer ? q->referrer : "");
			h = h->rnext;
		} while (h != f->ring);
	}
	if (fclose(m) != 0) {
		free(p);
		return CRAWL_ENOMEM;
	}
	*buf = p;
	*len = n;
	return 0;
}

static int parse_line(char *line, unsigned *depth, unsigned *attempt, char **url, char **ref)
{
	char *end;
	unsigned long d = strtoul(line, &end, 10);
	if (end == line || *end != '\t' || d > 1000000)
		return CRAWL_EINVAL;
	char *a = end + 1;
	unsigned long at = strtoul(a, &end, 10);
	if (end == a || *end != '\t' || at > 1000)
		return CRAWL_EINVAL;
	*url = end + 1;
	char *tab = strchr(*url, '\t');
	if (!tab || tab == *url)
		return CRAWL_EINVAL;
	*tab = '\0';
	*ref = tab + 1;
	if (strchr(*ref, '\t'))
		return CRAWL_EINVAL;
	*depth = (unsigned)d;
	*attempt = (unsigned)at;
	return 0;
}

int frontier_parse(const char *buf, size_t len,
		   int (*push_fn)(void *arg, const char *url, const char *referrer, unsigned depth,
				  unsigned attempt),
		   void *arg)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			return CRAWL_EINVAL; /* a torn last line */
		size_t n = (size_t)(nl - (buf + i));
		char *line = strndup(buf + i, n);
		if (!line)
			return CRAWL_ENOMEM;
		unsigned depth, attempt;
		char *url, *ref;
		int rc = parse_line(line, &depth, &attempt, &url, &ref);
		if (rc == 0)
			rc = push_fn(arg, url, *ref ? ref : NULL, depth, attempt);
		free(line);
		if (rc)
			return rc;
		i += n + 1;
	}
	return 0;
}
