/* links.c - streaming link extraction with libxml2's HTML push parser.
 * See links.h for what is reported and why. */
#include "links.h"

#include "url.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <uriparser/Uri.h>

#include "error.h"

/* Hashes of the URLs already reported; 0 marks an empty slot. */
struct link_set {
	uint64_t *slots;
	size_t cap, len;
};

struct links {
	htmlParserCtxtPtr ctxt;   /* created once the first bytes are known */
	links_cb cb;
	void *cb_arg;
	char *page_url;           /* normalised */
	char *base;               /* from the first <base href>, else NULL */
	char *scratch;            /* an href's bytes, reused */
	size_t scratch_cap;
	unsigned char head[3];    /* held back to look for a byte order mark */
	size_t head_len;
	size_t fed;               /* bytes accepted, at most LINKS_MAX_INPUT */
	size_t count;
	int result;               /* sticky: stop value of the callback, or error */
	bool stopped;             /* the parser was stopped; nothing more to do */
	bool finished;
	bool utf16;               /* the page began with a UTF-16 byte order mark */
	bool base_seen, nofollow, noindex, truncated;
	struct link_set seen;
};

static pthread_once_t links_once = PTHREAD_ONCE_INIT;

/* a[0..n) equals the lower-case word lw[0..n), ignoring ASCII case (ASCII
 * only: does not depend on the locale, unlike <ctype.h>). */
static bool ascii_ieq(const char *a, const char *lw, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)lw[i])
			return false;
	}
	return true;
}

/* ---- the resolver ---------------------------------------------------- */

/* Links are resolved against the page (or its <base>) and normalised by
 * lib/url, which also refuses javascript:, mailto:, data: and the like. */
static int resolve_link(const char *base, const char *ref, char **out)
{
	*out = NULL;
	return url_resolve(base, ref, out);
}

/* ---- the set of reported links -------------------------------------- */

/* FNV-1a, then a 64-bit finaliser (splitmix64) so that the low bits that
 * pick the slot depend on every byte. Never 0 (the empty-slot mark). */
static uint64_t url_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebu;
	h ^= h >> 31;
	return h ? h : 1;
}

static void set_put(uint64_t *slots, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slots[i] && slots[i] != h)
		i = (i + 1) & (cap - 1);
	slots[i] = h;
}

/* Returns 1 if h was added, 0 if it was there, CRAWL_ENOMEM. */
static int set_add(struct link_set *s, uint64_t h)
{
	size_t i;

	if (2 * (s->len + 1) > s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 64;
		uint64_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return CRAWL_ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->slots[i])
				set_put(n, ncap, s->slots[i]);
		free(s->slots);
		s->slots = n;
		s->cap = ncap;
	}
	for (i = (size_t)h & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == h)
			return 0;
	s->slots[i] = h;
	s->len++;
	return 1;
}

/* ---- start tags ------------------------------------------------------ */

/* Ends extraction with a non-zero result; the parser stops at once. */
static void links_stop(struct links *l, int result)
{
	if (!l->result)
		l->result = result;
	l->stopped = true;
	xmlStopParser(l->ctxt);
}

/* The value of attribute name (lower case, as libxml2 gives names), or NULL
 * if absent. An attribute without a value ("<a href>") counts as absent. */
static const char *attr_get(const xmlChar **atts, const char *name)
{
	for (size_t i = 0; atts && atts[i]; i += 2)
		if (strcmp((const char *)atts[i], name) == 0)
			return (const char *)atts[i + 1];
	return NULL;
}

/* Is the lower-case word one of the tokens of list (separated by
 * whitespace or commas), ignoring ASCII case? */
static bool has_token(const char *list, const char *word)
{
	size_t wn = strlen(word);

	while (*list) {
		size_t n;
		list += strspn(list, " \t\n\r\f,");
		n = strcspn(list, " \t\n\r\f,");
		if (n == wn && ascii_ieq(list, word, n))
			return true;
		list += n;
	}
	return false;
}

/* Has the parser given up on UTF-8 and fallen back to ISO-8859-1? libxml2
 * does so for the rest of the page at the first invalid UTF-8 byte. */
static bool parser_in_latin1(const struct links *l)
{
	const xmlParserInput *in = l->ctxt->input;

	return !l->utf16 && in && in->buf && in->buf->encoder;
}

/* Copies an href into l->scratch as the bytes the page holds. After a
 * fallback to ISO-8859-1 each byte 0x80-0xFF reaches us as two UTF-8 bytes
 * and is folded back. Leading and trailing spaces and controls go, and
 * tabs and newlines inside go too (the URL standard does both). */
static int href_bytes(struct links *l, const char *v, const char **out)
{
	size_t n = strlen(v), o = 0;
	bool fold = parser_in_latin1(l);
	unsigned char c;

	if (n + 1 > l->scratch_cap) {
		char *s = realloc(l->scratch, n + 1);
		if (!s)
			return CRAWL_ENOMEM;
		l->scratch = s;
		l->scratch_cap = n + 1;
	}
	while (*v && (unsigned char)*v <= 0x20)
		v++;
	for (; (c = (unsigned char)*v) != 0; v++) {
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (fold && (c == 0xC2 || c == 0xC3) && ((unsigned char)v[1] & 0xC0) == 0x80) {
			c = (unsigned char)(((c & 0x1F) << 6) | ((unsigned char)v[1] & 0x3F));
			v++;
		}
		l->scratch[o++] = (char)c;
	}
	while (o > 0 && (unsigned char)l->scratch[o - 1] <= 0x20)
		o--;
	l->scratch[o] = '\0';
	*out = l->scratch;
	return 0;
}

/* Resolves href and hands it to the callback unless seen on this page. */
static void link_report(struct links *l, const char *href)
{
	const char *ref;
	char *url = NULL;
	int rc;

	rc = href_bytes(l, href, &ref);
	if (!rc)
		rc = resolve_link(l->base ? l->base : l->page_url, ref, &url);
	if (rc) { /* malformed, or not http(s): skipped, unless out of memory */
		if (rc == CRAWL_ENOMEM)
			links_stop(l, rc);
		return;
	}
	rc = set_add(&l->seen, url_hash(url)); /* 1 new, 0 duplicate */
	if (rc == 1) {
		l->count++;
		rc = l->cb(l->cb_arg, url);
	}
	free(url);
	if (rc) /* the callback's stop value, or CRAWL_ENOMEM */
		links_stop(l, rc);
}

static void on_anchor(struct links *l, const xmlChar **atts)
{
	const char *href = attr_get(atts, "href"), *rel = attr_get(atts, "rel");

	if (href && !(rel && has_token(rel, "nofollow")))
		link_report(l, href);
}

/* Only the first <base href> counts (HTML's "frozen base URL"), even if it
 * does not resolve: then the page's own URL stays the base. */
static void on_base(struct links *l, const xmlChar **atts)
{
	const char *href = attr_get(atts, "href"), *ref;
	int rc;

	if (!href || l->base_seen)
		return;
	l->base_seen = true;
	rc = href_bytes(l, href, &ref);
	if (!rc)
		rc = resolve_link(l->page_url, ref, &l->base);
	if (rc == CRAWL_ENOMEM)
		links_stop(l, rc);
}

static void on_meta(struct links *l, const xmlChar **atts)
{
	const char *name = attr_get(atts, "name"), *content = attr_get(atts, "content");

	if (!name || !content || strlen(name) != 6 || !ascii_ieq(name, "robots", 6))
		return;
	if (has_token(content, "nofollow") || has_token(content, "none"))
		l->nofollow = true;
	if (has_token(content, "noindex") || has_token(content, "none"))
		l->noindex = true;
	if (l->nofollow && l->noindex) { /* nothing left to learn */
		l->stopped = true;
		xmlStopParser(l->ctxt);
	}
}

/* The SAX handler's one callback: libxml2 gives lower-case names. */
static void on_start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct links *l = ctx;
	const char *n = (const char *)name;

	if (l->stopped || !atts)
		return;
	if (strcmp(n, "a") == 0 || strcmp(n, "area") == 0) {
		if (!l->nofollow)
			on_anchor(l, atts);
	} else if (strcmp(n, "base") == 0) {
		on_base(l, atts);
	} else if (strcmp(n, "meta") == 0) {
		on_meta(l, atts);
	}
}

/* ---- the parser ------------------------------------------------------ */

static void silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

/* Runs one htmlParseChunk with this thread's libxml2 error handlers
 * silenced: with HTML_PARSE_NOERROR the context reports nothing, but
 * encoding and buffer errors go to the thread's generic handler, which
 * prints to stderr by default. */
static int parse_chunk(struct links *l, const char *buf, size_t len, int terminate)
{
	xmlGenericErrorFunc gfn = xmlGenericError;
	void *gctx = xmlGenericErrorContext;
	xmlStructuredErrorFunc sfn = xmlStructuredError;
	void *sctx = xmlStructuredErrorContext;

	xmlSetGenericErrorFunc(NULL, silent_generic);
	xmlSetStructuredErrorFunc(NULL, silent_structured);
	htmlParseChunk(l->ctxt, buf, (int)len, terminate);
	xmlSetGenericErrorFunc(gctx, gfn);
	xmlSetStructuredErrorFunc(sctx, sfn);
	if (!l->result && l->ctxt->errNo == XML_ERR_NO_MEMORY)
		links_stop(l, CRAWL_ENOMEM);
	return l->result;
}

/* Creates the parser once the first bytes tell the encoding: a UTF-16 byte
 * order mark means UTF-16; anything else is read as UTF-8 (a UTF-8 byte
 * order mark skipped), until libxml2 falls back to ISO-8859-1. */
static int parser_start(struct links *l)
{
	static htmlSAXHandler sax = { .startElement = on_start_element };
	const unsigned char *h = l->head;
	xmlCharEncoding enc = XML_CHAR_ENCODING_NONE;
	size_t skip = 0;

	if (l->head_len >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		enc = XML_CHAR_ENCODING_UTF16LE;
		skip = 2;
	} else if (l->head_len >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		enc = XML_CHAR_ENCODING_UTF16BE;
		skip = 2;
	} else if (l->head_len == 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) {
		skip = 3;
	}
	l->utf16 = enc != XML_CHAR_ENCODING_NONE;
	l->ctxt = htmlCreatePushParserCtxt(&sax, l, NULL, 0, NULL, enc);
	if (!l->ctxt) {
		l->result = CRAWL_ENOMEM;
		l->stopped = true;
		return l->result;
	}
	/* IGNORE_ENC: a <meta charset> must not switch to a decoder that can
	 * fail on the bytes that follow (libxml2 then stops parsing) */
	htmlCtxtUseOptions(l->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					    HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC);
	if (l->head_len > skip)
		return parse_chunk(l, (const char *)h + skip, l->head_len - skip, 0);
	return 0;
}

/* ---- public ---------------------------------------------------------- */

int links_new(struct links **out, const char *page_url, links_cb cb, void *cb_arg)
{
	struct links *l = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !page_url || !cb)
		return CRAWL_EINVAL;
	if (pthread_once(&links_once, xmlInitParser) != 0)
		return CRAWL_ESYS;
	l = calloc(1, sizeof(*l));
	if (!l)
		return CRAWL_ENOMEM;
	rc = resolve_link(page_url, "", &l->page_url);
	if (rc)
		goto fail;
	l->cb = cb;
	l->cb_arg = cb_arg;
	*out = l;
	return 0;
fail:
	links_free(l);
	return rc;
}

int links_feed(struct links *l, const char *buf, size_t len)
{
	size_t take;

	if (!l || (!buf && len > 0) || l->finished)
		return CRAWL_EINVAL;
	if (l->stopped || len == 0)
		return l->result;
	if (len > LINKS_MAX_INPUT - l->fed) {
		len = LINKS_MAX_INPUT - l->fed;
		l->truncated = true;
	}
	l->fed += len;
	if (!l->ctxt) {
		take = sizeof(l->head) - l->head_len;
		take = take < len ? take : len;
		memcpy(l->head + l->head_len, buf, take);
		l->head_len += take;
		buf += take;
		len -= take;
		if (l->head_len < sizeof(l->head) || parser_start(l))
			return l->result;
	}
	return len > 0 ? parse_chunk(l, buf, len, 0) : l->result;
}

int links_finish(struct links *l)
{
	if (!l)
		return CRAWL_EINVAL;
	if (l->finished || l->stopped)
		goto out;
	if (!l->ctxt && parser_start(l))
		goto out;
	if (!l->stopped)
		parse_chunk(l, NULL, 0, 1);
out:
	l->finished = true;
	return l->result;
}

int links_nofollow(const struct links *l)
{
	return l && l->nofollow;
}

int links_noindex(const struct links *l)
{
	return l && l->noindex;
}

int links_truncated(const struct links *l)
{
	return l && l->truncated;
}

size_t links_count(const struct links *l)
{
	return l ? l->count : 0;
}

void links_free(struct links *l)
{
	if (!l)
		return;
	if (l->ctxt) {
		if (l->ctxt->myDoc) /* never built with our SAX handler; be sure */
			xmlFreeDoc(l->ctxt->myDoc);
		htmlFreeParserCtxt(l->ctxt);
	}
	free(l->seen.slots);
	free(l->scratch);
	free(l->base);
	free(l->page_url);
	free(l);
}
