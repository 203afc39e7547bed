/* simweb.h - a deterministic simulated web, pure computation.
 *
 * A simweb is a web described by a short spec string (see simweb_new). It
 * stores nothing per page: the status, latency, size and links of every URL
 * derive from a hash of (seed, host, page, attempt), so a web of 10^8 pages
 * per host costs the same few hundred bytes as a web of one page, and two
 * simwebs built from the same spec answer every question identically.
 * There is no event loop here: the sim fetch backend turns latency_ms into a
 * timer and the body into a response.
 *
 * URLs (scheme and host are case-insensitive, a #fragment is ignored):
 *   sim://hK.sim/          page 0 of host K (K < hosts, written without
 *                          leading zeros); sim://hK.sim (empty path) too
 *   sim://hK.sim/p/N       page N of host K; /p/0 is page 0 as well, but no
 *                          link ever says /p/0 (see "Counting pages")
 *   sim://hK.sim/robots.txt  a robots file, always 200, text/plain:
 *                          "User-agent: *\nDisallow:\n" (allow all), or with
 *                          robots=1 "User-agent: *\nDisallow: /p/private\n"
 *   anything else on a known host (other paths, any ?query, /p/N with
 *   N >= pages or with leading zeros) is a 404.
 *
 * Pages. A page is HTML: <!DOCTYPE html>, a title "Page N", a list of its
 * links as <a href="...">, then <p> paragraphs of filler text that bring the
 * body to a target size drawn per page, uniform in [size - size/4,
 * size + size/4] in integers (the body is longer only when the markup and
 * links alone exceed the target).
 * Link i of page N of host K, for i < links:
 *   - i == 0: page N+1 (mod pages) of host K, so page 0 reaches every page
 *     of its host breadth-first;
 *   - i == 1 on page 0 when hosts > 1: page 0 of host K+1 (mod hosts);
 *   - otherwise, drawn per link: off the simulated web with probability
 *     offsite ("http://offsite.invalid/hK/pN/I", its kind SIMWEB_LINK_OFFSITE);
 *     else broken with probability broken (a page number in
 *     [pages, 2*pages) of host K, which 404s); else, when hosts > 1, with
 *     probability 1/10 a uniform page of another host; else a uniform page
 *     of host K.
 * Same-host links are written in three forms so a crawler must resolve
 * them: absolute "sim://hK.sim/p/M", absolute path "/p/M", and relative
 * ("M" from a /p/N page, "p/M" from the root page); links to page 0 are
 * written "sim://hK.sim/", "/", "../" or "./". Links to another host are
 * absolute or scheme-relative ("//hJ.sim/p/M").
 *
 * Status of a page fetch, attempt 0, 1, 2, ...:
 *   - 404 with probability e404 and 500 with probability e500, permanent:
 *     the same for every attempt (a hash of the page only);
 *   - else 503 with probability e503 and a timeout with probability timeout
 *     (overall rates, per attempt), transient: redrawn for every attempt, so a
 *     page that gave 503 on attempt 0 gives 200 on attempt 1 with
 *     probability 1 - (e503 + timeout) / (1 - e404 - e500);
 *   - else 200.
 * Only a 200 (and robots.txt) has a body; error responses have none
 * (body_len 0).
 *
 * Counting pages. A full crawl from sim://h0.sim/ that follows every
 * in-web link, retries 503s and timeouts until they succeed, resolves
 * relative links (RFC 3986) and drops fragments, with e404 = e500 = 0,
 * fetches exactly this many distinct in-web pages (URLs whose fetch is 200,
 * robots.txt not counted):
 *     links == 0                     1
 *     links == 1 or hosts == 1       pages
 *     links >= 2 and hosts > 1       hosts * pages
 * Broken links add distinct 404 URLs on top of that (set broken=0 to count
 * every fetched sim URL exactly), and off-site links add http URLs (set
 * offsite=0 to keep the crawl inside). With e404 or e500 > 0, the pages a
 * crawl finds are those a breadth-first traversal of simweb_links reaches,
 * since simweb_links reports no links for a page that never returns 200.
 *
 * Thread safety: a simweb is immutable after simweb_new; any number of
 * threads may query one at once.
 */
#ifndef CRAWL_SIMWEB_H
#define CRAWL_SIMWEB_H

#include <stddef.h>
#include <stdint.h>

#define SIMWEB_SPEC_MAX 4096 /* longest accepted spec string, bytes */
#define SIMWEB_URL_MAX 4096  /* longest accepted URL, bytes */
#define SIMWEB_PAGES_MAX 100000000u
#define SIMWEB_HOSTS_MAX 1000000u
#define SIMWEB_LINKS_MAX 1000u
#define SIMWEB_SIZE_MAX (10u * 1024 * 1024)
#define SIMWEB_LATENCY_MAX_MS 3600000.0 /* every drawn latency is at most this */

enum simweb_latency_kind {
	SIMWEB_LATENCY_FIXED,     /* a = MS */
	SIMWEB_LATENCY_UNIFORM,   /* a = MIN, b = MAX */
	SIMWEB_LATENCY_LOGNORMAL, /* a = MEDIAN_MS, b = SIGMA */
};

/* The parsed spec; simweb_config() shows it, read-only. */
struct simweb_config {
	uint64_t seed;                    /* seed=N, default 1 */
	uint32_t pages;                   /* pages=N per host, 1..10^8, default 1000 */
	uint32_t hosts;                   /* hosts=N, 1..10^6, default 1 */
	uint32_t links;                   /* links=N per page, 0..1000, default 10 */
	uint32_t size;                    /* size=BYTES target body size, 0..10 MiB, default 4096 */
	uint32_t robots;                  /* robots=0|1, default 0 */
	enum simweb_latency_kind latency; /* latency=..., default fixed:0 */
	double lat_a, lat_b; /* its parameters, milliseconds (b: sigma for lognormal) */
	double e404, e500, e503, timeout; /* probabilities, default 0, sum <= 1 */
	double offsite;                   /* default 0.02 */
	double broken;                    /* default 0.01; offsite + broken <= 1 */
};

/* What a fetch of one URL gives, from simweb_get. */
struct simweb_page {
	int status;               /* 200, 404, 500, 503; 0 for a timeout */
	int timeout;              /* 1: no answer ever comes (status 0) */
	double latency_ms;        /* time to the answer; for a timeout, the time
	                             the server would have taken, meaningless:
	                             the backend waits its own timeout */
	const char *content_type; /* static string, never NULL ("" for a timeout) */
	size_t body_len;          /* exact length simweb_render writes; 0 unless 200 */
};

enum simweb_link_kind {
	SIMWEB_LINK_PAGE,    /* an existing page of the simulated web */
	SIMWEB_LINK_BROKEN,  /* a sim URL whose page number is >= pages (404) */
	SIMWEB_LINK_OFFSITE, /* an http URL off the simulated web */
};

/* One link of a page, as simweb_links reports it. The strings live in the
 * caller's stack frame only for the duration of the callback. */
struct simweb_link {
	enum simweb_link_kind kind;
	uint32_t index;   /* position on the page, 0 .. links-1 */
	uint32_t host;    /* target host (PAGE, BROKEN; 0 for OFFSITE) */
	uint64_t page;    /* target page (PAGE, BROKEN; 0 for OFFSITE) */
	const char *href; /* exactly the text of the href attribute */
	const char *url;  /* absolute form: sim://hK.sim/ for page 0,
	                     sim://hK.sim/p/M otherwise, or the off-site URL */
};

/* Called once per link in page order; a non-zero return stops the walk
 * and becomes simweb_links' return value. */
typedef int (*simweb_link_cb)(void *arg, const struct simweb_link *link);

struct simweb;

/* Parses spec (comma-separated key=value, all optional: seed, pages, hosts,
 * links, latency=fixed:MS|uniform:MIN:MAX|lognormal:MEDIAN_MS:SIGMA, e404,
 * e500, e503, timeout, size, offsite, broken, robots; NULL or "" means all
 * defaults) and builds a simweb in *out, owned by the caller (simweb_free).
 * spec is not kept. On failure *out is NULL and, when err is not NULL and
 * errlen > 0, err holds a NUL-terminated message naming the key and what was
 * expected. Errors: CRAWL_EINVAL (out NULL, unknown or repeated key, a
 * missing '=', an empty item, a bad number, a value out of range, a spec
 * longer than SIMWEB_SPEC_MAX), CRAWL_ENOMEM. */
int simweb_new(struct simweb **out, const char *spec, char *err, size_t errlen);

/* Frees w; NULL is fine. */
void simweb_free(struct simweb *w);

/* The parsed configuration, owned by w, valid until simweb_free. */
const struct simweb_config *simweb_config(const struct simweb *w);

/* Fills *p for a fetch of url (not kept) on attempt 0, 1, 2, ...; the
 * same (spec, url, attempt) always gives the same result. No allocation.
 * Errors (p untouched): CRAWL_EINVAL (a NULL argument), CRAWL_EURL (not of
 * the form sim://HOST[/PATH], a port or user info, a control character or
 * space, longer than SIMWEB_URL_MAX), CRAWL_EDNS (HOST is not hK.sim with
 * K < hosts). */
int simweb_get(const struct simweb *w, const char *url, unsigned attempt, struct simweb_page *p);

/* Writes the body of a successful fetch of url into buf: the first
 * min(length, cap) bytes, with no terminating NUL; with buf NULL it only
 * measures. Returns the full length, equal to simweb_get's body_len for a
 * 200. Returns 0 (writes nothing) when url never answers 200: not a sim
 * URL, unknown host, a 404 or a permanent 500. Pages that fail with 503
 * or a timeout on some attempt have a body here. Allocates nothing. */
size_t simweb_render(const struct simweb *w, const char *url, char *buf, size_t cap);

/* Calls cb for every link of the page at url, in the order of the hrefs of
 * simweb_render's body, without rendering. Returns 0 after the last link,
 * or cb's non-zero return. Errors: CRAWL_EINVAL (a NULL argument),
 * CRAWL_EURL, CRAWL_EDNS (as simweb_get), CRAWL_ENOTFOUND (url is not an
 * HTML page that answers 200: robots.txt, a 404, a permanent 500). */
int simweb_links(const struct simweb *w, const char *url, simweb_link_cb cb, void *arg);

#endif
