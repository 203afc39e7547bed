/* seen.h - a compact set of "URLs already seen" for the crawl frontier.
 *
 * The set keeps only a 64-bit fingerprint (XXH64, seed 0) of each normalised
 * URL in an open-addressing table (linear probing, load factor at most 0.75,
 * capacity doubled when full). Cost per URL is 8 bytes / load factor: between
 * 10.7 bytes (table 3/4 full) and 21.3 bytes (just after a doubling), about
 * 11-16 bytes on average over a crawl; creating the set with the expected
 * count avoids the doublings. 10^7 URLs take about 128-170 MB.
 *
 * Fingerprints can collide: a URL never seen may be reported as seen (and
 * then not crawled). With n URLs the chance of any collision is about
 * n^2 / 2^65: 2.7e-6 for n = 10^7, 2.7e-4 for n = 10^8. A "not seen" answer
 * is always right.
 *
 * The set does no locking; one loop (thread) owns it.
 */
#ifndef CRAWL_SEEN_H
#define CRAWL_SEEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct seen;

/* A new empty set sized for `expected` URLs without growing (0: small).
 * *out is set only on success; the caller frees it with seen_free.
 * CRAWL_EINVAL: out is NULL. CRAWL_ENOMEM: no memory (or expected absurd). */
int seen_new(struct seen **out, size_t expected);

/* Frees the set; NULL is fine. */
void seen_free(struct seen *s);

/* The fingerprint of len bytes at p: XXH64 with seed 0, but never 0 (a hash
 * of 0 becomes 1, 0 marks an empty slot). Stable across versions: saved sets
 * depend on it. p may be NULL when len is 0. */
uint64_t seen_hash(const void *p, size_t len);

/* Adds the URL's fingerprint. The text is not kept. Returns 1 if it was new,
 * 0 if already present, CRAWL_ENOMEM if the table could not grow (the set
 * is unchanged then). Pass normalised URLs (url_normalize): the set compares
 * bytes, so two spellings of one URL count as two. */
int seen_add(struct seen *s, const char *url, size_t len);

/* As seen_add for a fingerprint computed elsewhere (0 is taken as 1, as
 * seen_hash does). Returns 1, 0 or CRAWL_ENOMEM. */
int seen_add_hash(struct seen *s, uint64_t h);

/* 1 if the URL's fingerprint is in the set, 0 if not. */
int seen_contains(const struct seen *s, const char *url, size_t len);

/* 1 if the fingerprint h (0 taken as 1) is in the set, 0 if not. */
int seen_contains_hash(const struct seen *s, uint64_t h);

/* Number of distinct fingerprints in the set. */
size_t seen_count(const struct seen *s);

/* Bytes of heap memory the set holds (table plus header). */
size_t seen_memory(const struct seen *s);

/* Checkpoint format, all integers little-endian 64-bit words:
 *   "CRWLSEEN" | version (1) | count | count fingerprints | checksum
 * The checksum covers every word before it; a changed word always changes it.
 *
 * Writes the set to f at its current position; f stays open and is not
 * flushed. 0 or CRAWL_EINVAL (NULL argument), CRAWL_ESYS (a write failed). */
int seen_save(const struct seen *s, FILE *f);

/* Reads one set written by seen_save from f's current position (bytes after
 * it are left unread). *out is set only on success, to a new set the caller
 * frees. CRAWL_EINVAL: bad magic, unknown version, truncated data, a zero or
 * repeated fingerprint, or checksum mismatch (nothing is kept then);
 * CRAWL_ENOMEM. Memory grows with the data actually read, so a corrupt count
 * cannot make it allocate a huge table up front. */
int seen_load(struct seen **out, FILE *f);

/* As seen_save into a new malloc'd buffer (*buf, *len), for a database blob;
 * the caller frees *buf. Outputs set only on success. CRAWL_EINVAL, CRAWL_ENOMEM. */
int seen_save_buf(const struct seen *s, void **buf, size_t *len);

/* As seen_load from len bytes at buf (not kept); len must be exactly the
 * saved size. CRAWL_EINVAL on any mismatch or corruption, CRAWL_ENOMEM. */
int seen_load_buf(struct seen **out, const void *buf, size_t len);

#endif
