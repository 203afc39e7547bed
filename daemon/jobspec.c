/* jobspec.c - a submitted job's arguments (docs/protocol.md, submit),
 * checked field by field and turned into a crawl_spec. */
#include "jobspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "url.h"

int jobs_fail(struct jobs_err *e, const char *code, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return CRAWL_EINVAL;
}

/* An integer field in [lo, hi]; absent keeps *out. */
int jobspec_get_int(json_t *a, const char *k, long long lo, long long hi, long long *out,
		   struct jobs_err *e)
{
	json_t *v = json_object_get(a, k);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return jobs_fail(e, "bad_field", "args.%s: expected an integer from %lld to %lld", k, lo,
			    hi);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *a, const char *k, int *out, struct jobs_err *e)
{
	json_t *v = json_object_get(a, k);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return jobs_fail(e, "bad_field", "args.%s: expected true or false", k);
	*out = json_is_true(v);
	return 0;
}

static int get_str(json_t *a, const char *k, const char **out, struct jobs_err *e)
{
	json_t *v = json_object_get(a, k);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return jobs_fail(e, "bad_field", "args.%s: expected a string", k);
	*out = json_string_value(v);
	return 0;
}

/* An array of strings; *out is a malloc'd array of borrowed strings. */
static int get_strs(json_t *a, const char *k, const char ***out, size_t *n, struct jobs_err *e)
{
	json_t *v = json_object_get(a, k);
	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > 100000)
		return jobs_fail(e, "bad_field", "args.%s: expected an array of strings", k);
	*out = calloc(json_array_size(v) + 1, sizeof **out);
	if (!*out)
		return jobs_fail(e, "internal", "out of memory");
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s))
			return jobs_fail(e, "bad_field", "args.%s[%zu]: expected a string", k, i);
		(*out)[(*n)++] = json_string_value(s);
	}
	return 0;
}


void jobspec_free(struct jobspec *b)
{
	free(b->seeds);
	free(b->domains);
	free(b->include);
	free(b->exclude);
}

static void spec_defaults(const struct crawld_config *cfg, struct jobspec *b)
{
	struct crawl_spec *s = &b->s;
	crawl_spec_init(s);
	s->max_depth = cfg->crawl.depth;
	s->max_pages = cfg->crawl.max_pages;
	s->concurrency = cfg->crawl.concurrency;
	s->per_host = cfg->crawl.per_host;
	s->delay = cfg->crawl.delay_ms / 1000.0;
	s->obey_robots = cfg->crawl.obey_robots;
	s->user_agent = cfg->crawl.user_agent;
	s->retries = cfg->crawl.retries;
	s->backoff = cfg->crawl.retry_backoff_ms / 1000.0;
	memcpy(b->statuses, cfg->crawl.retry_statuses, sizeof b->statuses);
	s->retry_statuses = b->statuses;
	s->nretry_statuses = (size_t)cfg->crawl.n_retry_statuses;
	s->timeout = cfg->limits.timeout_ms / 1000.0;
	s->connect_timeout = cfg->limits.connect_timeout_ms / 1000.0;
	s->max_body = (size_t)cfg->limits.max_body_bytes;
	s->allow_private = cfg->crawl.allow_private;
	crawl_sort_parse(cfg->crawl.sort_by, &s->sort_by);
}

static int spec_numbers(json_t *a, struct crawl_spec *s, struct jobs_err *e)
{
	long long depth = s->max_depth, pages = s->max_pages, bytes = s->max_bytes,
		  conc = s->concurrency, per = s->per_host, delay = (long long)(s->delay * 1000),
		  retries = s->retries;
	if (jobspec_get_int(a, "depth", 0, 1000, &depth, e) || jobspec_get_int(a, "max_pages", 0, 1000000000, &pages, e) ||
	    jobspec_get_int(a, "max_bytes", 0, (long long)1 << 50, &bytes, e) ||
	    jobspec_get_int(a, "concurrency", 1, 100000, &conc, e) ||
	    jobspec_get_int(a, "per_host", 1, 100000, &per, e) ||
	    jobspec_get_int(a, "delay_ms", 0, 3600000, &delay, e) || jobspec_get_int(a, "retries", 0, 20, &retries, e))
		return CRAWL_EINVAL;
	s->max_depth = (int)depth;
	s->max_pages = (long)pages;
	s->max_bytes = bytes;
	s->concurrency = (int)conc;
	s->per_host = (int)(per < conc ? per : conc);
	s->delay = (double)delay / 1000.0;
	s->retries = (int)retries;
	return 0;
}

static int spec_seeds(struct jobspec *b, struct jobs_err *e)
{
	if (b->s.nseeds == 0)
		return jobs_fail(e, "bad_field", "args.seeds: at least one URL is required");
	for (size_t i = 0; i < b->s.nseeds; i++) {
		char *u = NULL;
		int rc = url_normalize(b->seeds[i], &u);
		free(u);
		if (rc)
			return jobs_fail(e, "bad_url", "args.seeds[%zu]: '%.200s': %s", i, b->seeds[i],
				    crawl_strerror(rc));
		if (!b->sim && strncmp(b->seeds[i], "sim:", 4) == 0)
			return jobs_fail(e, "bad_field", "args.seeds[%zu]: a sim:// seed needs args.sim", i);
	}
	return 0;
}

/* One list of scope rules; *bad is the index of the first one refused. */
static int scope_add(struct url_scope *sc, int (*add)(struct url_scope *, const char *),
		     const char **list, size_t n, size_t *bad)
{
	for (*bad = 0; *bad < n; (*bad)++) {
		int rc = add(sc, list[*bad]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Domains and patterns are compiled here too, not only when the job
 * starts: a job that submit accepted must not fail later for its spec. */
static int spec_scope(const struct jobspec *b, struct jobs_err *e)
{
	struct url_scope *sc = NULL;
	size_t i = 0;
	const char *key = "domains", *val = "";
	int rc = url_scope_new(&sc);
	if (rc == 0 && (rc = scope_add(sc, url_scope_add_domain, b->domains, b->s.ndomains, &i)))
		val = b->domains[i];
	else if (rc == 0 && (key = "include") &&
		 (rc = scope_add(sc, url_scope_add_include, b->include, b->s.ninclude, &i)))
		val = b->include[i];
	else if (rc == 0 && (key = "exclude") &&
		 (rc = scope_add(sc, url_scope_add_exclude, b->exclude, b->s.nexclude, &i)))
		val = b->exclude[i];
	url_scope_free(sc);
	if (rc == CRAWL_EINVAL)
		return jobs_fail(e, "bad_field", "args.%s[%zu]: '%.200s' is not %s", key, i, val,
			    *key == 'd' ? "a host name"
					: "a POSIX extended regular expression");
	return rc ? jobs_fail(e, "internal", "out of memory") : 0;
}

/* Everything a job's args may say, checked before it is accepted. */
int jobspec_parse(const struct crawld_config *cfg, json_t *a, struct jobspec *b,
		      struct jobs_err *e)
{
	struct crawl_spec *s = &b->s;
	const char *sort = NULL;
	int priv = s->allow_private;
	spec_defaults(cfg, b);
	if (get_strs(a, "seeds", &b->seeds, &s->nseeds, e) ||
	    get_strs(a, "domains", &b->domains, &s->ndomains, e) ||
	    get_strs(a, "include", &b->include, &s->ninclude, e) ||
	    get_strs(a, "exclude", &b->exclude, &s->nexclude, e) || spec_numbers(a, s, e) ||
	    get_bool(a, "obey_robots", &s->obey_robots, e) ||
	    get_bool(a, "allow_private", &priv, e) || get_str(a, "user_agent", &s->user_agent, e) ||
	    get_str(a, "sort_by", &sort, e) || get_str(a, "sim", &b->sim, e))
		return CRAWL_EINVAL;
	s->seeds = b->seeds;
	s->domains = b->domains;
	s->include = b->include;
	s->exclude = b->exclude;
	if (sort && crawl_sort_parse(sort, &s->sort_by) != 0)
		return jobs_fail(e, "bad_field", "args.sort_by: expected url, status, time or size");
	if (priv && !cfg->crawl.allow_private)
		return jobs_fail(e, "bad_field",
			    "args.allow_private: refused (the daemon's [crawl] allow_private is false)");
	s->allow_private = priv;
	return spec_seeds(b, e) || spec_scope(b, e) ? CRAWL_EINVAL : 0;
}

