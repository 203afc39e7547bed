/* bench_daemon.c - a thousand jobs submitted to the real crawld at once.
 *
 * Starts "$CRAWL_BUILD/crawld" (default build/crawld) on a scratch state folder, opens one
 * control connection per job (as that many users would), writes every submit request in
 * one burst, each job a small simulated site of its own, and measures:
 *   submit_ms median / p99 / max  from writing a request to reading its reply
 *   submit_burst_s                from the first request written to the last reply read
 *   finish_s                      from the first request to no job running or queued
 *   pages_total, pages_per_s      what the jobs crawled, over finish_s
 *   vmhwm_kib, vmrss_kib          crawld's peak and final resident memory (/proc/PID/status)
 * Prints "NAME VALUE" lines and "#" comment lines. Usage:
 *   bench_daemon [--jobs N] [--sim SPEC] [--running N] [--crawld PATH]
 * --running sets [limits] max_jobs_running (default: crawld's default, 16).
 * SPEC is completed with ",seed=K" per job (default pages=50,latency=uniform:1:10,
 * offsite=0,broken=0). Everything it starts is stopped by PID; the scratch folder is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 20000
#define START_S 20.0
#define FINISH_S 600.0
#define REPLY_MAX 4096

struct client {
	int fd;
	double sent, answered;
	size_t len;
	char buf[REPLY_MAX];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static pid_t start_crawld(const char *bin, const char *dir, const char *sock, int running)
{
	char state[512], sk[512], logd[512], out[512], run[64] = "daemon.max_clients=30000";
	snprintf(state, sizeof state, "daemon.state_dir=%s/state", dir);
	snprintf(sk, sizeof sk, "daemon.socket=%s", sock);
	snprintf(logd, sizeof logd, "daemon.log_dir=%s/log", dir);
	snprintf(out, sizeof out, "%s/crawld.out", dir);
	if (running > 0)
		snprintf(run, sizeof run, "limits.max_jobs_running=%d", running);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("LISTEN_FDS");
		unsetenv("JOURNAL_STREAM");
		execl(bin, bin, "--set", state, "--set", sk, "--set", logd, "--set",
		      "daemon.max_clients=30000", "--set", run, (char *)NULL);
		_exit(127);
	}
	for (double end = now_s() + START_S; pid > 0 && now_s() < end; sleep_s(0.01)) {
		int fd = connect_unix(sock);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* One request on a fresh connection; the parsed reply line (at most 16 MiB) or NULL. */
static json_t *call(const char *sock, const char *line)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *nl = NULL;
	json_t *reply = NULL;
	int fd = buf ? connect_unix(sock) : -1;
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		goto out;
	while (!(nl = memchr(buf, '\n', len))) {
		if (len == cap) {
			char *more = cap < (16u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!more)
				goto out;
			buf = more;
			cap *= 2;
		}
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n = poll(&p, 1, 10000) == 1 ? read(fd, buf + len, cap - len) : -1;
		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
	reply = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return reply;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Reads replies until every client has one; returns how many were ok. */
static int collect(struct client *cl, int n, struct pollfd *pf)
{
	int left = n, ok = 0;
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){cl[i].fd, POLLIN, 0};
	for (double end = now_s() + 120; left > 0 && now_s() < end;) {
		if (poll(pf, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		double t = now_s();
		for (int i = 0; i < n; i++) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct client *c = &cl[i];
			ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
			if (r > 0)
				c->len += (size_t)r;
			if (r <= 0 || memchr(c->buf, '\n', c->len)) {
				c->answered = t;
				c->buf[c->len] = '\0';
				ok += strstr(c->buf, "\"ok\":true") != NULL;
				pf[i].fd = -1;
				left--;
			}
		}
	}
	return ok;
}

/* Opens n connections and writes a submit on each, as fast as possible. */
static int submit_all(struct client *cl, int n, const char *sock, const char *spec)
{
	char line[1024];
	for (int i = 0; i < n; i++) {
		if ((cl[i].fd = connect_unix(sock)) < 0) {
			fprintf(stderr, "bench_daemon: connection %d: %s\n", i, strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		int len = snprintf(
		    line, sizeof line,
		    "{\"id\":%d,\"cmd\":\"submit\",\"args\":{\"seeds\":[\"sim://h0.sim/\"],"
		    "\"sim\":\"%s,seed=%d\",\"depth\":20}}\n",
		    i, spec, i + 1);
		cl[i].sent = now_s();
		if (write(cl[i].fd, line, (size_t)len) != len)
			return -1;
	}
	return 0;
}

/* Polls the daemon's status until nothing runs or waits; returns the time, or -1. */
static double wait_all(const char *sock)
{
	for (double end = now_s() + FINISH_S; now_s() < end; sleep_s(0.02)) {
		json_t *r = call(sock, "{\"id\":1,\"cmd\":\"status\"}\n");
		json_t *res = json_object_get(r, "result");
		int idle = res && json_integer_value(json_object_get(res, "running")) == 0 &&
		           json_integer_value(json_object_get(res, "queued")) == 0;
		json_decref(r);
		if (idle)
			return now_s();
	}
	return -1;
}

/* Sums pages over every job, counting the done ones. */
static long long count_pages(const char *sock, int *done)
{
	json_t *r = call(sock, "{\"id\":1,\"cmd\":\"list\"}\n"), *j;
	long long pages = 0;
	size_t i;
	*done = 0;
	json_array_foreach(json_object_get(json_object_get(r, "result"), "jobs"), i, j)
	{
		pages += json_integer_value(json_object_get(j, "pages"));
		*done += strcmp(json_string_value(json_object_get(j, "state")), "done") == 0;
	}
	json_decref(r);
	return pages;
}

static long proc_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void report(struct client *cl, int n, int ok, double t0, double t_fin, pid_t pid,
                   const char *sock)
{
	double *lat = malloc((size_t)n * sizeof *lat), last = t0;
	int done = 0;
	for (int i = 0; lat && i < n; i++) {
		lat[i] = (cl[i].answered - cl[i].sent) * 1e3;
		if (cl[i].answered > last)
			last = cl[i].answered;
	}
	if (lat)
		qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	long long pages = count_pages(sock, &done);
	printf("# %d jobs submitted at once on %d connections: %d accepted, %d done\n", n, n, ok,
	       done);
	if (lat)
		printf("submit_ms median %.2f\nsubmit_ms p99 %.2f\nsubmit_ms max %.2f\n",
		       lat[n / 2], lat[(int)((n - 1) * 0.99)], lat[n - 1]);
	printf("submit_burst_s %.3f\nfinish_s %.3f\npages_total %lld\npages_per_s %.0f\n",
	       last - t0, t_fin - t0, pages, (double)pages / (t_fin - t0));
	printf("vmhwm_kib %ld\nvmrss_kib %ld\n", proc_kib(pid, "VmHWM:"), proc_kib(pid, "VmRSS:"));
	free(lat);
}

static int run(const char *bin, int n, const char *spec, int running)
{
	char dir[] = "/tmp/crawld-bench.XXXXXX", sock[64];
	struct client *cl = calloc((size_t)n, sizeof *cl);
	struct pollfd *pf = calloc((size_t)n, sizeof *pf);
	int rc = 1;
	pid_t pid = -1;
	if (!cl || !pf || !mkdtemp(dir))
		goto out;
	snprintf(sock, sizeof sock, "%s/crawld.sock", dir);
	if ((pid = start_crawld(bin, dir, sock, running)) < 0) {
		fprintf(stderr, "bench_daemon: %s did not start (see %s/crawld.out)\n", bin, dir);
		goto out;
	}
	double t0 = now_s();
	if (submit_all(cl, n, sock, spec) != 0)
		goto out;
	int ok = collect(cl, n, pf);
	double t_fin = wait_all(sock);
	if (ok != n || t_fin < 0) {
		fprintf(stderr, "bench_daemon: %d of %d submits accepted, %s\n", ok, n,
		        t_fin < 0 ? "jobs did not finish" : "all finished");
		goto out;
	}
	printf("# crawld %s, sim spec \"%s,seed=K\", depth 20, max_jobs_running %s\n", bin, spec,
	       running > 0 ? "as given" : "default (16)");
	printf("max_jobs_running %d\n", running > 0 ? running : 16);
	report(cl, n, ok, t0, t_fin, pid, sock);
	rc = 0;
out:
	for (int i = 0; cl && i < n; i++)
		if (cl[i].fd > 0)
			close(cl[i].fd);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	if (dir[strlen(dir) - 1] != 'X')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(cl);
	free(pf);
	return rc;
}

int main(int argc, char **argv)
{
	const char *build = getenv("CRAWL_BUILD");
	const char *spec = "pages=50,latency=uniform:1:10,offsite=0,broken=0";
	char bin[512];
	int n = 1000, running = 0;
	snprintf(bin, sizeof bin, "%s/crawld", build && *build ? build : "build");
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--jobs") == 0)
			n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--sim") == 0)
			spec = argv[i + 1];
		else if (strcmp(argv[i], "--running") == 0)
			running = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--crawld") == 0)
			snprintf(bin, sizeof bin, "%s", argv[i + 1]);
		else
			break;
	}
	if (n < 1 || n > MAX_JOBS || running < 0 || running > 10000 || argc % 2 == 0) {
		fprintf(stderr,
		        "usage: bench_daemon [--jobs 1..%d] [--sim SPEC] [--running 1..10000] "
		        "[--crawld PATH]\n",
		        MAX_JOBS);
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	return run(bin, n, spec, running);
}
