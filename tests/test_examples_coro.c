/* test_examples_coro.c - runs the seed's example programs (examples/) and
 * checks what they print. The binaries are "$CRAWL_BUILD/examples/NAME"
 * (CRAWL_BUILD is set by scripts/runtests.sh; "build" if unset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OUT_MAX = 16384, ERR_MAX = 4096, TIMEOUT_MS = 10000, MAX_ARGS = 8 };

struct run {
	int status; /* from waitpid */
	int timed_out;
	char out[OUT_MAX];
	size_t out_len;
	char err[ERR_MAX];
	size_t err_len;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void child_exec(const char *path, char *const argv[], int out_fd, int err_fd)
{
	if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	execv(path, argv);
	_exit(127);
}

/* Appends what fd has to buf (bounded); returns 0 at EOF, 1 if more may
 * come, -1 on error. */
static int drain(int fd, char *buf, size_t cap, size_t *len)
{
	char scratch[1024];
	size_t room = cap - 1 - *len;
	ssize_t n = read(fd, room ? buf + *len : scratch, room ? room : sizeof scratch);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	if (room)
		*len += (size_t)n;
	buf[*len] = '\0';
	return 1;
}

/* Reads both pipes until EOF or the deadline. */
static void collect(struct run *r, int out_fd, int err_fd)
{
	struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
	long long deadline = now_ms() + TIMEOUT_MS;
	int open_fds = 2;
	while (open_fds > 0) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			r->timed_out = 1;
			return;
		}
		if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
			return;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			int more = i == 0 ? drain(fds[i].fd, r->out, OUT_MAX, &r->out_len)
					  : drain(fds[i].fd, r->err, ERR_MAX, &r->err_len);
			if (more <= 0) {
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
}

/* The build directory: $CRAWL_BUILD, else the one this binary sits in
 * (BUILD/tests/test_examples_coro), so it also runs by hand. */
static void example_path(char *path, size_t cap, const char *name)
{
	const char *build = getenv("CRAWL_BUILD");
	char self[400];
	if (!build || !*build) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		build = slash ? self : "build";
	}
	snprintf(path, cap, "%s/examples/%s", build, name);
}

/* Runs examples/NAME with args (NULL-terminated), bounded by TIMEOUT_MS. */
static int run_example(const char *name, const char *const *args, struct run *r)
{
	char path[512];
	char *argv[MAX_ARGS + 2] = {0};
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	memset(r, 0, sizeof *r);
	example_path(path, sizeof path, name);
	argv[0] = path;
	for (int i = 0; args && args[i] && i < MAX_ARGS; i++)
		argv[i + 1] = (char *)args[i];
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
		goto fail;
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child_exec(path, argv, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	collect(r, out[0], err[0]);
	if (r->timed_out)
		kill(pid, SIGKILL);
	close(out[0]);
	close(err[0]);
	return waitpid(pid, &r->status, 0) == pid ? 0 : -1;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

static int exit_code(const struct run *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

static void test_generator_states(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(run_example("generator_states", NULL, &r), 0);
	assert_false(r.timed_out);
	assert_int_equal(exit_code(&r), 0);
	assert_string_equal(r.out, "state: GEN_CREATED\n"
				   "next(g) -> 激活生成器\n"
				   "state: GEN_SUSPENDED\n"
				   "send('Hello Shiyanlou') -> Hello Shiyanlou\n"
				   "OVER\n"
				   "throw(ValueError) -> Hello Shiyanlou\n"
				   "close()\n"
				   "state: GEN_CLOSED\n");
	assert_int_equal(r.err_len, 0);
}

static void test_prime(void **state)
{
	(void)state;
	struct run r;
	assert_int_equal(run_example("prime", NULL, &r), 0);
	assert_int_equal(exit_code(&r), 0);
	assert_string_equal(r.out, "state: GEN_SUSPENDED\n"
				   "send('Hello Shiyanlou') -> Hello Shiyanlou\n");
	assert_int_equal(r.err_len, 0);
}

/* The ISO 3166-1 alpha-2 table, kept apart from the example's own copy. */
static const char *const ISO =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM "
	"BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX "
	"CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG "
	"GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
	"IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV "
	"LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE "
	"NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO "
	"RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
	"TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF "
	"WS YE YT ZA ZM ZW";

static int is_iso(const char code[2])
{
	for (const char *p = ISO; *p; p += p[2] ? 3 : 2)
		if (p[0] == code[0] && p[1] == code[1])
			return 1;
	return 0;
}

/* Parses "LABEL ['AA', 'BB', 'CC']" (the line without its newline) into
 * three codes; returns 0 or -1. */
static int parse_list(const char *line, size_t len, const char *label, char codes[3][3])
{
	size_t ll = strlen(label);
	static const char shape[] = " ['..', '..', '..']";
	if (len != ll + sizeof shape - 1 || strncmp(line, label, ll) != 0)
		return -1;
	const char *p = line + ll;
	for (size_t i = 0; i < sizeof shape - 1; i++)
		if (shape[i] != '.' && shape[i] != p[i])
			return -1;
	for (int k = 0; k < 3; k++) {
		memcpy(codes[k], p + 3 + k * 6, 2);
		codes[k][2] = '\0';
	}
	return 0;
}

static int cmp_code(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Checks the whole transfer_control output: three rounds of list, sorted
 * list (sorted, a permutation of the list), dashes. */
static int check_transfer_output(const char *out)
{
	const char *p = out;
	for (int round = 0; round < 3; round++) {
		char got[3][3], sorted[3][3], want[3][3];
		const char *nl = strchr(p, '\n');
		if (!nl || parse_list(p, (size_t)(nl - p), "国家代号列表：", got) != 0)
			return -1;
		p = nl + 1;
		if (!(nl = strchr(p, '\n')) || parse_list(p, (size_t)(nl - p), "排序后的列表：", sorted) != 0)
			return -2;
		p = nl + 1;
		if (strncmp(p, "------------------\n", 19) != 0)
			return -3;
		p += 19;
		memcpy(want, got, sizeof want);
		qsort(want, 3, sizeof want[0], cmp_code);
		if (memcmp(want, sorted, sizeof want) != 0)
			return -4;
		for (int k = 0; k < 3; k++)
			if (!is_iso(got[k]))
				return -5;
	}
	return *p ? -6 : 0;
}

static void test_transfer_control(void **state)
{
	(void)state;
	struct run a, b, c;
	const char *const seed7[] = {"--seed", "7", NULL};
	const char *const seed8[] = {"--seed=8", NULL};
	assert_int_equal(run_example("transfer_control", seed7, &a), 0);
	assert_int_equal(exit_code(&a), 0);
	assert_int_equal(check_transfer_output(a.out), 0);
	assert_int_equal(a.err_len, 0);
	/* the same seed, the same lists */
	assert_int_equal(run_example("transfer_control", seed7, &b), 0);
	assert_int_equal(exit_code(&b), 0);
	assert_string_equal(a.out, b.out);
	/* another seed, other lists (equal by chance with odds 249^-9) */
	assert_int_equal(run_example("transfer_control", seed8, &c), 0);
	assert_int_equal(exit_code(&c), 0);
	assert_int_equal(check_transfer_output(c.out), 0);
	assert_string_not_equal(a.out, c.out);
	/* seeded from the clock */
	assert_int_equal(run_example("transfer_control", NULL, &c), 0);
	assert_int_equal(exit_code(&c), 0);
	assert_int_equal(check_transfer_output(c.out), 0);
}

static void test_transfer_control_many_seeds(void **state)
{
	(void)state;
	struct run r;
	char seed[32];
	for (unsigned s = 100; s < 110; s++) {
		const char *const args[] = {"--seed", seed, NULL};
		snprintf(seed, sizeof seed, "%u", s * 2654435761u);
		assert_int_equal(run_example("transfer_control", args, &r), 0);
		assert_int_equal(exit_code(&r), 0);
		assert_int_equal(check_transfer_output(r.out), 0);
	}
}

static void test_transfer_control_bad_seed(void **state)
{
	(void)state;
	static const char *const bad[][3] = {
		{"--seed", "abc", NULL},
		{"--seed", "-5", NULL},
		{"--seed", "12x", NULL},
		{"--seed", "", NULL},
		{"--seed", "99999999999999999999999", NULL},
		{"--seed", NULL, NULL},
		{"--bogus", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct run r;
		assert_int_equal(run_example("transfer_control", bad[i], &r), 0);
		assert_int_equal(exit_code(&r), 2);
		assert_int_equal(r.out_len, 0);
		assert_non_null(strstr(r.err, "transfer_control: "));
		assert_non_null(strstr(r.err, "usage:"));
	}
	/* the largest seed is fine */
	const char *const max[] = {"--seed", "18446744073709551615", NULL};
	struct run r;
	assert_int_equal(run_example("transfer_control", max, &r), 0);
	assert_int_equal(exit_code(&r), 0);
	assert_int_equal(check_transfer_output(r.out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generator_states),
		cmocka_unit_test(test_prime),
		cmocka_unit_test(test_transfer_control),
		cmocka_unit_test(test_transfer_control_many_seeds),
		cmocka_unit_test(test_transfer_control_bad_seed),
	};
	return cmocka_run_group_tests_name("examples_coro", tests, NULL, NULL);
}
