/* test_links.c - streaming link extraction: resolution, base, robots meta,
 * nofollow, broken HTML, chunking, stopping, size bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>

#include "error.h"
#include "links.h"

#define PAGE "http://example.com/dir/page.html"

struct got {
	char **urls;
	size_t n, cap;
	size_t stop_at;  /* return stop_rc on this link (1-based); 0 never */
	int stop_rc;
};

static int collect(void *arg, const char *url)
{
	struct got *g = arg;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->urls = realloc(g->urls, g->cap * sizeof(*g->urls));
		if (!g->urls)
			return CRAWL_ENOMEM;
	}
	g->urls[g->n] = strdup(url);
	if (!g->urls[g->n])
		return CRAWL_ENOMEM;
	g->n++;
	return g->n == g->stop_at ? g->stop_rc : 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->urls[i]);
	free(g->urls);
	memset(g, 0, sizeof(*g));
}

/* Extracts from html fed in chunks of step bytes (0: all at once). */
static struct links *extract(const char *page, const char *html, size_t len, size_t step,
			     struct got *g)
{
	struct links *l = NULL;

	assert_int_equal(links_new(&l, page, collect, g), 0);
	if (step == 0)
		step = len ? len : 1;
	for (size_t i = 0; i < len; i += step)
		assert_int_equal(links_feed(l, html + i, len - i < step ? len - i : step), 0);
	assert_int_equal(links_finish(l), 0);
	assert_int_equal(links_count(l), g->n);
	return l;
}

static void expect_urls(const struct got *g, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n && i < g->n; i++)
		assert_string_equal(g->urls[i], want[i]);
	assert_int_equal(g->n, n);
}

#define EXPECT(g, ...)                                                           \
	do {                                                                     \
		static const char *const want_[] = { __VA_ARGS__ };              \
		expect_urls((g), want_, sizeof(want_) / sizeof(want_[0]));       \
	} while (0)

/* Runs html through the extractor all at once, and checks the links. */
static void check_page(const char *html, const char *const *want, size_t n)
{
	struct got g = { 0 };
	struct links *l = extract(PAGE, html, strlen(html), 0, &g);

	expect_urls(&g, want, n);
	links_free(l);
	got_free(&g);
}

#define CHECK_PAGE(html, ...)                                                    \
	do {                                                                     \
		static const char *const want_[] = { __VA_ARGS__ };              \
		check_page((html), want_, sizeof(want_) / sizeof(want_[0]));     \
	} while (0)

static void test_simple_page(void **state)
{
	(void)state;
	CHECK_PAGE("<!DOCTYPE html><html><head><title>t</title></head><body>"
		   "<p>Hello <a href=\"http://example.com/a\">A</a> and "
		   "<a href=\"https://other.org/b?x=1\">B</a>.</p>"
		   "<a name=\"anchor-without-href\">x</a>"
		   "<map><area shape=rect href=\"http://example.com/map\"></map>"
		   "<link rel=stylesheet href=\"/style.css\"><img src=\"/i.png\">"
		   "</body></html>",
		   "http://example.com/a", "https://other.org/b?x=1", "http://example.com/map");
}

static void test_relative_links(void **state)
{
	(void)state;
	CHECK_PAGE("<a href=\"b.html\">"
		   "<a href=\"../c\">"
		   "<a href=\"/d\">"
		   "<a href=\"//cdn.example.net/e\">"
		   "<a href=\"?q=1\">"
		   "<a href=\"./f/../g\">"
		   "<A HREF=\"HTTP://EXAMPLE.com:8080/%7euser\">"
		   "<a href=\" \n h.html\t \">"
		   "<a href=\"i?a=1&amp;b=2\">"
		   "<a href=\"sp ace.html\">"
		   "<a href=\"/caf\xc3\xa9\">"
		   "<a href=\"https://Other.ORG\">"
		   "<a href=\"list?a[]=1\">",
		   "http://example.com/dir/b.html",
		   "http://example.com/c",
		   "http://example.com/d",
		   "http://cdn.example.net/e",
		   "http://example.com/dir/page.html?q=1",
		   "http://example.com/dir/g",
		   "http://example.com:8080/~user",
		   "http://example.com/dir/h.html",
		   "http://example.com/dir/i?a=1&b=2",
		   "http://example.com/dir/sp%20ace.html",
		   "http://example.com/caf%C3%A9",
		   "https://other.org/",
		   "http://example.com/dir/list?a%5B%5D=1");
}

static void test_base_href(void **state)
{
	(void)state;
	/* only the first <base href> counts; links before it use the page */
	CHECK_PAGE("<html><head><link href=\"/x.css\"><a href=\"pre\">"
		   "<base target=\"_blank\">"
		   "<base href=\"http://base.example/sub/\">"
		   "<base href=\"http://second.example/\"></head>"
		   "<body><a href=\"x\"><a href=\"/y\"><a href=\"#f\"></body></html>",
		   "http://example.com/dir/pre", "http://base.example/sub/x",
		   "http://base.example/y", "http://base.example/sub/");
	/* a relative base resolves against the page */
	CHECK_PAGE("<base href=\"../other/\"><a href=\"z\">", "http://example.com/other/z");
	/* a base that does not resolve leaves the page as the base, and
	 * still is the first one */
	CHECK_PAGE("<base href=\"javascript:x()\"><base href=\"http://no.example/\">"
		   "<a href=\"z\">",
		   "http://example.com/dir/z");
}

static void test_fragments_and_duplicates(void **state)
{
	(void)state;
	CHECK_PAGE("<a href=\"#top\"><a href=\"y.html#sec\"><a href=\"y.html#other\">"
		   "<a href=\"y.html\"><a href=\"\"><a href=\"http://EXAMPLE.com/dir/y.html\">"
		   "<a href=\"http://example.com/dir/./y.html#z\">",
		   "http://example.com/dir/page.html", "http://example.com/dir/y.html");
}

static void test_skipped_schemes(void **state)
{
	(void)state;
	CHECK_PAGE("<a href=\"javascript:void(0)\"><a href=\"JavaScript:alert(1)\">"
		   "<a href=\" javascript:x\"><a href=\"mailto:a@example.com\">"
		   "<a href=\"data:text/html,<a>\"><a href=\"tel:+15551234\">"
		   "<a href=\"ftp://example.com/f\">"
		   "<a href=\"http://[bad\"><a href>"
		   "<a href=\"ok\">",
		   "http://example.com/dir/ok");
	/* "http:x" on an http page is relative, as browsers read it */
	CHECK_PAGE("<a href=\"http:nohost\">", "http://example.com/dir/nohost");
}

static void test_meta_nofollow(void **state)
{
	struct got g = { 0 };
	struct links *l;
	static const char html[] = "<html><head><a href=\"before\">"
				   "<meta name=\"ROBOTS\" content=\"NoIndex, NOFOLLOW\">"
				   "</head><body><a href=\"after\"></body></html>";
	(void)state;

	l = extract(PAGE, html, strlen(html), 0, &g);
	EXPECT(&g, "http://example.com/dir/before");
	assert_int_equal(links_nofollow(l), 1);
	assert_int_equal(links_noindex(l), 1);
	links_free(l);
	got_free(&g);

	/* noindex alone keeps the links; "none" means both; other names
	 * and other tokens are not ours */
	static const char noindex[] = "<meta name=robots content=\"noindex,follow\">"
				      "<meta name=googlebot content=nofollow>"
				      "<meta name=robots content=\"nofollowing\">"
				      "<a href=a>";
	l = extract(PAGE, noindex, strlen(noindex), 0, &g);
	EXPECT(&g, "http://example.com/dir/a");
	assert_int_equal(links_nofollow(l), 0);
	assert_int_equal(links_noindex(l), 1);
	links_free(l);
	got_free(&g);

	static const char none[] = "<meta content=\"NONE\" name=\"Robots\"><a href=a>";
	l = extract(PAGE, none, strlen(none), 1, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(links_nofollow(l), 1);
	assert_int_equal(links_noindex(l), 1);
	links_free(l);
	got_free(&g);

	/* nofollow without noindex: parsing goes on for a later noindex */
	static const char late[] = "<meta name=robots content=nofollow><a href=a>"
				   "<meta name=robots content=noindex>";
	l = extract(PAGE, late, strlen(late), 0, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(links_nofollow(l), 1);
	assert_int_equal(links_noindex(l), 1);
	links_free(l);
	got_free(&g);
	assert_int_equal(links_nofollow(NULL), 0);
	assert_int_equal(links_noindex(NULL), 0);
}

static void test_rel_nofollow(void **state)
{
	(void)state;
	CHECK_PAGE("<a rel=\"external nofollow\" href=\"x\">"
		   "<a rel=\"nofollower\" href=\"y\">"
		   "<a href=\"z\" REL=\"NOFOLLOW\">"
		   "<a rel=\"ugc\" href=\"w\">"
		   "<area rel=nofollow href=\"v\">",
		   "http://example.com/dir/y", "http://example.com/dir/w");
}

static const char broken[] =
	"<html><head><title>broken</title><body>"
	"<p><div><a href=one>unquoted<a href='two'><p>"
	"<table><tr><td><a href = \"three\" >spaced</table>"
	"< stray less-than <<a href=\"four\">"
	"text \0 with \0\0 NULs <a href=\"fi\0ve\"><a href=\"six\">"
	"bad bytes \xff\xfe\xc3\x28 \x80 <a href=\"seven\">"
	"<script>document.write('<a href=\"in-script\">');</script>"
	"<!-- <a href=\"in-comment\"> -->"
	"<a href=\"eight\"><b><i></b></i><a href=\"nine\"\n"
	"<a href=\"ten\" <a href=\"eleven\">"
	"<a href=\"twelve"; /* the unfinished last tag is parsed at the end */

static const char *const broken_want[] = {
	"http://example.com/dir/one",   "http://example.com/dir/two",
	"http://example.com/dir/three", "http://example.com/dir/four",
	"http://example.com/dir/fi",    "http://example.com/dir/six",
	"http://example.com/dir/seven", "http://example.com/dir/eight",
	"http://example.com/dir/nine",   "http://example.com/dir/twelve",
};

static void test_broken_html(void **state)
{
	struct got g = { 0 };
	struct links *l;
	(void)state;

	l = extract(PAGE, broken, sizeof(broken) - 1, 0, &g);
	expect_urls(&g, broken_want, sizeof(broken_want) / sizeof(broken_want[0]));
	links_free(l);
	got_free(&g);

	/* a declared charset that the bytes contradict changes nothing */
	CHECK_PAGE("<meta charset=\"shift_jis\"><a href=\"/one\"> \x81\xff\xff\xfc\x80 "
		   "<a href=\"/two\"><meta http-equiv=content-type "
		   "content=\"text/html; charset=x-no-such\"><a href=\"/\xe4\xbd\xa0\">",
		   "http://example.com/one", "http://example.com/two",
		   "http://example.com/%E4%BD%A0");
	/* an ISO-8859-1 page: its bytes are kept as they are */
	CHECK_PAGE("<p>caf\xe9</p><a href=\"/caf\xe9\"><a href=\"/&#xe9;t\xe9\">",
		   "http://example.com/caf%E9", "http://example.com/%E9t%E9");
	/* numeric references in an href are UTF-8 encoded */
	CHECK_PAGE("<a href=\"/&#x4F60;&eacute;\">", "http://example.com/%E4%BD%A0%C3%A9");
}

static void test_byte_order_marks(void **state)
{
	static const char utf16le[] = "\xff\xfe<\0a\0 \0h\0r\0e\0f\0=\0\"\0/\0\x60\x4f\"\0>\0";
	static const char utf16be[] = "\xfe\xff\0<\0a\0 \0h\0r\0e\0f\0=\0x\0>";
	static const char utf8[] = "\xef\xbb\xbf<a href=/u8>";
	struct got g = { 0 };
	struct links *l;
	(void)state;

	for (size_t step = 0; step <= 1; step++) {
		l = extract(PAGE, utf16le, sizeof(utf16le) - 1, step, &g);
		EXPECT(&g, "http://example.com/%E4%BD%A0");
		links_free(l);
		got_free(&g);
		l = extract(PAGE, utf16be, sizeof(utf16be) - 1, step, &g);
		EXPECT(&g, "http://example.com/dir/x");
		links_free(l);
		got_free(&g);
		l = extract(PAGE, utf8, sizeof(utf8) - 1, step, &g);
		EXPECT(&g, "http://example.com/u8");
		links_free(l);
		got_free(&g);
	}
	/* pages shorter than a byte order mark */
	l = extract(PAGE, "<a", 2, 0, &g);
	assert_int_equal(g.n, 0);
	links_free(l);
	l = extract(PAGE, "", 0, 0, &g);
	assert_int_equal(g.n, 0);
	links_free(l);
}

static const char chunky[] =
	"<!DOCTYPE html><html><head><base href=\"http://b.example/p/q\">"
	"<meta name=robots content=noindex></head><body>"
	"<a href=\"r1\">x</a><!-- <a href=c> --><a\nhref\n=\n'r2'\n>"
	"<a href=\"r3?a=1&amp;b=&#50;\"><script>var s='<a href=no>';</script>"
	"<a href=\"/r4#f\" rel=\"nofollow\"><a href=\"//h.example/r5\">"
	"<a href=\"r1\"><a href=\"r6\" title=\"a > b\">";

/* Feeding one byte at a time (or in odd chunks) gives what one feed gives. */
static void test_chunking(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	const char *pages[] = { chunky, broken };
	const size_t lens[] = { sizeof(chunky) - 1, sizeof(broken) - 1 };
	struct got whole = { 0 }, part = { 0 };
	struct links *l;
	(void)state;

	for (size_t p = 0; p < 2; p++) {
		l = extract(PAGE, pages[p], lens[p], 0, &whole);
		links_free(l);
		assert_true(whole.n >= 5);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			l = extract(PAGE, pages[p], lens[p], steps[s], &part);
			expect_urls(&part, (const char *const *)whole.urls, whole.n);
			links_free(l);
			got_free(&part);
		}
		if (p == 0)
			EXPECT(&whole, "http://b.example/p/r1", "http://b.example/p/r2",
			       "http://b.example/p/r3?a=1&b=2", "http://h.example/r5",
			       "http://b.example/p/r6");
		got_free(&whole);
	}
}

static void test_callback_stop(void **state)
{
	struct got g = { .stop_at = 3, .stop_rc = 42 };
	struct links *l = NULL;
	static const char html[] = "<a href=1><a href=2><a href=3><a href=4><a href=5>";
	(void)state;

	assert_int_equal(links_new(&l, PAGE, collect, &g), 0);
	assert_int_equal(links_feed(l, html, sizeof(html) - 1), 42);
	assert_int_equal(g.n, 3);
	assert_int_equal(links_count(l), 3);
	assert_int_equal(links_feed(l, html, sizeof(html) - 1), 42);
	assert_int_equal(links_finish(l), 42);
	assert_int_equal(links_finish(l), 42);
	assert_int_equal(g.n, 3);
	links_free(l);
	got_free(&g);

	/* a stop during finish (the last tag completes only there) */
	g.stop_at = 2;
	g.stop_rc = CRAWL_ECANCELLED;
	assert_int_equal(links_new(&l, PAGE, collect, &g), 0);
	assert_int_equal(links_feed(l, "<a href=1><a href=2", 19), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(links_finish(l), CRAWL_ECANCELLED);
	assert_int_equal(g.n, 2);
	links_free(l);
	got_free(&g);
}

/* 10,000 distinct links, each twice: all come out once, in order. */
static void test_many_links(void **state)
{
	size_t n = 10000, cap = 2 * n * 40 + 64, off = 0;
	char *html = malloc(cap), want[64];
	struct got g = { 0 };
	struct links *l;
	(void)state;

	assert_non_null(html);
	off += (size_t)snprintf(html + off, cap - off, "<html><body>\n");
	for (size_t i = 0; i < 2 * n; i++)
		off += (size_t)snprintf(html + off, cap - off, "<li><a href=\"/p/%zu\">%zu</a>\n",
					i % n, i);
	l = extract(PAGE, html, off, 4096, &g);
	assert_int_equal(g.n, n);
	assert_int_equal(links_count(l), n);
	for (size_t i = 0; i < n; i += 997) {
		snprintf(want, sizeof(want), "http://example.com/p/%zu", i);
		assert_string_equal(g.urls[i], want);
	}
	assert_string_equal(g.urls[n - 1], "http://example.com/p/9999");
	links_free(l);
	got_free(&g);
	free(html);
}

/* Bytes after LINKS_MAX_INPUT are not parsed. */
static void test_input_bound(void **state)
{
	size_t chunk = 1 << 16, total = LINKS_MAX_INPUT + 2 * chunk;
	char *buf = malloc(chunk);
	struct got g = { 0 };
	struct links *l = NULL;
	static const char late[] = "<a href=late>";
	(void)state;

	assert_non_null(buf);
	assert_int_equal(links_new(&l, PAGE, collect, &g), 0);
	assert_int_equal(links_feed(l, "<a href=early>", 14), 0);
	memset(buf, ' ', chunk);
	for (size_t fed = 14; fed < total; fed += chunk)
		assert_int_equal(links_feed(l, buf, chunk), 0);
	assert_int_equal(links_truncated(l), 1);
	assert_int_equal(links_feed(l, late, sizeof(late) - 1), 0);
	assert_int_equal(links_finish(l), 0);
	EXPECT(&g, "http://example.com/dir/early");
	links_free(l);
	got_free(&g);
	free(buf);

	/* a link that ends right at the limit still counts */
	buf = malloc(LINKS_MAX_INPUT);
	assert_non_null(buf);
	memset(buf, ' ', LINKS_MAX_INPUT);
	memcpy(buf + LINKS_MAX_INPUT - 13, "<a href=last>", 13);
	l = extract(PAGE, buf, LINKS_MAX_INPUT, 1 << 20, &g);
	assert_int_equal(links_truncated(l), 0);
	EXPECT(&g, "http://example.com/dir/last");
	links_free(l);
	got_free(&g);
	free(buf);
}

static void test_bad_arguments(void **state)
{
	struct links *l = (struct links *)&l;
	struct got g = { 0 };
	(void)state;

	assert_int_equal(links_new(NULL, PAGE, collect, &g), CRAWL_EINVAL);
	assert_int_equal(links_new(&l, NULL, collect, &g), CRAWL_EINVAL);
	assert_null(l);
	assert_int_equal(links_new(&l, PAGE, NULL, &g), CRAWL_EINVAL);
	assert_int_equal(links_new(&l, "not a url", collect, &g), CRAWL_EURL);
	assert_int_equal(links_new(&l, "/relative/only", collect, &g), CRAWL_EURL);
	assert_int_equal(links_new(&l, "ftp://example.com/", collect, &g), CRAWL_ESCHEME);
	assert_int_equal(links_new(&l, "mailto:x@example.com", collect, &g), CRAWL_ESCHEME);
	assert_null(l);

	assert_int_equal(links_feed(NULL, "x", 1), CRAWL_EINVAL);
	assert_int_equal(links_finish(NULL), CRAWL_EINVAL);
	assert_int_equal(links_count(NULL), 0);
	assert_int_equal(links_truncated(NULL), 0);
	links_free(NULL);

	/* the page URL is normalised and its fragment dropped */
	assert_int_equal(links_new(&l, "HTTP://Example.COM/a/../b#frag", collect, &g), 0);
	assert_int_equal(links_feed(l, NULL, 0), 0);
	assert_int_equal(links_feed(l, NULL, 1), CRAWL_EINVAL);
	assert_int_equal(links_feed(l, "<a href=''>", 11), 0);
	assert_int_equal(links_finish(l), 0);
	assert_int_equal(links_feed(l, "<a href=x>", 10), CRAWL_EINVAL);
	assert_int_equal(links_finish(l), 0);
	EXPECT(&g, "http://example.com/b");
	links_free(l);
	got_free(&g);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random bytes and random tag soup, in random chunks: no crash, no leak,
 * and whatever comes out is an absolute http(s) URL without a fragment. */
static void test_junk(void **state)
{
	static const char *const soup[] = {
		"<a href=", "<A HREF='", "\"", "'", ">", "<", "/", "<base href=", "<meta ",
		"name=robots content=", "nofollow", "<!--", "-->", "<script>", "&amp;", "&#x",
		";", " ", "\n", "\xff", "\xc3", "http://", "//", "?", "#", "%", "javascript:",
		"<area href=", "rel=", "[", "<![CDATA[", "<?", "../", "x", "<p>", "</a>",
	};
	uint64_t seed = 0x2545f4914f6cdd1du;
	char buf[4096];
	struct got g = { 0 };
	struct links *l;
	size_t total = 0;
	(void)state;

	for (int round = 0; round < 200; round++) {
		size_t n = 0, want = rng_next(&seed) % sizeof(buf);
		while (n < want) {
			const char *t = soup[rng_next(&seed) % (sizeof(soup) / sizeof(soup[0]))];
			size_t k = strlen(t);
			if (round % 2 == 0) { /* raw bytes, NULs included */
				buf[n++] = (char)rng_next(&seed);
				continue;
			}
			if (n + k > sizeof(buf))
				break;
			memcpy(buf + n, t, k);
			n += k;
		}
		l = extract(PAGE, buf, n, 1 + rng_next(&seed) % 300, &g);
		for (size_t i = 0; i < g.n; i++) {
			assert_true(strncmp(g.urls[i], "http://", 7) == 0 ||
				    strncmp(g.urls[i], "https://", 8) == 0);
			assert_null(strchr(g.urls[i], '#'));
			assert_null(strchr(g.urls[i], ' '));
		}
		total += g.n;
		links_free(l);
		got_free(&g);
	}
	assert_true(total > 100); /* the soup does hold links */
}

static int foreign_errors;

static void foreign_handler(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
	foreign_errors++;
}

/* Parse errors print nothing, and the thread's libxml2 handlers are the
 * same afterwards. */
static void test_errors_silent(void **state)
{
	static const char bad16[] = "\xff\xfe<\0a\0 \0h\0r\0e\0f\0=\0x\0>\0\x00\xd8\x41\0 \0<\0a\0 "
				    "\0h\0r\0e\0f\0=\0y\0>\0\x01";
	char path[] = "/tmp/test_links_stderr_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	struct got g = { 0 };
	struct links *l;
	off_t size;
	(void)state;

	assert_true(fd >= 0);
	assert_true(saved >= 0);
	unlink(path);
	xmlSetGenericErrorFunc(NULL, foreign_handler);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	l = extract(PAGE, bad16, sizeof(bad16) - 1, 0, &g);
	links_free(l);
	got_free(&g);
	l = extract(PAGE, broken, sizeof(broken) - 1, 1, &g);
	links_free(l);
	got_free(&g);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	size = lseek(fd, 0, SEEK_END);
	close(fd);
	close(saved);
	assert_int_equal(size, 0);
	assert_int_equal(foreign_errors, 0);
	assert_ptr_equal(xmlGenericError, foreign_handler);
	xmlSetGenericErrorFunc(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_page),
		cmocka_unit_test(test_relative_links),
		cmocka_unit_test(test_base_href),
		cmocka_unit_test(test_fragments_and_duplicates),
		cmocka_unit_test(test_skipped_schemes),
		cmocka_unit_test(test_meta_nofollow),
		cmocka_unit_test(test_rel_nofollow),
		cmocka_unit_test(test_broken_html),
		cmocka_unit_test(test_byte_order_marks),
		cmocka_unit_test(test_chunking),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_many_links),
		cmocka_unit_test(test_input_bound),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_errors_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
