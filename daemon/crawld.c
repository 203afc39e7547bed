/* crawld - the crawler daemon: configuration, state, control socket, jobs,
 * signals and systemd notification around one event loop. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "control.h"
#include "fetch.h"
#include "jobs.h"
#include "log.h"
#include "store.h"
#include "workers.h"

#define DEFAULT_CONFIG "/etc/crawld/crawld.conf"

struct daemon {
	struct crawld_config cfg, *old_cfg;
	const char *config_path;
	int config_given, foreground;
	loop_t *loop;
	struct store *store;
	struct dlog *log;
	struct fetcher *fetcher;
	struct jobs *jobs;
	struct workers *workers; /* parses pages for every crawl */
	struct control *control;
	struct commands_ctx cmds;
	struct event *sig_term, *sig_int, *sig_hup;
	struct loop_timer status_timer, watchdog_timer, shutdown_timer;
	uint64_t watchdog_usec;
	int socket_owned, stopping, exit_code;
	char **sets;
	size_t nsets;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: crawld [-c FILE] [--foreground] [--check-config] [--set SECTION.KEY=VALUE]...\n"
		   "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
		   "  -f, --foreground    log to stderr too (systemd runs crawld in the foreground anyway)\n"
		   "      --check-config  validate the configuration, print each error, exit 0 or 1\n"
		   "  -s, --set S.K=V     override one key, e.g. --set daemon.state_dir=/tmp/crawld\n"
		   "  -V, --version       print the version\n");
}

/* Loads defaults, the file, then --set overrides; prints every error. */
static int load_config(struct daemon *d, struct crawld_config *c)
{
	struct config_errors errs = {0};
	char err[512];
	config_defaults(c);
	int rc = 0;
	if (d->config_given || access(d->config_path, F_OK) == 0)
		rc = config_load(c, d->config_path, &errs);
	for (int i = 0; i < errs.count; i++)
		fprintf(stderr, "crawld: %s\n", errs.msg[i]);
	if (errs.dropped)
		fprintf(stderr, "crawld: ... and %d more errors\n", errs.dropped);
	config_errors_free(&errs);
	for (size_t i = 0; i < d->nsets; i++) {
		if (config_set_arg(c, d->sets[i], err, sizeof err) != 0) {
			fprintf(stderr, "crawld: --set %s: %s\n", d->sets[i], err);
			rc = CRAWL_ECONFIG;
		}
	}
	return rc;
}

static int parse_args(struct daemon *d, int argc, char **argv, int *check)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"check-config", no_argument, NULL, 'C'}, {"set", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int o;
	d->config_path = DEFAULT_CONFIG;
	while ((o = getopt_long(argc, argv, "c:fs:Vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': d->config_path = optarg; d->config_given = 1; break;
		case 'f': d->foreground = 1; break;
		case 'C': *check = 1; break;
		case 's': {
			char **v = realloc(d->sets, (d->nsets + 1) * sizeof *v);
			if (!v)
				return 1;
			d->sets = v;
			d->sets[d->nsets++] = optarg;
			break;
		}
		case 'V': printf("crawld %s\n", CRAWLD_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "crawld: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

/* ---- systemd notification ---- */

static void send_status(struct daemon *d)
{
	int running, queued;
	double rate;
	uint64_t total;
	jobs_counts(d->jobs, &running, &queued, &rate, &total);
	sd_notifyf(0, "STATUS=%d running, %d queued, %.1f pages/s, %llu pages", running, queued,
		   rate, (unsigned long long)total);
}

static void status_tick(void *arg)
{
	struct daemon *d = arg;
	send_status(d);
	loop_timer_after(d->loop, &d->status_timer, 1.0);
}

/* From the loop, so a stuck loop stops the pings and systemd notices. */
static void watchdog_tick(void *arg)
{
	struct daemon *d = arg;
	sd_notify(0, "WATCHDOG=1");
	loop_timer_after(d->loop, &d->watchdog_timer, (double)d->watchdog_usec / 2e6);
}

/* ---- signals ---- */

static void shutdown_done(void *arg)
{
	struct daemon *d = arg;
	loop_stop(d->loop);
}

static void shutdown_timeout(void *arg)
{
	struct daemon *d = arg;
	dlog(d->log, LOG_WARNING, 0, NULL, 0, "shutdown timeout: in-flight fetches re-queued");
	jobs_checkpoint(d->jobs);
	loop_stop(d->loop);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	(void)what;
	if (d->stopping++) {
		shutdown_timeout(d); /* a second signal: stop now */
		return;
	}
	sd_notify(0, "STOPPING=1");
	dlog(d->log, LOG_NOTICE, 0, NULL, 0, "%s: stopping (in-flight fetches finish first)",
	     sig == SIGINT ? "SIGINT" : "SIGTERM");
	control_stop_accepting(d->control);
	jobs_drain(d->jobs, shutdown_done, d);
	loop_timer_after(d->loop, &d->shutdown_timer, d->cfg.daemon.shutdown_timeout_ms / 1000.0);
}

static void apply_live(struct daemon *d)
{
	dlog_set_level(d->log, d->cfg.daemon.log_level);
	jobs_set_config(d->jobs, &d->cfg);
	control_set_limits(d->control, (size_t)d->cfg.daemon.max_line, d->cfg.daemon.max_clients);
}

/* The new configuration replaces the old only if it loads cleanly; keys
 * that need a restart keep their old values and are reported. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct crawld_config next;
	char report[2048] = "";
	(void)sig;
	(void)what;
	sd_notify(0, "RELOADING=1");
	if (load_config(d, &next) != 0) {
		dlog(d->log, LOG_ERR, 0, NULL, CRAWL_ECONFIG,
		     "SIGHUP: %s has errors; the running configuration is kept", d->config_path);
		config_free(&next);
	} else {
		int restart = config_diff_live(&d->cfg, &next, report, sizeof report);
		if (restart > 0) {
			/* Keep what cannot change live: copy those back. */
			free(next.daemon.socket);
			next.daemon.socket = strdup(d->cfg.daemon.socket);
			free(next.daemon.state_dir);
			next.daemon.state_dir = strdup(d->cfg.daemon.state_dir);
		}
		config_free(d->old_cfg);
		free(d->old_cfg);
		d->old_cfg = malloc(sizeof *d->old_cfg);
		if (d->old_cfg)
			*d->old_cfg = d->cfg; /* jobs may still hold pointers into it */
		else
			config_free(&d->cfg);
		d->cfg = next;
		apply_live(d);
		dlog(d->log, LOG_NOTICE, 0, NULL, 0, "configuration reloaded%s%s",
		     *report ? ": " : "", report);
	}
	sd_notify(0, "READY=1");
	send_status(d);
}

/* ---- start-up ---- */

static int make_dir(const char *path, mode_t mode)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) != 0 && errno != EEXIST ? -1 : 0;
}

static int open_state(struct daemon *d)
{
	char path[4096], err[512];
	const char *dir = d->cfg.daemon.state_dir;
	if (make_dir(dir, 0750) != 0) {
		fprintf(stderr, "crawld: cannot create state directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/crawld.db", dir);
	if (store_open(&d->store, path, err, sizeof err) != 0) {
		fprintf(stderr, "crawld: %s\n", err);
		return -1;
	}
	struct dlog_opts lo = {d->cfg.daemon.log_dir, d->cfg.daemon.log_level,
			       d->cfg.daemon.log_max_bytes, d->cfg.daemon.log_keep, d->foreground};
	if (lo.log_dir && make_dir(lo.log_dir, 0750) != 0)
		lo.log_dir = NULL; /* stderr and the store still get every record */
	if (dlog_open(&d->log, &lo, err, sizeof err) != 0) {
		fprintf(stderr, "crawld: %s\n", err);
		return -1;
	}
	dlog_set_store(d->log, d->store);
	return 0;
}

/* systemd's socket if it handed one over, else our own. */
static int open_socket(struct daemon *d, int *fd)
{
	char err[512], dir[4096];
	int n = sd_listen_fds(1);
	if (n >= 1) {
		*fd = SD_LISTEN_FDS_START;
		return 0;
	}
	snprintf(dir, sizeof dir, "%s", d->cfg.daemon.socket);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		make_dir(dir, 0755);
	}
	if (control_listen_unix(d->cfg.daemon.socket, d->cfg.daemon.socket_mode, fd, err,
				sizeof err) != 0) {
		fprintf(stderr, "crawld: %s\n", err);
		return -1;
	}
	d->socket_owned = 1;
	return 0;
}

static gid_t config_group(const struct crawld_config *c)
{
	struct group *g = c->daemon.group && *c->daemon.group ? getgrnam(c->daemon.group) : NULL;
	return g ? g->gr_gid : (gid_t)-1;
}

/* The loop thread keeps one core busy with fetching; parsing gets the
 * others (at least one thread, so a 1-core machine still overlaps them). */
static int parse_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (n < 1)
		return 1;
	return n > WORKERS_MAX_THREADS ? WORKERS_MAX_THREADS : (int)n;
}

static int start_engine(struct daemon *d)
{
	struct fetcher_limits lim;
	fetcher_limits_init(&lim);
	lim.max_total_connections = d->cfg.limits.max_connections;
	lim.max_host_connections = d->cfg.limits.max_per_host;
	if (loop_new(&d->loop) != 0 || fetcher_new(d->loop, &lim, &d->fetcher) != 0) {
		fprintf(stderr, "crawld: cannot start the event loop (epoll) or libcurl\n");
		return -1;
	}
	if (workers_new(d->loop, parse_threads(), &d->workers) != 0) {
		fprintf(stderr, "crawld: cannot start the parse threads\n");
		return -1;
	}
	struct jobs_env env = {d->loop, d->fetcher, d->store, d->log, &d->cfg, d->workers};
	struct jobs_err e = {0};
	if (jobs_new(&d->jobs, &env) != 0 || jobs_restore(d->jobs, &e) != 0) {
		fprintf(stderr, "crawld: cannot restore jobs: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int start_control(struct daemon *d)
{
	int fd;
	struct control_opts co = {(size_t)d->cfg.daemon.max_line, d->cfg.daemon.max_clients,
				  config_group(&d->cfg)};
	if (open_socket(d, &fd) != 0)
		return -1;
	d->cmds = (struct commands_ctx){d->jobs, d->store, d->log, NULL, (double)time(NULL)};
	if (control_open(&d->control, loop_event_base(d->loop), fd, &co, commands_table,
			 &d->cmds) != 0) {
		fprintf(stderr, "crawld: cannot serve the control socket\n");
		return -1;
	}
	d->cmds.control = d->control;
	return 0;
}

static int start_signals(struct daemon *d)
{
	struct event_base *b = loop_event_base(d->loop);
	signal(SIGPIPE, SIG_IGN);
	d->sig_term = evsignal_new(b, SIGTERM, on_term, d);
	d->sig_int = evsignal_new(b, SIGINT, on_term, d);
	d->sig_hup = evsignal_new(b, SIGHUP, on_hup, d);
	if (!d->sig_term || !d->sig_int || !d->sig_hup || evsignal_add(d->sig_term, NULL) ||
	    evsignal_add(d->sig_int, NULL) || evsignal_add(d->sig_hup, NULL))
		return -1;
	loop_timer_init(&d->status_timer, status_tick, d);
	loop_timer_init(&d->watchdog_timer, watchdog_tick, d);
	loop_timer_init(&d->shutdown_timer, shutdown_timeout, d);
	if (d->cfg.daemon.watchdog && sd_watchdog_enabled(0, &d->watchdog_usec) > 0)
		loop_timer_soon(d->loop, &d->watchdog_timer);
	loop_timer_soon(d->loop, &d->status_timer);
	return 0;
}

static void stop_all(struct daemon *d)
{
	jobs_free(d->jobs);
	control_free(d->control);
	if (d->socket_owned)
		unlink(d->cfg.daemon.socket);
	fetcher_free(d->fetcher);
	workers_free(d->workers); /* after the crawls, before the loop */
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	loop_free(d->loop);
	dlog_close(d->log);
	store_close(d->store);
	config_free(&d->cfg);
	config_free(d->old_cfg);
	free(d->old_cfg);
	free(d->sets);
}

static void stop_loop(void *arg)
{
	loop_stop(arg);
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	int check = 0, rc = parse_args(&d, argc, argv, &check);
	if (rc)
		return rc;
	if (load_config(&d, &d.cfg) != 0) {
		config_free(&d.cfg);
		free(d.sets);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(&d.cfg);
		free(d.sets);
		return 0;
	}
	if (open_state(&d) != 0 || start_engine(&d) != 0 || start_control(&d) != 0 ||
	    start_signals(&d) != 0) {
		stop_all(&d);
		return 1;
	}
	dlog(d.log, LOG_NOTICE, 0, NULL, 0, "crawld %s ready on %s", CRAWLD_VERSION,
	     d.socket_owned ? d.cfg.daemon.socket : "the socket systemd passed");
	sd_notify(0, "READY=1");
	send_status(&d);
	loop_run_forever(d.loop);
	/* Fetches cut short by the timeout end before anything is freed. */
	for (int i = 0; i < 100 && jobs_abort(d.jobs) > 0; i++) {
		loop_call_later(d.loop, 0.02, stop_loop, d.loop, NULL);
		loop_run_forever(d.loop);
	}
	dlog(d.log, LOG_NOTICE, 0, NULL, 0, "stopped");
	stop_all(&d);
	return 0;
}
