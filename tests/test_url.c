/* test_url.c - normalisation, link resolution, host keys and scope. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "url.h"

struct norm_case {
	const char *in;
	const char *want; /* NULL: expect the error code */
	int err;
};

static void check_normalize(const struct norm_case *c)
{
	char *out = NULL;
	int rc = url_normalize(c->in, &out);

	if (c->want) {
		if (rc != 0)
			fail_msg("url_normalize(\"%s\") = %s", c->in, crawl_errname(rc));
		assert_string_equal(out, c->want);
		free(out);
		/* The normal form is a fixed point. */
		assert_int_equal(url_normalize(c->want, &out), 0);
		assert_string_equal(out, c->want);
		free(out);
	} else {
		if (rc != c->err)
			fail_msg("url_normalize(\"%s\") = %s, want %s", c->in,
				 crawl_errname(rc), crawl_errname(c->err));
		assert_null(out);
	}
}

static void test_normalize_table(void **state)
{
	static const struct norm_case cases[] = {
		{ "HTTP://Example.COM/Path", "http://example.com/Path", 0 },
		{ "http://example.com:80/", "http://example.com/", 0 },
		{ "https://example.com:443/x", "https://example.com/x", 0 },
		{ "https://example.com:80/x", "https://example.com:80/x", 0 },
		{ "http://example.com:443/x", "http://example.com:443/x", 0 },
		{ "http://example.com:08080/x", "http://example.com:8080/x", 0 },
		{ "http://example.com:/x", "http://example.com/x", 0 },
		{ "http://example.com/x#frag", "http://example.com/x", 0 },
		{ "http://example.com/x?q=1#a#b", "http://example.com/x?q=1", 0 },
		{ "http://example.com/a/b/../c/./d", "http://example.com/a/c/d", 0 },
		{ "http://example.com/../../a", "http://example.com/a", 0 },
		{ "http://example.com/a/..", "http://example.com/", 0 },
		{ "http://example.com/a/%2e%2E/b", "http://example.com/b", 0 },
		{ "http://example.com", "http://example.com/", 0 },
		{ "http://example.com?q=1", "http://example.com/?q=1", 0 },
		{ "http://example.com/?", "http://example.com/?", 0 },
		{ "http://example.com/a//b/", "http://example.com/a//b/", 0 },
		{ "http://example.com/%7euser/%2fx%3a?b=%7e&a=%41",
		  "http://example.com/~user/%2Fx%3A?b=~&a=A", 0 },
		{ "http://example.com/%e2%82%ac", "http://example.com/%E2%82%AC", 0 },
		{ "http://h/s?z=1&a=2&z=0", "http://h/s?z=1&a=2&z=0", 0 },
		{ "http://[::1]:8080/x", "http://[::1]:8080/x", 0 },
		{ "http://[0:0:0:0:0:0:0:1]/", "http://[::1]/", 0 },
		{ "https://[2001:DB8::1]:443/", "https://[2001:db8::1]/", 0 },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080/", 0 },
		{ "sim://Site1:80/p", "sim://site1:80/p", 0 },
		{ "sim://site1/", "sim://site1/", 0 },
		{ "http://User:PW@Example.com/", "http://User:PW@example.com/", 0 },
		{ "http://ex%41mple.com/", "http://example.com/", 0 },
		{ "", NULL, CRAWL_EURL },
		{ "/relative/path", NULL, CRAWL_EURL },
		{ "example.com/x", NULL, CRAWL_EURL },
		{ "http://", NULL, CRAWL_EURL },
		{ "http:///x", NULL, CRAWL_EURL },
		{ "http:x", NULL, CRAWL_EURL },
		{ "http://exa mple.com/", NULL, CRAWL_EURL },
		{ "http://h/a b", NULL, CRAWL_EURL },
		{ "http://h/%zz", NULL, CRAWL_EURL },
		{ "http://[::1/", NULL, CRAWL_EURL },
		{ "http://h:99999/", NULL, CRAWL_EURL },
		{ "http://h:65536/", NULL, CRAWL_EURL },
		{ "http://h:0/", NULL, CRAWL_EURL },
		{ "http://%E2%82%AC.com/", NULL, CRAWL_EURL },
		{ "\x01\xff garbage", NULL, CRAWL_EURL },
		{ "ftp://example.com/", NULL, CRAWL_ESCHEME },
		{ "mailto:someone@example.com", NULL, CRAWL_ESCHEME },
		{ "javascript:alert(1)", NULL, CRAWL_ESCHEME },
		{ "file:///etc/passwd", NULL, CRAWL_ESCHEME },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_normalize(&cases[i]);
}

/* "http://h/" followed by 'a's up to total bytes; caller frees. */
static char *long_url(const char *prefix, size_t total)
{
	char *s = malloc(total + 1);
	size_t n = strlen(prefix);

	assert_non_null(s);
	memcpy(s, prefix, n);
	memset(s + n, 'a', total - n);
	s[total] = '\0';
	return s;
}

static void test_normalize_bounds(void **state)
{
	char *out = NULL, *s;

	(void)state;
	s = long_url("http://h/", URL_MAX_LEN);
	assert_int_equal(url_normalize(s, &out), 0);
	assert_int_equal(strlen(out), URL_MAX_LEN);
	free(out);
	out = NULL;
	free(s);

	s = long_url("http://h/", URL_MAX_LEN + 1);
	assert_int_equal(url_normalize(s, &out), CRAWL_EURL);
	free(s);

	/* Fits as input, but the "/" the normal form adds would not. */
	s = long_url("http://h?", URL_MAX_LEN);
	assert_int_equal(url_normalize(s, &out), CRAWL_EURL);
	free(s);
	assert_null(out);

	assert_int_equal(url_normalize(NULL, &out), CRAWL_EINVAL);
	assert_int_equal(url_normalize("http://h/", NULL), CRAWL_EINVAL);
}

struct resolve_case {
	const char *base;
	const char *ref;
	const char *want; /* NULL: expect err */
	int err;
};

#define BASE "http://a.example/b/c/d;p?q"

static void test_resolve_table(void **state)
{
	static const struct resolve_case cases[] = {
		{ BASE, "../x", "http://a.example/b/x", 0 },
		{ BASE, "x", "http://a.example/b/c/x", 0 },
		{ BASE, "./x/", "http://a.example/b/c/x/", 0 },
		{ BASE, "/x", "http://a.example/x", 0 },
		{ BASE, "//other.host/x", "http://other.host/x", 0 },
		{ BASE, "//Other.Host", "http://other.host/", 0 },
		{ BASE, "?y", "http://a.example/b/c/d;p?y", 0 },
		{ BASE, "#frag", "http://a.example/b/c/d;p?q", 0 },
		{ BASE, "", "http://a.example/b/c/d;p?q", 0 },
		{ BASE, " \t\n ", "http://a.example/b/c/d;p?q", 0 },
		{ BASE, "  x \n", "http://a.example/b/c/x", 0 },
		{ BASE, "\t/x\r\n", "http://a.example/x", 0 },
		{ BASE, "/a\n/b\t/c", "http://a.example/a/b/c", 0 },
		{ BASE, "..", "http://a.example/b/", 0 },
		{ BASE, "../../../../g", "http://a.example/g", 0 },
		{ BASE, "x#a#b", "http://a.example/b/c/x", 0 },
		{ BASE, "http:g", "http://a.example/b/c/g", 0 },
		{ BASE, "HTTPS://Other.Example:443/Z#f", "https://other.example/Z", 0 },
		{ BASE, "sim://site2/p", "sim://site2/p", 0 },
		{ BASE, "//[::1]:8080/x", "http://[::1]:8080/x", 0 },
		{ BASE, "a b.html", "http://a.example/b/c/a%20b.html", 0 },
		{ BASE, "caf\xc3\xa9?q=\"x\"", "http://a.example/b/c/caf%C3%A9?q=%22x%22", 0 },
		{ BASE, "100%", "http://a.example/b/c/100%25", 0 },
		{ BASE, "%7e%zz", "http://a.example/b/c/~%25zz", 0 },
		{ BASE, "\\x\\y?a\\b", "http://a.example/x/y?a%5Cb", 0 },
		{ "http://a.example:80/dir/#top", "", "http://a.example/dir/", 0 },
		{ "http://a.example", "x", "http://a.example/x", 0 },
		{ BASE, "javascript:void(0)", NULL, CRAWL_ESCHEME },
		{ BASE, "JavaScript:alert('a b')", NULL, CRAWL_ESCHEME },
		{ BASE, "java\tscript:alert(1)", NULL, CRAWL_ESCHEME },
		{ BASE, " mailto:a@b.example", NULL, CRAWL_ESCHEME },
		{ BASE, "data:text/html,<b>hi</b>", NULL, CRAWL_ESCHEME },
		{ BASE, "tel:+1-555-0100", NULL, CRAWL_ESCHEME },
		{ BASE, "ftp://files.example/x", NULL, CRAWL_ESCHEME },
		{ BASE, "file:///etc/passwd", NULL, CRAWL_ESCHEME },
		{ BASE, "http://exa mple.com/", NULL, CRAWL_EURL },
		{ BASE, "http://", NULL, CRAWL_EURL },
		{ BASE, "//[::1/x", NULL, CRAWL_EURL },
		{ BASE, "http://h:70000/", NULL, CRAWL_EURL },
		{ "not a url", "x", NULL, CRAWL_EURL },
		{ "/relative/base", "x", NULL, CRAWL_EURL },
		{ "ftp://h/", "x", NULL, CRAWL_ESCHEME },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct resolve_case *c = &cases[i];
		char *out = NULL;
		int rc = url_resolve(c->base, c->ref, &out);

		if (c->want && rc != 0)
			fail_msg("url_resolve(\"%s\", \"%s\") = %s", c->base, c->ref,
				 crawl_errname(rc));
		if (!c->want && rc != c->err)
			fail_msg("url_resolve(\"%s\", \"%s\") = %s, want %s", c->base,
				 c->ref, crawl_errname(rc), crawl_errname(c->err));
		if (c->want)
			assert_string_equal(out, c->want);
		else
			assert_null(out);
		free(out);
	}
}

/* A page's <base href> is first resolved against the page URL, then the
 * page's links against the result. */
static void test_resolve_base_href(void **state)
{
	char *base = NULL, *out = NULL;

	(void)state;
	assert_int_equal(url_resolve("http://a.example/dir/page.html", " /other/ ", &base), 0);
	assert_string_equal(base, "http://a.example/other/");
	assert_int_equal(url_resolve(base, "x.html", &out), 0);
	assert_string_equal(out, "http://a.example/other/x.html");
	free(out);
	free(base);

	assert_int_equal(url_resolve("http://a.example/dir/page.html",
				     "http://CDN.example/assets/v2/", &base), 0);
	assert_int_equal(url_resolve(base, "../img/a.png", &out), 0);
	assert_string_equal(out, "http://cdn.example/assets/img/a.png");
	free(out);
	free(base);
}

static void test_resolve_bounds(void **state)
{
	char *out = NULL, *ref;

	(void)state;
	ref = long_url("/", URL_MAX_LEN + 1);
	assert_int_equal(url_resolve(BASE, ref, &out), CRAWL_EURL);
	free(ref);
	/* Escaping can push a short-enough link past the limit. */
	ref = long_url("/", URL_MAX_LEN / 2);
	memset(ref + 1, ' ', URL_MAX_LEN / 2 - 2);
	assert_int_equal(url_resolve(BASE, ref, &out), CRAWL_EURL);
	free(ref);
	/* A long data: link is refused for its scheme, whatever its length. */
	ref = long_url("data:", 4 * URL_MAX_LEN);
	assert_int_equal(url_resolve(BASE, ref, &out), CRAWL_ESCHEME);
	free(ref);
	assert_null(out);
	assert_int_equal(url_resolve(NULL, "x", &out), CRAWL_EINVAL);
	assert_int_equal(url_resolve(BASE, NULL, &out), CRAWL_EINVAL);
	assert_int_equal(url_resolve(BASE, "x", NULL), CRAWL_EINVAL);
}

static void test_host_keys(void **state)
{
	static const struct {
		const char *url;
		const char *key;
	} cases[] = {
		{ "http://Example.COM/x", "example.com" },
		{ "http://example.com:80/", "example.com" },
		{ "https://example.com:443/", "example.com" },
		{ "https://example.com:8443/", "example.com:8443" },
		{ "https://example.com:80/", "example.com:80" },
		{ "http://[::1]:8080/", "[::1]:8080" },
		{ "http://[0::1]:80/", "[::1]" },
		{ "sim://Site7/p", "site7" },
		{ "http://user:pw@h.example/", "h.example" },
		{ "http://10.0.0.1:8080/x#f", "10.0.0.1:8080" },
	};
	char buf[URL_HOST_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = url_host(cases[i].url, buf, sizeof(buf));
		if (rc != 0)
			fail_msg("url_host(\"%s\") = %s", cases[i].url, crawl_errname(rc));
		assert_string_equal(buf, cases[i].key);
	}
}

static void test_host_errors(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(url_host("garbage", buf, sizeof(buf)), CRAWL_EURL);
	assert_int_equal(url_host("http://", buf, sizeof(buf)), CRAWL_EURL);
	assert_int_equal(url_host("ftp://h/", buf, sizeof(buf)), CRAWL_ESCHEME);
	/* "example.com:8080" is 16 bytes: it needs 17 with the NUL. */
	assert_int_equal(url_host("http://example.com:8080/", buf, 16), CRAWL_EINVAL);
	assert_int_equal(url_host("http://example.com:8080/", buf, 17), 0);
	assert_string_equal(buf, "example.com:8080");
	assert_int_equal(url_host("http://h/", buf, 0), CRAWL_EINVAL);
	assert_int_equal(url_host(NULL, buf, sizeof(buf)), CRAWL_EINVAL);
	assert_int_equal(url_host("http://h/", NULL, 10), CRAWL_EINVAL);
}

static struct url_scope *new_scope(void)
{
	struct url_scope *s = NULL;
	assert_int_equal(url_scope_new(&s), 0);
	assert_non_null(s);
	return s;
}

static void test_scope_empty(void **state)
{
	struct url_scope *s = new_scope();

	(void)state;
	assert_int_equal(url_scope_allows(s, "http://anything.example/"), 1);
	assert_int_equal(url_scope_allows(s, "garbage"), 0);
	assert_int_equal(url_scope_allows(s, "ftp://h/"), 0);
	assert_int_equal(url_scope_allows(s, NULL), 0);
	assert_int_equal(url_scope_allows(NULL, "http://h/"), 0);
	url_scope_free(s);
	url_scope_free(NULL);
	assert_int_equal(url_scope_new(NULL), CRAWL_EINVAL);
}

static void test_scope_domains(void **state)
{
	struct url_scope *s = new_scope();

	(void)state;
	assert_int_equal(url_scope_add_domain(s, "Example.com"), 0);
	assert_int_equal(url_scope_add_domain(s, "docs.example.org."), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com/"), 1);
	assert_int_equal(url_scope_allows(s, "http://www.example.com/"), 1);
	assert_int_equal(url_scope_allows(s, "https://a.b.EXAMPLE.com:8443/x"), 1);
	assert_int_equal(url_scope_allows(s, "http://docs.example.org/"), 1);
	assert_int_equal(url_scope_allows(s, "http://v2.docs.example.org/"), 1);
	assert_int_equal(url_scope_allows(s, "http://badexample.com/"), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com.evil.net/"), 0);
	assert_int_equal(url_scope_allows(s, "http://com/"), 0);
	assert_int_equal(url_scope_allows(s, "http://example.org/"), 0);
	assert_int_equal(url_scope_allows(s, "http://xdocs.example.org/"), 0);
	url_scope_free(s);
}

/* Host keys from url_host are accepted; scope ignores ports; IP literals
 * allow only themselves. */
static void test_scope_host_keys(void **state)
{
	struct url_scope *s = new_scope();

	(void)state;
	assert_int_equal(url_scope_add_domain(s, "127.0.0.1:8080"), 0);
	assert_int_equal(url_scope_add_domain(s, "[0::1]:8080"), 0);
	assert_int_equal(url_scope_add_domain(s, "site1"), 0);
	assert_int_equal(url_scope_allows(s, "http://127.0.0.1:9999/"), 1);
	assert_int_equal(url_scope_allows(s, "http://127.0.0.1/"), 1);
	assert_int_equal(url_scope_allows(s, "http://1.127.0.0.1/"), 0);
	assert_int_equal(url_scope_allows(s, "http://127.0.0.2/"), 0);
	assert_int_equal(url_scope_allows(s, "http://[::1]/x"), 1);
	assert_int_equal(url_scope_allows(s, "http://[::2]/x"), 0);
	assert_int_equal(url_scope_allows(s, "sim://site1/p"), 1);
	assert_int_equal(url_scope_allows(s, "sim://a.site1/p"), 1);
	assert_int_equal(url_scope_allows(s, "sim://site10/p"), 0);
	url_scope_free(s);
}

static void test_scope_bad_domains(void **state)
{
	struct url_scope *s = new_scope();
	char long_name[300];

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(url_scope_add_domain(s, ""), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "."), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "exa mple.com"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "http://example.com"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "example.com:"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "example.com:80x"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "[zz::1]"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "[::1"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, "[::1]x"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(s, long_name), CRAWL_EINVAL);
	long_name[254] = '\0';
	assert_int_equal(url_scope_add_domain(s, long_name), CRAWL_EINVAL);
	long_name[253] = '\0';
	assert_int_equal(url_scope_add_domain(s, long_name), 0);
	assert_int_equal(url_scope_add_domain(s, NULL), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_domain(NULL, "a"), CRAWL_EINVAL);
	/* Only the valid one was added. */
	assert_int_equal(url_scope_allows(s, "http://example.com/"), 0);
	url_scope_free(s);
}

static void test_scope_patterns(void **state)
{
	struct url_scope *s = new_scope();

	(void)state;
	assert_int_equal(url_scope_add_domain(s, "example.com"), 0);
	assert_int_equal(url_scope_add_include(s, "^https?://[^/]+/docs/"), 0);
	assert_int_equal(url_scope_add_include(s, "^https?://[^/]+/blog/20[0-9]{2}/"), 0);
	assert_int_equal(url_scope_add_exclude(s, "\\.pdf$"), 0);
	assert_int_equal(url_scope_add_exclude(s, "[?&]session="), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com/docs/a"), 1);
	assert_int_equal(url_scope_allows(s, "https://www.example.com/blog/2021/x"), 1);
	assert_int_equal(url_scope_allows(s, "http://example.com/blog/x"), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com/"), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com/docs/a.pdf"), 0);
	assert_int_equal(url_scope_allows(s, "http://example.com/docs/a?x=1&session=2"), 0);
	assert_int_equal(url_scope_allows(s, "http://other.com/docs/a"), 0);
	url_scope_free(s);
}

static void test_scope_exclude_only(void **state)
{
	struct url_scope *s = new_scope();

	(void)state;
	assert_int_equal(url_scope_add_exclude(s, "/private(/|$)"), 0);
	assert_int_equal(url_scope_allows(s, "http://h/public/x"), 1);
	assert_int_equal(url_scope_allows(s, "http://h/private"), 0);
	assert_int_equal(url_scope_allows(s, "http://h/private/x"), 0);
	assert_int_equal(url_scope_allows(s, "http://h/privateer"), 1);
	url_scope_free(s);
}

static void test_scope_bad_patterns(void **state)
{
	struct url_scope *s = new_scope();
	char *huge = long_url("x", 5000);

	(void)state;
	assert_int_equal(url_scope_add_include(s, "("), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_include(s, "[a-"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_exclude(s, "a{2,1}"), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_exclude(s, NULL), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_include(s, huge), CRAWL_EINVAL);
	assert_int_equal(url_scope_add_include(NULL, "a"), CRAWL_EINVAL);
	/* Nothing half-added: the scope still allows everything. */
	assert_int_equal(url_scope_allows(s, "http://h/"), 1);
	free(huge);
	url_scope_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_table),
		cmocka_unit_test(test_normalize_bounds),
		cmocka_unit_test(test_resolve_table),
		cmocka_unit_test(test_resolve_base_href),
		cmocka_unit_test(test_resolve_bounds),
		cmocka_unit_test(test_host_keys),
		cmocka_unit_test(test_host_errors),
		cmocka_unit_test(test_scope_empty),
		cmocka_unit_test(test_scope_domains),
		cmocka_unit_test(test_scope_host_keys),
		cmocka_unit_test(test_scope_bad_domains),
		cmocka_unit_test(test_scope_patterns),
		cmocka_unit_test(test_scope_exclude_only),
		cmocka_unit_test(test_scope_bad_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
