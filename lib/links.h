/* links.h - streaming link extraction from HTML (libxml2's push parser).
 *
 * Feed a page's body as it arrives; every link comes out through a callback
 * as soon as its tag has been parsed, already resolved against the page (or
 * its <base href>) into an absolute, normalised http(s) URL without a
 * fragment. No document tree is built: only start tags are looked at.
 *
 * What counts as a link: a[href] and area[href], unless rel has the token
 * "nofollow". <base href> (the first one only, as browsers do) changes the
 * base for the links after it. <meta name="robots" content="..."> with
 * "nofollow" (or "none") stops all further links; "noindex" (or "none") is
 * reported through links_noindex(). Links before such a meta tag have
 * already been reported by then: the caller that cares (nofollow pages are
 * rare) can drop them when links_nofollow() says so at the end.
 * Hrefs that do not resolve, and schemes other than http and https
 * (javascript:, mailto:, data:, tel:, ftp:, ...), are skipped silently.
 * Duplicates within one page are reported once: a set of 64-bit hashes of
 * the reported URLs filters them (8 bytes a link; two different URLs of one
 * page collide with a probability near n^2 / 2^65, which drops one link).
 *
 * Encodings: a page is read as UTF-8 until its first byte that is not valid
 * UTF-8; from there libxml2 reads the rest as ISO-8859-1, which cannot
 * fail, and hrefs are handed on byte for byte. Declared charsets (<meta
 * charset>, http-equiv) are ignored, because a decoder for a wrong charset
 * makes libxml2 stop at the first byte it cannot convert. So UTF-8 pages
 * (most of the web) give the URLs a browser would use; in other pages an
 * ASCII href is exact and a non-ASCII one keeps the page's own bytes,
 * percent-encoded (a browser would re-encode them as UTF-8). Pages that
 * start with a UTF-16 byte order mark are decoded as UTF-16. At most
 * LINKS_MAX_INPUT bytes of a page are parsed; the rest is ignored.
 *
 * libxml2: the first links_new() calls xmlInitParser() once (pthread_once,
 * so any thread may be first); xmlCleanupParser() is never called, as it
 * would break other users of libxml2 in the process. While a feed or
 * finish runs, this thread's libxml2 error handlers (generic and
 * structured) are swapped for silent ones and then put back, so parse
 * errors print nothing and nothing else changes. One links object belongs
 * to one thread at a time; different objects may be used in parallel.
 */
#ifndef CRAWL_LINKS_H
#define CRAWL_LINKS_H

#include <stddef.h>

/* Bytes of one page that are parsed; later bytes are ignored. */
#define LINKS_MAX_INPUT (10u * 1024u * 1024u)

/* Receives one absolute URL, NUL-terminated and owned by the extractor: it
 * is valid only during the call (copy it to keep it). Return 0 to go on;
 * any other value stops the extraction, and links_feed()/links_finish()
 * return it (so return a negative CRAWL_E* code or a positive value of
 * your own, not 0). The callback must not call links_free() on its own
 * extractor. */
typedef int (*links_cb)(void *arg, const char *url);

struct links;

/* Creates an extractor for the page at page_url (an absolute http or https
 * URL; it is copied, normalised and used as the base). cb and cb_arg are
 * kept until links_free(). The caller owns *out (links_free).
 * Returns 0; CRAWL_EINVAL (out, page_url or cb NULL); CRAWL_EURL (page_url
 * is not an absolute URL); CRAWL_ESCHEME (not http or https);
 * CRAWL_ESYS (libxml2's one-time initialisation failed); CRAWL_ENOMEM.
 * On error *out is NULL. */
int links_new(struct links **out, const char *page_url, links_cb cb, void *cb_arg);

/* Parses the next len bytes of the page (buf is not kept; chunks may split
 * tags, attributes or characters anywhere) and calls the callback for the
 * links they complete. Returns 0; the callback's non-zero value if it
 * stopped the extraction (and again on every later call); CRAWL_ENOMEM
 * (also sticky); CRAWL_EINVAL (l NULL, buf NULL with len > 0, or called
 * after links_finish()). Bytes beyond LINKS_MAX_INPUT are ignored and make
 * links_truncated() true; that is not an error. */
int links_feed(struct links *l, const char *buf, size_t len);

/* Ends the page: parses what was held back (an unfinished last tag too, as
 * far as it goes) and reports the remaining links. Call it once, after the
 * last links_feed(); a second call does nothing and returns the same.
 * Returns 0, the callback's stop value, CRAWL_ENOMEM, CRAWL_EINVAL (l NULL). */
int links_finish(struct links *l);

/* 1 if a robots meta tag said nofollow (or none), else 0 (also for NULL). */
int links_nofollow(const struct links *l);

/* 1 if a robots meta tag said noindex (or none), else 0 (also for NULL). */
int links_noindex(const struct links *l);

/* 1 if the page was longer than LINKS_MAX_INPUT, else 0. */
int links_truncated(const struct links *l);

/* How many links were passed to the callback so far (distinct URLs). */
size_t links_count(const struct links *l);

/* Frees l and its parser; NULL is allowed. Not from inside the callback. */
void links_free(struct links *l);

#endif
