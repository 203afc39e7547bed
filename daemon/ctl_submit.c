/* ctl_submit.c - `crawlctl submit` (see ctl_submit.h). */
#include "ctl_submit.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_parse.h"
#include "url.h"

#define FILES_MAX 16
#define TEXT_MAX 4096   /* --sim, --include, --exclude */
#define AGENT_MAX 512
#define DOMAIN_MAX 253
#define JSON_INT_MAX 9007199254740991LL /* 2^53 - 1 */

static const char help[] =
	"usage: crawlctl submit [OPTION]... URL...\n"
	"Submits a crawl job and prints its id. URLs come from the arguments,\n"
	"from --file, or from stdin when the only URL is '-' (one per line;\n"
	"blank lines and # comments are skipped).\n"
	"\n"
	"  --depth N            follow links N levels deep (0..1000)\n"
	"  --max-pages N        stop after N pages (0: no limit)\n"
	"  --max-bytes N        stop after N bytes of bodies (0: no limit)\n"
	"  --concurrency N      fetches at once (1..100000)\n"
	"  --per-host N         fetches at once per host (1..100000)\n"
	"  --delay MS           pause between fetches from one host (ms)\n"
	"  --domain D           stay within domain D (repeatable)\n"
	"  --include RE         only URLs matching RE, POSIX ERE (repeatable)\n"
	"  --exclude RE         no URLs matching RE (repeatable)\n"
	"  --sort-by KEY        order of results: url, status, time, size\n"
	"  --priority N         -100..100, higher runs first\n"
	"  --sim SPEC           crawl the simulated web SPEC (e.g. pages=100)\n"
	"  --no-robots          ignore robots.txt\n"
	"  --user-agent UA      User-Agent header\n"
	"  --retries N          retries of a failed fetch (0..20)\n"
	"  --allow-private      allow loopback and private addresses\n"
	"  --file PATH          read URLs from PATH ('-': stdin; repeatable)\n"
	"  --json               print the daemon's reply as JSON\n"
	"  --socket PATH, --timeout MS, --help: as for crawlctl\n"
	"\n"
	"example: id=$(crawlctl submit --depth 2 https://example.org/)\n";

enum {
	O_DEPTH = CTL_OPT_CMD, O_MAX_PAGES, O_MAX_BYTES, O_CONCURRENCY, O_PER_HOST,
	O_DELAY, O_PRIORITY, O_RETRIES, /* the numbers, in num_opts' order */
	O_DOMAIN, O_INCLUDE, O_EXCLUDE, O_SORT_BY, O_SIM, O_NO_ROBOTS, O_USER_AGENT,
	O_ALLOW_PRIVATE, O_FILE,
};

/* The integer options, indexed by code - O_DEPTH. */
static const struct num_opt {
	const char *name;
	const char *key;
	long long min, max;
} num_opts[] = {
	{ "depth", "depth", 0, 1000 },
	{ "max-pages", "max_pages", 0, JSON_INT_MAX },
	{ "max-bytes", "max_bytes", 0, JSON_INT_MAX },
	{ "concurrency", "concurrency", 1, 100000 },
	{ "per-host", "per_host", 1, 100000 },
	{ "delay", "delay_ms", 0, 86400000 },
	{ "priority", "priority", -100, 100 },
	{ "retries", "retries", 0, 20 },
};

static const struct option longopts[] = {
	{ "depth", required_argument, NULL, O_DEPTH },
	{ "max-pages", required_argument, NULL, O_MAX_PAGES },
	{ "max-bytes", required_argument, NULL, O_MAX_BYTES },
	{ "concurrency", required_argument, NULL, O_CONCURRENCY },
	{ "per-host", required_argument, NULL, O_PER_HOST },
	{ "delay", required_argument, NULL, O_DELAY },
	{ "priority", required_argument, NULL, O_PRIORITY },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "domain", required_argument, NULL, O_DOMAIN },
	{ "include", required_argument, NULL, O_INCLUDE },
	{ "exclude", required_argument, NULL, O_EXCLUDE },
	{ "sort-by", required_argument, NULL, O_SORT_BY },
	{ "sim", required_argument, NULL, O_SIM },
	{ "no-robots", no_argument, NULL, O_NO_ROBOTS },
	{ "user-agent", required_argument, NULL, O_USER_AGENT },
	{ "allow-private", no_argument, NULL, O_ALLOW_PRIVATE },
	{ "file", required_argument, NULL, O_FILE },
	CTL_OPTS_COMMON,
};

/* What the command line asked for, before it becomes the request. */
struct submit {
	json_t *args;  /* the request's args, seeds first */
	json_t *seeds; /* borrowed from args */
	const char *files[FILES_MAX];
	size_t nfiles;
};

static int set_number(struct submit *s, int opt, const char *text)
{
	const struct num_opt *n = &num_opts[opt - O_DEPTH];
	long long v;

	if (ctl_parse_int(text, n->min, n->max, &v) != 0)
		return ctl_usage("submit", "--%s: expected an integer from %lld to %lld, got '%.100s'",
				 n->name, n->min, n->max, text);
	return ctl_json_set(s->args, n->key, json_integer(v));
}

/* Appends text to the array args[key], made on first use. */
static int append(struct submit *s, const char *key, const char *text)
{
	json_t *arr = json_object_get(s->args, key);

	if (!arr) {
		if (ctl_json_set(s->args, key, json_array()) != 0)
			return CTL_EXIT_FAIL;
		arr = json_object_get(s->args, key);
	}
	if (json_array_size(arr) >= 1000)
		return ctl_usage("submit", "more than 1000 values for %s", key);
	if (json_array_append_new(arr, json_string(text)) != 0) {
		ctl_warn("out of memory");
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* A printable string option of 1..max bytes. */
static int set_text(struct submit *s, const char *opt, const char *key, const char *text,
		    size_t max)
{
	size_t n = strlen(text);

	if (n == 0 || n > max)
		return ctl_usage("submit", "--%s: expected 1 to %zu bytes, got %zu", opt, max, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return ctl_usage("submit", "--%s: control characters are not allowed", opt);
	return key ? ctl_json_set(s->args, key, json_string(text)) : 0;
}

/* --include / --exclude: the daemon compiles them as POSIX EREs; so do we,
 * to report a bad one with regerror's words before anything is sent. */
static int add_regex(struct submit *s, const char *opt, const char *key, const char *re)
{
	regex_t rx;
	int rc;

	if ((rc = set_text(s, opt, NULL, re, TEXT_MAX)) != 0)
		return rc;
	if ((rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[128];

		regerror(rc, &rx, why, sizeof why);
		return ctl_usage("submit", "--%s '%.100s': %s", opt, re, why);
	}
	regfree(&rx);
	return append(s, key, re);
}

static int set_sort(struct submit *s, const char *key)
{
	static const char *const keys[] = { "url", "status", "time", "size" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return ctl_json_set(s->args, "sort_by", json_string(key));
	return ctl_usage("submit", "--sort-by: expected url, status, time or size, got '%.100s'",
			 key);
}

static int add_file(struct submit *s, const char *path)
{
	if (s->nfiles >= FILES_MAX)
		return ctl_usage("submit", "at most %d --file options", FILES_MAX);
	s->files[s->nfiles++] = path;
	return 0;
}

/* One option of submit's own (a ctl_own_fn). */
static int submit_option(void *arg, int opt)
{
	struct submit *s = arg;
	int rc;

	if (opt >= O_DEPTH && opt <= O_RETRIES)
		return set_number(s, opt, optarg);
	switch (opt) {
	case O_DOMAIN:
		if ((rc = set_text(s, "domain", NULL, optarg, DOMAIN_MAX)) != 0)
			return rc;
		return append(s, "domains", optarg);
	case O_INCLUDE:
		return add_regex(s, "include", "include", optarg);
	case O_EXCLUDE:
		return add_regex(s, "exclude", "exclude", optarg);
	case O_SORT_BY:
		return set_sort(s, optarg);
	case O_SIM:
		return set_text(s, "sim", "sim", optarg, TEXT_MAX);
	case O_NO_ROBOTS:
		return ctl_json_set(s->args, "obey_robots", json_false());
	case O_USER_AGENT:
		return set_text(s, "user-agent", "user_agent", optarg, AGENT_MAX);
	case O_ALLOW_PRIVATE:
		return ctl_json_set(s->args, "allow_private", json_true());
	case O_FILE:
		return add_file(s, optarg);
	default:
		return ctl_usage("submit", "unexpected option");
	}
}

/* Reads URLs from path ("-": stdin) into the seeds. */
static int read_urls(struct submit *s, const char *path)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "r");
	char err[256];
	int rc;

	if (!fp)
		return ctl_usage("submit", "cannot read URLs from %s: %s", path, strerror(errno));
	rc = ctl_parse_url_lines(fp, is_stdin ? "stdin" : path, s->seeds, err, sizeof err);
	if (!is_stdin)
		fclose(fp);
	if (rc == CRAWL_ENOMEM) {
		ctl_warn("out of memory");
		return CTL_EXIT_FAIL;
	}
	return rc ? ctl_usage("submit", "%s", err) : 0;
}

/* The positional URLs ('-' alone: stdin), then the --file lists. */
static int collect_seeds(struct submit *s, int argc, char **argv)
{
	int rc;

	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 && argc - optind > 1)
			return ctl_usage("submit", "'-' (read URLs from stdin) must be the only URL");
		if (strcmp(argv[i], "-") == 0)
			rc = read_urls(s, "-");
		else if (json_array_size(s->seeds) >= CTL_SEEDS_MAX)
			rc = ctl_usage("submit", "more than %d URLs", CTL_SEEDS_MAX);
		else
			rc = json_array_append_new(s->seeds, json_string(argv[i])) ? CTL_EXIT_FAIL : 0;
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < s->nfiles; i++)
		if ((rc = read_urls(s, s->files[i])) != 0)
			return rc;
	if (json_array_size(s->seeds) == 0)
		return ctl_usage("submit", "expected at least one URL (as arguments, in --file, "
					   "or '-' for stdin)");
	return 0;
}

/* The daemon checks again; checking here names the bad URL before any
 * connection and keeps a long list from failing on its first typo only. */
static int check_seeds(const json_t *seeds)
{
	size_t i;
	json_t *v;

	json_array_foreach(seeds, i, v) {
		char *norm = NULL;
		int rc = url_normalize(json_string_value(v), &norm);

		free(norm);
		if (rc == CRAWL_ENOMEM) {
			ctl_warn("out of memory");
			return CTL_EXIT_FAIL;
		}
		if (rc != 0)
			return ctl_usage("submit", "bad URL '%.200s': %s", json_string_value(v),
					 crawl_strerror(rc));
	}
	return 0;
}

static int parse(struct ctl_ctx *ctx, struct submit *s, int argc, char **argv)
{
	int rc = ctl_getopt(ctx, "submit", argc, argv, ":h", longopts, help, submit_option, s);

	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = collect_seeds(s, argc, argv)) != 0 || (rc = check_seeds(s->seeds)) != 0)
		return rc;
	return CTL_OPT_CONTINUE;
}

int ctl_cmd_submit(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct submit s = { 0 };
	json_t *result = NULL;
	json_t *job;
	int rc = CTL_EXIT_FAIL;

	if (!(s.args = json_object()) || ctl_json_set(s.args, "seeds", json_array()) != 0)
		goto fail;
	s.seeds = json_object_get(s.args, "seeds");
	if ((rc = parse(ctx, &s, argc, argv)) != CTL_OPT_CONTINUE)
		goto fail;
	if ((rc = ctl_call(ctx, "submit", s.args, &result)) != 0)
		goto fail;
	job = json_object_get(result, "job");
	if (ctx->json) {
		rc = ctl_print_json(result);
	} else if (json_is_integer(job)) {
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(job));
	} else {
		ctl_warn("bad reply from crawld: submit's result has no job id");
		rc = CTL_EXIT_FAIL;
	}
fail:
	json_decref(result);
	json_decref(s.args);
	return rc;
}
