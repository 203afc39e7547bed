/* seen.c - a set of 64-bit URL fingerprints, open addressing, linear probing.
 *
 * Slot value 0 means empty, so fingerprints are never 0. The table capacity
 * is a power of two and XXH64's low bits are as well mixed as its high ones,
 * so the slot index is just h & mask.
 */
#include "seen.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#define SEEN_MIN_CAP 16u
#define SEEN_VERSION 1u
#define SEEN_HEADER_WORDS 3u /* magic, version, count */
/* A file's claimed count pre-sizes the table only up to this; past it the
 * table grows with the data actually read. */
#define SEEN_LOAD_PRESIZE_MAX ((size_t)1 << 20)

struct seen {
	uint64_t *slot;
	size_t mask;  /* capacity - 1 */
	size_t count;
	size_t limit; /* grow before count exceeds this: 3/4 of capacity */
};

/* ---- XXH64 (Yann Collet's xxHash, 64-bit variant, seed 0) ---- */

static const uint64_t P1 = 0x9E3779B185EBCA87ULL;
static const uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
static const uint64_t P3 = 0x165667B19E3779F9ULL;
static const uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
static const uint64_t P5 = 0x27D4EB2F165667C5ULL;

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t read_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t read_le32(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24;
}

static uint64_t xxh_round(uint64_t acc, uint64_t input)
{
	acc += input * P2;
	return rotl64(acc, 31) * P1;
}

static uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
	acc ^= xxh_round(0, v);
	return acc * P1 + P4;
}

static uint64_t xxh_avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	return h ^ (h >> 32);
}

/* The 32-byte stripes of inputs of 32 bytes or more; advances *pp. */
static uint64_t xxh_stripes(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;

	do {
		v1 = xxh_round(v1, read_le64(p));
		v2 = xxh_round(v2, read_le64(p + 8));
		v3 = xxh_round(v3, read_le64(p + 16));
		v4 = xxh_round(v4, read_le64(p + 24));
		p += 32;
	} while (end - p >= 32);
	*pp = p;
	uint64_t h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
	h = xxh_merge(h, v1);
	h = xxh_merge(h, v2);
	h = xxh_merge(h, v3);
	return xxh_merge(h, v4);
}

static uint64_t xxh64(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	uint64_t h = len >= 32 ? xxh_stripes(&p, end) : P5;

	h += len;
	for (; end - p >= 8; p += 8) {
		h ^= xxh_round(0, read_le64(p));
		h = rotl64(h, 27) * P1 + P4;
	}
	if (end - p >= 4) {
		h ^= read_le32(p) * P1;
		h = rotl64(h, 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++) {
		h ^= *p * P5;
		h = rotl64(h, 11) * P1;
	}
	return xxh_avalanche(h);
}

uint64_t seen_hash(const void *p, size_t len)
{
	uint64_t h = xxh64(len ? p : "", len); /* no arithmetic on NULL */
	return h ? h : 1;
}

/* ---- the table ---- */

static int seen_alloc_table(struct seen *s, size_t cap)
{
	uint64_t *slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return CRAWL_ENOMEM;
	s->slot = slot;
	s->mask = cap - 1;
	s->limit = cap / 4 * 3;
	return 0;
}

int seen_new(struct seen **out, size_t expected)
{
	struct seen *s = NULL;
	size_t cap = SEEN_MIN_CAP;

	if (!out)
		return CRAWL_EINVAL;
	while (cap / 4 * 3 < expected) {
		if (cap > SIZE_MAX / 2 / sizeof(uint64_t))
			return CRAWL_ENOMEM;
		cap *= 2;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto fail;
	if (seen_alloc_table(s, cap) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	free(s);
	return CRAWL_ENOMEM;
}

void seen_free(struct seen *s)
{
	if (!s)
		return;
	free(s->slot);
	free(s);
}

/* The slot holding h, or the empty slot where it would go. */
static size_t seen_probe(const struct seen *s, uint64_t h)
{
	size_t i = (size_t)h & s->mask;
	while (s->slot[i] != 0 && s->slot[i] != h)
		i = (i + 1) & s->mask;
	return i;
}

static int seen_grow(struct seen *s)
{
	struct seen bigger = { 0 };
	size_t cap = s->mask + 1;

	if (cap > SIZE_MAX / 2 / sizeof(uint64_t))
		return CRAWL_ENOMEM;
	if (seen_alloc_table(&bigger, cap * 2) < 0)
		return CRAWL_ENOMEM;
	for (size_t i = 0; i < cap; i++) {
		if (s->slot[i])
			bigger.slot[seen_probe(&bigger, s->slot[i])] = s->slot[i];
	}
	free(s->slot);
	s->slot = bigger.slot;
	s->mask = bigger.mask;
	s->limit = bigger.limit;
	return 0;
}

int seen_add_hash(struct seen *s, uint64_t h)
{
	h = h ? h : 1;
	size_t i = seen_probe(s, h);
	if (s->slot[i] == h)
		return 0;
	if (s->count >= s->limit) {
		int rc = seen_grow(s);
		if (rc < 0)
			return rc;
		i = seen_probe(s, h);
	}
	s->slot[i] = h;
	s->count++;
	return 1;
}

int seen_add(struct seen *s, const char *url, size_t len)
{
	return seen_add_hash(s, seen_hash(url, len));
}

int seen_contains_hash(const struct seen *s, uint64_t h)
{
	h = h ? h : 1;
	return s->slot[seen_probe(s, h)] == h;
}

int seen_contains(const struct seen *s, const char *url, size_t len)
{
	return seen_contains_hash(s, seen_hash(url, len));
}

size_t seen_count(const struct seen *s)
{
	return s->count;
}

size_t seen_memory(const struct seen *s)
{
	return sizeof(*s) + (s->mask + 1) * sizeof(uint64_t);
}

/* ---- checkpoint format ---- */

/* "CRWLSEEN" read as a little-endian word. */
static const unsigned char SEEN_MAGIC[8] = { 'C', 'R', 'W', 'L', 'S', 'E', 'E', 'N' };

/* One step of the running checksum. Every step is a bijection of both the
 * word and the running value, so changing any one word changes the result. */
static uint64_t sum_step(uint64_t sum, uint64_t w)
{
	return rotl64(sum ^ (w * P2), 31) * P1;
}

/* Writes to a FILE or into a buffer already sized for the whole set. */
struct seen_writer {
	FILE *f;
	unsigned char *buf;
	size_t pos;
	uint64_t sum;
	int err;
};

static void writer_put(struct seen_writer *w, uint64_t v, int summed)
{
	unsigned char b[8];

	if (summed)
		w->sum = sum_step(w->sum, v);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	if (!w->f) {
		memcpy(w->buf + w->pos, b, 8);
		w->pos += 8;
	} else if (!w->err && fwrite(b, 8, 1, w->f) != 1) {
		w->err = CRAWL_ESYS;
	}
}

static int seen_write(const struct seen *s, struct seen_writer *w)
{
	w->sum = P5;
	writer_put(w, read_le64(SEEN_MAGIC), 1);
	writer_put(w, SEEN_VERSION, 1);
	writer_put(w, s->count, 1);
	for (size_t i = 0; i <= s->mask && !w->err; i++) {
		if (s->slot[i])
			writer_put(w, s->slot[i], 1);
	}
	writer_put(w, xxh_avalanche(w->sum), 0);
	return w->err;
}

static size_t seen_saved_size(size_t count)
{
	return (SEEN_HEADER_WORDS + count + 1) * 8;
}

int seen_save(const struct seen *s, FILE *f)
{
	struct seen_writer w = { .f = f };

	if (!s || !f)
		return CRAWL_EINVAL;
	return seen_write(s, &w);
}

int seen_save_buf(const struct seen *s, void **buf, size_t *len)
{
	struct seen_writer w = { 0 };

	if (!s || !buf || !len)
		return CRAWL_EINVAL;
	w.buf = malloc(seen_saved_size(s->count));
	if (!w.buf)
		return CRAWL_ENOMEM;
	seen_write(s, &w);
	*buf = w.buf;
	*len = w.pos;
	return 0;
}

/* Reads from a FILE or from a buffer of known length. */
struct seen_reader {
	FILE *f;
	const unsigned char *buf;
	size_t len, pos;
	uint64_t sum;
};

/* 0, or CRAWL_EINVAL when the data ends early. */
static int reader_get(struct seen_reader *r, uint64_t *v, int summed)
{
	unsigned char b[8];

	if (r->f) {
		if (fread(b, 8, 1, r->f) != 1)
			return CRAWL_EINVAL;
	} else {
		if (r->len - r->pos < 8)
			return CRAWL_EINVAL;
		memcpy(b, r->buf + r->pos, 8);
		r->pos += 8;
	}
	*v = read_le64(b);
	if (summed)
		r->sum = sum_step(r->sum, *v);
	return 0;
}

/* Checks the header; sets *count. */
static int seen_read_header(struct seen_reader *r, uint64_t *count)
{
	uint64_t magic, version;

	r->sum = P5;
	if (reader_get(r, &magic, 1) < 0 || reader_get(r, &version, 1) < 0 ||
	    reader_get(r, count, 1) < 0)
		return CRAWL_EINVAL;
	if (magic != read_le64(SEEN_MAGIC) || version != SEEN_VERSION)
		return CRAWL_EINVAL;
	if (r->f)
		return 0;
	/* A buffer must hold exactly the claimed words: no more, no less. */
	if (*count > SIZE_MAX / 8 - SEEN_HEADER_WORDS - 1 ||
	    seen_saved_size((size_t)*count) != r->len)
		return CRAWL_EINVAL;
	return 0;
}

static int seen_read(struct seen_reader *r, struct seen **out)
{
	struct seen *s = NULL;
	uint64_t count, h, sum;
	int rc = seen_read_header(r, &count);

	if (rc < 0)
		goto fail;
	rc = seen_new(&s, count < SEEN_LOAD_PRESIZE_MAX ? (size_t)count
							 : SEEN_LOAD_PRESIZE_MAX);
	if (rc < 0)
		goto fail;
	for (uint64_t i = 0; i < count; i++) {
		rc = reader_get(r, &h, 1);
		if (rc == 0 && h == 0)
			rc = CRAWL_EINVAL;
		if (rc == 0)
			rc = seen_add_hash(s, h);
		if (rc == 0) /* a repeated fingerprint: not something we wrote */
			rc = CRAWL_EINVAL;
		if (rc < 0)
			goto fail;
	}
	rc = reader_get(r, &sum, 0);
	if (rc == 0 && sum != xxh_avalanche(r->sum))
		rc = CRAWL_EINVAL;
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	seen_free(s);
	return rc;
}

int seen_load(struct seen **out, FILE *f)
{
	struct seen_reader r = { .f = f };

	if (!out || !f)
		return CRAWL_EINVAL;
	return seen_read(&r, out);
}

int seen_load_buf(struct seen **out, const void *buf, size_t len)
{
	struct seen_reader r = { .buf = buf, .len = len };

	if (!out || (!buf && len))
		return CRAWL_EINVAL;
	return seen_read(&r, out);
}
