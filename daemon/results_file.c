/* results_file.c - a job's results as JSON lines (see results_file.h). */
#include "results_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

struct results_file {
	int fd;
	char *path;
	off_t size;     /* bytes of complete lines */
	int64_t lines;
	char err[512];
};

/* "path: what: strerror(errno)" into err (may be NULL). */
static int sys_error(char *err, size_t errlen, const char *path,
		     const char *what)
{
	int e = errno;

	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
	return CRAWL_ESYS;
}

/* One pass over the file: counts '\n' and finds where the last one ends. */
static int scan_lines(int fd, off_t *complete, int64_t *lines)
{
	char buf[65536];
	off_t pos = 0;
	ssize_t n;

	*complete = 0;
	*lines = 0;
	while ((n = pread(fd, buf, sizeof buf, pos)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				(*lines)++;
				*complete = pos + i + 1;
			}
		}
		pos += n;
	}
	return 0;
}

int results_file_open(struct results_file **out, const char *path,
		      int64_t *lines, char *err, size_t errlen)
{
	struct results_file *rf;
	struct stat sb;

	*out = NULL;
	if (!(rf = calloc(1, sizeof *rf)) || !(rf->path = strdup(path))) {
		free(rf);
		return CRAWL_ENOMEM;
	}
	rf->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (rf->fd < 0) {
		sys_error(err, errlen, path, "cannot open");
		goto fail;
	}
	if (fstat(rf->fd, &sb) < 0 || scan_lines(rf->fd, &rf->size, &rf->lines) < 0) {
		sys_error(err, errlen, path, "cannot read");
		goto fail;
	}
	/* A crash in the middle of an append leaves a torn last line. */
	if (sb.st_size != rf->size && ftruncate(rf->fd, rf->size) < 0) {
		sys_error(err, errlen, path, "cannot cut off a torn last line");
		goto fail;
	}
	if (lines)
		*lines = rf->lines;
	*out = rf;
	return 0;
fail:
	results_file_close(rf);
	return CRAWL_ESYS;
}

void results_file_close(struct results_file *rf)
{
	if (!rf)
		return;
	if (rf->fd >= 0)
		close(rf->fd);
	free(rf->path);
	free(rf);
}

int64_t results_file_lines(const struct results_file *rf)
{
	return rf->lines;
}

const char *results_file_errmsg(const struct results_file *rf)
{
	return rf ? rf->err : "no results file";
}

/* A JSON string (or null) for s; bytes that are not valid UTF-8 become '?'
 * for non-ASCII bytes, since JSON text must be UTF-8. */
static json_t *json_text(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	if (!(copy = strdup(s)))
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* json_object_set_new takes v even when it fails (and fails on NULL). */
static bool set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0;
}

/* The line for r, "{...}\n", malloc'd; NULL when out of memory. */
static char *format_line(int64_t job, const struct store_result *r)
{
	json_t *o = json_object();
	char *text = NULL, *line = NULL;
	size_t n;

	if (o && set(o, "job", json_integer(job)) &&
	    set(o, "seq", json_integer(r->seq)) &&
	    set(o, "url", json_text(r->url)) &&
	    set(o, "final_url", json_text(r->final_url)) &&
	    set(o, "status", json_integer(r->status)) &&
	    set(o, "depth", json_integer(r->depth)) &&
	    set(o, "referrer", json_text(r->referrer)) &&
	    set(o, "content_type", json_text(r->content_type)) &&
	    set(o, "bytes", json_integer(r->bytes)) &&
	    set(o, "fetch_ms", json_real(r->fetch_ms)) &&
	    set(o, "links", json_integer(r->links)) &&
	    set(o, "error", json_text(r->error)) &&
	    set(o, "error_code", json_integer(r->error_code)))
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return NULL;
	n = strlen(text);
	if ((line = realloc(text, n + 2)))
		memcpy(line + n, "\n", 2);
	else
		free(text);
	return line;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int results_file_append(struct results_file *rf, int64_t job,
			const struct store_result *r)
{
	char *line;
	size_t n;

	if (!r || !r->url)
		return CRAWL_EINVAL;
	if (!(line = format_line(job, r)))
		return CRAWL_ENOMEM;
	n = strlen(line);
	if (write_all(rf->fd, line, n) < 0) {
		sys_error(rf->err, sizeof rf->err, rf->path, "cannot append");
		if (ftruncate(rf->fd, rf->size) < 0) {
			/* The torn line is cut off at the next open. */
		}
		free(line);
		return CRAWL_ESYS;
	}
	free(line);
	rf->size += (off_t)n;
	rf->lines++;
	return 0;
}

/* ---- resync ------------------------------------------------------------- */

struct rewrite {
	struct results_file *tmp;
	int rc;
};

static int rewrite_one(void *arg, const struct store_result *r)
{
	struct rewrite *rw = arg;

	rw->rc = results_file_append(rw->tmp, r->job, r);
	return rw->rc;
}

/* Makes a rename in path's directory durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy)
		return -1;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

/* Writes every result of job into tmp_path, synced, in seq order. */
static int write_from_store(const char *tmp_path, struct store *st, int64_t job,
			    char *err, size_t errlen)
{
	struct rewrite rw = { NULL, 0 };
	int rc;

	if (unlink(tmp_path) < 0 && errno != ENOENT)
		return sys_error(err, errlen, tmp_path, "cannot remove");
	if ((rc = results_file_open(&rw.tmp, tmp_path, NULL, err, errlen)))
		return rc;
	rc = store_results_iter(st, job, "seq", rewrite_one, &rw);
	if (!rc && fsync(rw.tmp->fd) < 0)
		rc = sys_error(err, errlen, tmp_path, "cannot sync");
	else if (rc && err && errlen && rw.rc == CRAWL_ESYS)
		snprintf(err, errlen, "%s", rw.tmp->err);
	else if (rc && err && errlen && rw.rc == 0)
		snprintf(err, errlen, "reading the results of job %lld: %s",
			 (long long)job, store_errmsg(st));
	else if (rc && err && errlen)
		snprintf(err, errlen, "%s: %s", tmp_path, crawl_strerror(rc));
	results_file_close(rw.tmp);
	return rc;
}

int results_file_resync(const char *path, struct store *st, int64_t job,
			char *err, size_t errlen)
{
	struct results_file *rf;
	int64_t lines, count;
	char *tmp_path = NULL;
	int rc;

	if ((rc = results_file_open(&rf, path, &lines, err, errlen)))
		return rc;
	results_file_close(rf);
	if ((rc = store_result_count(st, job, &count))) {
		if (err && errlen)
			snprintf(err, errlen, "counting the results of job %lld: "
				 "%s", (long long)job, store_errmsg(st));
		return rc;
	}
	if (lines == count)
		return 0;
	if (asprintf(&tmp_path, "%s.tmp", path) < 0)
		return CRAWL_ENOMEM;
	if ((rc = write_from_store(tmp_path, st, job, err, errlen)))
		goto fail;
	if (rename(tmp_path, path) < 0) {
		rc = sys_error(err, errlen, path, "cannot replace");
		goto fail;
	}
	free(tmp_path);
	if (sync_dir(path) < 0)
		return sys_error(err, errlen, path, "cannot sync its directory");
	return 1;
fail:
	unlink(tmp_path);
	free(tmp_path);
	return rc;
}
