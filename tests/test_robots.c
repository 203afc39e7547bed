/* test_robots.c - robots.txt parsing and matching against RFC 9309. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "robots.h"

static struct robots *parse_for(const char *txt, const char *agent)
{
	struct robots *r = NULL;

	assert_int_equal(robots_parse(txt, strlen(txt), agent, &r), 0);
	assert_non_null(r);
	return r;
}

static struct robots *parse(const char *txt)
{
	return parse_for(txt, "crawld");
}

static const char rfc_example[] =
	"User-Agent: *\n"
	"Disallow: *.gif$\n"
	"Disallow: /example/\n"
	"Allow: /publications/\n"
	"\n"
	"User-Agent: foobot\n"
	"Disallow:/\n"
	"Allow:/example/page.html\n"
	"Allow:/example/allowed.gif\n"
	"\n"
	"User-Agent: barbot\n"
	"User-Agent: bazbot\n"
	"Disallow: /example/page.html\n"
	"\n"
	"User-Agent: quxbot\n"
	"\n"
	"EOF\n";

/* RFC 9309 section 5.1, for each of its crawlers. */
static void test_rfc_example(void **state)
{
	struct robots *r;
	(void)state;

	r = parse_for(rfc_example, "foobot");
	assert_int_equal(robots_allowed(r, "/example/page.html"), 1);
	assert_int_equal(robots_allowed(r, "/example/allowed.gif"), 1);
	assert_int_equal(robots_allowed(r, "/example/other.html"), 0);
	assert_int_equal(robots_allowed(r, "/"), 0);
	robots_free(r);

	r = parse_for(rfc_example, "barbot");
	assert_int_equal(robots_allowed(r, "/example/page.html"), 0);
	assert_int_equal(robots_allowed(r, "/example/other.html"), 1);
	assert_int_equal(robots_allowed(r, "/a.gif"), 1);
	robots_free(r);
	r = parse_for(rfc_example, "bazbot");
	assert_int_equal(robots_allowed(r, "/example/page.html"), 0);
	robots_free(r);

	r = parse_for(rfc_example, "quxbot"); /* its group has no rules */
	assert_int_equal(robots_allowed(r, "/example/page.html"), 1);
	assert_int_equal(robots_allowed(r, "/a.gif"), 1);
	robots_free(r);

	r = parse_for(rfc_example, "crawld"); /* falls back to "*" */
	assert_int_equal(robots_allowed(r, "/a.gif"), 0);
	assert_int_equal(robots_allowed(r, "/x/b.gif"), 0);
	assert_int_equal(robots_allowed(r, "/a.gif?x=1"), 1);
	assert_int_equal(robots_allowed(r, "/example/x"), 0);
	assert_int_equal(robots_allowed(r, "/publications/x"), 1);
	assert_int_equal(robots_allowed(r, "/"), 1);
	robots_free(r);
}

/* RFC 9309 section 5.2: the longest match decides. */
static void test_longest_match(void **state)
{
	struct robots *r = parse("User-Agent: crawld\n"
				 "Allow: /example/page/\n"
				 "Disallow: /example/page/disallowed.gif\n"
				 "Disallow: /a\n"
				 "Allow: /a/b\n"
				 "Disallow: /a/b/c\n");
	(void)state;

	assert_int_equal(robots_allowed(r, "/example/page/"), 1);
	assert_int_equal(robots_allowed(r, "/example/page/x.gif"), 1);
	assert_int_equal(robots_allowed(r, "/example/page/disallowed.gif"), 0);
	assert_int_equal(robots_allowed(r, "/example/"), 1);
	assert_int_equal(robots_allowed(r, "/a"), 0);
	assert_int_equal(robots_allowed(r, "/a/b"), 1);
	assert_int_equal(robots_allowed(r, "/a/bx"), 1);
	assert_int_equal(robots_allowed(r, "/a/b/c"), 0);
	assert_int_equal(robots_allowed(r, "/a/b/cd"), 0);
	assert_int_equal(robots_allowed(r, "/ab"), 0);
	robots_free(r);
}

static void test_allow_wins_tie(void **state)
{
	struct robots *r;
	(void)state;

	r = parse("User-agent: crawld\nDisallow: /page\nAllow: /page\n");
	assert_int_equal(robots_allowed(r, "/page"), 1);
	assert_int_equal(robots_allowed(r, "/page2"), 1);
	robots_free(r);
	r = parse("User-agent: crawld\nAllow: /page\nDisallow: /page\n");
	assert_int_equal(robots_allowed(r, "/page"), 1);
	robots_free(r);
	/* "/a$" and "/a*" both have 3 characters */
	r = parse("User-agent: crawld\nDisallow: /a*\nAllow: /a$\n");
	assert_int_equal(robots_allowed(r, "/a"), 1);
	assert_int_equal(robots_allowed(r, "/ab"), 0);
	robots_free(r);
}

static void test_group_selection(void **state)
{
	struct robots *r;
	(void)state;

	/* the specific group wins over "*", whatever the order */
	r = parse("User-agent: crawld\nDisallow: /private\n\n"
		  "User-agent: *\nDisallow: /\n");
	assert_int_equal(robots_allowed(r, "/public"), 1);
	assert_int_equal(robots_allowed(r, "/private/x"), 0);
	robots_free(r);
	/* case-insensitive on both sides; a version after the token is ignored */
	r = parse_for("User-agent: *\nDisallow: /\n\nUSER-AGENT: CrAwLd/2.1\nDisallow: /x\n",
		      "Crawld/1.0 (+http://example.com/bot)");
	assert_int_equal(robots_allowed(r, "/y"), 1);
	assert_int_equal(robots_allowed(r, "/x"), 0);
	robots_free(r);
	/* a longer or shorter token is someone else: "*" applies */
	r = parse("User-agent: crawldx\nDisallow: /a\n\nUser-agent: crawl\nDisallow: /b\n\n"
		  "User-agent: *\nDisallow: /c\n");
	assert_int_equal(robots_allowed(r, "/a"), 1);
	assert_int_equal(robots_allowed(r, "/b"), 1);
	assert_int_equal(robots_allowed(r, "/c"), 0);
	robots_free(r);
	/* no group for us and no "*": nothing applies; rules before any
	 * user-agent line belong to no group */
	r = parse("Disallow: /\n\nUser-agent: other\nDisallow: /\n");
	assert_int_equal(robots_allowed(r, "/"), 1);
	assert_int_equal(robots_allowed(r, "/x"), 1);
	robots_free(r);
	/* our token among several user-agent lines of one group */
	r = parse("User-agent: a\nUser-agent: crawld\nUser-agent: b\nDisallow: /g\n"
		  "User-agent: c\nDisallow: /h\n");
	assert_int_equal(robots_allowed(r, "/g"), 0);
	assert_int_equal(robots_allowed(r, "/h"), 1);
	robots_free(r);
}

static void test_merged_groups(void **state)
{
	struct robots *r = parse("user-agent: crawld\ndisallow: /foo\ndisallow: /bar\n\n"
				 "user-agent: other\ndisallow: /x\n\n"
				 "user-agent: CRAWLD\ndisallow: /baz\ncrawl-delay: 2\n");
	(void)state;

	assert_int_equal(robots_allowed(r, "/foo"), 0);
	assert_int_equal(robots_allowed(r, "/bar"), 0);
	assert_int_equal(robots_allowed(r, "/baz"), 0);
	assert_int_equal(robots_allowed(r, "/x"), 1);
	assert_true(robots_crawl_delay(r) == 2.0);
	robots_free(r);
	/* "*" groups merge too */
	r = parse("user-agent: *\ndisallow: /a\n\nuser-agent: *\ndisallow: /b\n");
	assert_int_equal(robots_allowed(r, "/a"), 0);
	assert_int_equal(robots_allowed(r, "/b"), 0);
	assert_int_equal(robots_allowed(r, "/c"), 1);
	robots_free(r);
}

/* Google's documented examples of '*' and '$'. */
static void test_wildcards(void **state)
{
	struct robots *r;
	(void)state;

	r = parse("User-agent: crawld\nDisallow: /*.php\n");
	assert_int_equal(robots_allowed(r, "/index.php"), 0);
	assert_int_equal(robots_allowed(r, "/folder/filename.php?parameters"), 0);
	assert_int_equal(robots_allowed(r, "/folder/any.php.file.html"), 0);
	assert_int_equal(robots_allowed(r, "/filename.php/"), 0);
	assert_int_equal(robots_allowed(r, "/"), 1);
	assert_int_equal(robots_allowed(r, "/windows.PHP"), 1);
	robots_free(r);

	r = parse("User-agent: crawld\nDisallow: /*.php$\n");
	assert_int_equal(robots_allowed(r, "/filename.php"), 0);
	assert_int_equal(robots_allowed(r, "/folder/filename.php"), 0);
	assert_int_equal(robots_allowed(r, "/filename.php?parameters"), 1);
	assert_int_equal(robots_allowed(r, "/filename.php/"), 1);
	assert_int_equal(robots_allowed(r, "/filename.php5"), 1);
	robots_free(r);

	r = parse("User-agent: crawld\nDisallow: /fish*\nDisallow: /$\nAllow: /*/ok/*x$\n");
	assert_int_equal(robots_allowed(r, "/fish"), 0);
	assert_int_equal(robots_allowed(r, "/fishheads/yummy.html"), 0);
	assert_int_equal(robots_allowed(r, "/Fish.asp"), 1);
	assert_int_equal(robots_allowed(r, "/catfish"), 1);
	assert_int_equal(robots_allowed(r, "/"), 0);
	assert_int_equal(robots_allowed(r, "/?q"), 1);
	assert_int_equal(robots_allowed(r, "/fish/ok/ax"), 1);
	assert_int_equal(robots_allowed(r, "/fish/ok/axe"), 0);
	robots_free(r);

	/* the matcher on its own */
	assert_int_equal(robots__match("/a*b*c", "/aXXbYYc", NULL), 1);
	assert_int_equal(robots__match("/a*b*c$", "/aXXbYYcZ", NULL), 0);
	assert_int_equal(robots__match("/a*b*c$", "/abcbc", NULL), 1);
	assert_int_equal(robots__match("*", "/anything", NULL), 1);
	assert_int_equal(robots__match("/**$", "/", NULL), 1);
	assert_int_equal(robots__match("/$", "/a", NULL), 0);
	assert_int_equal(robots__match("/a", "/", NULL), 0);
	assert_int_equal(robots__match(NULL, "/", NULL), CRAWL_EINVAL);
	assert_int_equal(robots__match("/", NULL, NULL), CRAWL_EINVAL);
}

/* RFC 9309 section 2.2.2's table, and unreserved characters. */
static void test_percent_encoding(void **state)
{
	struct robots *r = parse("User-agent: crawld\n"
				 "Disallow: /foo/bar/\xE3\x83\x84\n"   /* raw UTF-8 */
				 "Disallow: /enc/%e3%83%84\n"          /* lower-case hex */
				 "Disallow: /foo/bar/%62%61%7A\n"      /* "baz" */
				 "Disallow: /~user\n"
				 "Disallow: /a%2Fb\n"
				 "Disallow: /q?baz=quz\n");
	(void)state;

	assert_int_equal(robots_allowed(r, "/foo/bar/%E3%83%84"), 0);
	assert_int_equal(robots_allowed(r, "/foo/bar/%e3%83%84"), 0);
	assert_int_equal(robots_allowed(r, "/foo/bar/%E3%83"), 1);
	assert_int_equal(robots_allowed(r, "/enc/%E3%83%84"), 0);
	assert_int_equal(robots_allowed(r, "/foo/bar/baz"), 0);
	assert_int_equal(robots_allowed(r, "/foo/bar/%62az"), 0);
	assert_int_equal(robots_allowed(r, "/%7Euser/x"), 0);
	assert_int_equal(robots_allowed(r, "/%7euser"), 0);
	assert_int_equal(robots_allowed(r, "/a%2fb"), 0);
	assert_int_equal(robots_allowed(r, "/a/b"), 1); /* %2F is not '/' */
	assert_int_equal(robots_allowed(r, "/q?baz=quz"), 0);
	assert_int_equal(robots_allowed(r, "/q?baz=qux"), 1);
	robots_free(r);
}

static void test_crawl_delay(void **state)
{
	struct robots *r;
	(void)state;

	r = parse("User-agent: crawld\nCrawl-delay: 0.5\nCrawl-delay: 9\n");
	assert_true(robots_crawl_delay(r) == 0.5);
	robots_free(r);
	r = parse("User-agent: crawld\nDisallow: /x\n");
	assert_true(robots_crawl_delay(r) < 0);
	robots_free(r);
	/* invalid values are skipped; another group's delay is not ours */
	r = parse("User-agent: other\nCrawl-delay: 7\n\nUser-agent: crawld\n"
		  "Crawl-delay: soon\nCrawl-delay: -3\nCrawl-delay: 1e3\n"
		  "Crawl-delay: 12345678901\nCrawl-delay: 3 # seconds\n");
	assert_true(robots_crawl_delay(r) == 3.0);
	robots_free(r);
	r = parse("User-agent: *\ncrawl-delay: 10.25\n");
	assert_true(robots_crawl_delay(r) == 10.25);
	robots_free(r);
	assert_true(robots_crawl_delay(NULL) < 0);
}

static void test_empty_disallow(void **state)
{
	struct robots *r;
	(void)state;

	r = parse("User-agent: *\nDisallow:\n");
	assert_int_equal(robots_allowed(r, "/"), 1);
	assert_int_equal(robots_allowed(r, "/anything"), 1);
	robots_free(r);
	r = parse("User-agent: *\nDisallow:   \nDisallow: /x\nAllow:\n");
	assert_int_equal(robots_allowed(r, "/x"), 0);
	assert_int_equal(robots_allowed(r, "/y"), 1);
	robots_free(r);
}

static void test_syntax(void **state)
{
	static const char txt[] = "\xEF\xBB\xBFUser-agent: crawld # us\r\n"
				  "Disallow: /a # comment\r\r"
				  "  disallow  :\t/b\t\n"
				  "Disallow: /c#/d\r\n"
				  "# Disallow: /e\n"
				  "Disallow /f\n"
				  "Noindex: /g\n"
				  "Dissallow: /h\r"
				  "Disallow: /i";
	struct robots *r = parse(txt);
	(void)state;

	assert_int_equal(robots_allowed(r, "/a"), 0);
	assert_int_equal(robots_allowed(r, "/b"), 0);
	assert_int_equal(robots_allowed(r, "/c"), 0);
	assert_int_equal(robots_allowed(r, "/d"), 1);
	assert_int_equal(robots_allowed(r, "/e"), 1);
	assert_int_equal(robots_allowed(r, "/f"), 1); /* no colon: ignored */
	assert_int_equal(robots_allowed(r, "/g"), 1); /* unknown key */
	assert_int_equal(robots_allowed(r, "/h"), 0); /* typo accepted */
	assert_int_equal(robots_allowed(r, "/i"), 0); /* last line, no end */
	assert_int_equal(robots_allowed(r, "/z"), 1);
	robots_free(r);
	/* an unknown line does not end the user-agent lines of a group */
	r = parse("User-agent: crawld\nFoo: bar\nUser-agent: x\nDisallow: /a\n");
	assert_int_equal(robots_allowed(r, "/a"), 0);
	robots_free(r);
	/* the empty file and "" as a path */
	r = parse("");
	assert_int_equal(robots_allowed(r, ""), 1);
	robots_free(r);
	r = parse("User-agent: *\nDisallow: /$\n");
	assert_int_equal(robots_allowed(r, ""), 0);
	robots_free(r);
}

static void test_robots_txt_always_allowed(void **state)
{
	struct robots *r = parse("User-agent: *\nDisallow: /\nDisallow: /robots.txt$\n");
	(void)state;

	assert_int_equal(robots_allowed(r, "/robots.txt"), 1);
	assert_int_equal(robots_allowed(r, "/robots.txt?x"), 1);
	assert_int_equal(robots_allowed(r, "/robots.txt2"), 0);
	assert_int_equal(robots_allowed(r, "/"), 0);
	robots_free(r);
}

static void test_sitemaps(void **state)
{
	struct robots *r = parse("Sitemap: http://example.com/a.xml\n"
				 "User-agent: crawld\n"
				 "sitemap:   https://example.com/b.xml  \n"
				 "Disallow: /x\n"
				 "Site-map:\n");
	(void)state;

	assert_int_equal(robots_sitemap_count(r), 2);
	assert_string_equal(robots_sitemap(r, 0), "http://example.com/a.xml");
	assert_string_equal(robots_sitemap(r, 1), "https://example.com/b.xml");
	assert_null(robots_sitemap(r, 2));
	assert_int_equal(robots_allowed(r, "/x"), 0); /* the group went on */
	robots_free(r);
	assert_int_equal(robots_sitemap_count(NULL), 0);
	assert_null(robots_sitemap(NULL, 0));
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Binary junk (with NULs, CRs, colons) parses and allows by default. */
static void test_garbage(void **state)
{
	size_t n = 200000;
	unsigned char *buf = malloc(n);
	uint64_t seed = 0x9e3779b97f4a7c15u;
	struct robots *r = NULL;
	(void)state;

	assert_non_null(buf);
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)rng_next(&seed);
		if (round == 1) /* few line ends: long lines */
			for (size_t i = 0; i < n; i++)
				buf[i] = buf[i] == '\n' || buf[i] == '\r' ? 'x' : buf[i];
		assert_int_equal(robots_parse((char *)buf, n, "crawld", &r), 0);
		assert_int_equal(robots_allowed(r, "/"), 1);
		assert_int_equal(robots_allowed(r, "/some/page?x=1"), 1);
		robots_free(r);
	}
	free(buf);
	/* NUL bytes inside a valid file do not cut it short */
	static const char withnul[] = "User-agent: crawld\n\0\0junk\nDisallow: /a\0b\nDisallow: /c\n";
	assert_int_equal(robots_parse(withnul, sizeof(withnul) - 1, "crawld", &r), 0);
	assert_int_equal(robots_allowed(r, "/a"), 1);
	assert_int_equal(robots_allowed(r, "/c"), 0);
	robots_free(r);
}

/* Only the first ROBOTS_MAX_BYTES count, and a line cut there is dropped. */
static void test_size_bound(void **state)
{
	static const char head[] = "User-agent: crawld\nDisallow: /early\n";
	size_t n = ROBOTS_MAX_BYTES + 4096;
	char *buf = malloc(n);
	struct robots *r = NULL;
	size_t cut;
	(void)state;

	assert_non_null(buf);
	memset(buf, '\n', n);
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + ROBOTS_MAX_BYTES + 100, "Disallow: /late\n", 16);
	cut = ROBOTS_MAX_BYTES - 5; /* "Disallow: /cutoff" spans the limit */
	memcpy(buf + cut, "Disallow: /cutoff\n", 18);
	assert_int_equal(robots_parse(buf, n, "crawld", &r), 0);
	assert_int_equal(robots_allowed(r, "/early"), 0);
	assert_int_equal(robots_allowed(r, "/late"), 1);
	assert_int_equal(robots_allowed(r, "/cutoff"), 1);
	assert_int_equal(robots_allowed(r, "/"), 1); /* not "Disallow: " */
	robots_free(r);
	/* a rule ending exactly at the limit is kept */
	memset(buf, '\n', n);
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + ROBOTS_MAX_BYTES - 12, "Disallow: /z", 12);
	assert_int_equal(robots_parse(buf, n, "crawld", &r), 0);
	assert_int_equal(robots_allowed(r, "/z"), 0);
	robots_free(r);
	free(buf);
}

/* Many '*' against a long path: the work stays within pattern x path. */
static void test_pathological_pattern(void **state)
{
	size_t plen = 1 + 2 * 100 + 1, slen = 1 + 20000, steps = 0;
	char *pat = malloc(plen + 1), *path = malloc(slen + 1), *txt;
	struct robots *r = NULL;
	(void)state;

	assert_non_null(pat);
	assert_non_null(path);
	pat[0] = '/';
	for (size_t i = 0; i < 100; i++)
		memcpy(pat + 1 + 2 * i, "*a", 2);
	pat[plen - 1] = 'b';
	pat[plen] = '\0';
	path[0] = '/';
	memset(path + 1, 'a', slen - 1);
	path[slen] = '\0';
	assert_int_equal(robots__match(pat, path, &steps), 0);
	assert_true(steps <= (plen + 1) * (slen + 1));
	/* a '*' pattern on an ordinary path costs about the path's length */
	assert_int_equal(robots__match("/*.php$", path, &steps), 0);
	assert_true(steps <= 3 * slen);
	/* and through the public API, with the rule many times over */
	txt = malloc(64 * (plen + 12) + 32);
	assert_non_null(txt);
	strcpy(txt, "User-agent: *\n");
	for (int i = 0; i < 64; i++) {
		strcat(txt, "Disallow: ");
		strcat(txt, pat);
		strcat(txt, "\n");
	}
	r = parse(txt);
	assert_int_equal(robots_allowed(r, "/aaaaaaaaaaaaab"), 1); /* only 13 a's */
	path[slen - 1] = 'b';
	assert_int_equal(robots_allowed(r, path), 0);
	robots_free(r);
	free(txt);
	free(pat);
	free(path);
}

static void test_allow_all_disallow_all(void **state)
{
	struct robots *r = NULL;
	(void)state;

	assert_int_equal(robots_new_allow_all(&r), 0);
	assert_int_equal(robots_allowed(r, "/"), 1);
	assert_int_equal(robots_allowed(r, "/x?y"), 1);
	assert_true(robots_crawl_delay(r) < 0);
	assert_int_equal(robots_sitemap_count(r), 0);
	robots_free(r);

	assert_int_equal(robots_new_disallow_all(&r), 0);
	assert_int_equal(robots_allowed(r, "/"), 0);
	assert_int_equal(robots_allowed(r, "/x?y"), 0);
	assert_int_equal(robots_allowed(r, ""), 0);
	assert_int_equal(robots_allowed(r, "/robots.txt"), 1);
	assert_true(robots_crawl_delay(r) < 0);
	robots_free(r);

	assert_int_equal(robots_new_allow_all(NULL), CRAWL_EINVAL);
	assert_int_equal(robots_new_disallow_all(NULL), CRAWL_EINVAL);
	robots_free(NULL);
}

static void test_bad_arguments(void **state)
{
	struct robots *r = (struct robots *)&r;
	(void)state;

	assert_int_equal(robots_parse(NULL, 5, "crawld", &r), CRAWL_EINVAL);
	assert_null(r);
	assert_int_equal(robots_parse("x", 1, NULL, &r), CRAWL_EINVAL);
	assert_int_equal(robots_parse("x", 1, "", &r), CRAWL_EINVAL);
	assert_int_equal(robots_parse("x", 1, "/1.0", &r), CRAWL_EINVAL);
	assert_int_equal(robots_parse("x", 1, "crawld", NULL), CRAWL_EINVAL);
	assert_null(r);
	assert_int_equal(robots_parse(NULL, 0, "crawld", &r), 0);
	assert_int_equal(robots_allowed(r, "/"), 1);
	assert_int_equal(robots_allowed(r, NULL), 0);
	assert_int_equal(robots_allowed(NULL, "/"), 0);
	robots_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_longest_match),
		cmocka_unit_test(test_allow_wins_tie),
		cmocka_unit_test(test_group_selection),
		cmocka_unit_test(test_merged_groups),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_crawl_delay),
		cmocka_unit_test(test_empty_disallow),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_robots_txt_always_allowed),
		cmocka_unit_test(test_sitemaps),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_pathological_pattern),
		cmocka_unit_test(test_allow_all_disallow_all),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
