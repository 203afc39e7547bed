/* test_crawlctl.c - the real crawlctl binary against a fake crawld
 * (tests/fakecrawld.c): the requests it sends for each subcommand and
 * option, what it prints, and its exit statuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fakecrawld.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define REPLIES(...) ((const char *const[]){ __VA_ARGS__ })
#define NREPLIES(...) (sizeof(REPLIES(__VA_ARGS__)) / sizeof(const char *))
#define START(f, ...) fake_start((f), REPLIES(__VA_ARGS__), NREPLIES(__VA_ARGS__))

#define OK(result) "{\"id\":$ID,\"ok\":true,\"result\":" result "}"
#define ERR(code, msg) \
	"{\"id\":$ID,\"ok\":false,\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"
#define ITEM(obj) "{\"id\":$ID,\"item\":" obj "}"

#define SUBMIT_OK OK("{\"job\":42,\"state\":\"queued\"}")

struct fixture {
	struct fake *f;
	struct run r;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	if (!fx)
		return -1;
	fx->f = fake_new();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_run_clear(&fx->r);
	fake_free(fx->f);
	free(fx);
	return 0;
}

/* Runs crawlctl --socket <fake's socket> argv... into fx->r. */
static void ctl(struct fixture *fx, const struct spawn *sp, const char *const *argv)
{
	const char *full[64] = { "--socket", fake_socket(fx->f) };
	size_t n = 2;

	for (size_t i = 0; argv[i]; i++) {
		assert_true(n + 1 < sizeof full / sizeof full[0]);
		full[n++] = argv[i];
	}
	full[n] = NULL;
	fake_run_clear(&fx->r);
	fake_run(sp, &fx->r, full);
}

/* Request i is cmd with exactly these args (NULL: no "args" member). */
static void assert_request(struct fake *f, size_t i, const char *cmd, const char *args_json)
{
	json_t *req = fake_req(f, i);
	json_t *args = json_object_get(req, "args");
	json_t *want;

	assert_string_equal(json_string_value(json_object_get(req, "cmd")), cmd);
	assert_true(json_is_integer(json_object_get(req, "id")));
	if (!args_json) {
		assert_null(args);
		return;
	}
	want = json_loads(args_json, 0, NULL);
	assert_non_null(want);
	if (!json_equal(args, want)) {
		char *got = json_dumps(args, JSON_COMPACT);

		print_error("args: got %s, want %s\n", got ? got : "(none)", args_json);
		free(got);
		json_decref(want);
		fail();
	}
	json_decref(want);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

/* out is exactly one line per entry of want (NULL-terminated), each a
 * JSON value equal to the entry (numbers compared as values, not text). */
static void assert_json_lines(const char *out, const char *const *want)
{
	const char *p = out;
	size_t i = 0;

	for (; *p; i++) {
		const char *nl = strchr(p, '\n');
		json_t *got, *exp;

		assert_non_null(nl);
		assert_non_null(want[i]);
		got = json_loadb(p, (size_t)(nl - p), 0, NULL);
		exp = json_loads(want[i], 0, NULL);
		if (!got || !exp || !json_equal(got, exp))
			fail_msg("line %zu: got %.*s, want %s", i, (int)(nl - p), p, want[i]);
		json_decref(got);
		json_decref(exp);
		p = nl + 1;
	}
	assert_null(want[i]);
}

/* ---- submit ---- */

static void test_submit_depth_sim(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, SUBMIT_OK);
	ctl(fx, NULL, ARGV("submit", "--depth", "2", "--sim", "pages=100", "sim://h0.sim/"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "42\n");
	assert_int_equal(fake_nreqs(fx->f), 1);
	assert_request(fx->f, 0, "submit",
		       "{\"seeds\":[\"sim://h0.sim/\"],\"depth\":2,\"sim\":\"pages=100\"}");
	assert_int_equal(json_integer_value(json_object_get(fake_req(fx->f, 0), "id")), 1);
}

static void test_submit_every_option(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, SUBMIT_OK);
	ctl(fx, NULL,
	    ARGV("submit", "http://127.0.0.1:8080/", "--depth", "0", "--max-pages", "500",
		 "--max-bytes", "1048576", "--concurrency", "100000", "--per-host", "4",
		 "--delay", "250", "--domain", "example.org", "--domain", "example.net",
		 "--include", "^https?://[^/]+/docs/", "--exclude", "\\.pdf$", "--exclude",
		 "logout", "--sort-by", "status", "--priority", "-100", "--no-robots",
		 "--user-agent", "crawld-test/1.0", "--retries", "20", "--allow-private",
		 "http://127.0.0.1:8080/b"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "42\n");
	assert_request(fx->f, 0, "submit",
		       "{\"seeds\":[\"http://127.0.0.1:8080/\",\"http://127.0.0.1:8080/b\"],"
		       "\"depth\":0,\"max_pages\":500,\"max_bytes\":1048576,"
		       "\"concurrency\":100000,\"per_host\":4,\"delay_ms\":250,"
		       "\"domains\":[\"example.org\",\"example.net\"],"
		       "\"include\":[\"^https?://[^/]+/docs/\"],"
		       "\"exclude\":[\"\\\\.pdf$\",\"logout\"],\"sort_by\":\"status\","
		       "\"priority\":-100,\"obey_robots\":false,"
		       "\"user_agent\":\"crawld-test/1.0\",\"retries\":20,"
		       "\"allow_private\":true}");
}

static void test_submit_json(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, SUBMIT_OK);
	ctl(fx, NULL, ARGV("--json", "submit", "sim://h0.sim/"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "{\"job\":42,\"state\":\"queued\"}\n");
	/* --json after the subcommand too */
	ctl(fx, NULL, ARGV("submit", "sim://h0.sim/", "--json"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "{\"job\":42,\"state\":\"queued\"}\n");
}

static void test_submit_file_and_args(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/seeds.txt", fake_dir(fx->f));
	assert_non_null(fp = fopen(path, "w"));
	fputs("# seeds for the test\n\n   http://a.example/  \n\t# indented comment\n"
	      "http://b.example/x\r\n",
	      fp);
	assert_int_equal(fclose(fp), 0);
	START(fx->f, SUBMIT_OK);
	ctl(fx, NULL, ARGV("submit", "--file", path, "http://c.example/"));
	unlink(path);
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_request(fx->f, 0, "submit",
		       "{\"seeds\":[\"http://c.example/\",\"http://a.example/\","
		       "\"http://b.example/x\"]}");
}

static void test_submit_stdin(void **state)
{
	struct fixture *fx = *state;
	struct spawn sp = { .input = "http://a.example/\n# skip me\n\nhttp://b.example/\n" };

	START(fx->f, SUBMIT_OK);
	ctl(fx, &sp, ARGV("submit", "--depth", "1", "-"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "42\n");
	assert_request(fx->f, 0, "submit",
		       "{\"seeds\":[\"http://a.example/\",\"http://b.example/\"],\"depth\":1}");
}

static void test_submit_usage_errors(void **state)
{
	const struct {
		const char *input;
		const char *const *argv;
		const char *message;
	} cases[] = {
		{ NULL, ARGV("submit"), "expected at least one URL" },
		{ NULL, ARGV("submit", "--depth", "x", "http://a/"),
		  "--depth: expected an integer from 0 to 1000, got 'x'" },
		{ NULL, ARGV("submit", "--depth", "1001", "http://a/"), "from 0 to 1000" },
		{ NULL, ARGV("submit", "--depth", "2x", "http://a/"), "got '2x'" },
		{ NULL, ARGV("submit", "--concurrency", "0", "http://a/"),
		  "--concurrency: expected an integer from 1 to 100000" },
		{ NULL, ARGV("submit", "--priority", "-101", "http://a/"), "from -100 to 100" },
		{ NULL, ARGV("submit", "--retries", "21", "http://a/"), "from 0 to 20" },
		{ NULL, ARGV("submit", "--max-pages", "-1", "http://a/"), "--max-pages" },
		{ NULL, ARGV("submit", "--sort-by", "name", "http://a/"),
		  "--sort-by: expected url, status, time or size, got 'name'" },
		{ NULL, ARGV("submit", "--include", "(", "http://a/"), "--include '('" },
		{ NULL, ARGV("submit", "--user-agent", "", "http://a/"), "--user-agent" },
		{ NULL, ARGV("submit", "--bogus", "http://a/"), "unknown option '--bogus'" },
		{ NULL, ARGV("submit", "http://a/", "--depth"), "option '--depth' needs a value" },
		{ NULL, ARGV("submit", "ftp://a/"), "bad URL 'ftp://a/'" },
		{ NULL, ARGV("submit", "not a url"), "bad URL 'not a url'" },
		{ NULL, ARGV("submit", "-", "http://a/"), "'-' (read URLs from stdin) must be" },
		{ NULL, ARGV("submit", "--file", "/nonexistent/seeds"),
		  "cannot read URLs from /nonexistent/seeds" },
		{ "", ARGV("submit", "-"), "expected at least one URL" },
		{ "http://a/ http://b/\n", ARGV("submit", "-"),
		  "stdin: line 1: expected one URL per line" },
		{ "http://a/\nhttp://%zz/\n", ARGV("submit", "-"), "bad URL 'http://%zz/'" },
	};
	struct fixture *fx = *state;

	START(fx->f, SUBMIT_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct spawn sp = { .input = cases[i].input };

		ctl(fx, &sp, cases[i].argv);
		if (fx->r.status != 2)
			fail_msg("case %zu: status %d, stderr: %s", i, fx->r.status, fx->r.err);
		assert_contains(fx->r.err, "crawlctl submit: ");
		assert_contains(fx->r.err, cases[i].message);
		assert_contains(fx->r.err, "see crawlctl submit --help\n");
		assert_string_equal(fx->r.out, "");
	}
	assert_int_equal(fake_nconns(fx->f), 0);
	assert_int_equal(fake_nreqs(fx->f), 0);
}

/* ---- errors, connection, environment ---- */

static void test_error_reply(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, ERR("bad_field", "args.depth: expected an integer from 0 to 1000"));
	ctl(fx, NULL, ARGV("submit", "sim://h0.sim/"));
	assert_int_equal(fx->r.status, 1);
	assert_string_equal(fx->r.out, "");
	assert_string_equal(fx->r.err, "crawlctl: bad_field: args.depth: expected an integer "
				       "from 0 to 1000\n");
}

static void test_unavailable_no_socket(void **state)
{
	struct fixture *fx = *state;
	char want[512];

	ctl(fx, NULL, ARGV("list"));
	assert_int_equal(fx->r.status, 69);
	snprintf(want, sizeof want,
		 "crawlctl: cannot connect to crawld at %s: No such file or directory "
		 "(is crawld running?)\n",
		 fake_socket(fx->f));
	assert_string_equal(fx->r.err, want);
	assert_string_equal(fx->r.out, "");
}

static void test_unavailable_refused(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char want[512];

	/* bound but not listening: connect(2) is refused */
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", fake_socket(fx->f));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ctl(fx, NULL, ARGV("status", "3"));
	close(fd);
	unlink(fake_socket(fx->f));
	assert_int_equal(fx->r.status, 69);
	snprintf(want, sizeof want,
		 "crawlctl: cannot connect to crawld at %s: Connection refused "
		 "(is crawld running?)\n",
		 fake_socket(fx->f));
	assert_string_equal(fx->r.err, want);
}

static void test_env_socket(void **state)
{
	struct fixture *fx = *state;
	char env[256];
	struct spawn sp = { .env = (const char *const[]){ env, NULL } };

	START(fx->f, OK("{\"jobs\":[]}"));
	snprintf(env, sizeof env, "CRAWLD_SOCKET=%s", fake_socket(fx->f));
	fake_run_clear(&fx->r);
	fake_run(&sp, &fx->r, ARGV("list"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_int_equal(fake_nreqs(fx->f), 1);
	assert_request(fx->f, 0, "list", NULL);
	/* --socket wins over the environment */
	snprintf(env, sizeof env, "CRAWLD_SOCKET=/nonexistent/crawld.sock");
	ctl(fx, &sp, ARGV("list"));
	assert_int_equal(fx->r.status, 0);
	assert_int_equal(fake_nreqs(fx->f), 2);
	/* and without --socket, the environment's (missing) socket is used */
	fake_run_clear(&fx->r);
	fake_run(&sp, &fx->r, ARGV("list"));
	assert_int_equal(fx->r.status, 69);
	assert_contains(fx->r.err, "at /nonexistent/crawld.sock: ");
}

static void test_reply_timeout(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, "@HANG");
	ctl(fx, NULL, ARGV("--timeout", "100", "stats"));
	assert_int_equal(fx->r.status, 69);
	assert_contains(fx->r.err, "crawlctl: timed out waiting for crawld's reply");
	assert_int_equal(fake_nreqs(fx->f), 1);
}

static void test_closed_before_reply(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, "@CLOSE");
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 69);
	assert_contains(fx->r.err, "connection closed by crawld before the reply was complete");
}

static void test_bad_replies(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, "this is not json", "[1,2]", "{\"id\":$ID}", "@BIG");
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.err, "crawlctl: bad reply from crawld: ");
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.err, "not an object");
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.err, "neither item nor ok");
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.err, "crawlctl: reply line longer than 16777216 bytes");
}

static void test_refused_with_null_id(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"busy\","
		     "\"message\":\"too many clients\"}}\n@CLOSE");
	ctl(fx, NULL, ARGV("list"));
	assert_int_equal(fx->r.status, 1);
	assert_string_equal(fx->r.err, "crawlctl: busy: too many clients\n");
}

/* ---- list, status, pause/resume/cancel, stats, version ---- */

#define JOBS                                                                                 \
	"{\"jobs\":[{\"job\":42,\"state\":\"running\",\"priority\":0,\"seeds\":"          \
	"[\"http://127.0.0.1:8080/\"],\"pages\":120,\"errors\":3,\"queued\":40},"          \
	"{\"job\":7,\"state\":\"done\",\"priority\":-5,\"seeds\":[\"sim://h0.sim/\","      \
	"\"sim://h1.sim/\",\"sim://h2.sim/\"],\"pages\":3,\"errors\":0,\"queued\":0}]}"

static void test_list(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, OK(JOBS));
	ctl(fx, NULL, ARGV("list"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out,
			    "ID  STATE    PRI  PAGES  ERRORS  QUEUED  SEEDS\n"
			    "42  running    0    120       3      40  http://127.0.0.1:8080/\n"
			    " 7  done      -5      3       0       0  sim://h0.sim/ (+2)\n");
	assert_request(fx->f, 0, "list", NULL);
	ctl(fx, NULL, ARGV("list", "--json"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, JOBS "\n");
	ctl(fx, NULL, ARGV("list", "extra"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl list: unexpected argument 'extra'");
	assert_int_equal(fake_nreqs(fx->f), 2);
}

static void test_status(void **state)
{
	struct fixture *fx = *state;

	START(fx->f,
	      OK("{\"job\":42,\"state\":\"running\",\"pages\":120,\"errors\":3,"
		 "\"bytes\":1048576,\"queued\":40,\"in_flight\":8,\"rate\":12.25,"
		 "\"elapsed\":9.5}"),
	      OK("{\"uptime\":3600,\"version\":\"0.1.0\",\"running\":1,\"queued\":2,"
		 "\"jobs\":5,\"clients\":1}"));
	ctl(fx, NULL, ARGV("status", "42"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "job:       42\n"
				       "state:     running\n"
				       "pages:     120\n"
				       "errors:    3\n"
				       "bytes:     1048576\n"
				       "queued:    40\n"
				       "in_flight: 8\n"
				       "rate:      12.25\n"
				       "elapsed:   9.5\n");
	assert_request(fx->f, 0, "status", "{\"job\":42}");
	ctl(fx, NULL, ARGV("status"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "version: 0.1.0\n"
				       "uptime:  3600\n"
				       "running: 1\n"
				       "queued:  2\n"
				       "jobs:    5\n"
				       "clients: 1\n");
	assert_request(fx->f, 1, "status", NULL);
	ctl(fx, NULL, ARGV("status", "0"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "expected a job id (a positive integer), got '0'");
	ctl(fx, NULL, ARGV("status", "1", "2"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "unexpected argument '2'");
	assert_int_equal(fake_nreqs(fx->f), 2);
}

static void test_pause_resume_cancel(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, OK("{\"job\":42,\"state\":\"paused\"}"),
	      OK("{\"job\":42,\"state\":\"running\"}"),
	      OK("{\"job\":42,\"state\":\"cancelled\"}"),
	      ERR("bad_state", "job 42 is cancelled"));
	ctl(fx, NULL, ARGV("pause", "42"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "paused\n");
	ctl(fx, NULL, ARGV("resume", "42"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "running\n");
	ctl(fx, NULL, ARGV("cancel", "42"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "cancelled\n");
	ctl(fx, NULL, ARGV("pause", "42"));
	assert_int_equal(fx->r.status, 1);
	assert_string_equal(fx->r.err, "crawlctl: bad_state: job 42 is cancelled\n");
	assert_request(fx->f, 0, "pause", "{\"job\":42}");
	assert_request(fx->f, 1, "resume", "{\"job\":42}");
	assert_request(fx->f, 2, "cancel", "{\"job\":42}");
	ctl(fx, NULL, ARGV("cancel"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl cancel: expected a job id\nsee crawlctl cancel --help");
	ctl(fx, NULL, ARGV("resume", "x1"));
	assert_int_equal(fx->r.status, 2);
	assert_int_equal(fake_nreqs(fx->f), 4);
}

static void test_stats_and_version(void **state)
{
	struct fixture *fx = *state;

	START(fx->f,
	      OK("{\"pages_total\":1000,\"pages_per_s\":50.5,\"jobs\":{\"running\":2,"
		 "\"done\":5},\"clients\":1,\"uptime\":60,\"rss_bytes\":4096}"),
	      OK("{\"version\":\"0.1.0\",\"libcurl\":\"7.88.1\",\"libevent\":\"2.1.12\","
		 "\"sqlite\":\"3.40.1\"}"));
	ctl(fx, NULL, ARGV("stats"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "pages_total:  1000\n"
				       "pages_per_s:  50.5\n"
				       "jobs.running: 2\n"
				       "jobs.done:    5\n"
				       "clients:      1\n"
				       "uptime:       60\n"
				       "rss_bytes:    4096\n");
	assert_request(fx->f, 0, "stats", NULL);
	ctl(fx, NULL, ARGV("version"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "crawlctl: 0.1.0\n"
				       "crawld:   0.1.0\n"
				       "libcurl:  7.88.1\n"
				       "libevent: 2.1.12\n"
				       "sqlite:   3.40.1\n");
	assert_request(fx->f, 1, "version", NULL);
}

/* ---- results ---- */

#define RESULT_A                                                                             \
	"{\"url\":\"http://a/\",\"final_url\":\"http://a/\",\"status\":200,\"depth\":0,"   \
	"\"referrer\":null,\"content_type\":\"text/html\",\"bytes\":8123,\"fetch_ms\":2.1," \
	"\"links\":10,\"error\":null}"
#define RESULT_B                                                                             \
	"{\"url\":\"http://a/missing\",\"status\":404,\"depth\":1,\"bytes\":0,"            \
	"\"fetch_ms\":1.25,\"links\":0,\"error\":null}"
#define RESULT_C                                                                             \
	"{\"url\":\"http://a/slow\\u001b[2J\",\"status\":0,\"depth\":1,\"bytes\":0,"      \
	"\"fetch_ms\":30000,\"links\":0,\"error\":\"timed out\"}"

static void test_results_table(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, ITEM(RESULT_A) "\n" ITEM(RESULT_B) "\n" ITEM(RESULT_C) "\n" OK("{\"count\":3}"));
	ctl(fx, NULL, ARGV("results", "5"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	/* the escape sequence in the URL arrives as '?', never raw */
	assert_string_equal(fx->r.out,
			    "STATUS  DEPTH       BYTES         MS  URL\n"
			    "   200      0        8123        2.1  http://a/\n"
			    "   404      1           0        1.2  http://a/missing\n"
			    "   ERR      1           0    30000.0  http://a/slow?[2J  (timed out)\n");
	assert_request(fx->f, 0, "results", "{\"job\":5}");
}

static void test_results_json_sorted(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, "{\"id\":999,\"item\":{\"url\":\"stale\"}}\n"
		     ITEM(RESULT_A) "\n" ITEM(RESULT_B) "\n" ITEM(RESULT_C) "\n"
		     OK("{\"count\":3}"));
	ctl(fx, NULL, ARGV("results", "--sort-by", "size", "--json", "5"));
	assert_int_equal(fx->r.status, 0);
	assert_request(fx->f, 0, "results", "{\"job\":5,\"sort_by\":\"size\"}");
	/* one object per line, the items as sent, in order; the stale id is skipped */
	assert_json_lines(fx->r.out, (const char *const[]){ RESULT_A, RESULT_B, RESULT_C, NULL });
	ctl(fx, NULL, ARGV("results", "--sort-by", "depth", "5"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "--sort-by: expected url, status, time or size, got 'depth'");
}

static void test_results_closed_midstream(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, ITEM(RESULT_A) "\n" ITEM(RESULT_B) "\n@CLOSE");
	ctl(fx, NULL, ARGV("results", "5"));
	assert_int_equal(fx->r.status, 69);
	assert_contains(fx->r.out, "http://a/missing\n");
	assert_contains(fx->r.err, "crawlctl: connection closed by crawld before the reply was "
				   "complete");
}

/* ---- wait ---- */

#define RUNNING(pages, queued)                                                              \
	OK("{\"job\":9,\"state\":\"running\",\"pages\":" #pages ",\"errors\":0,\"bytes\":1024," \
	   "\"queued\":" #queued ",\"in_flight\":2,\"rate\":2.5,\"elapsed\":2.0}")
#define ENDED(state, extra)                                                                 \
	OK("{\"job\":9,\"state\":\"" state "\",\"pages\":10,\"errors\":1,\"bytes\":2048,"    \
	   "\"queued\":0,\"in_flight\":0,\"rate\":2.5,\"elapsed\":4.0" extra "}")

static void test_wait_done_pipe(void **state)
{
	static const char first[] = "job 9: running, 5 done, 5 queued, 2.5 pages/s, 0 errors\n";
	struct fixture *fx = *state;
	size_t n;

	START(fx->f, RUNNING(5, 5), RUNNING(6, 4), RUNNING(8, 2), ENDED("done", ""));
	ctl(fx, NULL, ARGV("wait", "--interval", "10", "9"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	/* the first line at once; the quick changes after it are folded
	 * (at most a line a second); the end always */
	n = strlen(first);
	assert_true(strncmp(fx->r.out, first, n) == 0);
	assert_contains(fx->r.out, "job 9: done, 10 pages, 1 error, 2048 bytes, 4.0 s\n");
	assert_null(strchr(fx->r.out, '\r'));
	assert_int_equal(fake_nreqs(fx->f), 4);
	for (size_t i = 0; i < 4; i++)
		assert_request(fx->f, i, "status", "{\"job\":9}");
	assert_int_equal(fake_nconns(fx->f), 1); /* one connection, ids 1..4 */
	assert_int_equal(json_integer_value(json_object_get(fake_req(fx->f, 3), "id")), 4);
}

static void test_wait_failed_or_cancelled(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, RUNNING(1, 1), ENDED("failed", ",\"error\":\"store full\""),
	      ENDED("cancelled", ""));
	ctl(fx, NULL, ARGV("wait", "--interval", "10", "9"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.out, "job 9: failed, 10 pages, 1 error, 2048 bytes, 4.0 s: "
				   "store full\n");
	ctl(fx, NULL, ARGV("wait", "9"));
	assert_int_equal(fx->r.status, 1);
	assert_string_equal(fx->r.out, "job 9: cancelled, 10 pages, 1 error, 2048 bytes, 4.0 s\n");
	ctl(fx, NULL, ARGV("--json", "wait", "9"));
	assert_int_equal(fx->r.status, 1);
	assert_contains(fx->r.out, "{\"job\":9,\"state\":\"cancelled\"");
}

static void test_wait_tty_bar(void **state)
{
	struct fixture *fx = *state;
	struct spawn sp = { .pty = true };

	START(fx->f, RUNNING(5, 5), ENDED("done", ""));
	ctl(fx, &sp, ARGV("wait", "--interval", "10", "9"));
	assert_int_equal(fx->r.status, 0);
	assert_contains(fx->r.out, "\r[###############...............] 5 done, 5 queued, "
				   "2.5 pages/s, 0 errors\033[K");
	assert_contains(fx->r.out, "\r[##############################] 10 done, 0 queued, "
				   "2.5 pages/s, 1 error\033[K\n"
				   "job 9: done, 10 pages, 1 error, 2048 bytes, 4.0 s\n");
}

static void test_wait_sigint(void **state)
{
	struct fixture *fx = *state;
	struct spawn sp = { .sigint_on = "job 9: running" };

	START(fx->f, RUNNING(1, 100));
	ctl(fx, &sp, ARGV("wait", "--interval", "10", "9"));
	assert_int_equal(fx->r.status, 130);
	assert_contains(fx->r.err, "stopped waiting; job 9 goes on");
	/* only status requests: the job is left alone */
	for (size_t i = 0; i < fake_nreqs(fx->f); i++)
		assert_request(fx->f, i, "status", "{\"job\":9}");
}

static void test_wait_usage(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, RUNNING(1, 1));
	ctl(fx, NULL, ARGV("wait"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl wait: expected a job id");
	ctl(fx, NULL, ARGV("wait", "--interval", "5", "9"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "--interval: expected milliseconds from 10 to 60000, got '5'");
	assert_int_equal(fake_nreqs(fx->f), 0);
}

/* ---- logs ---- */

#define LOG_ERROR                                                                            \
	"{\"time\":1764000000.123,\"level\":\"error\",\"job\":42,\"url\":\"http://a/x\","  \
	"\"code\":null,\"message\":\"fetch failed\"}"
#define LOG_WARNING                                                                          \
	"{\"time\":1764000001,\"level\":\"warning\",\"job\":42,\"url\":null,"                \
	"\"code\":null,\"message\":\"slow host\"}"
#define LOG_INFO                                                                             \
	"{\"time\":1764000002,\"level\":\"info\",\"job\":null,\"message\":\"started\"}"
#define LOG_DEBUG                                                                            \
	"{\"time\":1764000003,\"level\":\"debug\",\"job\":7,\"message\":\"tick\"}"
#define LOGS ITEM(LOG_ERROR) "\n" ITEM(LOG_WARNING) "\n" ITEM(LOG_INFO) "\n" ITEM(LOG_DEBUG)

static void test_logs_fields_and_lines(void **state)
{
	struct fixture *fx = *state;

	START(fx->f, LOGS "\n" OK("{\"count\":4}"));
	ctl(fx, NULL,
	    ARGV("logs", "--job", "42", "--level", "warning", "--since", "1764000000", "--grep",
		 "fetch"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_request(fx->f, 0, "logs",
		       "{\"job\":42,\"level\":\"warning\",\"since\":1764000000,\"grep\":\"fetch\"}");
	/* TZ=UTC in the child; no colours on a pipe */
	assert_string_equal(fx->r.out,
			    "2025-11-24 16:00:00  error    42     fetch failed"
			    "                              http://a/x\n"
			    "2025-11-24 16:00:01  warning  42     slow host\n"
			    "2025-11-24 16:00:02  info     -      started\n"
			    "2025-11-24 16:00:03  debug    7      tick\n");
	ctl(fx, NULL, ARGV("logs", "--json"));
	assert_int_equal(fx->r.status, 0);
	assert_request(fx->f, 1, "logs", NULL);
	assert_json_lines(fx->r.out, (const char *const[]){ LOG_ERROR, LOG_WARNING, LOG_INFO,
							    LOG_DEBUG, NULL });
}

static void test_logs_since_forms(void **state)
{
	struct fixture *fx = *state;
	double since;
	time_t now;

	START(fx->f, OK("{\"count\":0}"));
	ctl(fx, NULL, ARGV("logs", "--since", "2026-11-25T10:00:00"));
	assert_int_equal(fx->r.status, 0);
	assert_request(fx->f, 0, "logs", "{\"since\":1795600800}");
	ctl(fx, NULL, ARGV("logs", "--since", "1764000000.5"));
	assert_request(fx->f, 1, "logs", "{\"since\":1764000000.5}");
	now = time(NULL);
	ctl(fx, NULL, ARGV("logs", "--since", "10m"));
	assert_int_equal(fx->r.status, 0);
	since = json_number_value(json_object_get(json_object_get(fake_req(fx->f, 2), "args"),
						  "since"));
	/* ten minutes before a "now" taken around the run (a generous margin) */
	assert_true(since >= (double)now - 600 - 120 && since <= (double)now - 600 + 120);
	ctl(fx, NULL, ARGV("logs", "--since", "yesterday"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "--since: expected a Unix time");
	ctl(fx, NULL, ARGV("logs", "--level", "loud"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "--level: expected debug, info, notice, warning or error");
	ctl(fx, NULL, ARGV("logs", "--job", "-3"));
	assert_int_equal(fx->r.status, 2);
	assert_int_equal(fake_nreqs(fx->f), 3);
}

static void test_logs_colours(void **state)
{
	struct fixture *fx = *state;
	struct spawn tty = { .pty = true };
	struct spawn tty_nocolor = { .pty = true, .env = ARGV("NO_COLOR=1") };

	START(fx->f, LOGS "\n" OK("{\"count\":4}"));
	ctl(fx, &tty, ARGV("logs"));
	assert_int_equal(fx->r.status, 0);
	assert_contains(fx->r.out, "\033[31m2025-11-24 16:00:00  error ");
	assert_contains(fx->r.out, "http://a/x\033[0m\n");
	assert_contains(fx->r.out, "\033[33m2025-11-24 16:00:01  warning");
	assert_contains(fx->r.out, "\033[2m2025-11-24 16:00:03  debug");
	assert_contains(fx->r.out, "\n2025-11-24 16:00:02  info     -      started\n");
	ctl(fx, &tty_nocolor, ARGV("logs"));
	assert_int_equal(fx->r.status, 0);
	assert_null(strchr(fx->r.out, '\033'));
	assert_contains(fx->r.out, "2025-11-24 16:00:01  warning  42     slow host\n");
}

static void test_logs_follow_sigint(void **state)
{
	struct fixture *fx = *state;
	struct spawn sp = { .sigint_on = "slow host\n" };

	START(fx->f, ITEM(LOG_ERROR) "\n" ITEM(LOG_WARNING) "\n@HANG");
	/* a reply timeout must not end a follow */
	ctl(fx, &sp, ARGV("--timeout", "50", "logs", "-f", "--job", "42"));
	assert_string_equal(fx->r.err, "");
	assert_int_equal(fx->r.status, 0);
	assert_contains(fx->r.out, "fetch failed");
	assert_contains(fx->r.out, "slow host\n");
	assert_request(fx->f, 0, "logs", "{\"follow\":true,\"job\":42}");
}

/* ---- help, version, global usage ---- */

static void test_help_everywhere(void **state)
{
	static const char *const cmds[] = { "submit", "list",    "status", "wait",
					    "pause",  "resume",  "cancel", "results",
					    "logs",   "stats",   "version" };
	struct fixture *fx = *state;
	char want[64];

	ctl(fx, NULL, ARGV("--help"));
	assert_int_equal(fx->r.status, 0);
	assert_contains(fx->r.out, "usage: crawlctl [--socket PATH]");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		snprintf(want, sizeof want, "\n  %-8s ", cmds[i]);
		assert_contains(fx->r.out, want);
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		ctl(fx, NULL, ARGV(cmds[i], "--help"));
		assert_int_equal(fx->r.status, 0);
		snprintf(want, sizeof want, "usage: crawlctl %s ", cmds[i]);
		assert_true(strncmp(fx->r.out, want, strlen(want)) == 0);
		assert_string_equal(fx->r.err, "");
	}
	ctl(fx, NULL, ARGV("--version"));
	assert_int_equal(fx->r.status, 0);
	assert_string_equal(fx->r.out, "crawlctl 0.1.0\n");
}

static void test_global_usage(void **state)
{
	struct fixture *fx = *state;
	char path[200];

	ctl(fx, NULL, ARGV(NULL));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl: expected a command");
	assert_contains(fx->r.err, "see crawlctl --help\n");
	ctl(fx, NULL, ARGV("frobnicate"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl: unknown command 'frobnicate'");
	ctl(fx, NULL, ARGV("--timeout", "soon", "list"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "--timeout: expected milliseconds");
	ctl(fx, NULL, ARGV("--verbose", "list"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "crawlctl: unknown option '--verbose'");
	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	ctl(fx, NULL, ARGV("--socket", path, "list"));
	assert_int_equal(fx->r.status, 2);
	assert_contains(fx->r.err, "longer than 107 bytes");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_submit_depth_sim),
		T(test_submit_every_option),
		T(test_submit_json),
		T(test_submit_file_and_args),
		T(test_submit_stdin),
		T(test_submit_usage_errors),
		T(test_error_reply),
		T(test_unavailable_no_socket),
		T(test_unavailable_refused),
		T(test_env_socket),
		T(test_reply_timeout),
		T(test_closed_before_reply),
		T(test_bad_replies),
		T(test_refused_with_null_id),
		T(test_list),
		T(test_status),
		T(test_pause_resume_cancel),
		T(test_stats_and_version),
		T(test_results_table),
		T(test_results_json_sorted),
		T(test_results_closed_midstream),
		T(test_wait_done_pipe),
		T(test_wait_failed_or_cancelled),
		T(test_wait_tty_bar),
		T(test_wait_sigint),
		T(test_wait_usage),
		T(test_logs_fields_and_lines),
		T(test_logs_since_forms),
		T(test_logs_colours),
		T(test_logs_follow_sigint),
		T(test_help_everywhere),
		T(test_global_usage),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
