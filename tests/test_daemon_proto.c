/* The control protocol of the real crawld over raw Unix socket connections: every kind of
 * bad request gets its error code and leaves the connection usable (too_long closes it);
 * a refused peer (forbidden), too many clients (busy), hundreds of clients at once, and
 * clients that vanish in the middle of a stream. A job accepted first goes on unharmed. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dharness.h"

#define WAIT_MS 20000
#define NOBODY 65534

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct dh_daemon));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dh_destroy(*state);
	free(*state);
	return 0;
}

static void start(struct dh_daemon *d, const char *const *extra)
{
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);
}

static const char *err_code(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *err_message(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "message"));
}

/* One bad request and what must come back: the code, a piece of the message, and the id
 * echoed (a JSON text; "null" when the request had none usable). */
struct bad {
	const char *line, *code, *msg, *id;
};

#define SUBMIT(extra)                                                                              \
	"{\"id\":9,\"cmd\":\"submit\",\"args\":{\"seeds\":[\"http://127.0.0.1/\"]" extra "}}"

static const struct bad bad_requests[] = {
    {"hello", "bad_json", "not a JSON object", "null"},
    {"[1,2,3]", "bad_json", "another JSON type", "null"},
    {"{\"id\":1,\"cmd\":\"version\"", "bad_json", "", "null"},
    {"{\"id\":1,\"id\":2,\"cmd\":\"version\"}", "bad_json", "duplicate", "null"},
    {"{\"id\":1,\"cmd\":\"v\xff\"}", "bad_json", "", "null"},
    {"{\"cmd\":\"version\"}", "bad_request", "\"id\"", "null"},
    {"{\"id\":[1],\"cmd\":\"version\"}", "bad_request", "\"id\"", "null"},
    {"{\"id\":true,\"cmd\":\"version\"}", "bad_request", "\"id\"", "null"},
    {"{\"id\":2,\"cmd\":7}", "bad_request", "\"cmd\"", "2"},
    {"{\"id\":3}", "bad_request", "\"cmd\"", "3"},
    {"{\"id\":4,\"cmd\":\"version\",\"args\":[1]}", "bad_request", "\"args\"", "4"},
    {"{\"id\":4,\"cmd\":\"version\",\"args\":null}", "bad_request", "\"args\"", "4"},
    {"{\"id\":\"five\",\"cmd\":\"explode\"}", "unknown_command", "explode", "\"five\""},
    {"{\"id\":6,\"cmd\":\"submit\"}", "bad_field", "args.seeds", "6"},
    {"{\"id\":7,\"cmd\":\"submit\",\"args\":{\"seeds\":\"http://127.0.0.1/\"}}", "bad_field",
     "args.seeds", "7"},
    {"{\"id\":8,\"cmd\":\"submit\",\"args\":{\"seeds\":[]}}", "bad_field", "args.seeds", "8"},
    {"{\"id\":8,\"cmd\":\"submit\",\"args\":{\"seeds\":[5]}}", "bad_field", "args.seeds[0]", "8"},
    {SUBMIT(",\"depth\":\"3\""), "bad_field", "args.depth", "9"},
    {SUBMIT(",\"depth\":1001"), "bad_field", "args.depth", "9"},
    {SUBMIT(",\"max_pages\":-1"), "bad_field", "args.max_pages", "9"},
    {SUBMIT(",\"max_bytes\":-5"), "bad_field", "args.max_bytes", "9"},
    {SUBMIT(",\"delay_ms\":-1"), "bad_field", "args.delay_ms", "9"},
    {SUBMIT(",\"concurrency\":0"), "bad_field", "args.concurrency", "9"},
    {SUBMIT(",\"retries\":21"), "bad_field", "args.retries", "9"},
    {SUBMIT(",\"priority\":101"), "bad_field", "args.priority", "9"},
    {SUBMIT(",\"sort_by\":\"colour\""), "bad_field", "args.sort_by", "9"},
    {SUBMIT(",\"obey_robots\":\"yes\""), "bad_field", "args.obey_robots", "9"},
    {SUBMIT(",\"allow_private\":1"), "bad_field", "args.allow_private", "9"},
    {SUBMIT(",\"user_agent\":42"), "bad_field", "args.user_agent", "9"},
    {SUBMIT(",\"sim\":\"pages=abc\""), "bad_field", "args.sim", "9"},
    {SUBMIT(",\"include\":[\"(\"]"), "bad_field", "args.include[0]", "9"},
    {SUBMIT(",\"exclude\":[\"a\",\"[z\"]"), "bad_field", "args.exclude[1]", "9"},
    {SUBMIT(",\"domains\":[\"bad host!\"]"), "bad_field", "args.domains[0]", "9"},
    {"{\"id\":10,\"cmd\":\"submit\",\"args\":{\"seeds\":[\"not a url\"]}}", "bad_url",
     "args.seeds[0]", "10"},
    {"{\"id\":10,\"cmd\":\"submit\",\"args\":{\"seeds\":[\"http://127.0.0.1/\","
     "\"ftp://127.0.0.1/x\"]}}",
     "bad_url", "args.seeds[1]", "10"},
    {"{\"id\":11,\"cmd\":\"status\",\"args\":{\"job\":\"1\"}}", "bad_field", "args.job", "11"},
    {"{\"id\":11,\"cmd\":\"status\",\"args\":{\"job\":0}}", "bad_field", "args.job", "11"},
    {"{\"id\":12,\"cmd\":\"status\",\"args\":{\"job\":99}}", "not_found", "no job 99", "12"},
    {"{\"id\":12,\"cmd\":\"pause\",\"args\":{}}", "bad_field", "args.job", "12"},
    {"{\"id\":12,\"cmd\":\"cancel\",\"args\":{\"job\":99}}", "not_found", "99", "12"},
    {"{\"id\":13,\"cmd\":\"results\",\"args\":{\"job\":1,\"sort_by\":5}}", "bad_field",
     "args.sort_by", "13"},
    {"{\"id\":13,\"cmd\":\"results\",\"args\":{\"job\":99}}", "not_found", "99", "13"},
    {"{\"id\":14,\"cmd\":\"logs\",\"args\":{\"level\":\"loud\"}}", "bad_field", "args.level", "14"},
    {"{\"id\":14,\"cmd\":\"logs\",\"args\":{\"since\":\"yesterday\"}}", "bad_field", "args.since",
     "14"},
    {"{\"id\":14,\"cmd\":\"logs\",\"args\":{\"job\":-1}}", "bad_field", "args.job", "14"},
    {"{\"id\":14,\"cmd\":\"logs\",\"args\":{\"grep\":[\"x\"]}}", "bad_field", "args.grep", "14"},
};

static void check_bad(struct dh_conn *c, const struct bad *b)
{
	json_t *r = dh_conn_call(c, b->line, NULL);
	if (!r)
		fail_msg("no reply to %s", b->line);
	char *id = json_dumps(json_object_get(r, "id"), JSON_ENCODE_ANY);
	const char *code = err_code(r), *msg = err_message(r);
	if (json_is_true(json_object_get(r, "ok")) || !code || strcmp(code, b->code) != 0 || !msg ||
	    !strstr(msg, b->msg) || !id || strcmp(id, b->id) != 0)
		fail_msg("%s: got id %s, %s: %s (want id %s, %s: ...%s...)", b->line, id ? id : "-",
		         code ? code : "-", msg ? msg : "-", b->id, b->code, b->msg);
	free(id);
	json_decref(r);
}

static json_t *call_ok(struct dh_conn *c, const char *line)
{
	json_t *r = dh_conn_call(c, line, NULL);
	if (!r || !json_is_true(json_object_get(r, "ok")))
		fail_msg("%s: no ok reply (%s)", line, r ? err_message(r) : "none");
	return r;
}

static void test_bad_requests(void **state)
{
	struct dh_daemon *d = *state;
	struct dh_conn *c = NULL;
	start(d, NULL);
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	json_t *r =
	    call_ok(c, "{\"id\":1,\"cmd\":\"submit\",\"args\":{\"seeds\":[\"sim://h0.sim/\"],"
	               "\"sim\":\"pages=300,latency=fixed:1,offsite=0,broken=0\","
	               "\"depth\":20,\"concurrency\":4}}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "job")),
	                 1);
	json_decref(r);
	for (size_t i = 0; i < sizeof bad_requests / sizeof *bad_requests; i++)
		check_bad(c, &bad_requests[i]);
	/* Blank lines get no reply; an id may be any number or a string. */
	assert_int_equal(dh_conn_write(c, "\n\r\n", 3), 0);
	r = call_ok(c, "{\"id\":1.5,\"cmd\":\"version\"}");
	assert_true(json_real_value(json_object_get(r, "id")) == 1.5);
	json_decref(r);
	r = call_ok(c, "{\"id\":\"x y\",\"cmd\":\"version\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "x y");
	json_decref(r);

	/* The job accepted first is unaffected, and no other job was made. */
	assert_true(dh_wait_state(d, 1, "done", WAIT_MS));
	assert_int_equal(dh_job_int(d, 1, "pages"), 300);
	r = call_ok(c, "{\"id\":20,\"cmd\":\"list\"}");
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "jobs")), 1);
	json_decref(r);
	struct bad done[] = {
	    {"{\"id\":21,\"cmd\":\"pause\",\"args\":{\"job\":1}}", "bad_state", "done", "21"},
	    {"{\"id\":22,\"cmd\":\"resume\",\"args\":{\"job\":1}}", "bad_state", "done", "22"},
	    {"{\"id\":23,\"cmd\":\"cancel\",\"args\":{\"job\":1}}", "bad_state", "done", "23"},
	};
	for (size_t i = 0; i < 3; i++)
		check_bad(c, &done[i]);
	int items = 0;
	r = dh_conn_call(c, "{\"id\":24,\"cmd\":\"results\",\"args\":{\"job\":1}}", &items);
	assert_int_equal(items, 300);
	json_decref(r);
	dh_conn_close(c);
	assert_true(dh_stop_clean(d));
}

/* A line of exactly n bytes: a version request padded with blanks. */
static char *line_of(size_t n)
{
	static const char req[] = "{\"id\":1,\"cmd\":\"version\"}";
	char *s = malloc(n + 2);
	assert_non_null(s);
	memset(s, ' ', n);
	memcpy(s, req, sizeof req - 1);
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

/* Sends bytes on a fresh connection: too_long comes back, then the connection closes. */
static void expect_too_long(struct dh_daemon *d, const char *bytes, size_t len)
{
	struct dh_conn *c = NULL;
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	dh_conn_write(c, bytes, len); /* may fail part-way once the daemon has closed */
	json_t *r = dh_conn_read(c, 10000, NULL);
	assert_non_null(r);
	assert_string_equal(err_code(r), "too_long");
	assert_non_null(strstr(err_message(r), "1024"));
	json_decref(r);
	assert_true(dh_conn_wait_eof(c, 10000));
	dh_conn_close(c);
}

static void test_too_long(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.max_line=1024", NULL};
	struct dh_conn *c = NULL;
	start(d, extra);
	int64_t job =
	    dh_submit(d, "sim://h0.sim/", "--sim", "pages=200,latency=fixed:2,offsite=0,broken=0",
	              "--depth", "20", "--concurrency", "4", NULL);
	assert_int_equal(job, 1);
	/* 1024 bytes is the limit, and allowed. */
	char *ok = line_of(1024), *over = line_of(1025), *huge = line_of(200000);
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	json_t *r = call_ok(c, ok);
	json_decref(r);
	dh_conn_close(c);
	expect_too_long(d, over, strlen(over));
	expect_too_long(d, huge, strlen(huge));
	/* No newline at all: refused once more than the limit is buffered. */
	expect_too_long(d, huge, 1500);
	/* Requests before the long line are answered first. */
	char two[1200 + 64];
	snprintf(two, sizeof two, "{\"id\":7,\"cmd\":\"version\"}\n%s", over);
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	assert_int_equal(dh_conn_write(c, two, strlen(two)), 0);
	r = dh_conn_read(c, 10000, NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = dh_conn_read(c, 10000, NULL);
	assert_string_equal(err_code(r), "too_long");
	json_decref(r);
	assert_true(dh_conn_wait_eof(c, 10000));
	dh_conn_close(c);
	free(ok);
	free(over);
	free(huge);
	assert_true(dh_wait_state(d, job, "done", WAIT_MS));
	assert_int_equal(dh_job_int(d, job, "pages"), 200);
	assert_true(dh_stop_clean(d));
}

/* ---- peers ---- */

/* In a child, as nobody (uid 65534, gid gid): connects, sends version and reads one line.
 * Exits 0 if the reply's error code is want (or the reply is ok when want is NULL) and, for
 * an error, the connection then closes. */
static void nobody_client(const char *sock, gid_t gid, const char *want)
{
	struct dh_conn *c = NULL;
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(NOBODY) != 0)
		_exit(10);
	if (dh_conn_open(&c, sock) != 0)
		_exit(11);
	dh_conn_write(c, "{\"id\":1,\"cmd\":\"version\"}\n", 25);
	json_t *r = dh_conn_read(c, 10000, NULL);
	if (!r)
		_exit(12);
	const char *code = err_code(r);
	if (want ? !code || strcmp(code, want) != 0 : !json_is_true(json_object_get(r, "ok")))
		_exit(13);
	if (want && !dh_conn_wait_eof(c, 10000))
		_exit(14);
	_exit(0);
}

static int run_as_nobody(const char *sock, gid_t gid, const char *want)
{
	int st = -1;
	pid_t pid = fork();
	if (pid == 0)
		nobody_client(sock, gid, want);
	if (pid < 0)
		return -1;
	for (long long end = dh_now_ms() + WAIT_MS; dh_now_ms() < end; dh_sleep_ms(5))
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void test_forbidden_peer(void **state)
{
	struct dh_daemon *d = *state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_forbidden_peer: skipped (needs root to connect as nobody)\n");
		skip();
	}
	struct group *g = getgrgid(NOBODY);
	const char *extra[] = {"--set", "daemon.socket_mode=0666", NULL};
	start(d, extra);
	assert_int_equal(run_as_nobody(d->sock, NOBODY, "forbidden"), 0);
	json_t *r = dh_call(d, "{\"id\":1,\"cmd\":\"version\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_true(dh_stop_clean(d));
	if (!g) {
		fprintf(stderr, "test_forbidden_peer: no group %d, group access not tried\n",
		        NOBODY);
		return;
	}
	/* A member of [daemon] group may connect. */
	char group[64];
	snprintf(group, sizeof group, "daemon.group=%s", g->gr_name);
	const char *more[] = {"--set", group, NULL};
	assert_int_equal(dh_add_args(d, more), 0);
	assert_int_equal(dh_start(d), 0);
	assert_int_equal(run_as_nobody(d->sock, NOBODY, NULL), 0);
	assert_true(dh_stop_clean(d));
}

static void test_busy(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.max_clients=4", NULL};
	struct dh_conn *c[5] = {0};
	start(d, extra);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(dh_conn_open(&c[i], d->sock), 0);
		json_decref(call_ok(c[i], "{\"id\":1,\"cmd\":\"version\"}"));
	}
	assert_int_equal(dh_conn_open(&c[4], d->sock), 0);
	json_t *r = dh_conn_read(c[4], 10000, NULL);
	assert_string_equal(err_code(r), "busy");
	json_decref(r);
	assert_true(dh_conn_wait_eof(c[4], 10000));
	dh_conn_close(c[4]);
	/* Once one leaves, a newcomer is served. */
	dh_conn_close(c[0]);
	int served = 0;
	for (long long end = dh_now_ms() + WAIT_MS; !served && dh_now_ms() < end; dh_sleep_ms(5)) {
		r = dh_call(d, "{\"id\":1,\"cmd\":\"version\"}");
		served = json_is_true(json_object_get(r, "ok"));
		json_decref(r);
	}
	assert_true(served);
	for (int i = 1; i < 4; i++)
		dh_conn_close(c[i]);
	assert_true(dh_stop_clean(d));
}

#define CLIENTS 300

static void test_many_clients(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.max_clients=400", NULL};
	struct dh_conn *c[CLIENTS] = {0};
	start(d, extra);
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(dh_conn_open(&c[i], d->sock), 0);
	for (int i = 0; i < CLIENTS; i++) {
		char line[64];
		snprintf(line, sizeof line, "{\"id\":%d,\"cmd\":\"version\"}\n", i);
		assert_int_equal(dh_conn_write(c[i], line, strlen(line)), 0);
	}
	for (int i = 0; i < CLIENTS; i++) {
		json_t *r = dh_conn_read(c[i], 10000, NULL);
		assert_true(json_is_true(json_object_get(r, "ok")));
		assert_int_equal(json_integer_value(json_object_get(r, "id")), i);
		json_decref(r);
	}
	for (int i = 0; i < CLIENTS; i++)
		dh_conn_close(c[i]);
	/* They are all gone: the daemon counts one client, the one asking. */
	int clients = -1;
	for (long long end = dh_now_ms() + WAIT_MS; clients != 1 && dh_now_ms() < end;
	     dh_sleep_ms(5)) {
		json_t *r = dh_call(d, "{\"id\":1,\"cmd\":\"status\"}");
		clients = (int)json_integer_value(
		    json_object_get(json_object_get(r, "result"), "clients"));
		json_decref(r);
	}
	assert_int_equal(clients, 1);
	assert_true(dh_stop_clean(d));
}

/* Sends line on a fresh connection, reads up to n lines, then drops the connection. */
static void vanish_after(struct dh_daemon *d, const char *line, int n)
{
	struct dh_conn *c = NULL;
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	assert_int_equal(dh_conn_write(c, line, strlen(line)), 0);
	for (int i = 0; i < n; i++)
		json_decref(dh_conn_read(c, 10000, NULL));
	dh_conn_close(c);
}

static void test_vanishing_clients(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.log_level=debug", NULL};
	start(d, extra);
	int64_t big = dh_submit(d, "sim://h0.sim/", "--sim", "pages=4000,offsite=0,broken=0",
	                        "--depth", "20", "--concurrency", "64", NULL);
	assert_int_equal(big, 1);
	assert_true(dh_wait_state(d, big, "done", WAIT_MS));
	/* Big results streams, dropped after a line or before any. */
	for (int i = 0; i < 10; i++)
		vanish_after(d, "{\"id\":1,\"cmd\":\"results\",\"args\":{\"job\":1}}\n", i % 3);
	/* Followers of the log, dropped; then records are logged with them gone. */
	for (int i = 0; i < 10; i++)
		vanish_after(d, "{\"id\":2,\"cmd\":\"logs\",\"args\":{\"follow\":true}}\n", i % 2);
	/* Half a request, then gone. */
	vanish_after(d, "{\"id\":3,\"cmd\":\"ver", 0);
	int64_t small = dh_submit(d, "sim://h0.sim/", "--sim", "pages=100,offsite=0,broken=0",
	                          "--depth", "20", NULL);
	assert_true(dh_wait_state(d, small, "done", WAIT_MS));
	assert_int_equal(dh_job_int(d, small, "pages"), 100);

	/* A client that half-closes after its request still gets the whole reply. */
	struct dh_conn *c = NULL;
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	const char *req = "{\"id\":4,\"cmd\":\"results\",\"args\":{\"job\":1}}\n";
	assert_int_equal(dh_conn_write(c, req, strlen(req)), 0);
	assert_int_equal(shutdown(dh_conn_fd(c), SHUT_WR), 0);
	int items = 0;
	json_t *r = NULL;
	while ((r = dh_conn_read(c, 10000, NULL)) && json_object_get(r, "item")) {
		items++;
		json_decref(r);
	}
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(items, 4000);
	json_decref(r);
	dh_conn_close(c);
	r = dh_call(d, "{\"id\":5,\"cmd\":\"version\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_true(dh_stop_clean(d));
}

/* A follower of job 2's records sees the records of job 2 as they are logged, and none of
 * job 1's. */
static void test_logs_follow(void **state)
{
	struct dh_daemon *d = *state;
	struct dh_conn *c = NULL;
	start(d, NULL);
	assert_int_equal(dh_conn_open(&c, d->sock), 0);
	const char *req = "{\"id\":\"f\",\"cmd\":\"logs\",\"args\":{\"follow\":true,\"job\":2}}\n";
	assert_int_equal(dh_conn_write(c, req, strlen(req)), 0);
	assert_int_equal(dh_submit(d, "sim://h0.sim/", "--sim", "pages=20", NULL), 1);
	assert_int_equal(dh_submit(d, "sim://h0.sim/", "--sim", "pages=20", NULL), 2);
	json_t *r = dh_conn_read(c, 10000, NULL);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "f");
	json_t *item = json_object_get(r, "item");
	assert_int_equal(json_integer_value(json_object_get(item, "job")), 2);
	assert_string_equal(json_string_value(json_object_get(item, "message")), "job submitted");
	json_decref(r);
	int done = 0;
	for (long long end = dh_now_ms() + WAIT_MS; !done && dh_now_ms() < end;) {
		r = dh_conn_read(c, 1000, NULL);
		item = json_object_get(r, "item");
		if (r)
			assert_int_equal(json_integer_value(json_object_get(item, "job")), 2);
		done = r && strncmp(json_string_value(json_object_get(item, "message")), "job done",
		                    8) == 0;
		json_decref(r);
	}
	assert_true(done);
	dh_conn_close(c);
	assert_true(dh_stop_clean(d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forbidden_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vanishing_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs_follow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
