/* url.c - crawler URL policy on top of uriparser.
 *
 * uriparser parses, resolves references and normalises syntax; what is left
 * here is the crawler's choice of what a URL may be and one canonical way of
 * writing it. The output is composed from uriparser's components rather than
 * with uriToStringA because uriToStringA writes IPv6 hosts in full
 * ("[0000:...:0001]") and keeps default ports and empty paths as they are.
 *
 * Fragments are cut off as text before parsing: a '#' can only start the
 * fragment, and never having one avoids freeing parts of a uriparser
 * structure behind its back.
 */
#include "url.h"

#include <arpa/inet.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uriparser/Uri.h>

#include "error.h"

#define DOMAIN_MAX 253       /* longest DNS name */
#define PATTERN_MAX 4096     /* longest scope pattern */

enum url_kind { URL_HTTP, URL_HTTPS, URL_SIM, URL_NKINDS };

static const char *const KIND_NAME[URL_NKINDS] = { "http", "https", "sim" };
static const unsigned KIND_DEFAULT_PORT[URL_NKINDS] = { 80, 443, 0 };

/* A checked, normalised URL, ready to be written out. */
struct url_view {
	const UriUriA *u;
	unsigned port;   /* 0: none, or the scheme's default */
	const char *host;
	size_t host_len; /* without brackets */
	int bracket;     /* IP literal: written in [ ] */
	char ip6[INET6_ADDRSTRLEN];
};

/* ---- ASCII helpers (no locale: "I" must lower to "i" everywhere) ---- */

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static size_t range_len(const UriTextRangeA *r)
{
	return r->first ? (size_t)(r->afterLast - r->first) : 0;
}

/* The crawlable kind named by n bytes at s (any case), or -1. */
static int scheme_kind(const char *s, size_t n)
{
	for (int k = 0; k < URL_NKINDS; k++) {
		const char *name = KIND_NAME[k];
		size_t i = 0;
		while (i < n && name[i] && to_lower(s[i]) == name[i])
			i++;
		if (i == n && !name[i])
			return k;
	}
	return -1;
}

/* Length of the RFC 3986 scheme that starts s (before its ':'), or 0. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;

	if (!is_alpha(s[0]))
		return 0;
	while (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' ||
	       s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

/* A uriparser result as a crawl code. */
static int uri_error(int rc)
{
	if (rc == URI_SUCCESS)
		return 0;
	return rc == URI_ERROR_MALLOC ? CRAWL_ENOMEM : CRAWL_EURL;
}

/* ---- parse, check, normalise, compose ---- */

/* Parses text up to any '#' into u (zeroed first; the caller always frees
 * it with uriFreeUriMembersA). u points into text afterwards. */
static int url_parse(const char *text, UriUriA *u)
{
	size_t n = strnlen(text, URL_MAX_LEN + 1);
	const char *hash;

	memset(u, 0, sizeof(*u));
	if (n > URL_MAX_LEN)
		return CRAWL_EURL;
	hash = memchr(text, '#', n);
	if (hash)
		n = (size_t)(hash - text);
	return uri_error(uriParseSingleUriExA(u, text, text + n, NULL));
}

/* Reads the port: empty or the default gives 0. */
static int url_read_port(const UriTextRangeA *r, int kind, unsigned *port)
{
	unsigned v = 0;

	*port = 0;
	if (range_len(r) == 0)
		return 0;
	for (const char *p = r->first; p < r->afterLast; p++) {
		if (!is_digit(*p))
			return CRAWL_EURL;
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 65535)
			return CRAWL_EURL;
	}
	if (v == 0)
		return CRAWL_EURL;
	*port = v == KIND_DEFAULT_PORT[kind] ? 0 : v;
	return 0;
}

/* What a crawlable URL needs beyond RFC 3986 syntax. */
static int url_check(const UriUriA *u, unsigned *port)
{
	int kind;

	if (!u->scheme.first)
		return CRAWL_EURL; /* relative */
	kind = scheme_kind(u->scheme.first, range_len(&u->scheme));
	if (kind < 0)
		return CRAWL_ESCHEME;
	if (range_len(&u->hostText) == 0)
		return CRAWL_EURL;
	return url_read_port(&u->portText, kind, port);
}

/* Checks and normalises u in place and fills v from it. */
static int url_finish(UriUriA *u, struct url_view *v)
{
	const unsigned mask = URI_NORMALIZE_SCHEME | URI_NORMALIZE_USER_INFO |
			      URI_NORMALIZE_HOST | URI_NORMALIZE_PATH |
			      URI_NORMALIZE_QUERY;
	int rc = url_check(u, &v->port);

	if (rc < 0)
		return rc;
	rc = uri_error(uriNormalizeSyntaxExA(u, mask));
	if (rc < 0)
		return rc;
	v->u = u;
	v->bracket = u->hostData.ip6 || u->hostData.ipFuture.first;
	if (u->hostData.ip6) {
		/* RFC 5952 text; cannot fail with a buffer this size. */
		inet_ntop(AF_INET6, u->hostData.ip6->data, v->ip6, sizeof(v->ip6));
		v->host = v->ip6;
		v->host_len = strlen(v->ip6);
	} else {
		v->host = u->hostText.first;
		v->host_len = range_len(&u->hostText);
	}
	/* A name still percent-encoded is not something DNS can look up. */
	if (!v->bracket && memchr(v->host, '%', v->host_len))
		return CRAWL_EURL;
	return 0;
}

/* Appends n bytes; s may be NULL when n is 0 (empty uriparser ranges). */
static char *put(char *p, const char *s, size_t n)
{
	if (n)
		memcpy(p, s, n);
	return p + n;
}

static size_t url_path_len(const UriUriA *u)
{
	size_t n = 0;

	for (const UriPathSegmentA *s = u->pathHead; s; s = s->next)
		n += 1 + range_len(&s->text);
	return n ? n : 1;
}

/* Writes the normal form of v into a new string. */
static int url_compose(const struct url_view *v, char **out)
{
	const UriUriA *u = v->u;
	char port[16] = "";
	size_t n;
	char *s, *p;

	if (v->port)
		snprintf(port, sizeof(port), ":%u", v->port);
	n = range_len(&u->scheme) + 3 + (u->userInfo.first ? range_len(&u->userInfo) + 1 : 0) +
	    v->host_len + 2 * (size_t)v->bracket + strlen(port) + url_path_len(u) +
	    (u->query.first ? 1 + range_len(&u->query) : 0);
	if (n > URL_MAX_LEN)
		return CRAWL_EURL;
	s = p = malloc(n + 1);
	if (!s)
		return CRAWL_ENOMEM;
	p = put(p, u->scheme.first, range_len(&u->scheme));
	p = put(p, "://", 3);
	if (u->userInfo.first) {
		p = put(p, u->userInfo.first, range_len(&u->userInfo));
		p = put(p, "@", 1);
	}
	p = put(p, "[", (size_t)v->bracket);
	p = put(p, v->host, v->host_len);
	p = put(p, "]", (size_t)v->bracket);
	p = put(p, port, strlen(port));
	if (!u->pathHead)
		p = put(p, "/", 1);
	for (const UriPathSegmentA *seg = u->pathHead; seg; seg = seg->next) {
		p = put(p, "/", 1);
		p = put(p, seg->text.first, range_len(&seg->text));
	}
	if (u->query.first) {
		p = put(p, "?", 1);
		p = put(p, u->query.first, range_len(&u->query));
	}
	*p = '\0';
	*out = s;
	return 0;
}

int url_normalize(const char *url, char **out)
{
	UriUriA u;
	struct url_view v;
	int rc;

	if (!url || !out)
		return CRAWL_EINVAL;
	rc = url_parse(url, &u);
	if (rc == 0)
		rc = url_finish(&u, &v);
	if (rc == 0)
		rc = url_compose(&v, out);
	uriFreeUriMembersA(&u);
	return rc;
}

int url_host(const char *url, char *buf, size_t len)
{
	UriUriA u;
	struct url_view v;
	char port[16] = "";
	int rc, n;

	if (!url || !buf)
		return CRAWL_EINVAL;
	rc = url_parse(url, &u);
	if (rc == 0)
		rc = url_finish(&u, &v);
	if (rc < 0)
		goto done;
	if (v.port)
		snprintf(port, sizeof(port), ":%u", v.port);
	n = snprintf(buf, len, "%s%.*s%s%s", v.bracket ? "[" : "", (int)v.host_len,
		     v.host, v.bracket ? "]" : "", port);
	if (n < 0 || (size_t)n >= len)
		rc = CRAWL_EINVAL;
done:
	uriFreeUriMembersA(&u);
	return rc;
}

/* ---- links from pages ---- */

/* Bytes a URI cannot hold as they are; browsers percent-encode them. */
static int needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || (c && strchr("\"<>\\^`{|}", c));
}

/* The byte at s[i] (of n) written the way browsers send it; returns the new
 * end of out. Tabs and newlines vanish, "\" is "/" before the query, a
 * "%" that does not start an escape is escaped itself, and so are "[" "]"
 * in the query (PHP's "a[]=1"), which RFC 3986 reserves for IPv6 hosts. */
static char *clean_byte(char *o, const char *s, size_t i, size_t n, int in_query)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c = (unsigned char)s[i];

	if (c == '\t' || c == '\n' || c == '\r')
		return o;
	if (c == '\\' && !in_query)
		c = '/';
	if (c == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
		*o++ = '%';
	} else if (c == '%' || needs_escape(c) || (in_query && (c == '[' || c == ']'))) {
		*o++ = '%';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	} else {
		*o++ = (char)c;
	}
	return o;
}

/* The link text ref (s, n bytes, already trimmed) cleaned as browsers do
 * before parsing, up to its fragment. *out is a new NUL-terminated string. */
static int clean_ref(const char *s, size_t n, char **out)
{
	char *buf = malloc(3 * n + 1), *o = buf;
	int in_query = 0;

	if (!buf)
		return CRAWL_ENOMEM;
	for (size_t i = 0; i < n && s[i] != '#'; i++) {
		in_query |= s[i] == '?';
		o = clean_byte(o, s, i, n, in_query);
	}
	*o = '\0';
	if ((size_t)(o - buf) > URL_MAX_LEN) {
		free(buf);
		return CRAWL_EURL;
	}
	*out = buf;
	return 0;
}

/* ESCHEME if the text starts with a scheme we do not crawl. */
static int ref_scheme_check(const char *s)
{
	size_t n = scheme_len(s);
	return n && scheme_kind(s, n) < 0 ? CRAWL_ESCHEME : 0;
}

/* Trims ref and cleans it into *out. */
static int prepare_ref(const char *ref, char **out)
{
	size_t n;
	int rc;

	while (*ref && (unsigned char)*ref <= 0x20)
		ref++;
	/* Before measuring: "data:" links can be megabytes long. */
	rc = ref_scheme_check(ref);
	if (rc < 0)
		return rc;
	n = strlen(ref);
	while (n && (unsigned char)ref[n - 1] <= 0x20)
		n--;
	if (n > URL_MAX_LEN)
		return CRAWL_EURL;
	rc = clean_ref(ref, n, out);
	if (rc == 0 && (rc = ref_scheme_check(*out)) < 0) { /* "java\tscript:" */
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Resolves the cleaned ref against base and writes the result. */
static int resolve_parsed(const char *base, const char *ref, char **out)
{
	UriUriA b, r, abs;
	struct url_view v;
	unsigned port;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&abs, 0, sizeof(abs));
	rc = url_parse(base, &b);
	if (rc == 0)
		rc = url_check(&b, &port);
	if (rc == 0)
		rc = url_parse(ref, &r);
	if (rc == 0)
		rc = uri_error(uriAddBaseUriExA(&abs, &r, &b,
						URI_RESOLVE_IDENTICAL_SCHEME_COMPAT));
	if (rc == 0)
		rc = url_finish(&abs, &v);
	if (rc == 0)
		rc = url_compose(&v, out);
	uriFreeUriMembersA(&abs);
	uriFreeUriMembersA(&r);
	uriFreeUriMembersA(&b);
	return rc;
}

int url_resolve(const char *base, const char *ref, char **out)
{
	char *clean = NULL;
	int rc;

	if (!base || !ref || !out)
		return CRAWL_EINVAL;
	rc = prepare_ref(ref, &clean);
	if (rc == 0)
		rc = resolve_parsed(base, clean, out);
	free(clean);
	return rc;
}

/* ---- scope ---- */

struct url_scope {
	char **domain;
	size_t ndomain;
	regex_t **include;
	size_t ninclude;
	regex_t **exclude;
	size_t nexclude;
};

int url_scope_new(struct url_scope **out)
{
	if (!out)
		return CRAWL_EINVAL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : CRAWL_ENOMEM;
}

static void free_patterns(regex_t **re, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		regfree(re[i]);
		free(re[i]);
	}
	free(re);
}

void url_scope_free(struct url_scope *scope)
{
	if (!scope)
		return;
	for (size_t i = 0; i < scope->ndomain; i++)
		free(scope->domain[i]);
	free(scope->domain);
	free_patterns(scope->include, scope->ninclude);
	free_patterns(scope->exclude, scope->nexclude);
	free(scope);
}

/* Splits an optional ":digits" suffix off n bytes at d: *hostlen is what
 * comes before it. CRAWL_EINVAL if a ':' is followed by anything else. */
static int split_port(const char *d, size_t n, size_t *hostlen)
{
	const char *colon = memchr(d, ':', n);

	*hostlen = colon ? (size_t)(colon - d) : n;
	if (colon && colon + 1 == d + n)
		return CRAWL_EINVAL;
	for (const char *p = colon ? colon + 1 : d + n; p < d + n; p++) {
		if (!is_digit(*p))
			return CRAWL_EINVAL;
	}
	return 0;
}

/* "[v6]" or "[v6]:port" in canonical form into out[URL_HOST_MAX]. */
static int domain_ip6(const char *d, size_t n, char *out)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN + 1];
	const char *end = memchr(d, ']', n);
	size_t ignored;

	if (!end || (size_t)(end - d) > INET6_ADDRSTRLEN)
		return CRAWL_EINVAL;
	if (split_port(end + 1, (size_t)(d + n - end - 1), &ignored) < 0 || ignored)
		return CRAWL_EINVAL;
	memcpy(text, d + 1, (size_t)(end - d - 1));
	text[end - d - 1] = '\0';
	if (inet_pton(AF_INET6, text, addr) != 1)
		return CRAWL_EINVAL;
	out[0] = '[';
	inet_ntop(AF_INET6, addr, out + 1, INET6_ADDRSTRLEN);
	strcat(out, "]");
	return 0;
}

/* The domain in the form url_host writes hosts, into out[URL_HOST_MAX]. */
static int domain_normalize(const char *d, char *out)
{
	size_t n = strnlen(d, URL_HOST_MAX), i;

	if (n >= URL_HOST_MAX)
		return CRAWL_EINVAL;
	if (d[0] == '[')
		return domain_ip6(d, n, out);
	if (split_port(d, n, &n) < 0)
		return CRAWL_EINVAL;
	while (n && d[0] == '.') /* ".example.com" means the same */
		d++, n--;
	while (n && d[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return CRAWL_EINVAL;
	for (i = 0; i < n; i++) {
		int c = to_lower(d[i]);
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
			return CRAWL_EINVAL;
		out[i] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

int url_scope_add_domain(struct url_scope *scope, const char *domain)
{
	char norm[URL_HOST_MAX];
	char **grown, *copy;
	int rc;

	if (!scope || !domain)
		return CRAWL_EINVAL;
	rc = domain_normalize(domain, norm);
	if (rc < 0)
		return rc;
	copy = strdup(norm);
	if (!copy)
		return CRAWL_ENOMEM;
	grown = realloc(scope->domain, (scope->ndomain + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return CRAWL_ENOMEM;
	}
	grown[scope->ndomain++] = copy;
	scope->domain = grown;
	return 0;
}

/* regex_t is held by pointer: POSIX does not promise it survives a move. */
static int add_pattern(regex_t ***list, size_t *n, const char *pattern)
{
	regex_t *re = NULL, **grown;
	int rc;

	if (!pattern || strnlen(pattern, PATTERN_MAX + 1) > PATTERN_MAX)
		return CRAWL_EINVAL;
	re = malloc(sizeof(*re));
	if (!re)
		return CRAWL_ENOMEM;
	rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		free(re);
		return rc == REG_ESPACE ? CRAWL_ENOMEM : CRAWL_EINVAL;
	}
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown) {
		regfree(re);
		free(re);
		return CRAWL_ENOMEM;
	}
	grown[(*n)++] = re;
	*list = grown;
	return 0;
}

int url_scope_add_include(struct url_scope *scope, const char *pattern)
{
	if (!scope)
		return CRAWL_EINVAL;
	return add_pattern(&scope->include, &scope->ninclude, pattern);
}

int url_scope_add_exclude(struct url_scope *scope, const char *pattern)
{
	if (!scope)
		return CRAWL_EINVAL;
	return add_pattern(&scope->exclude, &scope->nexclude, pattern);
}

/* An IP literal allows only itself; a name allows its subdomains too. */
static int domain_covers(const char *dom, const char *host, size_t hlen)
{
	size_t dlen = strlen(dom);
	int literal = dom[0] == '[' || strspn(dom, "0123456789.") == dlen;

	if (hlen == dlen)
		return memcmp(host, dom, dlen) == 0;
	if (literal || hlen < dlen + 2)
		return 0;
	return host[hlen - dlen - 1] == '.' &&
	       memcmp(host + hlen - dlen, dom, dlen) == 0;
}

static int scope_host_ok(const struct url_scope *scope, const char *key)
{
	size_t hlen = key[0] == '[' ? (size_t)(strchr(key, ']') - key) + 1
				    : strcspn(key, ":");

	if (scope->ndomain == 0)
		return 1;
	for (size_t i = 0; i < scope->ndomain; i++) {
		if (domain_covers(scope->domain[i], key, hlen))
			return 1;
	}
	return 0;
}

static int any_match(regex_t *const *re, size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++) {
		if (regexec(re[i], url, 0, NULL, 0) == 0)
			return 1;
	}
	return 0;
}

int url_scope_allows(const struct url_scope *scope, const char *url)
{
	char key[URL_HOST_MAX];

	if (!scope || !url || url_host(url, key, sizeof(key)) < 0)
		return 0;
	if (!scope_host_ok(scope, key))
		return 0;
	if (scope->ninclude && !any_match(scope->include, scope->ninclude, url))
		return 0;
	return !any_match(scope->exclude, scope->nexclude, url);
}
