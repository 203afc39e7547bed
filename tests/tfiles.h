/* tfiles.h - file and tree helpers for the tests of installed files (units, man pages,
 * `make install`): scratch directories under /tmp, whole-file reads and writes, a tree walk,
 * and running a program with its stderr captured along with its stdout.
 *
 * Every function returns 0 or a negative CRAWL_E* code and prints nothing. Paths are bounded
 * by TFILES_PATH_MAX; the helpers that delete refuse any path outside /tmp.
 */
#ifndef CRAWL_TFILES_H
#define CRAWL_TFILES_H

#include <stddef.h>
#include <sys/types.h>

#define TFILES_PATH_MAX 1024
/* Files larger than this are refused by tfiles_read. */
#define TFILES_READ_MAX (64u << 20)
/* tfiles_walk visits at most this many entries. */
#define TFILES_WALK_MAX 10000

/* Creates a fresh directory "/tmp/<tag>.XXXXXX" and writes its path into dir[len].
 * tag: at most 32 bytes of [A-Za-z0-9_-]. Errors: CRAWL_EINVAL (bad tag, dir too small),
 * CRAWL_ESYS (mkdtemp failed). */
int tfiles_mkdtemp(char *dir, size_t len, const char *tag);

/* Removes dir and everything below it, without following symlinks. Refuses (CRAWL_EINVAL)
 * a path that is not absolute, not under /tmp/, or contains "..". A missing dir is not an
 * error. Errors: CRAWL_EINVAL, CRAWL_ESYS (an entry could not be removed: removal stops
 * there). */
int tfiles_rm_tree(const char *dir);

/* Reads the whole file at path into a malloc'd, NUL-terminated buffer that the caller owns
 * (*out; *len gets the size without the NUL, len may be NULL). On error *out is NULL.
 * Errors: CRAWL_EINVAL (NULL argument, file over TFILES_READ_MAX), CRAWL_ESYS (open/read
 * failed), CRAWL_ENOMEM. */
int tfiles_read(const char *path, char **out, size_t *len);

/* Writes text to path (created or truncated) and sets its mode (chmod, so the umask does not
 * matter). Errors: CRAWL_EINVAL, CRAWL_ESYS. */
int tfiles_write(const char *path, const char *text, mode_t mode);

/* The same as tfiles_write, but appends to an existing file and keeps its mode. */
int tfiles_append(const char *path, const char *text);

/* One entry met by tfiles_walk: its path relative to the root ("usr/sbin/crawld", never
 * starting with '/'), and the lstat type and permission bits. */
typedef int (*tfiles_walk_fn)(void *arg, const char *rel, mode_t mode);

/* Calls fn for every entry below root (not root itself), parents before children, in no
 * particular order among siblings. Symlinks are reported, not followed. Stops at the first
 * non-zero return of fn and returns it. Errors: CRAWL_EINVAL (NULL argument, more than
 * TFILES_WALK_MAX entries, a path over TFILES_PATH_MAX), CRAWL_ESYS (root cannot be walked). */
int tfiles_walk(const char *root, tfiles_walk_fn fn, void *arg);

/* Runs argv (at most 62 arguments; argv[0] is a path or a name looked up in PATH) as
 * tsupport_run_timeout does, but with its stderr sent to the same pipe as its stdout, so *out
 * (malloc'd, owned by the caller) holds both, interleaved as the program wrote them. *status
 * gets the raw waitpid status. Errors: those of tsupport_run_timeout, and CRAWL_EINVAL for
 * too many arguments. */
int tfiles_run_merged(const char *const argv[], int timeout_ms, char **out, int *status);

/* A malloc'd copy of text (owned by the caller) with every occurrence of from, left to
 * right and not overlapping, replaced by to; NULL if an argument is NULL, from is empty, or
 * memory runs out. */
char *tfiles_replace_all(const char *text, const char *from, const char *to);

/* True if the program name (no '/') is an executable file in one of the directories of
 * $PATH, or if name (with a '/') is executable. */
int tfiles_have_program(const char *name);

#endif
