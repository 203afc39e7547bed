/* control.c - framing, peer checks and dispatch of control requests. */
#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"

struct control_conn {
	struct control *ctl;
	struct bufferevent *bev;
	struct control_conn *prev, *next;
	void (*on_close)(void *arg);
	void *on_close_arg;
	int closing; /* close once the output is flushed */
};

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *retry; /* re-enables accept after EMFILE */
	struct control_opts o;
	const struct control_cmd *cmds;
	void *arg;
	struct control_conn *conns;
	int nconns;
};

static void conn_free(struct control_conn *c)
{
	struct control *ctl = c->ctl;
	if (c->on_close)
		c->on_close(c->on_close_arg);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	bufferevent_free(c->bev);
	free(c);
}

static void send_json(struct control_conn *c, json_t *msg)
{
	char *s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!s)
		return; /* out of memory: the client sees a missing reply, not a crash */
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
	free(s);
}

void control_reply_ok(struct control_conn *c, json_t *id, json_t *result)
{
	send_json(c, json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 1,
			       "result", result ? result : json_object()));
}

void control_reply_error(struct control_conn *c, json_t *id, const char *code, const char *fmt,
			 ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	send_json(c, json_pack("{s:O?, s:b, s:{s:s, s:s}}", "id", id ? id : json_null(), "ok", 0,
			       "error", "code", code, "message", msg));
}

void control_send_item(struct control_conn *c, json_t *id, json_t *item)
{
	send_json(c, json_pack("{s:O?, s:o}", "id", id, "item", item));
}

void control_conn_on_close(struct control_conn *c, void (*fn)(void *arg), void *arg)
{
	c->on_close = fn;
	c->on_close_arg = arg;
}

size_t control_conn_pending(const struct control_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Replies, then closes when the reply has been written. */
static void close_after(struct control_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (control_conn_pending(c) == 0)
		conn_free(c);
}

static const struct control_cmd *find_cmd(const struct control *ctl, const char *name)
{
	for (const struct control_cmd *k = ctl->cmds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void dispatch(struct control_conn *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || !json_is_object(req)) {
		control_reply_error(c, NULL, "bad_json", "request is not a JSON object: %s",
				    req ? "got another JSON type" : jerr.text);
		json_decref(req);
		return;
	}
	json_t *id = json_object_get(req, "id");
	json_t *cmd = json_object_get(req, "cmd");
	json_t *args = json_object_get(req, "args");
	if (!id || !(json_is_number(id) || json_is_string(id)))
		control_reply_error(c, NULL, "bad_request", "\"id\" must be a number or a string");
	else if (!json_is_string(cmd))
		control_reply_error(c, id, "bad_request", "\"cmd\" must be a string");
	else if (args && !json_is_object(args))
		control_reply_error(c, id, "bad_request", "\"args\" must be an object");
	else {
		const struct control_cmd *k = find_cmd(c->ctl, json_string_value(cmd));
		json_t *a = args ? json_incref(args) : json_object();
		if (!k)
			control_reply_error(c, id, "unknown_command", "unknown command \"%s\"",
					    json_string_value(cmd));
		else if (a)
			k->fn(c->ctl->arg, c, id, a);
		json_decref(a);
	}
	json_decref(req);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->closing) {
		size_t n = 0;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_LF);
		if (p.pos < 0) {
			if (evbuffer_get_length(in) > c->ctl->o.max_line) {
				control_reply_error(c, NULL, "too_long",
						    "request line longer than %zu bytes",
						    c->ctl->o.max_line);
				close_after(c);
			}
			return;
		}
		if ((size_t)p.pos > c->ctl->o.max_line) {
			control_reply_error(c, NULL, "too_long", "request line longer than %zu bytes",
					    c->ctl->o.max_line);
			close_after(c);
			return;
		}
		char *line = (char *)evbuffer_pullup(in, p.pos + 1);
		if (p.pos > 0 && !(p.pos == 1 && line[0] == '\r'))
			dispatch(c, line, (size_t)p.pos);
		evbuffer_drain(in, (size_t)p.pos + 1);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *c = arg;
	(void)bev;
	/* A client that half-closes after its request still gets the reply. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && control_conn_pending(c) &&
	    !c->on_close)
		close_after(c);
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(c);
}

/* root, our own user, or a member of the configured group. */
static int peer_allowed(const struct control *ctl, int fd, char *why, size_t len)
{
	struct ucred cr;
	socklen_t n = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0) {
		snprintf(why, len, "cannot read peer credentials: %s", strerror(errno));
		return 0;
	}
	if (cr.uid == 0 || cr.uid == geteuid())
		return 1;
	if (ctl->o.group != (gid_t)-1) {
		if (cr.gid == ctl->o.group)
			return 1;
		struct passwd *pw = getpwuid(cr.uid);
		gid_t groups[256];
		int ng = 256;
		if (pw && getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) >= 0)
			for (int i = 0; i < ng; i++)
				if (groups[i] == ctl->o.group)
					return 1;
	}
	snprintf(why, len, "uid %u may not use crawld's control socket (root, the daemon's user and its group only)",
		 (unsigned)cr.uid);
	return 0;
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int slen,
		      void *arg)
{
	struct control *ctl = arg;
	(void)lst;
	(void)sa;
	(void)slen;
	struct control_conn *c = calloc(1, sizeof *c);
	if (c)
		c->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !c->bev) {
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	char why[160];
	if (ctl->nconns > ctl->o.max_clients) {
		control_reply_error(c, NULL, "busy", "too many clients (%d at most)", ctl->o.max_clients);
		close_after(c);
	} else if (!peer_allowed(ctl, fd, why, sizeof why)) {
		control_reply_error(c, NULL, "forbidden", "%s", why);
		close_after(c);
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(((struct control *)arg)->listener);
}

/* Out of descriptors (EMFILE): pause accepting for a second, as OpenBSD's
 * httpd does, instead of spinning on the ready listener. */
static void on_accept_error(struct evconnlistener *lst, void *arg)
{
	struct control *ctl = arg;
	struct timeval one = {1, 0};
	evconnlistener_disable(lst);
	evtimer_add(ctl->retry, &one);
}

int control_open(struct control **out, struct event_base *base, int fd,
		 const struct control_opts *o, const struct control_cmd *cmds, void *arg)
{
	struct control *ctl = calloc(1, sizeof *ctl);
	if (!ctl) {
		close(fd);
		return CRAWL_ENOMEM;
	}
	ctl->base = base;
	ctl->o = *o;
	ctl->cmds = cmds;
	ctl->arg = arg;
	evutil_make_socket_nonblocking(fd);
	ctl->listener = evconnlistener_new(base, on_accept, ctl, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	ctl->retry = evtimer_new(base, on_retry, ctl);
	if (!ctl->listener || !ctl->retry) {
		if (!ctl->listener)
			close(fd);
		control_free(ctl);
		return CRAWL_ENOMEM;
	}
	evconnlistener_set_error_cb(ctl->listener, on_accept_error);
	*out = ctl;
	return 0;
}

void control_stop_accepting(struct control *ctl)
{
	if (ctl && ctl->listener)
		evconnlistener_disable(ctl->listener);
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		conn_free(ctl->conns);
	if (ctl->listener)
		evconnlistener_free(ctl->listener);
	if (ctl->retry)
		event_free(ctl->retry);
	free(ctl);
}

int control_clients(const struct control *ctl)
{
	return ctl->nconns;
}

void control_set_limits(struct control *ctl, size_t max_line, int max_clients)
{
	ctl->o.max_line = max_line;
	ctl->o.max_clients = max_clients;
}

/* A socket file nobody answers on is stale (a crashed daemon's); one that
 * answers belongs to a running daemon and is not taken over. */
static int unlink_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s: another crawld is listening there", path);
		return CRAWL_EBUSY;
	}
	unlink(path);
	return 0;
}

int control_listen_unix(const char *path, int mode, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return CRAWL_EINVAL;
	}
	int rc = unlink_stale(path, err, errlen);
	if (rc)
		return rc;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	mode_t old = umask(0177);
	int b = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (b != 0 || chmod(path, (mode_t)mode) != 0 || listen(fd, 128) != 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return CRAWL_ESYS;
}
