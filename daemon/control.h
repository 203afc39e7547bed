/* control.h - the control socket: JSON lines over a Unix stream socket.
 *
 * docs/protocol.md is the contract. This module owns the listening socket
 * and the connections: it frames lines (bounded by max_line), checks each
 * peer with SO_PEERCRED, parses requests with jansson, answers framing and
 * parse errors itself, and hands each well-formed request to the handler
 * registered for its command. Handlers answer through the reply calls below,
 * at once or later (a following stream keeps the connection).
 */
#ifndef CRAWLD_CONTROL_H
#define CRAWLD_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct control;
struct control_conn;

/* args is the request's "args" object (borrowed; an empty object when
 * absent); id is borrowed too: take a reference to keep it. */
typedef void (*control_handler)(void *arg, struct control_conn *c, json_t *id, json_t *args);

struct control_cmd {
	const char *name;
	control_handler fn;
};

struct control_opts {
	size_t max_line;   /* longest request line in bytes */
	int max_clients;   /* connections at once */
	gid_t group;       /* members may connect; (gid_t)-1 = none */
};

/* Listens on fd (already bound and listening; owned from now on). cmds is
 * a table ended by {NULL, NULL}, borrowed for the control's life.
 * Errors: CRAWL_ENOMEM, CRAWL_ESYS. */
int control_open(struct control **out, struct event_base *base, int fd,
		 const struct control_opts *o, const struct control_cmd *cmds, void *arg);
/* Stops listening and closes every connection. NULL is fine. */
void control_free(struct control *ctl);
/* Stops accepting new connections (drain on shutdown). */
void control_stop_accepting(struct control *ctl);
int control_clients(const struct control *ctl);
void control_set_limits(struct control *ctl, size_t max_line, int max_clients);

/* Creates, binds and listens on a Unix socket at path with mode (an
 * existing socket file is replaced if nothing answers on it).
 * Returns 0 and *fd, or CRAWL_ESYS / CRAWL_EBUSY with err filled. */
int control_listen_unix(const char *path, int mode, int *fd, char *err, size_t errlen);

/* Replies. result and item are stolen (json_decref'd). */
void control_reply_ok(struct control_conn *c, json_t *id, json_t *result);
void control_reply_error(struct control_conn *c, json_t *id, const char *code, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));
void control_send_item(struct control_conn *c, json_t *id, json_t *item);

/* A streaming handler that outlives its call registers a hook to learn
 * when the connection goes (the client closed it, or the daemon stops).
 * One hook per connection. */
void control_conn_on_close(struct control_conn *c, void (*fn)(void *arg), void *arg);
/* Bytes waiting to be written to c (a follower can drop records rather
 * than buffer without bound). */
size_t control_conn_pending(const struct control_conn *c);

#endif
