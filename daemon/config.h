/* config.h - crawld's configuration: defaults, the INI file, overrides.
 *
 * The file is INI (parsed by inih): three sections, [daemon], [limits] and
 * [crawl], each holding "key = value" lines; ';' and '#' start comment
 * lines, " ;" starts an inline comment; a value may be wrapped in one pair of
 * double quotes to keep leading or trailing spaces. config/crawld.conf
 * documents every key with its default and range.
 *
 * Errors are never skipped and loading never stops at the first one: every
 * problem of a file is collected as "FILE:LINE: message" in a
 * struct config_errors, so that `crawld --check-config` can show them all.
 *
 * Nothing here prints; messages go back to the caller. Not thread-safe
 * (inih keeps no state, but a config is a plain struct the caller guards).
 *
 * Lifetime: a struct crawld_config is embedded by the caller, filled by
 * config_defaults, and released with config_free. Its strings are malloc'd
 * copies owned by the config. To reload (SIGHUP) without losing a good
 * config: config_copy the live one, config_load into the copy, and swap only
 * when config_load returned 0 (config_diff_live tells what can change live).
 */
#ifndef CRAWLD_CONFIG_H
#define CRAWLD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* At most this many HTTP statuses in crawl.retry_statuses. */
#define CONFIG_MAX_STATUSES 32
/* At most this many messages are kept by one config_load. */
#define CONFIG_MAX_ERRORS 64
/* A config file may have at most this many lines and bytes. */
#define CONFIG_MAX_LINES 65536
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)

/* [daemon]: the process itself. Levels are syslog priorities (LOG_ERR=3,
 * LOG_WARNING=4, LOG_NOTICE=5, LOG_INFO=6, LOG_DEBUG=7), as journald uses. */
struct config_daemon {
	char *user;                 /* account to run as ("crawld") */
	char *group;                /* its members may use the control socket */
	char *state_dir;            /* absolute; holds crawld.db and job files */
	char *socket;               /* absolute control socket path (< 108 B) */
	int socket_mode;            /* permission bits of the socket, 0..0777 */
	char *log_dir;              /* absolute directory of the log files */
	int log_level;              /* least severe level logged (syslog prio) */
	int64_t log_max_bytes;      /* rotate a log file at this size */
	int log_keep;               /* rotated files kept */
	char *pid_file;             /* absolute path, or "" for none */
	int max_clients;            /* control connections at once */
	int max_line;               /* longest control request line, bytes */
	int checkpoint_interval_ms; /* how often running jobs checkpoint */
	int shutdown_timeout_ms;    /* grace period on SIGTERM */
	bool watchdog;              /* send WATCHDOG=1 when systemd asks */
};

/* [limits]: ceilings for the whole daemon (fetch layer). */
struct config_limits {
	int max_connections;    /* open HTTP connections in all */
	int max_per_host;       /* open connections to one host */
	int max_jobs_running;   /* jobs crawling at once; others queue */
	int64_t max_body_bytes; /* larger bodies fail with EBODYTOOLARGE */
	int connect_timeout_ms;
	int timeout_ms;         /* whole transfer */
	int64_t low_speed_bytes; /* abort below this many bytes/s ... */
	int low_speed_ms;       /* ... sustained this long (0 = never) */
	int max_redirects;
};

/* [crawl]: defaults for jobs (a job's spec may override each). */
struct config_crawl {
	char *user_agent;
	int depth;            /* link hops from the seeds */
	int max_pages;
	int concurrency;      /* fetches in flight per job */
	int per_host;         /* fetches in flight per host per job */
	int delay_ms;         /* politeness delay between fetches to a host */
	bool obey_robots;
	int retries;
	int retry_backoff_ms; /* first backoff; doubles each retry */
	int retry_statuses[CONFIG_MAX_STATUSES]; /* sorted, no duplicates */
	int n_retry_statuses;
	char *sort_by;        /* "url", "status", "time" or "size" */
	bool allow_private;   /* false: refuse loopback/private addresses */
};

struct crawld_config {
	struct config_daemon daemon;
	struct config_limits limits;
	struct config_crawl crawl;
};

/* Messages of one config_load, each "FILE:LINE: text" (malloc'd, owned by
 * this struct). Zero-initialise before the first use. Past
 * CONFIG_MAX_ERRORS messages only `dropped` counts. */
struct config_errors {
	char *msg[CONFIG_MAX_ERRORS];
	int count;
	int dropped;
};

/* Fills c with the defaults. c is overwritten, not freed: call it on a new
 * struct (or after config_free). On error c holds nothing to free.
 * Errors: CRAWL_ENOMEM. */
int config_defaults(struct crawld_config *c);

/* Parses the INI file at path on top of the current values of c (keys the
 * file does not mention keep their values). Every error is appended to errs
 * (may be NULL to only get the code) as "PATH:LINE: message", for: unknown
 * section or key, a key outside any section, a line without '=', a section
 * header without ']', a line longer than inih's 199 bytes, a key set
 * twice, and each value that is malformed or out of range. Good keys of a
 * bad file are still applied, so load into a copy when that matters.
 * Returns 0 if there was no error; CRAWL_ECONFIG if errs got any message;
 * CRAWL_ESYS if the file could not be opened or read (errs says why, with
 * strerror); CRAWL_ENOMEM. */
int config_load(struct crawld_config *c, const char *path,
		struct config_errors *errs);

/* Sets one key from text, with the same checks as the file. section and key
 * are exact ("limits", "max_connections"); value is trimmed and may be
 * quoted. Nothing is kept. On CRAWL_ECONFIG the message ("bad value 'abc'
 * for limits.max_connections: expected an integer from 1 to 100000",
 * "unknown key 'foo' in section [daemon]") is written to err (may be NULL)
 * and c is unchanged. Errors: CRAWL_ECONFIG, CRAWL_ENOMEM, CRAWL_EINVAL
 * (a NULL argument). */
int config_set(struct crawld_config *c, const char *section, const char *key,
	       const char *value, char *err, size_t errlen);

/* A command-line override "section.key=value" (as in
 * `--set limits.max_connections=32`); the same as config_set, and
 * CRAWL_ECONFIG if the text has no '.' or '=' where expected. */
int config_set_arg(struct crawld_config *c, const char *arg, char *err,
		   size_t errlen);

/* Writes the value of section.key as the file would spell it ("0660",
 * "true", "info", "429,500") into buf (always NUL-terminated when len > 0).
 * Errors: CRAWL_ENOTFOUND (no such key), CRAWL_EINVAL (buf too small; it
 * then holds a truncated value). */
int config_get(const struct crawld_config *c, const char *section,
	       const char *key, char *buf, size_t len);

/* Writes the whole configuration as a loadable INI text into buf.
 * Returns the length written, or CRAWL_EINVAL if len is too small (buf then
 * holds a truncated, not loadable, text). */
int config_format(const struct crawld_config *c, char *buf, size_t len);

/* Deep copy of src into dst (dst is overwritten, not freed). On error dst
 * holds nothing to free. Errors: CRAWL_ENOMEM. */
int config_copy(struct crawld_config *dst, const struct crawld_config *src);

/* Frees the strings of c and sets them to NULL. Accepts NULL. */
void config_free(struct crawld_config *c);

/* Frees the messages of errs and zeroes it. Accepts NULL. */
void config_errors_free(struct config_errors *errs);

/* For a reload: compares old and next key by key. Every changed key gets one
 * line in report, "limits.max_connections: 256 -> 32 (applied live)" or
 * "daemon.socket: /a -> /b (needs a restart)"; "no changes" if none. The
 * report is cut with "...\n" if len is too small. Keys that need a restart:
 * user, group, state_dir, socket, socket_mode, log_dir, pid_file, watchdog;
 * every other key applies live. Returns the number of changed keys that need
 * a restart (0: the whole new config can be applied live). */
int config_diff_live(const struct crawld_config *old,
		     const struct crawld_config *next, char *report, size_t len);

#endif
