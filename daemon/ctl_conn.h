/* ctl_conn.h - crawlctl's side of the control protocol (docs/protocol.md):
 * one connection to crawld's Unix socket, requests out, replies in.
 *
 * A request is one JSON line {"id": N, "cmd": ..., "args": ...} with N
 * counting up from 1 on each connection. ctl_conn_next reads reply lines
 * (each at most CTL_LINE_MAX bytes) until one belongs to the last request:
 * a streamed item, or the final reply. Lines with another id are skipped
 * (a stale answer); a final error with a null id is the daemon refusing the
 * connection itself (busy, forbidden, too_long) and counts as ours.
 *
 * Waits go through ctl_signal_poll, so SIGINT ends them (CRAWL_ECANCELLED)
 * once ctl_signal_init has run. Nothing prints; each failure leaves a
 * message for ctl_conn_errmsg. A connection belongs to one thread.
 */
#ifndef CRAWLD_CTL_CONN_H
#define CRAWLD_CTL_CONN_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* Longest reply line accepted, newline excluded: 16 MiB. */
#define CTL_LINE_MAX (16 * 1024 * 1024)

struct ctl_conn;

enum ctl_reply_kind {
	CTL_REPLY_ITEM,  /* {"id": N, "item": ...}: more follow */
	CTL_REPLY_OK,    /* {"id": N, "ok": true, "result": ...}: the end */
	CTL_REPLY_ERROR, /* {"id": N, "ok": false, "error": {...}}: the end */
};

/* One reply line. line owns the parsed JSON; value, code and message point
 * into it and live until ctl_reply_clear. */
struct ctl_reply {
	enum ctl_reply_kind kind;
	json_t *line;
	json_t *value;       /* the item, the result (json null if absent), or
	                        the error object */
	const char *code;    /* CTL_REPLY_ERROR: error.code, never NULL */
	const char *message; /* CTL_REPLY_ERROR: error.message, never NULL */
};

/* Connects to the Unix stream socket at path (not kept). Errors:
 * CRAWL_EINVAL (path empty or longer than a socket address holds),
 * CRAWL_ECONNECT (socket or connect failed: err holds strerror, e.g.
 * "Connection refused"; errno is left as connect set it), CRAWL_ENOMEM.
 * On failure *out is NULL and err (may be NULL) says why. */
int ctl_conn_open(struct ctl_conn **out, const char *path, char *err, size_t errlen);

/* Sends {"id", "cmd", "args"} as one line; args (borrowed, may be NULL: no
 * "args" member) must be an object. Errors: CRAWL_ENOMEM, CRAWL_ERESET (the
 * daemon closed the connection), CRAWL_ESYS (another write error),
 * CRAWL_ECANCELLED (SIGINT while the socket was full), CRAWL_ETIMEDOUT
 * (the socket stayed full for timeout_ms; -1 waits for ever). */
int ctl_conn_send(struct ctl_conn *c, const char *cmd, const json_t *args, int timeout_ms);

/* Reads the next reply to the last request into *r (cleared first; owned
 * by the caller: ctl_reply_clear). timeout_ms (-1: no limit) bounds the wait
 * for that reply, skipped lines included. Errors: CRAWL_ETIMEDOUT,
 * CRAWL_ERESET (the connection closed before the final reply), CRAWL_EPROTO
 * (a line that is not a JSON object of the protocol's shape, or longer
 * than CTL_LINE_MAX), CRAWL_ECANCELLED (SIGINT), CRAWL_ESYS, CRAWL_ENOMEM. */
int ctl_conn_next(struct ctl_conn *c, int timeout_ms, struct ctl_reply *r);

/* The message of the last failure ("" if none); owned by c. */
const char *ctl_conn_errmsg(const struct ctl_conn *c);

/* Closes the connection and frees c; NULL is fine. */
void ctl_conn_free(struct ctl_conn *c);

/* Releases what r holds and zeroes it; safe on a zeroed or cleared r. */
void ctl_reply_clear(struct ctl_reply *r);

#endif
