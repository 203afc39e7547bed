/* error.h - the one table of libcrawl error codes.
 *
 * Every lib/ call returns 0 (or a documented positive value) on success and a
 * negative CRAWL_E* code on failure. Codes are append-only: never renumber one,
 * scripts and the control protocol see them. Codes at or below CRAWL_EUSER
 * are free for programs to use as their own "exception types" (throw, raise).
 */
#ifndef CRAWL_ERROR_H
#define CRAWL_ERROR_H

#define CRAWL_ERRNO_MAP(X)                                                      \
	X(ENOMEM, -1, "out of memory")                                          \
	X(EINVAL, -2, "invalid argument")                                       \
	X(ECLOSED, -3, "coroutine is closed")                                   \
	X(ERUNNING, -4, "coroutine is already running")                         \
	X(ENOTSTARTED, -5, "can't send a non-NULL value to a just-started coroutine") \
	X(EEXIT, -6, "coroutine was asked to close (GeneratorExit)")            \
	X(EIGNOREDEXIT, -7, "coroutine ignored close (yielded after GeneratorExit)") \
	X(ENOTCORO, -8, "not inside a coroutine")                               \
	X(ESHARED, -9, "shared stack is in use by the resumer")                 \
	X(ESTACK, -10, "cannot allocate a coroutine stack")                     \
	X(EPENDING, -11, "future is still pending")                             \
	X(ECANCELLED, -12, "cancelled")                                         \
	X(ETIMEDOUT, -13, "timed out")                                          \
	X(ELOOPCLOSED, -14, "event loop is closed")                             \
	X(ELOOPRUNNING, -15, "event loop is already running")                   \
	X(EDONE, -16, "future is already done")                                 \
	X(ESYS, -17, "system call failed")                                      \
	X(ENOTTASK, -18, "not inside a task")                                   \
	X(EBADYIELD, -19, "task yielded something that is not a future")        \
	X(EDESTROYED, -20, "task was destroyed but it is pending")              \
	X(EURL, -30, "malformed URL")                                           \
	X(ESCHEME, -31, "unsupported URL scheme")         \
	X(EDNS, -32, "could not resolve host")                                  \
	X(ECONNREFUSED, -33, "connection refused")                              \
	X(ETLS, -34, "TLS handshake or certificate failure")                    \
	X(EREDIRECTS, -35, "too many redirects")                                \
	X(EBODYTOOLARGE, -36, "response body larger than the limit")            \
	X(ERESET, -37, "connection reset by peer")                              \
	X(EREDIRSCHEME, -38, "redirect to a forbidden scheme")                  \
	X(EADDRBLOCKED, -39, "address refused by policy")                       \
	X(EHTTP, -40, "HTTP transfer failed")                                   \
	X(ECONNECT, -41, "could not connect")                                   \
	X(EROBOTS, -50, "disallowed by robots.txt")                             \
	X(ESCOPE, -51, "URL out of the job's scope")                            \
	X(EHTTPSTATUS, -52, "HTTP error status")                                \
	X(ELIMIT, -53, "job limit reached")                                     \
	X(ECONFIG, -60, "configuration error")                                  \
	X(ESTORE, -61, "state store error")                                     \
	X(EPROTO, -62, "control protocol error")                                \
	X(ENOTFOUND, -63, "not found")                                          \
	X(EEXIST, -64, "already exists")                                        \
	X(EBUSY, -65, "resource busy")

enum crawl_err {
	CRAWL_OK = 0,
#define CRAWL_ERR_ENUM(name, code, msg) CRAWL_##name = (code),
	CRAWL_ERRNO_MAP(CRAWL_ERR_ENUM)
#undef CRAWL_ERR_ENUM
	CRAWL_EUSER = -1000 /* first code of a program's own errors */
};

/* A human-readable message for code; never NULL, never to be freed. */
const char *crawl_strerror(int code);
/* The symbolic name ("ETIMEDOUT"), or "EUSER" / "OK" / "EUNKNOWN"; static. */
const char *crawl_errname(int code);

#endif
