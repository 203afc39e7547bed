/* robots.c - robots.txt parsing and matching (RFC 9309). See robots.h. */
#include "robots.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct robots_rule {
	size_t off;     /* canonical pattern at pool + off */
	size_t len;     /* its length, without a final '$' */
	size_t prio;    /* canonical length, '$' included: longest wins */
	bool allow;
	bool anchored;  /* the pattern ended in '$' */
};

struct robots {
	struct robots_rule *rules; /* sorted: best priority first */
	size_t nrules, rules_cap;
	char *pool;                /* canonical patterns, back to back */
	size_t pool_len, pool_cap;
	char **sitemaps;
	size_t nsitemaps, sitemaps_cap;
	double delay;              /* < 0: none */
};

enum robots_key { KEY_OTHER, KEY_AGENT, KEY_ALLOW, KEY_DISALLOW, KEY_DELAY, KEY_SITEMAP };

/* Accepted spellings, typos included (RFC 9309 section 2.2.4 asks crawlers
 * to be lenient about them, as Google's parser is). */
static const struct {
	const char *name;
	enum robots_key key;
} key_names[] = {
	{ "user-agent", KEY_AGENT }, { "useragent", KEY_AGENT }, { "user agent", KEY_AGENT },
	{ "allow", KEY_ALLOW },
	{ "disallow", KEY_DISALLOW }, { "dissallow", KEY_DISALLOW }, { "dissalow", KEY_DISALLOW },
	{ "disalow", KEY_DISALLOW }, { "diasllow", KEY_DISALLOW }, { "disallaw", KEY_DISALLOW },
	{ "crawl-delay", KEY_DELAY }, { "crawldelay", KEY_DELAY }, { "crawl delay", KEY_DELAY },
	{ "sitemap", KEY_SITEMAP }, { "site-map", KEY_SITEMAP },
};

/* What the two passes over the lines share. */
struct parse_state {
	struct robots *r;
	const char *token;  /* our product token */
	size_t token_len;
	int best;           /* best group score seen by pass 1; -1 none */
	bool in_agents;     /* the last group line was a user-agent line */
	bool take;          /* the current group applies to us */
};

typedef int (*line_fn)(struct parse_state *st, enum robots_key key, const char *v, size_t n);

static const char hexdig[] = "0123456789ABCDEF";

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* One comparison unit of a path or pattern starting at s[i], in canonical
 * form: a plain ASCII character (0..127), or 256 + byte for a byte that is
 * percent-encoded (or must be). %XX of an unreserved character is that
 * character. *adv receives how many bytes the unit spans. */
static int unit_at(const char *s, size_t n, size_t i, size_t *adv)
{
	unsigned char c = (unsigned char)s[i];

	*adv = 1;
	if (c == '%' && i + 2 < n && hex_val((unsigned char)s[i + 1]) >= 0 &&
	    hex_val((unsigned char)s[i + 2]) >= 0) {
		int b = hex_val((unsigned char)s[i + 1]) * 16 + hex_val((unsigned char)s[i + 2]);
		*adv = 3;
		return is_unreserved((unsigned char)b) ? b : 256 + b;
	}
	if (c <= 0x20 || c >= 0x7f)
		return 256 + c;
	return c;
}

/* Writes the canonical form of src[0..n) to dst (room for 3 * n bytes):
 * the units of unit_at() spelled out, so that equal units are equal bytes
 * and the length counts characters as the pattern means them. */
static size_t canon(const char *src, size_t n, char *dst)
{
	size_t o = 0, adv;

	for (size_t i = 0; i < n; i += adv) {
		int u = unit_at(src, n, i, &adv);
		if (u < 256) {
			dst[o++] = (char)u;
		} else {
			dst[o++] = '%';
			dst[o++] = hexdig[(u - 256) >> 4];
			dst[o++] = hexdig[(u - 256) & 15];
		}
	}
	return o;
}

/* The standard two-pointer wildcard matcher: on a mismatch, resume just
 * after the last '*' with the path one unit further on. Work is bounded by
 * (path units) x (pattern length), never exponential. Unless anchored, the
 * pattern only has to match a prefix of the path. */
static bool wild_match(const char *p, size_t pn, bool anchored, const char *s, size_t sn,
		       size_t *steps)
{
	size_t i = 0, j = 0, star_i = SIZE_MAX, star_j = 0, ap, as;

	for (;;) {
		(*steps)++;
		if (i == pn && !anchored)
			return true;
		if (j == sn)
			break;
		if (i < pn && p[i] == '*') {
			star_i = ++i;
			star_j = j;
			continue;
		}
		if (i < pn && unit_at(p, pn, i, &ap) == unit_at(s, sn, j, &as)) {
			i += ap;
			j += as;
			continue;
		}
		if (star_i == SIZE_MAX)
			return false;
		unit_at(s, sn, star_j, &as);
		star_j += as;
		i = star_i;
		j = star_j;
	}
	while (i < pn && p[i] == '*')
		i++;
	return i == pn;
}

/* Returns arr grown to hold at least need elements of size el (arr itself
 * if it already does), or NULL if out of memory (arr is then unchanged). */
static void *grow(void *arr, size_t *cap, size_t need, size_t el)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return arr;
	while (ncap < need)
		ncap *= 2;
	p = realloc(arr, ncap * el);
	if (p)
		*cap = ncap;
	return p;
}

static int rule_add(struct robots *r, bool allow, const char *v, size_t n)
{
	struct robots_rule *rule;
	bool anchored = n > 0 && v[n - 1] == '$';
	void *p;

	if (n == 0) /* "Disallow:" with no value disallows nothing */
		return 0;
	if (anchored)
		n--;
	p = grow(r->rules, &r->rules_cap, r->nrules + 1, sizeof(*r->rules));
	if (!p)
		return CRAWL_ENOMEM;
	r->rules = p;
	p = grow(r->pool, &r->pool_cap, r->pool_len + 3 * n + 1, 1);
	if (!p)
		return CRAWL_ENOMEM;
	r->pool = p;
	rule = &r->rules[r->nrules++];
	rule->off = r->pool_len;
	rule->len = canon(v, n, r->pool + r->pool_len);
	rule->prio = rule->len + anchored;
	rule->allow = allow;
	rule->anchored = anchored;
	r->pool_len += rule->len;
	r->pool[r->pool_len++] = '\0';
	return 0;
}

static int sitemap_add(struct robots *r, const char *v, size_t n)
{
	char *s;
	void *p;

	if (n == 0)
		return 0;
	p = grow(r->sitemaps, &r->sitemaps_cap, r->nsitemaps + 1, sizeof(char *));
	if (!p)
		return CRAWL_ENOMEM;
	r->sitemaps = p;
	s = malloc(n + 1);
	if (!s)
		return CRAWL_ENOMEM;
	memcpy(s, v, n);
	s[n] = '\0';
	r->sitemaps[r->nsitemaps++] = s;
	return 0;
}

/* "10", "0.5", "2." : seconds, read without the locale (no strtod). At
 * most 9 digits on each side of the point, so absurd values are refused and
 * nothing overflows; the fraction is one division, so "0.25" is exact. */
static bool delay_parse(const char *v, size_t n, double *out)
{
	uint64_t ip = 0, fp = 0, scale = 1;
	size_t i = 0, digits = 0;

	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
		ip = ip * 10 + (uint64_t)(v[i] - '0');
	if (digits == 0 || digits > 9)
		return false;
	if (i < n && v[i] == '.')
		for (i++, digits = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
			if (digits >= 9)
				return false;
			fp = fp * 10 + (uint64_t)(v[i] - '0');
			scale *= 10;
		}
	if (i != n)
		return false;
	*out = (double)ip + (double)fp / (double)scale;
	return true;
}

/* Score of a user-agent line's value for our token: 1 names us, 0 is "*",
 * -1 is someone else. Only the leading product token counts ("crawld/1.0"). */
static int agent_score(const struct parse_state *st, const char *v, size_t n)
{
	size_t t = 0;

	if (n > 0 && v[0] == '*' && (n == 1 || !is_token_char((unsigned char)v[1])))
		return 0;
	while (t < n && is_token_char((unsigned char)v[t]))
		t++;
	if (t == 0 || t != st->token_len || !ascii_ieq(v, st->token, t))
		return -1;
	return 1;
}

static int pass_best(struct parse_state *st, enum robots_key key, const char *v, size_t n)
{
	int s;

	if (key == KEY_AGENT && (s = agent_score(st, v, n)) > st->best)
		st->best = s;
	return 0;
}

/* RFC 9309 section 2.1: a group is one or more user-agent lines followed
 * by rules; a user-agent line after a rule starts the next group. Sitemap
 * and unknown lines belong to no group and change nothing. */
static int pass_collect(struct parse_state *st, enum robots_key key, const char *v, size_t n)
{
	double d;

	switch (key) {
	case KEY_AGENT:
		if (!st->in_agents)
			st->take = false;
		st->in_agents = true;
		if (st->best >= 0 && agent_score(st, v, n) == st->best)
			st->take = true;
		return 0;
	case KEY_ALLOW:
	case KEY_DISALLOW:
		st->in_agents = false;
		return st->take ? rule_add(st->r, key == KEY_ALLOW, v, n) : 0;
	case KEY_DELAY:
		st->in_agents = false;
		if (st->take && st->r->delay < 0 && delay_parse(v, n, &d))
			st->r->delay = d;
		return 0;
	case KEY_SITEMAP:
		return sitemap_add(st->r, v, n);
	default:
		return 0;
	}
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static enum robots_key key_lookup(const char *k, size_t n)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		if (strlen(key_names[i].name) == n && ascii_ieq(k, key_names[i].name, n))
			return key_names[i].key;
	return KEY_OTHER;
}

/* One line without its end: strips the comment, splits "key: value". */
static int line_handle(struct parse_state *st, const char *s, size_t n, line_fn fn)
{
	const char *hash = memchr(s, '#', n), *colon, *v;
	size_t kn, vn;

	if (hash)
		n = (size_t)(hash - s);
	colon = memchr(s, ':', n);
	if (!colon)
		return 0;
	kn = (size_t)(colon - s);
	v = colon + 1;
	vn = n - kn - 1;
	trim(&s, &kn);
	trim(&v, &vn);
	return fn(st, key_lookup(s, kn), v, vn);
}

/* Calls fn for every "key: value" line; lines end in LF, CR or CRLF. */
static int lines_each(const char *txt, size_t len, struct parse_state *st, line_fn fn)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i;
		int rc;

		while (e < len && txt[e] != '\n' && txt[e] != '\r')
			e++;
		rc = line_handle(st, txt + i, e - i, fn);
		if (rc)
			return rc;
		if (e < len && txt[e] == '\r' && e + 1 < len && txt[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	return 0;
}

/* Best priority first; at equal priority Allow first, so the first rule
 * that matches is the one RFC 9309 section 2.2.2 picks. */
static int rule_cmp(const void *a, const void *b)
{
	const struct robots_rule *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->allow != y->allow)
		return x->allow ? -1 : 1;
	return x->off < y->off ? -1 : (x->off > y->off);
}

static int robots_alloc(struct robots **out)
{
	struct robots *r = calloc(1, sizeof(*r));

	if (!r)
		return CRAWL_ENOMEM;
	r->delay = -1;
	*out = r;
	return 0;
}

/* The bounded part of the text: a leading UTF-8 BOM skipped, at most
 * ROBOTS_MAX_BYTES, and a line cut by the limit dropped (it may be half a
 * rule: "Disallow: /private" cut to "Disallow: /p"). */
static size_t text_bound(const char **txt, size_t len)
{
	const char *t;

	if (len >= 3 && memcmp(*txt, "\xEF\xBB\xBF", 3) == 0) {
		*txt += 3;
		len -= 3;
	}
	t = *txt;
	if (len <= ROBOTS_MAX_BYTES)
		return len;
	if (t[ROBOTS_MAX_BYTES] == '\n' || t[ROBOTS_MAX_BYTES] == '\r')
		return ROBOTS_MAX_BYTES;
	len = ROBOTS_MAX_BYTES;
	while (len > 0 && t[len - 1] != '\n' && t[len - 1] != '\r')
		len--;
	return len;
}

int robots_parse(const char *txt, size_t len, const char *user_agent, struct robots **out)
{
	struct parse_state st = { .best = -1 };
	struct robots *r = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!out || (!txt && len > 0) || !user_agent)
		return CRAWL_EINVAL;
	while (is_token_char((unsigned char)user_agent[st.token_len]))
		st.token_len++;
	if (st.token_len == 0)
		return CRAWL_EINVAL;
	st.token = user_agent;
	rc = robots_alloc(&r);
	if (rc)
		goto fail;
	st.r = r;
	len = txt ? text_bound(&txt, len) : 0;
	lines_each(txt, len, &st, pass_best); /* pass_best cannot fail */
	rc = lines_each(txt, len, &st, pass_collect);
	if (rc)
		goto fail;
	if (r->nrules > 1)
		qsort(r->rules, r->nrules, sizeof(*r->rules), rule_cmp);
	*out = r;
	return 0;
fail:
	robots_free(r);
	return rc;
}

int robots_new_allow_all(struct robots **out)
{
	if (!out)
		return CRAWL_EINVAL;
	*out = NULL;
	return robots_alloc(out);
}

int robots_new_disallow_all(struct robots **out)
{
	struct robots *r = NULL;
	int rc;

	if (!out)
		return CRAWL_EINVAL;
	*out = NULL;
	rc = robots_alloc(&r);
	if (rc)
		return rc;
	rc = rule_add(r, false, "/", 1);
	if (rc) {
		robots_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static bool is_robots_txt(const char *path)
{
	static const char rt[] = "/robots.txt";

	return strncmp(path, rt, sizeof(rt) - 1) == 0 &&
	       (path[sizeof(rt) - 1] == '\0' || path[sizeof(rt) - 1] == '?');
}

int robots_allowed(const struct robots *r, const char *path_and_query)
{
	const char *path = path_and_query;
	size_t sn, steps = 0;

	if (!r || !path)
		return 0;
	if (*path == '\0')
		path = "/";
	if (is_robots_txt(path))
		return 1;
	sn = strlen(path);
	for (size_t i = 0; i < r->nrules; i++) {
		const struct robots_rule *rule = &r->rules[i];
		if (wild_match(r->pool + rule->off, rule->len, rule->anchored, path, sn, &steps))
			return rule->allow ? 1 : 0;
	}
	return 1;
}

double robots_crawl_delay(const struct robots *r)
{
	return r ? r->delay : -1.0;
}

size_t robots_sitemap_count(const struct robots *r)
{
	return r ? r->nsitemaps : 0;
}

const char *robots_sitemap(const struct robots *r, size_t i)
{
	return (r && i < r->nsitemaps) ? r->sitemaps[i] : NULL;
}

void robots_free(struct robots *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsitemaps; i++)
		free(r->sitemaps[i]);
	free(r->sitemaps);
	free(r->rules);
	free(r->pool);
	free(r);
}

int robots__match(const char *pattern, const char *path, size_t *steps)
{
	size_t n, len, count = 0;
	bool anchored, hit;
	char *p;

	if (!pattern || !path)
		return CRAWL_EINVAL;
	n = strlen(pattern);
	anchored = n > 0 && pattern[n - 1] == '$';
	if (anchored)
		n--;
	p = malloc(3 * n + 1);
	if (!p)
		return CRAWL_ENOMEM;
	len = canon(pattern, n, p);
	hit = wild_match(p, len, anchored, path, strlen(path), &count);
	free(p);
	if (steps)
		*steps = count;
	return hit ? 1 : 0;
}
