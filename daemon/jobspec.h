/* jobspec.h - a submitted job's arguments, checked and turned into a
 * crawl_spec (docs/protocol.md, "submit"). Defaults come from the daemon's
 * [crawl] and [limits] configuration. */
#ifndef CRAWLD_JOBSPEC_H
#define CRAWLD_JOBSPEC_H

#include <jansson.h>

#include "config.h"
#include "crawl.h"

/* An error for a control reply: a protocol code ("bad_field", "bad_url",
 * "not_found", "bad_state", "internal") and a message. */
struct jobs_err {
	const char *code;
	char msg[256];
};

/* Fills e; returns CRAWL_EINVAL (for "return jobs_fail(...)"). */
int jobs_fail(struct jobs_err *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A parsed spec. Its strings point into the JSON it came from, which must
 * outlive it; the arrays are its own (jobspec_free). */
struct jobspec {
	struct crawl_spec s;
	const char **seeds, **domains, **include, **exclude;
	int statuses[CONFIG_MAX_STATUSES];
	const char *sim; /* simulated-web spec, or NULL */
};

/* Checks every field of args (names the first bad one in e: bad_field,
 * bad_url) and fills *b (zeroed by the caller). Errors: CRAWL_EINVAL. */
int jobspec_parse(const struct crawld_config *cfg, json_t *args, struct jobspec *b,
		  struct jobs_err *e);
void jobspec_free(struct jobspec *b);

/* args.k as an integer in [lo, hi]; absent keeps *out. CRAWL_EINVAL. */
int jobspec_get_int(json_t *args, const char *k, long long lo, long long hi, long long *out,
		    struct jobs_err *e);

#endif
