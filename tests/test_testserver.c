/* test_testserver.c - the test HTTP server, byte by byte, over raw HTTP/1.1, and tsupport. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "tsupport.h"

#define RESP_MAX (4u << 20)

static struct tsupport_server main_srv;         /* default settings, for the whole group */
static struct tsupport_server extra_srv;        /* one test's own server, stopped by its teardown */
static struct tsupport_server *cur = &main_srv; /* the server requests go to */
static bool main_srv_clean;                     /* set by the group teardown */

/* ---- a tiny blocking HTTP client (test code) ---------------------------------------------- */

struct resp {
	char *raw; /* everything received, NUL-terminated */
	size_t len;
	int status;
	const char *body; /* into raw, after the blank line */
	size_t body_len;
	bool reset; /* the read ended with ECONNRESET rather than EOF */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_port(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 10};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_request(int fd, int port, const char *path, const char *extra_headers)
{
	char req[1024];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s\r\n",
	                 path, port, extra_headers ? extra_headers : "");

	assert_true(n > 0 && (size_t)n < sizeof(req));
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Reads until EOF or reset (a receive timeout fails the test), at most RESP_MAX bytes. */
static void read_all(int fd, struct resp *r)
{
	size_t cap = 65536;

	r->raw = malloc(cap + 1);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t n;

		if (r->len == cap) {
			assert_true(cap < RESP_MAX);
			cap *= 2;
			r->raw = realloc(r->raw, cap + 1);
			assert_non_null(r->raw);
		}
		n = recv(fd, r->raw + r->len, cap - r->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET) {
			r->reset = true;
			break;
		}
		assert_true(n >= 0); /* EAGAIN here means the 10 s receive timeout */
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	r->raw[r->len] = '\0';
}

static void parse_head(struct resp *r)
{
	const char *end = strstr(r->raw, "\r\n\r\n");

	assert_non_null(end);
	assert_int_equal(sscanf(r->raw, "HTTP/1.1 %d ", &r->status), 1);
	r->body = end + 4;
	r->body_len = r->len - (size_t)(r->body - r->raw);
}

static void http_get_h(const char *path, const char *extra_headers, struct resp *r)
{
	int fd = connect_port(cur->port);

	memset(r, 0, sizeof(*r));
	send_request(fd, cur->port, path, extra_headers);
	read_all(fd, r);
	close(fd);
	parse_head(r);
}

static void http_get(const char *path, struct resp *r)
{
	http_get_h(path, NULL, r);
}

static void resp_free(struct resp *r)
{
	free(r->raw);
	r->raw = NULL;
}

/* The value of header name (case-insensitive) copied into buf, or NULL if absent. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t n)
{
	size_t nl = strlen(name);

	for (const char *line = strstr(r->raw, "\r\n") + 2; line < r->body - 2;
	     line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1 + strspn(line + nl + 1, " ");
			size_t vl = (size_t)(strstr(v, "\r\n") - v);

			snprintf(buf, n, "%.*s", (int)vl, v);
			return buf;
		}
	}
	return NULL;
}

static void assert_header(const struct resp *r, const char *name, const char *want)
{
	char buf[256];

	assert_non_null(header(r, name, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

/* Decodes chunked framing strictly; returns the number of data chunks, -1 if malformed. */
static int dechunk(const char *p, size_t len, char *out, size_t cap, size_t *out_len)
{
	const char *end = p + len;
	int chunks = 0;

	*out_len = 0;
	while (p < end) {
		char *q;
		unsigned long n = strtoul(p, &q, 16);

		if (q == p || q + 2 > end || q[0] != '\r' || q[1] != '\n')
			return -1;
		p = q + 2;
		if (n == 0)
			return p + 2 == end && p[0] == '\r' && p[1] == '\n' ? chunks : -1;
		if ((size_t)(end - p) < n + 2 || p[n] != '\r' || p[n + 1] != '\n' ||
		    *out_len + n > cap)
			return -1;
		memcpy(out + *out_len, p, n);
		*out_len += n;
		p += n + 2;
		chunks++;
	}
	return -1;
}

/* ---- the generated site ------------------------------------------------------------------- */

static void test_page_content(void **state)
{
	struct resp r;
	size_t links = 0;

	(void)state;
	http_get("/page/5", &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.raw, "HTTP/1.1 200 OK\r\n", 17);
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "<title>Page 5</title>"));
	/* the first link goes to the next page: link 0 of page 5 is written "../page/6" */
	assert_non_null(strstr(r.body, "<li><a href=\"../page/6\">link 0</a></li>"));
	for (const char *p = r.body; (p = strstr(p, "<a href=")) != NULL; p++)
		links++;
	assert_int_equal(links, 10 + 1); /* --links 10 and one mailto: on page 5 */
	assert_non_null(strstr(r.body, "href=\"mailto:"));
	assert_true(r.body_len >= 8192 && r.body_len < 8192 + 200);
	resp_free(&r);
}

static void test_root_is_page_zero(void **state)
{
	struct resp root, zero;

	(void)state;
	http_get("/", &root);
	http_get("/page/0", &zero);
	assert_int_equal(root.status, 200);
	assert_int_equal(zero.status, 200);
	assert_int_equal(root.body_len, zero.body_len);
	assert_memory_equal(root.body, zero.body, root.body_len);
	assert_non_null(strstr(root.body, "<title>Page 0</title>"));
	assert_non_null(strstr(root.body, "href=\"http://offsite.invalid/x\""));
	resp_free(&root);
	resp_free(&zero);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {"/page/100", "/page/-1",   "/page/abc", "/page/",
	                                    "/page/1x",  "/page/ 1",   "/nope",     "/pages/1",
	                                    "/status/",  "/redirect/x"};
	struct resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http_get(paths[i], &r);
		assert_int_equal(r.status, 404);
		assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
		resp_free(&r);
	}
}

/* Test-side URL resolution, enough for the forms the server writes. */
struct link_mix {
	int abs_path, dotdot, bare, abs_url, fragment, offsite, mailto, js;
};

/* Resolves href found on page base into an in-site path; false if it leaves the site. */
static bool resolve(const char *base, const char *href, char *out, size_t n, struct link_mix *m)
{
	char joined[512], *segs[64], *save = NULL;
	size_t nseg = 0, hl = strcspn(href, "#"), used = 0;
	char origin[80];

	m->fragment += href[hl] == '#';
	snprintf(origin, sizeof(origin), "%s/", cur->base);
	if (strncmp(href, "mailto:", 7) == 0 || strncmp(href, "javascript:", 11) == 0) {
		if (href[0] == 'm')
			m->mailto++;
		else
			m->js++;
		return false;
	}
	if (strncmp(href, "http://", 7) == 0 && strncmp(href, origin, strlen(origin)) != 0) {
		m->offsite++;
		return false;
	}
	if (strncmp(href, origin, strlen(origin)) == 0) {
		m->abs_url++;
		snprintf(joined, sizeof(joined), "%.*s", (int)(hl - strlen(cur->base)),
		         href + strlen(cur->base));
	} else if (href[0] == '/') {
		m->abs_path++;
		snprintf(joined, sizeof(joined), "%.*s", (int)hl, href);
	} else {
		if (strncmp(href, "../", 3) == 0)
			m->dotdot++;
		else
			m->bare++;
		snprintf(joined, sizeof(joined), "%.*s%.*s", (int)(strrchr(base, '/') - base + 1),
		         base, (int)hl, href);
	}
	/* remove dot segments (RFC 3986 5.2.4, for paths without a trailing "..") */
	for (char *s = strtok_r(joined, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, "..") == 0)
			nseg -= nseg > 0;
		else if (strcmp(s, ".") != 0 && nseg < 64)
			segs[nseg++] = s;
	}
	out[0] = '\0';
	for (size_t i = 0; i < nseg; i++)
		used += (size_t)snprintf(out + used, n - used, "/%s", segs[i]);
	if (used == 0 || (hl > 0 && href[hl - 1] == '/'))
		snprintf(out + used, n - used, "/");
	return true;
}

/* Breadth-first from "/": the number of distinct in-site URLs reached (each one 200). */
static size_t crawl_site(struct link_mix *m)
{
	enum { MAX_URLS = 1000 };
	static char urls[MAX_URLS][64];
	size_t count = 1, head = 0;

	memset(m, 0, sizeof(*m));
	strcpy(urls[0], "/");
	for (; head < count; head++) {
		struct resp r;
		char want[48];
		long k = strcmp(urls[head], "/") == 0 ? 0 : strtol(urls[head] + 6, NULL, 10);

		http_get(urls[head], &r);
		assert_int_equal(r.status, 200);
		snprintf(want, sizeof(want), "<title>Page %ld</title>", k);
		assert_non_null(strstr(r.body, want));
		for (const char *p = r.body; (p = strstr(p, "href=\"")) != NULL;) {
			char href[256], path[256];
			size_t hl = strcspn(p + 6, "\"");
			bool seen = false;

			snprintf(href, sizeof(href), "%.*s", (int)hl, p + 6);
			p += 6 + hl;
			if (!resolve(urls[head], href, path, sizeof(path), m))
				continue;
			for (size_t i = 0; i < count && !seen; i++)
				seen = strcmp(urls[i], path) == 0;
			assert_true(strlen(path) < sizeof(urls[0]));
			if (!seen && count < MAX_URLS)
				strcpy(urls[count++], path);
		}
		resp_free(&r);
	}
	return count;
}

static void test_site_has_exactly_pages(void **state)
{
	struct link_mix m;

	(void)state;
	assert_int_equal(crawl_site(&m), 100);
	/* every link form a crawler must resolve occurs */
	assert_true(m.abs_path > 0 && m.dotdot > 0 && m.bare > 0 && m.abs_url > 0);
	assert_true(m.fragment > 0 && m.offsite > 0 && m.mailto > 0 && m.js > 0);
}

static void test_small_sites(void **state)
{
	static const char *const seven[] = {"--pages",     "7", "--links", "3",
	                                    "--page-size", "0", NULL};
	static const char *const one[] = {"--pages", "1", "--links", "1", NULL};
	struct link_mix m;

	(void)state;
	assert_int_equal(tsupport_server_start(&extra_srv, seven), 0);
	cur = &extra_srv;
	assert_int_equal(crawl_site(&m), 7);
	tsupport_server_stop(&extra_srv);
	assert_int_equal(tsupport_server_start(&extra_srv, one), 0);
	assert_int_equal(crawl_site(&m), 1);
	tsupport_server_stop(&extra_srv);
	assert_true(WIFEXITED(extra_srv.exit_status) && WEXITSTATUS(extra_srv.exit_status) == 0);
}

/* ---- the fault endpoints ------------------------------------------------------------------ */

static void test_status(void **state)
{
	struct resp r;

	(void)state;
	http_get("/status/503", &r);
	assert_memory_equal(r.raw, "HTTP/1.1 503 ", 13);
	assert_string_equal(r.body, "status 503\n");
	resp_free(&r);
	http_get("/status/418", &r);
	assert_int_equal(r.status, 418);
	resp_free(&r);
	http_get("/status/600", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	http_get("/status/100", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
}

static void test_delay(void **state)
{
	long long t0 = now_ms();
	struct resp r;

	(void)state;
	http_get("/delay?ms=50", &r);
	assert_true(now_ms() - t0 >= 40); /* a timer never fires early */
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "delayed 50 ms\n");
	resp_free(&r);
	http_get("/delay", &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	http_get("/delay?ms=-5", &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
}

static void test_redirects(void **state)
{
	static const struct {
		const char *path, *location;
	} cases[] = {
	    {"/redirect/2", "/redirect/1"},
	    {"/redirect/0", "/page/0"},
	    {"/redirect-loop", "/redirect-loop"},
	    {"/redirect-to?url=file%3A%2F%2F%2Fetc%2Fpasswd", "file:///etc/passwd"},
	    {"/redirect-to?url=http%3A%2F%2F127.0.0.1%3A1%2Fx", "http://127.0.0.1:1/x"},
	};
	struct resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_get(cases[i].path, &r);
		assert_memory_equal(r.raw, "HTTP/1.1 302 ", 13);
		assert_header(&r, "Location", cases[i].location);
		resp_free(&r);
	}
	http_get("/redirect-to", &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	http_get("/redirect-to?url=a%0D%0ASet-Cookie:%20x", &r); /* header injection */
	assert_int_equal(r.status, 400);
	resp_free(&r);
}

static void gzip_text(char *buf, size_t *len)
{
	*len = 0;
	for (int i = 0; i < 100; i++) {
		memcpy(buf + *len, "hello gzip\n", 11);
		*len += 11;
	}
}

static void test_gzip(void **state)
{
	char want[1100], got[2048];
	size_t want_len;
	uLongf got_len = sizeof(got);
	z_stream z = {0};
	struct resp r;
	char buf[64];

	(void)state;
	gzip_text(want, &want_len);
	http_get_h("/gzip", "Accept-Encoding: deflate, gzip\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Encoding", "gzip");
	assert_true(r.body_len > 2 && r.body_len < want_len);
	assert_memory_equal(r.body, "\x1f\x8b", 2);
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = (Bytef *)r.body;
	z.avail_in = (uInt)r.body_len;
	z.next_out = (Bytef *)got;
	z.avail_out = (uInt)got_len;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	got_len = z.total_out;
	inflateEnd(&z);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	resp_free(&r);

	http_get("/gzip", &r);
	assert_null(header(&r, "Content-Encoding", buf, sizeof(buf)));
	assert_int_equal(r.body_len, want_len);
	assert_memory_equal(r.body, want, want_len);
	resp_free(&r);
}

static void test_chunked(void **state)
{
	char out[256];
	size_t len;
	struct resp r;

	(void)state;
	http_get("/chunked", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Transfer-Encoding", "chunked");
	assert_int_equal(dechunk(r.body, r.body_len, out, sizeof(out), &len), 5);
	assert_int_equal(len, 5 * 13);
	assert_memory_equal(out,
	                    "chunk 1 of 5\nchunk 2 of 5\nchunk 3 of 5\nchunk 4 of 5\n"
	                    "chunk 5 of 5\n",
	                    len);
	resp_free(&r);
}

static void test_slow(void **state)
{
	char out[1024];
	size_t len;
	struct resp r;

	(void)state;
	http_get("/slow", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(dechunk(r.body, r.body_len, out, sizeof(out), &len), 20);
	assert_int_equal(len, 20 * 20);
	assert_memory_equal(out, "slow chunk 01 of 20\n", 20);
	assert_memory_equal(out + 19 * 20, "slow chunk 20 of 20\n", 20);
	resp_free(&r);
}

static void test_reset(void **state)
{
	struct resp r;

	(void)state;
	http_get("/reset", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Length", "100000");
	/* 1000 of the promised 100000 bytes, then an RST (not a FIN): on loopback the bytes
	 * sent before the reset are already queued here, so they are read before the error */
	assert_int_equal(r.body_len, 1000);
	assert_true(r.reset);
	assert_memory_equal(r.body, "hhhhhhhhhh", 10);
	resp_free(&r);
}

static void test_huge_then_alive(void **state)
{
	char buf[65536];
	size_t total = 0, hs = 0;
	int fd = connect_port(cur->port);
	struct resp r;

	(void)state;
	send_request(fd, cur->port, "/huge", NULL);
	while (total < (2u << 20)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		assert_true(n > 0);
		total += (size_t)n;
		for (ssize_t i = 0; i < n; i++)
			hs += buf[i] == 'h';
	}
	assert_true(hs > total - 1024); /* all body, but for the head and chunk framing */
	close(fd);                      /* mid-body: the server must drop the stream, not die */
	http_get("/page/1", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void test_headers_echo(void **state)
{
	struct resp r;

	(void)state;
	http_get_h("/headers", "User-Agent: tsupport-test/1.0\r\nX-Test-Header: hello 42\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
	assert_non_null(strstr(r.body, "User-Agent: tsupport-test/1.0\n"));
	assert_non_null(strstr(r.body, "X-Test-Header: hello 42\n"));
	assert_non_null(strstr(r.body, "Connection: close\n"));
	resp_free(&r);
}

static void test_robots_private_broken(void **state)
{
	struct resp r;

	(void)state;
	http_get("/robots.txt", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n");
	resp_free(&r);
	http_get("/private/x", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	http_get("/broken", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "href=/page/1"));
	assert_non_null(strstr(r.body, "href=\"/page/2\""));
	resp_free(&r);
}

static void test_robots_file_and_private_link(void **state)
{
	char path[] = "/tmp/tsrobots.XXXXXX";
	const char robots[] = "User-agent: *\nDisallow: /\n";
	int fd = mkstemp(path);
	const char *args[] = {"--robots", path, "--private-links", NULL};
	struct resp r;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, robots, sizeof(robots) - 1), sizeof(robots) - 1);
	close(fd);
	assert_int_equal(tsupport_server_start(&extra_srv, args), 0);
	cur = &extra_srv;
	unlink(path);
	http_get("/robots.txt", &r);
	assert_string_equal(r.body, robots);
	resp_free(&r);
	http_get("/", &r);
	assert_non_null(strstr(r.body, "href=\"/private/x\""));
	resp_free(&r);
}

/* ---- the command line and process life ---------------------------------------------------- */

static void run_server(const char *a1, const char *a2, char **out, int *status)
{
	char *prog = tsupport_build_path("testserver");
	const char *argv[] = {prog, a1, a2, NULL};

	assert_non_null(prog);
	assert_int_equal(tsupport_run(argv, out, status), 0);
	free(prog);
}

static void test_refuses_non_loopback(void **state)
{
	static const char *const bad[] = {"192.0.2.1", "0.0.0.0", "::", "localhost", "10.0.0.1"};
	const char *args[] = {"--addr", NULL, NULL};
	struct tsupport_server s;
	char *out;
	int status;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_server("--addr", bad[i], &out, &status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		assert_string_equal(out, ""); /* it never listened */
		free(out);
	}
	args[1] = "192.0.2.1"; /* through tsupport: a prompt error, not a 10 s wait */
	assert_int_equal(tsupport_server_start(&s, args), CRAWL_ESYS);
	assert_int_equal(s.pid, 0);
	assert_int_equal(WEXITSTATUS(s.exit_status), 2);
}

static void test_usage_errors(void **state)
{
	static const char *const bad[][2] = {{"--pages", "0"},    {"--links", "x"},
	                                     {"--port", "70000"}, {"--bogus", NULL},
	                                     {"extra", NULL},     {"--robots", "/nonexistent/r"}};
	char *out;
	int status;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_server(bad[i][0], bad[i][1], &out, &status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
		free(out);
	}
	run_server("--help", NULL, &out, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "--port-file"));
	free(out);
}

static void test_max_seconds_and_announce(void **state)
{
	char *out;
	int status, port = 0;

	(void)state;
	run_server("--max-seconds", "1", &out, &status); /* exits by itself */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(sscanf(out, "listening on 127.0.0.1:%d\n", &port), 1);
	assert_true(port > 0 && port < 65536);
	free(out);
}

/* Requests in progress (and clients gone mid-request) at SIGTERM: exit status 0, which under
 * the SAN=1 build also means no leak and no sanitizer report. */
static void test_sigterm_with_requests_in_flight(void **state)
{
	static const char *const paths[] = {"/delay?ms=60000", "/slow", "/huge", "/reset",
	                                    "/delay?ms=10"};
	int fds[5];
	char buf[256];
	struct resp r;

	(void)state;
	assert_int_equal(tsupport_server_start(&extra_srv, NULL), 0);
	cur = &extra_srv;
	for (int i = 0; i < 5; i++) {
		fds[i] = connect_port(extra_srv.port);
		send_request(fds[i], extra_srv.port, paths[i], NULL);
	}
	assert_true(recv(fds[1], buf, sizeof(buf), 0) > 0); /* /slow has begun */
	assert_true(recv(fds[2], buf, sizeof(buf), 0) > 0); /* /huge has begun */
	close(fds[4]);                                      /* gone before its delay ends */
	http_get("/page/3", &r);                            /* still serving */
	assert_int_equal(r.status, 200);
	resp_free(&r);
	tsupport_server_stop(&extra_srv);
	assert_true(WIFEXITED(extra_srv.exit_status));
	assert_int_equal(WEXITSTATUS(extra_srv.exit_status), 0);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

static void test_sigint_exits_zero(void **state)
{
	int status = -1;
	pid_t r = 0;

	(void)state;
	assert_int_equal(tsupport_server_start(&extra_srv, NULL), 0);
	assert_int_equal(kill(extra_srv.pid, SIGINT), 0);
	for (int i = 0; i < 1000 && (r = waitpid(extra_srv.pid, &status, WNOHANG)) == 0; i++)
		usleep(10000); /* bounded: 10 s */
	if (r == extra_srv.pid)
		extra_srv.pid = 0; /* reaped here: the teardown only removes its directory */
	assert_int_equal(extra_srv.pid, 0); /* it exited within the bound */
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- tsupport itself ---------------------------------------------------------------------- */

static void test_tsupport_run(void **state)
{
	const char *echo[] = {"sh", "-c", "printf 'a\\nb'; exit 3", NULL};
	const char *sleeper[] = {"sleep", "5", NULL};
	const char *missing[] = {"/nonexistent/program", NULL};
	const char *empty[] = {NULL};
	const char *many[40];
	struct tsupport_server s;
	char *out = NULL;
	int status = 0;

	(void)state;
	assert_int_equal(tsupport_run(echo, &out, &status), 0);
	assert_string_equal(out, "a\nb");
	assert_int_equal(WEXITSTATUS(status), 3);
	free(out);
	assert_int_equal(tsupport_run(missing, NULL, &status), 0);
	assert_int_equal(WEXITSTATUS(status), 127);
	assert_int_equal(tsupport_run_timeout(sleeper, 100, &out, &status), CRAWL_ETIMEDOUT);
	assert_null(out);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(tsupport_run(NULL, &out, &status), CRAWL_EINVAL);
	assert_int_equal(tsupport_run(empty, &out, &status), CRAWL_EINVAL);
	assert_int_equal(tsupport_run_timeout(echo, 0, &out, &status), CRAWL_EINVAL);
	for (int i = 0; i < 39; i++)
		many[i] = "--help";
	many[39] = NULL;
	assert_int_equal(tsupport_server_start(&s, many), CRAWL_EINVAL);
	assert_int_equal(tsupport_server_start(NULL, NULL), CRAWL_EINVAL);
	tsupport_server_stop(NULL);
}

static void test_tsupport_paths(void **state)
{
	const char *dir = getenv("CRAWL_BUILD");
	char want[256], *p = tsupport_build_path("testserver");

	(void)state;
	snprintf(want, sizeof(want), "%s/testserver", dir && *dir ? dir : "build");
	assert_string_equal(p, want);
	free(p);
	assert_null(tsupport_build_path(NULL));
	assert_memory_equal(main_srv.base, "http://127.0.0.1:", 17);
	assert_int_equal(atoi(main_srv.base + 17), main_srv.port);
	assert_int_equal(access(main_srv.dir, F_OK), 0);
}

/* Stops a test's own server even when the test failed half-way. */
static int extra_teardown(void **state)
{
	(void)state;
	tsupport_server_stop(&extra_srv);
	cur = &main_srv;
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return tsupport_server_start(&main_srv, NULL) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char dir[sizeof(main_srv.dir)];

	(void)state;
	memcpy(dir, main_srv.dir, sizeof(dir));
	tsupport_server_stop(&main_srv);
	/* a clean SIGTERM exit (and, under SAN=1, no leaks) after everything above */
	main_srv_clean = WIFEXITED(main_srv.exit_status) && WEXITSTATUS(main_srv.exit_status) == 0;
	if (!main_srv_clean)
		fprintf(stderr, "testserver exit status %#x\n", main_srv.exit_status);
	if (access(dir, F_OK) == 0) { /* its temp dir must be gone */
		fprintf(stderr, "tsupport left %s behind\n", dir);
		main_srv_clean = false;
	}
	return main_srv_clean ? 0 : -1;
}

#define OWN_SERVER_TEST(f) cmocka_unit_test_teardown(f, extra_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_page_content),
	    cmocka_unit_test(test_root_is_page_zero),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_site_has_exactly_pages),
	    OWN_SERVER_TEST(test_small_sites),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_delay),
	    cmocka_unit_test(test_redirects),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_slow),
	    cmocka_unit_test(test_reset),
	    cmocka_unit_test(test_huge_then_alive),
	    cmocka_unit_test(test_headers_echo),
	    cmocka_unit_test(test_robots_private_broken),
	    OWN_SERVER_TEST(test_robots_file_and_private_link),
	    cmocka_unit_test(test_refuses_non_loopback),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_max_seconds_and_announce),
	    OWN_SERVER_TEST(test_sigterm_with_requests_in_flight),
	    OWN_SERVER_TEST(test_sigint_exits_zero),
	    cmocka_unit_test(test_tsupport_run),
	    cmocka_unit_test(test_tsupport_paths),
	};

	int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);

	/* cmocka does not count a failed group teardown, so make it fail the binary here */
	return failed != 0 || !main_srv_clean ? 1 : 0;
}
