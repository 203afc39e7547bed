/* tfiles.c - scratch trees, whole files and merged-output runs for the installation tests. */
#include "tfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "tsupport.h"

#define WALK_DEPTH_MAX 64
#define RUN_ARGS_MAX 62
#define TAG_MAX 32

int tfiles_mkdtemp(char *dir, size_t len, const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (!dir || n == 0 || n > TAG_MAX ||
	    strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n ||
	    len < n + sizeof "/tmp/.XXXXXX")
		return CRAWL_EINVAL;
	snprintf(dir, len, "/tmp/%s.XXXXXX", tag);
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return CRAWL_ESYS;
	}
	return 0;
}

/* One walk over a tree: path holds the entry being looked at. */
struct walk {
	char path[TFILES_PATH_MAX];
	size_t root_len;
	int count;
	tfiles_walk_fn fn; /* called before an entry's children; may be NULL */
	void *arg;
	int remove; /* remove each entry after its children */
};

static int walk_dir(struct walk *w, size_t len, int depth);

/* Visits the entry now in w->path (of length len), then its children, then removes it. */
static int walk_entry(struct walk *w, size_t len, int depth)
{
	struct stat st;
	int rc;

	if (lstat(w->path, &st) != 0)
		return CRAWL_ESYS;
	if (w->fn && (rc = w->fn(w->arg, w->path + w->root_len + 1, st.st_mode)) != 0)
		return rc;
	if (S_ISDIR(st.st_mode) && (rc = walk_dir(w, len, depth + 1)) != 0)
		return rc;
	if (w->remove && (S_ISDIR(st.st_mode) ? rmdir(w->path) : unlink(w->path)) != 0)
		return CRAWL_ESYS;
	return 0;
}

static int walk_dir(struct walk *w, size_t len, int depth)
{
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (depth > WALK_DEPTH_MAX)
		return CRAWL_EINVAL;
	if (!(d = opendir(w->path)))
		return CRAWL_ESYS;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		int n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n = snprintf(w->path + len, sizeof w->path - len, "/%s", e->d_name);
		if (++w->count > TFILES_WALK_MAX || n < 0 || (size_t)n >= sizeof w->path - len)
			rc = CRAWL_EINVAL;
		else
			rc = walk_entry(w, len + (size_t)n, depth);
		w->path[len] = '\0';
	}
	closedir(d);
	return rc;
}

static int walk_init(struct walk *w, const char *root)
{
	size_t n = root ? strlen(root) : 0;

	memset(w, 0, sizeof *w);
	if (n == 0 || n >= sizeof w->path)
		return CRAWL_EINVAL;
	memcpy(w->path, root, n + 1);
	while (n > 1 && w->path[n - 1] == '/')
		w->path[--n] = '\0';
	w->root_len = n;
	return 0;
}

int tfiles_walk(const char *root, tfiles_walk_fn fn, void *arg)
{
	struct walk *w = malloc(sizeof *w);
	int rc;

	if (!w)
		return CRAWL_ENOMEM;
	if (!fn || (rc = walk_init(w, root)) != 0) {
		free(w);
		return CRAWL_EINVAL;
	}
	w->fn = fn;
	w->arg = arg;
	rc = walk_dir(w, w->root_len, 0);
	free(w);
	return rc;
}

int tfiles_rm_tree(const char *dir)
{
	struct walk *w;
	struct stat st;
	int rc;

	if (!dir || strncmp(dir, "/tmp/", 5) != 0 || dir[5] == '\0' || strstr(dir, ".."))
		return CRAWL_EINVAL;
	if (lstat(dir, &st) != 0)
		return errno == ENOENT ? 0 : CRAWL_ESYS;
	if (!(w = malloc(sizeof *w)))
		return CRAWL_ENOMEM;
	if ((rc = walk_init(w, dir)) == 0) {
		w->remove = 1;
		rc = S_ISDIR(st.st_mode) ? walk_dir(w, w->root_len, 0) : 0;
		if (rc == 0 && (S_ISDIR(st.st_mode) ? rmdir(dir) : unlink(dir)) != 0)
			rc = CRAWL_ESYS;
	}
	free(w);
	return rc;
}

int tfiles_read(const char *path, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf = NULL;
	int fd = -1, rc = CRAWL_ESYS;

	if (out)
		*out = NULL;
	if (!path || !out)
		return CRAWL_EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		goto fail;
	rc = CRAWL_EINVAL;
	if (st.st_size < 0 || (unsigned long long)st.st_size > TFILES_READ_MAX)
		goto fail;
	rc = CRAWL_ENOMEM;
	if (!(buf = malloc((size_t)st.st_size + 1)))
		goto fail;
	rc = CRAWL_ESYS;
	while (got < (size_t)st.st_size) { /* bounded: every pass reads at least a byte */
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail; /* an error, or the file shrank while being read */
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*out = buf;
	if (len)
		*len = got;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static int write_mode(const char *path, const char *text, int flags)
{
	size_t len, done = 0;
	int fd, rc = 0;

	if (!path || !text)
		return CRAWL_EINVAL;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600)) < 0)
		return CRAWL_ESYS;
	len = strlen(text);
	while (rc == 0 && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = CRAWL_ESYS;
		else
			done += (size_t)n;
	}
	if (close(fd) != 0 && rc == 0)
		rc = CRAWL_ESYS;
	return rc;
}

int tfiles_write(const char *path, const char *text, mode_t mode)
{
	int rc = write_mode(path, text, O_TRUNC);

	if (rc == 0 && chmod(path, mode) != 0)
		rc = CRAWL_ESYS;
	return rc;
}

int tfiles_append(const char *path, const char *text)
{
	return write_mode(path, text, O_APPEND);
}

int tfiles_run_merged(const char *const argv[], int timeout_ms, char **out, int *status)
{
	const char *sh[RUN_ARGS_MAX + 5] = {"/bin/sh", "-c", "exec \"$@\" 2>&1", "sh"};
	size_t n = 0;

	if (out)
		*out = NULL;
	if (!argv || !argv[0])
		return CRAWL_EINVAL;
	for (; argv[n]; n++)
		if (n == RUN_ARGS_MAX)
			return CRAWL_EINVAL;
	memcpy(sh + 4, argv, (n + 1) * sizeof *argv);
	return tsupport_run_timeout(sh, timeout_ms, out, status);
}

char *tfiles_replace_all(const char *text, const char *from, const char *to)
{
	size_t n = 0, flen, tlen;
	const char *p, *m;
	char *out, *o;

	if (!text || !from || !to || !*from)
		return NULL;
	flen = strlen(from);
	tlen = strlen(to);
	for (p = text; (p = strstr(p, from)) != NULL; p += flen)
		n++;
	if (!(out = malloc(strlen(text) - n * flen + n * tlen + 1)))
		return NULL;
	for (o = out, p = text; (m = strstr(p, from)) != NULL; p = m + flen) {
		memcpy(o, p, (size_t)(m - p));
		memcpy(o + (m - p), to, tlen);
		o += (m - p) + tlen;
	}
	strcpy(o, p);
	return out;
}

int tfiles_have_program(const char *name)
{
	char dir[TFILES_PATH_MAX], path[TFILES_PATH_MAX];
	const char *p = getenv("PATH");

	if (!name || !*name)
		return 0;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) { /* bounded: every pass consumes at least one byte of PATH */
		size_t n = strcspn(p, ":");

		if (n > 0 && n < sizeof dir) {
			memcpy(dir, p, n);
			dir[n] = '\0';
			if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path &&
			    access(path, X_OK) == 0)
				return 1;
		}
		p += n + (p[n] == ':');
	}
	return 0;
}
