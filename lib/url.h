/* url.h - URL normalisation, link resolution, host keys and crawl scope.
 *
 * Parsing, reference resolution (RFC 3986 section 5) and syntax normalisation
 * (section 6.2.2) are uriparser's; this module picks the crawler's policy on
 * top: which schemes are crawlable, default ports, fragments, bounds.
 *
 * The normal form, the one key for de-duplication (lib/seen):
 *   scheme "://" [userinfo "@"] host [":" port] path ["?" query]
 * - scheme and host lower-case; IPv6 hosts in RFC 5952 form ("[::1]");
 * - port dropped when it is the scheme's default (80 http, 443 https; sim://,
 *   the simulated web, has none) or empty, else written without leading zeros;
 * - path with dot segments resolved, "/" when empty;
 * - query kept byte for byte (not sorted: order can matter to the server);
 * - percent-encodings upper-case hex, unreserved characters decoded;
 * - fragment removed (it never reaches the server).
 * Normalising a normal form gives it back unchanged.
 *
 * Only http, https and sim URLs are accepted. A host must be a name or an IP
 * literal: names still percent-encoded after normalisation (such as IDNs
 * written as UTF-8) are refused with CRAWL_EURL. Inputs and results are
 * bounded by URL_MAX_LEN bytes.
 */
#ifndef CRAWL_URL_H
#define CRAWL_URL_H

#include <stddef.h>

/* Longest URL accepted or produced, in bytes (without the NUL). */
#define URL_MAX_LEN 8192
/* A url_host buffer this big holds any DNS name (253 bytes) or IP literal
 * with a port; longer host names give CRAWL_EINVAL. */
#define URL_HOST_MAX 264

/* Normalises an absolute URL (the form above). *out is set only on success
 * to a malloc'd string the caller frees; url is not kept.
 * CRAWL_EURL: unparseable, relative, no host, bad port (0 or > 65535), host
 * not a name or IP literal, or longer than URL_MAX_LEN.
 * CRAWL_ESCHEME: a scheme other than http, https, sim.
 * CRAWL_EINVAL: NULL argument. CRAWL_ENOMEM.
 * Strict: text from pages or headers should go through url_resolve. */
int url_normalize(const char *url, char **out);

/* Resolves the link ref found in a page against base (the page's URL, or its
 * <base href> once that is itself resolved against the page URL), then
 * normalises. Neither string is kept; *out (malloc'd, caller frees) is set
 * only on success.
 * The ref is cleaned the way browsers do before parsing: leading and
 * trailing whitespace and control characters trimmed, tabs and newlines
 * inside removed, "\" taken as "/" before the query, the fragment dropped,
 * and characters not allowed in a URI (space, quotes, <>, non-ASCII bytes,
 * a "%" not followed by two hex digits, ...) percent-encoded. An empty ref
 * (or a bare "#frag") gives the base itself; "http:x" with an http base is
 * relative, as in browsers.
 * CRAWL_ESCHEME: ref's scheme is javascript, mailto, data, tel, ftp, file or
 * any other non-crawlable one (the caller skips the link).
 * CRAWL_EURL: base or result not a valid URL (see url_normalize), ref
 * unparseable or longer than URL_MAX_LEN. CRAWL_EINVAL, CRAWL_ENOMEM. */
int url_resolve(const char *base, const char *ref, char **out);

/* Writes the host key of url: lower-case host, with ":port" only when it is
 * not the scheme's default ("example.com", "example.com:8080", "[::1]:8080")
 * as a NUL-terminated string into buf (len bytes, not kept). The key names a
 * server for per-host queues and politeness.
 * CRAWL_EURL, CRAWL_ESCHEME: as url_normalize. CRAWL_EINVAL: NULL argument
 * or buf too small (URL_HOST_MAX is always enough for DNS names).
 * CRAWL_ENOMEM. */
int url_host(const char *url, char *buf, size_t len);

/* A crawl scope: which URLs a job may fetch. */
struct url_scope;

/* A new scope that allows every URL until rules are added. *out is set only
 * on success; free with url_scope_free. CRAWL_EINVAL, CRAWL_ENOMEM. */
int url_scope_new(struct url_scope **out);

/* Frees the scope and its compiled patterns; NULL is fine. */
void url_scope_free(struct url_scope *scope);

/* Allows the host domain and all its subdomains ("example.com" allows
 * "www.example.com", not "badexample.com"). Scope is by host only: a ":port"
 * suffix is accepted and ignored, so host keys from url_host can be added
 * as they are. An IP literal ("127.0.0.1", "[::1]") allows only itself.
 * The text is copied. CRAWL_EINVAL: NULL, empty, longer than 253 bytes, or
 * characters no host name has. CRAWL_ENOMEM. */
int url_scope_add_domain(struct url_scope *scope, const char *domain);

/* Adds a POSIX extended regular expression the URL must match (with several,
 * at least one). Patterns are searched anywhere in the normalised URL;
 * anchor with ^...$ to match all of it. The pattern is compiled and not kept.
 * CRAWL_EINVAL: NULL or a pattern regcomp refuses. CRAWL_ENOMEM. */
int url_scope_add_include(struct url_scope *scope, const char *pattern);

/* Adds a POSIX extended regular expression the URL must not match.
 * Errors as url_scope_add_include. */
int url_scope_add_exclude(struct url_scope *scope, const char *pattern);

/* 1 if url is in scope: its host is one of the domains or under one (when
 * any domain was added), it matches an include pattern (when any was added)
 * and no exclude pattern. 0 otherwise, and for anything url_host refuses.
 * Pass normalised URLs: the patterns see the string as given. */
int url_scope_allows(const struct url_scope *scope, const char *url);

#endif
