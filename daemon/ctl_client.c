/* ctl_client.c - what every crawlctl subcommand shares (see ctl_client.h). */
#include "ctl_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_parse.h"

void ctl_ctx_init(struct ctl_ctx *ctx)
{
	const char *env = getenv("CRAWLD_SOCKET");

	memset(ctx, 0, sizeof *ctx);
	ctx->socket = env && env[0] ? env : CTL_SOCKET_DEFAULT;
	ctx->timeout_ms = CTL_TIMEOUT_DEFAULT;
}

void ctl_ctx_close(struct ctl_ctx *ctx)
{
	ctl_conn_free(ctx->conn);
	ctx->conn = NULL;
}

static void vusage(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s%s%s: ", CTL_PROG, cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nsee %s%s%s --help\n", CTL_PROG, cmd ? " " : "", cmd ? cmd : "");
}

int ctl_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(cmd, fmt, ap);
	va_end(ap);
	return CTL_EXIT_USAGE;
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", CTL_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* getopt's '?' and ':' answers, in the words of crawlctl(1). */
static int option_error(const char *cmd, int opt, char *const *argv)
{
	char name[64];

	if (optopt > 0 && optopt < 0x100)
		snprintf(name, sizeof name, "-%c", optopt);
	else
		snprintf(name, sizeof name, "%.60s", argv[optind - 1]);
	if (opt == ':')
		return ctl_usage(cmd, "option '%s' needs a value", name);
	return ctl_usage(cmd, "unknown option '%s'", name);
}

int ctl_opt_common(struct ctl_ctx *ctx, const char *cmd, int opt, char *const *argv,
		   const char *help)
{
	long long ms;

	switch (opt) {
	case 'h':
		fputs(help, stdout);
		return CTL_EXIT_OK;
	case CTL_OPT_JSON:
		ctx->json = 1;
		return CTL_OPT_CONTINUE;
	case CTL_OPT_SOCKET:
		if (!optarg[0])
			return ctl_usage(cmd, "--socket: expected a path, got ''");
		ctx->socket = optarg;
		return CTL_OPT_CONTINUE;
	case CTL_OPT_TIMEOUT:
		if (ctl_parse_int(optarg, 0, CTL_TIMEOUT_MAX, &ms) != 0)
			return ctl_usage(cmd, "--timeout: expected milliseconds from 0 (no "
					      "limit) to %d, got '%s'",
					 CTL_TIMEOUT_MAX, optarg);
		ctx->timeout_ms = ms == 0 ? -1 : (int)ms;
		return CTL_OPT_CONTINUE;
	case '?':
	case ':':
		return option_error(cmd, opt, argv);
	default:
		return CTL_OPT_OTHER;
	}
}

int ctl_getopt(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts, const char *help,
	       ctl_own_fn own, void *arg)
{
	int opt, rc;

	optind = 0; /* GNU: 0 re-initialises the scan, permutation included */
	opterr = 0; /* our messages, with "see crawlctl CMD --help" */
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		rc = ctl_opt_common(ctx, cmd, opt, argv, help);
		if (rc == CTL_OPT_OTHER) {
			rc = own ? own(arg, opt) : ctl_usage(cmd, "unexpected option");
			if (rc == 0)
				rc = CTL_OPT_CONTINUE;
		}
		if (rc != CTL_OPT_CONTINUE)
			return rc;
	}
	return CTL_OPT_CONTINUE;
}

int ctl_positionals(const char *cmd, int argc, char **argv, int min, int max,
		    const char *what)
{
	int n = argc - optind;

	if (n < min)
		return ctl_usage(cmd, "expected %s", what);
	if (n > max)
		return ctl_usage(cmd, "unexpected argument '%.100s'", argv[optind + max]);
	return 0;
}

int ctl_connect(struct ctl_ctx *ctx)
{
	char err[256];
	int rc;

	if (ctx->conn)
		return 0;
	rc = ctl_conn_open(&ctx->conn, ctx->socket, err, sizeof err);
	if (rc == CRAWL_EINVAL)
		return ctl_usage(NULL, "--socket '%.200s': %s", ctx->socket, err);
	if (rc != 0) {
		ctl_warn("cannot connect to crawld at %s: %s (%s)", ctx->socket, err,
			 errno == EACCES ? "may this user use crawld's socket?"
					 : "is crawld running?");
		return rc == CRAWL_ENOMEM ? CTL_EXIT_FAIL : CTL_EXIT_UNAVAILABLE;
	}
	return 0;
}

/* The exit status for a failed send or read, after saying why. */
static int conn_failure(struct ctl_ctx *ctx, int rc)
{
	const char *msg = ctl_conn_errmsg(ctx->conn);

	switch (rc) {
	case CRAWL_ECANCELLED:
		return CTL_EXIT_INTERRUPTED;
	case CRAWL_EPROTO:
	case CRAWL_ENOMEM:
		ctl_warn("%s", msg);
		return CTL_EXIT_FAIL;
	default:
		ctl_warn("%s (socket %s)", msg, ctx->socket);
		return CTL_EXIT_UNAVAILABLE;
	}
}

int ctl_stream(struct ctl_ctx *ctx, const char *cmd, const json_t *args, int timeout_ms,
	       ctl_item_fn fn, void *arg, json_t **result)
{
	struct ctl_reply r = { 0 };
	int rc;

	if (result)
		*result = NULL;
	if ((rc = ctl_connect(ctx)) != 0)
		return rc;
	if ((rc = ctl_conn_send(ctx->conn, cmd, args, ctx->timeout_ms)) != 0)
		return conn_failure(ctx, rc);
	for (;;) {
		if ((rc = ctl_conn_next(ctx->conn, timeout_ms, &r)) != 0)
			return conn_failure(ctx, rc);
		if (r.kind != CTL_REPLY_ITEM)
			break;
		rc = fn ? fn(arg, r.value) : 0;
		ctl_reply_clear(&r);
		if (rc != 0)
			return rc;
	}
	if (r.kind == CTL_REPLY_ERROR) {
		ctl_warn("%s: %s", r.code, r.message);
		ctl_reply_clear(&r);
		return CTL_EXIT_FAIL;
	}
	if (result)
		*result = json_incref(r.value);
	ctl_reply_clear(&r);
	return 0;
}

int ctl_call(struct ctl_ctx *ctx, const char *cmd, const json_t *args, json_t **result)
{
	return ctl_stream(ctx, cmd, args, ctx->timeout_ms, NULL, NULL, result);
}

int ctl_print_json(const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!text) {
		ctl_warn("cannot encode a reply as JSON");
		return CTL_EXIT_FAIL;
	}
	puts(text);
	free(text);
	return 0;
}

int ctl_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value || json_object_set_new(obj, key, value) != 0) {
		ctl_warn("out of memory");
		return CTL_EXIT_FAIL;
	}
	return 0;
}

json_t *ctl_job_args(long long id)
{
	json_t *args = json_pack("{s:I}", "job", (json_int_t)id);

	if (!args)
		ctl_warn("out of memory");
	return args;
}

int ctl_parse_job_arg(const char *cmd, const char *text, long long *id)
{
	if (ctl_parse_job(text, id) != 0)
		return ctl_usage(cmd, "expected a job id (a positive integer), got '%.100s'",
				 text);
	return 0;
}
