/* robots.h - robots.txt rules (RFC 9309) for one crawler product token.
 *
 * robots_parse() turns the body of a /robots.txt into the rules of the one
 * group that applies to us; robots_allowed() answers for a path. Parsing is
 * bounded (ROBOTS_MAX_BYTES), matching allocates nothing and is linear-ish
 * in the path length per rule (no exponential backtracking on '*').
 *
 * Fetching robots.txt is the crawler's job. Which object to use, by the
 * outcome of `GET /robots.txt` (RFC 9309 section 2.3.1):
 *   2xx          robots_parse() on the body (only its first ROBOTS_MAX_BYTES
 *                are read; stop downloading there).
 *   3xx          follow at most 5 redirects; more than that counts as 4xx.
 *   4xx          "unavailable": robots_new_allow_all(). This includes 401,
 *                403 and 404. 429 (Too Many Requests) is better treated as
 *                5xx: it asks us to slow down, not to go everywhere.
 *   5xx, or no answer (DNS, connect, TLS, timeout, reset)
 *                "unreachable": robots_new_disallow_all(), and fetch again
 *                later. A host unreachable for more than 30 days may be
 *                treated as 4xx, or its last good copy used.
 *   A parsed object should not be reused for more than 24 hours, unless
 *   the file has become unreachable (then keep the last good copy).
 * Whatever the object, "/robots.txt" itself is always allowed.
 *
 * A robots object is immutable once built: any number of threads may call
 * robots_allowed() / robots_crawl_delay() / robots_sitemap() on it at once.
 */
#ifndef CRAWL_ROBOTS_H
#define CRAWL_ROBOTS_H

#include <stddef.h>

/* Bytes of a robots.txt that are parsed; the rest is ignored (RFC 9309 asks
 * for at least 500 KiB). A line cut by this limit is dropped. */
#define ROBOTS_MAX_BYTES (500u * 1024u)

struct robots;

/* Parses robots.txt text txt[0..len) (need not be NUL-terminated, may hold
 * NUL bytes; txt may be NULL when len is 0) for user_agent, and returns in
 * *out the rules of the group that applies to us.
 *
 * user_agent is our product token, or a whole User-Agent string whose
 * leading product token ("crawld" in "crawld/1.0 (+http://...)") is used.
 * Groups are chosen by case-insensitive equality of that token with the
 * token of a group's user-agent line ("crawld/2" counts as "crawld"). The
 * most specific match wins: groups naming our token beat "*" groups; all
 * groups naming the winner are merged; with neither, nothing is disallowed.
 * Crawl-delay comes from the chosen groups (the first valid value); Sitemap
 * lines are collected from anywhere in the file. Unknown lines, lines
 * without ':', rules before any user-agent line and garbage are ignored, so
 * any bytes give a valid object (binary junk allows everything).
 *
 * Neither txt nor user_agent is kept. The caller owns *out (robots_free).
 * Returns 0; CRAWL_EINVAL if out is NULL, txt is NULL with len > 0, or
 * user_agent is NULL or starts with no product token (letters, '_', '-');
 * CRAWL_ENOMEM. On error *out is NULL. */
int robots_parse(const char *txt, size_t len, const char *user_agent,
		 struct robots **out);

/* An object that allows everything and has no crawl delay: for a robots.txt
 * answered with 4xx. Returns 0, CRAWL_EINVAL (out NULL), CRAWL_ENOMEM. */
int robots_new_allow_all(struct robots **out);

/* An object that disallows everything but /robots.txt: for a robots.txt
 * that is unreachable (5xx, network error). Same returns as above. */
int robots_new_disallow_all(struct robots **out);

/* May we fetch path_and_query ("/a/b?x=1": the URL's path and query,
 * percent-encoded as on the wire, no fragment)? Returns 1 allowed, 0
 * disallowed. The longest matching rule decides (length in characters of
 * the normalised pattern, '*' and '$' included), Allow wins a tie, no
 * match allows.
 * In patterns '*' matches any sequence and a final '$' anchors the end.
 * Both sides are compared after percent-encoding normalisation (%XX of
 * unreserved characters decoded, other %XX upper-cased, bytes outside
 * printable ASCII encoded), so "/%7Ea" matches "/~a". "/robots.txt" is
 * always allowed; "" counts as "/". Nothing is kept. If r or
 * path_and_query is NULL, returns 0 (fail closed). */
int robots_allowed(const struct robots *r, const char *path_and_query);

/* The Crawl-delay of the chosen group in seconds (fractions allowed), or a
 * negative value if it has none (or r is NULL). */
double robots_crawl_delay(const struct robots *r);

/* Number of Sitemap: lines seen (0 if r is NULL). */
size_t robots_sitemap_count(const struct robots *r);

/* The i-th Sitemap: value as written (trimmed), NUL-terminated; owned by r
 * and valid until robots_free(r). NULL if i is out of range. */
const char *robots_sitemap(const struct robots *r, size_t i);

/* Frees r; NULL is allowed. */
void robots_free(struct robots *r);

/* Internal, for tests only: matches one pattern as written in a robots.txt
 * rule against path with the matcher robots_allowed() uses, and stores in
 * *steps (if not NULL) how many matcher iterations that took. Returns 1
 * match, 0 no match, CRAWL_EINVAL (NULL argument), CRAWL_ENOMEM. */
int robots__match(const char *pattern, const char *path, size_t *steps);

#endif
