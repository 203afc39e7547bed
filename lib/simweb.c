/* simweb.c - a deterministic simulated web: spec parsing, URL parsing,
 * per-page draws from a counter-based generator, and page rendering.
 * Nothing here allocates after simweb_new. */
#include "simweb.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct simweb {
	struct simweb_config cfg;
	size_t list_max; /* bytes the link list of a page can take at most */
};

static size_t list_bound(const struct simweb_config *c);

/* ---- counter-based random numbers ------------------------------------ */

#define GOLDEN 0x9e3779b97f4a7c15ull

/* splitmix64's output function: a bijection that scrambles every bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The n-th value of the splitmix64 stream that starts at key: any value is
 * reachable without computing the ones before it. */
static uint64_t draw(uint64_t key, uint64_t n)
{
	return mix64(key + (n + 1) * GOLDEN);
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double unit(uint64_t x)
{
	return (double)(x >> 11) * 0x1.0p-53;
}

/* Independent streams of draws, so that e.g. adding links never changes
 * latencies. */
enum stream { S_PERM = 1, S_TRANS, S_LATENCY, S_SIZE, S_LINK, S_FILLER };

static uint64_t key_of(uint64_t seed, enum stream s, uint64_t host, uint64_t id, uint64_t attempt)
{
	uint64_t k = mix64(seed + (uint64_t)s * GOLDEN);

	k = mix64(k ^ host);
	k = mix64(k ^ id);
	return mix64(k ^ attempt);
}

/* FNV-1a, to give paths that are not pages an identity for the draws. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/* ---- spec parsing ------------------------------------------------------ */

enum key_type { K_U64, K_U32, K_PROB, K_LATENCY };

struct spec_key {
	const char *name;
	enum key_type type;
	size_t off;
	uint64_t min, max; /* integers only */
};

#define CFG_OFF(f) offsetof(struct simweb_config, f)
static const struct spec_key spec_keys[] = {
    {"seed", K_U64, CFG_OFF(seed), 0, UINT64_MAX},
    {"pages", K_U32, CFG_OFF(pages), 1, SIMWEB_PAGES_MAX},
    {"hosts", K_U32, CFG_OFF(hosts), 1, SIMWEB_HOSTS_MAX},
    {"links", K_U32, CFG_OFF(links), 0, SIMWEB_LINKS_MAX},
    {"latency", K_LATENCY, 0, 0, 0},
    {"e404", K_PROB, CFG_OFF(e404), 0, 0},
    {"e500", K_PROB, CFG_OFF(e500), 0, 0},
    {"e503", K_PROB, CFG_OFF(e503), 0, 0},
    {"timeout", K_PROB, CFG_OFF(timeout), 0, 0},
    {"size", K_U32, CFG_OFF(size), 0, SIMWEB_SIZE_MAX},
    {"offsite", K_PROB, CFG_OFF(offsite), 0, 0},
    {"broken", K_PROB, CFG_OFF(broken), 0, 0},
    {"robots", K_U32, CFG_OFF(robots), 0, 1},
};
#define SPEC_NKEYS (sizeof spec_keys / sizeof spec_keys[0])
#define SPEC_KEY_LIST                                                                              \
	"seed, pages, hosts, links, latency, e404, e500, e503, timeout, size, offsite, "           \
	"broken, robots"
#define VAL_SHOWN 64 /* at most this much of a bad value is quoted back */
#define LAT_TEXT_MAX 128

static const struct simweb_config spec_defaults = {
    .seed = 1,
    .pages = 1000,
    .hosts = 1,
    .links = 10,
    .size = 4096,
    .robots = 0,
    .latency = SIMWEB_LATENCY_FIXED,
    .offsite = 0.02,
    .broken = 0.01,
};

__attribute__((format(printf, 3, 4))) static int spec_fail(char *err, size_t errlen,
                                                           const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return CRAWL_EINVAL;
}

/* Digits only: no sign, no space, no empty string, no overflow. */
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return false;
	*v = x;
	return true;
}

/* A plain decimal number: strtod alone would also take "inf", "nan", hex
 * and leading spaces. */
static bool parse_double(const char *s, double *v)
{
	char *end;
	double x;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	if (s[strspn(s, "0123456789.eE+-")] != '\0')
		return false;
	errno = 0;
	x = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(x))
		return false;
	*v = x;
	return true;
}

static int spec_int(struct simweb_config *c, const struct spec_key *k, const char *val, char *err,
                    size_t errlen)
{
	uint64_t v;

	if (!parse_u64(val, &v) || v < k->min || v > k->max)
		return spec_fail(
		    err, errlen, "%s: expected an integer from %llu to %llu, got \"%.*s\"", k->name,
		    (unsigned long long)k->min, (unsigned long long)k->max, VAL_SHOWN, val);
	if (k->type == K_U64)
		*(uint64_t *)(void *)((char *)c + k->off) = v;
	else
		*(uint32_t *)(void *)((char *)c + k->off) = (uint32_t)v;
	return 0;
}

static int spec_prob(struct simweb_config *c, const struct spec_key *k, const char *val, char *err,
                     size_t errlen)
{
	double v;

	if (!parse_double(val, &v) || v < 0 || v > 1)
		return spec_fail(err, errlen,
		                 "%s: expected a probability from 0 to 1, got \"%.*s\"", k->name,
		                 VAL_SHOWN, val);
	*(double *)(void *)((char *)c + k->off) = v;
	return 0;
}

/* Splits s at ':' in place into at most max parts; returns the count, or
 * max + 1 when there are more. */
static int split_colons(char *s, char **part, int max)
{
	int n = 0;

	for (;;) {
		char *colon = strchr(s, ':');

		if (n == max)
			return max + 1;
		part[n++] = s;
		if (!colon)
			return n;
		*colon = '\0';
		s = colon + 1;
	}
}

static bool latency_fill(struct simweb_config *c, char **part, int n)
{
	double a = 0, b = 0;

	if (n >= 2 && !parse_double(part[1], &a))
		return false;
	if (n == 3 && !parse_double(part[2], &b))
		return false;
	if (n == 2 && strcmp(part[0], "fixed") == 0) {
		c->latency = SIMWEB_LATENCY_FIXED;
		b = a;
	} else if (n == 3 && strcmp(part[0], "uniform") == 0) {
		c->latency = SIMWEB_LATENCY_UNIFORM;
		if (a > b || b > SIMWEB_LATENCY_MAX_MS)
			return false;
	} else if (n == 3 && strcmp(part[0], "lognormal") == 0) {
		c->latency = SIMWEB_LATENCY_LOGNORMAL;
		if (a <= 0 || b > 10)
			return false;
	} else {
		return false;
	}
	if (a > SIMWEB_LATENCY_MAX_MS)
		return false;
	c->lat_a = a;
	c->lat_b = b;
	return true;
}

static int spec_latency(struct simweb_config *c, const char *val, char *err, size_t errlen)
{
	char text[LAT_TEXT_MAX];
	char *part[3];
	size_t n = strlen(val);

	if (n < sizeof text) {
		memcpy(text, val, n + 1);
		if (latency_fill(c, part, split_colons(text, part, 3)))
			return 0;
	}
	return spec_fail(err, errlen,
	                 "latency: expected fixed:MS, uniform:MIN:MAX (MIN <= MAX) or "
	                 "lognormal:MEDIAN_MS:SIGMA (MEDIAN_MS > 0, SIGMA 0..10), times in "
	                 "milliseconds up to %.0f, got \"%.*s\"",
	                 SIMWEB_LATENCY_MAX_MS, VAL_SHOWN, val);
}

static const struct spec_key *spec_find(const char *name)
{
	for (size_t i = 0; i < SPEC_NKEYS; i++)
		if (strcmp(spec_keys[i].name, name) == 0)
			return &spec_keys[i];
	return NULL;
}

static int spec_item(struct simweb_config *c, char *item, unsigned *seen, char *err, size_t errlen)
{
	const struct spec_key *k;
	char *eq = strchr(item, '=');

	if (*item == '\0')
		return spec_fail(err, errlen,
		                 "empty item in the spec: expected key=value between commas");
	if (!eq)
		return spec_fail(err, errlen, "\"%.*s\": expected key=value", VAL_SHOWN, item);
	*eq = '\0';
	k = spec_find(item);
	if (!k)
		return spec_fail(err, errlen,
		                 "unknown key \"%.*s\": expected one of " SPEC_KEY_LIST, VAL_SHOWN,
		                 item);
	if (*seen & (1u << (k - spec_keys)))
		return spec_fail(err, errlen, "%s: given twice, expected once", k->name);
	*seen |= 1u << (k - spec_keys);
	switch (k->type) {
	case K_U64:
	case K_U32:
		return spec_int(c, k, eq + 1, err, errlen);
	case K_PROB:
		return spec_prob(c, k, eq + 1, err, errlen);
	case K_LATENCY:
		return spec_latency(c, eq + 1, err, errlen);
	}
	return CRAWL_EINVAL;
}

/* Rules between keys, checked once every key is known. A little slack lets
 * sums like 0.1 + 0.2 + 0.7 pass despite rounding. */
static int spec_check(const struct simweb_config *c, char *err, size_t errlen)
{
	double errors = c->e404 + c->e500 + c->e503 + c->timeout;

	if (errors > 1 + 1e-9)
		return spec_fail(err, errlen,
		                 "e404+e500+e503+timeout: expected a sum of at most 1, got %g",
		                 errors);
	if (c->offsite + c->broken > 1 + 1e-9)
		return spec_fail(err, errlen, "offsite+broken: expected a sum of at most 1, got %g",
		                 c->offsite + c->broken);
	return 0;
}

static int spec_parse(struct simweb_config *c, const char *spec, char *err, size_t errlen)
{
	char buf[SIMWEB_SPEC_MAX + 1];
	char *item = buf;
	unsigned seen = 0;
	size_t n = strnlen(spec, SIMWEB_SPEC_MAX + 1);
	int rc;

	if (n > SIMWEB_SPEC_MAX)
		return spec_fail(err, errlen, "spec: expected at most %d bytes", SIMWEB_SPEC_MAX);
	if (n == 0)
		return 0;
	memcpy(buf, spec, n + 1);
	for (;;) {
		char *comma = strchr(item, ',');

		if (comma)
			*comma = '\0';
		rc = spec_item(c, item, &seen, err, errlen);
		if (rc < 0)
			return rc;
		if (!comma)
			break;
		item = comma + 1;
	}
	return spec_check(c, err, errlen);
}

int simweb_new(struct simweb **out, const char *spec, char *err, size_t errlen)
{
	struct simweb *w = NULL;
	struct simweb_config cfg = spec_defaults;
	int rc;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!out)
		return spec_fail(err, errlen, "simweb_new: out is NULL");
	*out = NULL;
	rc = spec_parse(&cfg, spec ? spec : "", err, errlen);
	if (rc < 0)
		goto fail;
	w = malloc(sizeof *w);
	if (!w) {
		spec_fail(err, errlen, "out of memory");
		rc = CRAWL_ENOMEM;
		goto fail;
	}
	w->cfg = cfg;
	w->list_max = list_bound(&cfg);
	*out = w;
	return 0;
fail:
	free(w);
	return rc;
}

void simweb_free(struct simweb *w)
{
	free(w);
}

const struct simweb_config *simweb_config(const struct simweb *w)
{
	return &w->cfg;
}

/* ---- URLs -------------------------------------------------------------- */

enum res_kind { RES_PAGE, RES_ROBOTS, RES_MISSING };

/* What a URL names. */
struct res {
	enum res_kind kind;
	uint32_t host;
	uint64_t id;    /* the page number, or a hash of the path for non-pages */
	bool base_root; /* the URL's directory is "/" rather than "/p/" */
};

#define NOT_A_PAGE (1ull << 63) /* set in the id of paths that are not /p/N */
#define PAGE_DIGITS_MAX 9       /* pages < 10^8, broken links < 2 * 10^8 */
#define HOST_DIGITS_MAX 7       /* hosts <= 10^6 */

/* Canonical decimal: 1..max digits, no leading zero unless "0". */
static bool parse_canon(const char *s, size_t n, size_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > max || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* "hK.sim" with K < hosts, any case. */
static int host_parse(const struct simweb *w, const char *s, size_t n, uint32_t *host)
{
	uint64_t k;

	if (n < 6 || (s[0] != 'h' && s[0] != 'H') || strncasecmp(s + n - 4, ".sim", 4) != 0)
		return CRAWL_EDNS;
	if (!parse_canon(s + 1, n - 5, HOST_DIGITS_MAX, &k) || k >= w->cfg.hosts)
		return CRAWL_EDNS;
	*host = (uint32_t)k;
	return 0;
}

static void path_classify(const struct simweb *w, const char *p, size_t n, struct res *r)
{
	uint64_t page;

	r->base_root = false;
	if (n == 0 || (n == 1 && p[0] == '/')) {
		r->kind = RES_PAGE;
		r->id = 0;
		r->base_root = true;
	} else if (n == 11 && memcmp(p, "/robots.txt", 11) == 0) {
		r->kind = RES_ROBOTS;
		r->id = hash_bytes(p, n) | NOT_A_PAGE;
	} else if (n > 3 && memcmp(p, "/p/", 3) == 0 &&
	           parse_canon(p + 3, n - 3, PAGE_DIGITS_MAX, &page)) {
		r->kind = page < w->cfg.pages ? RES_PAGE : RES_MISSING;
		r->id = page;
	} else {
		r->kind = RES_MISSING;
		r->id = hash_bytes(p, n) | NOT_A_PAGE;
	}
}

static int url_parse(const struct simweb *w, const char *url, struct res *r)
{
	size_t n = strnlen(url, SIMWEB_URL_MAX + 1);
	const char *auth = url + 6, *path;
	size_t alen;
	int rc;

	if (n > SIMWEB_URL_MAX || n < 6 || strncasecmp(url, "sim://", 6) != 0)
		return CRAWL_EURL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return CRAWL_EURL;
	alen = strcspn(auth, "/?#");
	if (alen == 0 || memchr(auth, '@', alen) || memchr(auth, ':', alen))
		return CRAWL_EURL;
	rc = host_parse(w, auth, alen, &r->host);
	if (rc < 0)
		return rc;
	path = auth + alen;
	path_classify(w, path, strcspn(path, "#"), r);
	return 0;
}

/* ---- per-page draws ---------------------------------------------------- */

/* 404 or 500 for pages that never succeed, else 200. */
static int page_permanent(const struct simweb *w, uint32_t host, uint64_t page)
{
	const struct simweb_config *c = &w->cfg;
	double u = unit(key_of(c->seed, S_PERM, host, page, 0));

	if (u < c->e404)
		return 404;
	if (u < c->e404 + c->e500)
		return 500;
	return 200;
}

/* The transient draw covers the share of pages left by the permanent one,
 * scaled so that e503 and timeout are overall rates per attempt. */
static int page_status(const struct simweb *w, uint32_t host, uint64_t page, unsigned attempt)
{
	const struct simweb_config *c = &w->cfg;
	int perm = page_permanent(w, host, page);
	double rest = 1 - c->e404 - c->e500, u;

	if (perm != 200)
		return perm;
	u = unit(key_of(c->seed, S_TRANS, host, page, attempt)) * rest;
	if (u < c->e503)
		return 503;
	if (u < c->e503 + c->timeout)
		return 0;
	return 200;
}

static double latency_draw(const struct simweb_config *c, uint64_t key)
{
	double u1, u2, v;

	switch (c->latency) {
	case SIMWEB_LATENCY_UNIFORM:
		return c->lat_a + (c->lat_b - c->lat_a) * unit(draw(key, 0));
	case SIMWEB_LATENCY_LOGNORMAL:
		/* Box-Muller; u1 in (0, 1] keeps log finite. */
		u1 = 1.0 - unit(draw(key, 0));
		u2 = unit(draw(key, 1));
		v = c->lat_a * exp(c->lat_b * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
		return v < SIMWEB_LATENCY_MAX_MS ? v : SIMWEB_LATENCY_MAX_MS;
	case SIMWEB_LATENCY_FIXED:
		break;
	}
	return c->lat_a;
}

/* The page's target body size, uniform in [size - size/4, size + size/4]. */
static size_t page_target(const struct simweb_config *c, uint32_t host, uint64_t page)
{
	uint64_t d = key_of(c->seed, S_SIZE, host, page, 0);
	size_t lo = c->size - c->size / 4, hi = c->size + c->size / 4;

	return lo + (size_t)(d % (hi - lo + 1));
}

/* ---- output ------------------------------------------------------------ */

/* Writes what fits and counts everything, so one routine both renders and
 * measures a body. */
struct out {
	char *buf;
	size_t cap, len;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static size_t digits(uint64_t v)
{
	size_t n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

static void out_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	if (o->len >= o->cap) { /* only measuring */
		o->len += digits(v);
		return;
	}
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_put(o, tmp + i, sizeof tmp - i);
}

/* ---- links ------------------------------------------------------------- */

enum form { FORM_ABS, FORM_PATH, FORM_REL, FORM_NET };

struct link {
	enum simweb_link_kind kind;
	enum form form;
	uint32_t index, host, from_host;
	uint64_t page, from_page;
};

#define HREF_MAX 96          /* longest href or URL that a link can have */
#define LINK_DRAWS 4         /* draws used per link, from the page's link stream */
#define CROSS_HOST_ONE_IN 10 /* share of ordinary links that go to another host */

static enum form cross_form(uint64_t d)
{
	return d % 2 ? FORM_NET : FORM_ABS;
}

static void link_make(const struct simweb_config *c, const struct res *from, uint64_t key,
                      uint32_t i, struct link *l)
{
	uint64_t n = (uint64_t)i * LINK_DRAWS;
	uint64_t d1 = draw(key, n + 1), d2 = draw(key, n + 2), d3 = draw(key, n + 3);
	double u = unit(draw(key, n));

	*l = (struct link){.kind = SIMWEB_LINK_PAGE,
	                   .form = (enum form)(d2 % 3),
	                   .index = i,
	                   .host = from->host,
	                   .from_host = from->host,
	                   .from_page = from->id};
	if (i == 0) {
		l->page = (from->id + 1) % c->pages;
	} else if (i == 1 && from->id == 0 && c->hosts > 1) {
		l->host = (from->host + 1) % c->hosts;
		l->form = cross_form(d2);
	} else if (u < c->offsite) {
		l->kind = SIMWEB_LINK_OFFSITE;
		l->host = 0;
	} else if (u < c->offsite + c->broken) {
		l->kind = SIMWEB_LINK_BROKEN;
		l->page = c->pages + d1 % c->pages;
	} else if (c->hosts > 1 && d3 % CROSS_HOST_ONE_IN == 0) {
		l->host = (uint32_t)((from->host + 1 + (d3 / CROSS_HOST_ONE_IN) % (c->hosts - 1)) %
		                     c->hosts);
		l->page = d1 % c->pages;
		l->form = cross_form(d2);
	} else {
		l->page = d1 % c->pages;
	}
}

/* "/" or "/p/M". */
static void put_path(struct out *o, uint64_t page)
{
	if (page == 0) {
		out_put(o, "/", 1);
		return;
	}
	out_put(o, "/p/", 3);
	out_u64(o, page);
}

static void put_authority(struct out *o, uint32_t host)
{
	out_put(o, "h", 1);
	out_u64(o, host);
	out_put(o, ".sim", 4);
}

static void put_offsite(struct out *o, const struct link *l)
{
	out_str(o, "http://offsite.invalid/h");
	out_u64(o, l->from_host);
	out_put(o, "/p", 2);
	out_u64(o, l->from_page);
	out_put(o, "/", 1);
	out_u64(o, l->index);
}

/* The href text as written on a page whose directory is "/" (base_root)
 * or "/p/". */
static void link_href(struct out *o, const struct link *l, bool base_root)
{
	if (l->kind == SIMWEB_LINK_OFFSITE) {
		put_offsite(o, l);
	} else if (l->form == FORM_ABS || l->form == FORM_NET) {
		out_str(o, l->form == FORM_ABS ? "sim://" : "//");
		put_authority(o, l->host);
		put_path(o, l->page);
	} else if (l->form == FORM_PATH) {
		put_path(o, l->page);
	} else if (l->page == 0) {
		out_str(o, base_root ? "./" : "../");
	} else {
		if (base_root)
			out_put(o, "p/", 2);
		out_u64(o, l->page);
	}
}

/* The absolute URL of the link's target, NUL-terminated in buf[HREF_MAX]. */
static void link_url(const struct link *l, char *buf)
{
	struct out o = {buf, HREF_MAX - 1, 0};

	if (l->kind == SIMWEB_LINK_OFFSITE) {
		put_offsite(&o, l);
	} else {
		out_put(&o, "sim://", 6);
		put_authority(&o, l->host);
		put_path(&o, l->page);
	}
	buf[o.len] = '\0';
}

/* ---- page bodies ------------------------------------------------------- */

/* Filler text: letters, spaces and full stops only, so nothing needs
 * escaping wherever a paragraph starts or ends inside it. */
static const char lorem[] =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute "
    "irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla "
    "pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
    "deserunt mollit anim id est laborum. Curabitur pretium tincidunt lacus, nulla gravida "
    "orci a odio. Nullam varius, turpis et commodo pharetra, est eros bibendum elit, nec "
    "luctus magna felis sollicitudin mauris. Integer in mauris eu nibh euismod gravida. "
    "Duis ac tellus et risus vulputate vehicula. Donec lobortis risus a elit. Etiam tempor. "
    "Ut ullamcorper, ligula eu tempor congue, eros est euismod turpis, id tincidunt sapien "
    "risus a quam. Maecenas fermentum consequat mi. Donec fermentum. Pellentesque malesuada "
    "nulla a mi. Duis sapien sem, aliquet nec, commodo eget, consequat quis, neque. ";
#define LOREM_LEN (sizeof lorem - 1)
#define PARA_TAGS 8  /* "<p>" + "</p>\n" */
#define PARA_MIN 200 /* paragraph sizes, tags included */
#define PARA_SPAN 400
static const char padding[PARA_TAGS + 1] = "\n\n\n\n\n\n\n\n";

/* One paragraph of exactly total bytes, its text taken from lorem at a
 * drawn offset, wrapping around. */
static void para_write(struct out *o, uint64_t d, size_t total)
{
	size_t left = total - PARA_TAGS, off = (size_t)(d % LOREM_LEN);

	out_put(o, "<p>", 3);
	while (left > 0) {
		size_t n = LOREM_LEN - off < left ? LOREM_LEN - off : left;

		out_put(o, lorem + off, n);
		left -= n;
		off = 0;
	}
	out_put(o, "</p>\n", 5);
}

/* Exactly n bytes of paragraphs (or newlines when n is too small for one). */
static void filler_write(struct out *o, uint64_t key, size_t n)
{
	uint64_t i = 0;

	if (o->len >= o->cap) { /* only measuring: the length is all that counts */
		o->len += n;
		return;
	}
	while (n > PARA_TAGS) {
		uint64_t d = draw(key, i++);
		size_t para = PARA_MIN + (size_t)(d % PARA_SPAN);

		if (para > n || n - para <= PARA_TAGS)
			para = n;
		para_write(o, d >> 16, para);
		n -= para;
	}
	out_put(o, padding, n);
}

static const char page_foot[] = "</body></html>\n";

static void page_links(const struct simweb_config *c, const struct res *r, struct out *o)
{
	uint64_t key = key_of(c->seed, S_LINK, r->host, r->id, 0);
	struct link l;

	out_str(o, "<ul>\n");
	for (uint32_t i = 0; i < c->links; i++) {
		link_make(c, r, key, i, &l);
		out_str(o, "<li><a href=\"");
		link_href(o, &l, r->base_root);
		out_str(o, "\">link ");
		out_u64(o, i);
		out_str(o, "</a></li>\n");
	}
	out_str(o, "</ul>\n");
}

static void page_head(const struct res *r, struct out *o)
{
	out_str(o, "<!DOCTYPE html>\n<html><head><title>Page ");
	out_u64(o, r->id);
	out_str(o, "</title></head><body>\n<h1>Page ");
	out_u64(o, r->id);
	out_str(o, " of h");
	out_u64(o, r->host);
	out_str(o, ".sim</h1>\n");
}

/* The whole page: head, link list, then filler paragraphs that bring it
 * to the target size; links come first so one pass knows the filler's
 * length. */
static void page_write(const struct simweb_config *c, const struct res *r, struct out *o)
{
	size_t target = page_target(c, r->host, r->id), used;

	page_head(r, o);
	page_links(c, r, o);
	used = o->len + strlen(page_foot);
	filler_write(o, key_of(c->seed, S_FILLER, r->host, r->id, 0),
	             target > used ? target - used : 0);
	out_str(o, page_foot);
}

/* An upper bound of the link list's length: the <ul> tags and, per link,
 * the markup around the longest href (an off-site one) with every number
 * at its widest. */
static size_t list_bound(const struct simweb_config *c)
{
	size_t host = digits(c->hosts - 1), page = digits(2 * (uint64_t)c->pages - 1);
	size_t index = digits(c->links ? c->links - 1 : 0);
	size_t href = strlen("http://offsite.invalid/h/p/") + host + page + index;
	size_t item = strlen("<li><a href=\"\">link </a></li>\n") + href + index;

	return strlen("<ul>\n</ul>\n") + c->links * item;
}

/* The body length without rendering: the target size whenever the head
 * and the widest possible link list fit in it, else measured. */
static size_t page_len(const struct simweb *w, const struct res *r)
{
	struct out m = {NULL, 0, 0};
	size_t target = page_target(&w->cfg, r->host, r->id);

	page_head(r, &m);
	if (m.len + w->list_max + strlen(page_foot) <= target)
		return target;
	m.len = 0;
	page_write(&w->cfg, r, &m);
	return m.len;
}

static const char *robots_text(const struct simweb_config *c)
{
	return c->robots ? "User-agent: *\nDisallow: /p/private\n" : "User-agent: *\nDisallow:\n";
}

#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_TEXT "text/plain; charset=utf-8"

/* ---- public queries ---------------------------------------------------- */

int simweb_get(const struct simweb *w, const char *url, unsigned attempt, struct simweb_page *p)
{
	struct simweb_page pg = {.status = 404, .content_type = TYPE_HTML};
	struct res r;
	int rc;

	if (!w || !url || !p)
		return CRAWL_EINVAL;
	rc = url_parse(w, url, &r);
	if (rc < 0)
		return rc;
	pg.latency_ms =
	    latency_draw(&w->cfg, key_of(w->cfg.seed, S_LATENCY, r.host, r.id, attempt));
	if (r.kind == RES_ROBOTS) {
		pg.status = 200;
		pg.content_type = TYPE_TEXT;
		pg.body_len = strlen(robots_text(&w->cfg));
	} else if (r.kind == RES_PAGE) {
		pg.status = page_status(w, r.host, r.id, attempt);
		if (pg.status == 0) {
			pg.timeout = 1;
			pg.content_type = "";
		} else if (pg.status == 200) {
			pg.body_len = page_len(w, &r);
		}
	}
	*p = pg;
	return 0;
}

size_t simweb_render(const struct simweb *w, const char *url, char *buf, size_t cap)
{
	struct out o = {buf, buf ? cap : 0, 0};
	struct res r;

	if (!w || !url || url_parse(w, url, &r) < 0)
		return 0;
	if (r.kind == RES_ROBOTS)
		out_str(&o, robots_text(&w->cfg));
	else if (r.kind == RES_PAGE && page_permanent(w, r.host, r.id) == 200)
		page_write(&w->cfg, &r, &o);
	return o.len;
}

int simweb_links(const struct simweb *w, const char *url, simweb_link_cb cb, void *arg)
{
	char href[HREF_MAX], abs[HREF_MAX];
	struct simweb_link pub;
	struct link l;
	struct res r;
	uint64_t key;
	int rc;

	if (!w || !url || !cb)
		return CRAWL_EINVAL;
	rc = url_parse(w, url, &r);
	if (rc < 0)
		return rc;
	if (r.kind != RES_PAGE || page_permanent(w, r.host, r.id) != 200)
		return CRAWL_ENOTFOUND;
	key = key_of(w->cfg.seed, S_LINK, r.host, r.id, 0);
	for (uint32_t i = 0; i < w->cfg.links; i++) {
		link_make(&w->cfg, &r, key, i, &l);
		struct out oh = {href, sizeof href - 1, 0};

		link_href(&oh, &l, r.base_root);
		href[oh.len] = '\0';
		link_url(&l, abs);
		pub = (struct simweb_link){l.kind, i, l.host, l.page, href, abs};
		rc = cb(arg, &pub);
		if (rc != 0)
			return rc;
	}
	return 0;
}
