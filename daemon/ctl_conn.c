/* ctl_conn.c - crawlctl's side of the control protocol (see ctl_conn.h). */
#include "ctl_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_signal.h"

#define BUF_FIRST (64 * 1024)
#define READ_CHUNK (64 * 1024)

struct ctl_conn {
	int fd;
	json_int_t id;  /* of the last request sent */
	char *buf;      /* received bytes; buf[start, len) not yet consumed */
	size_t start, len, cap;
	size_t scanned; /* buf[start, scanned) holds no '\n' */
	bool eof;
	char err[512];
};

static int set_err(struct ctl_conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct ctl_conn *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), for ctl_signal_poll. */
static int left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int ctl_conn_open(struct ctl_conn **out, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_conn *c = NULL;
	int rc = CRAWL_ENOMEM;
	int saved;

	*out = NULL;
	if (!path || !path[0] || strlen(path) >= sizeof sa.sun_path) {
		if (err && errlen)
			snprintf(err, errlen, "socket path is empty or longer than %zu bytes",
				 sizeof sa.sun_path - 1);
		return CRAWL_EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (!(c = calloc(1, sizeof *c)))
		goto fail;
	c->fd = -1;
	if (!(c->buf = malloc(BUF_FIRST)))
		goto fail;
	c->cap = BUF_FIRST;
	rc = CRAWL_ECONNECT;
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	saved = errno; /* the caller may look at it (EACCES: a permission hint) */
	if (err && errlen)
		snprintf(err, errlen, "%s", rc == CRAWL_ENOMEM ? "out of memory" : strerror(saved));
	if (c && c->fd >= 0)
		close(c->fd);
	if (c)
		free(c->buf);
	free(c);
	errno = saved;
	return rc;
}

/* Writes all of data, waiting for room while the socket is full. */
static int write_all(struct ctl_conn *c, const char *data, size_t n, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	while (n > 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
		ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
		int rc;

		if (w >= 0) {
			data += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return set_err(c, CRAWL_ERESET, "connection closed by crawld");
		if (errno != EAGAIN && errno != EINTR)
			return set_err(c, CRAWL_ESYS, "write to crawld: %s", strerror(errno));
		if ((rc = ctl_signal_poll(&pfd, 1, left_ms(deadline))) < 0)
			return set_err(c, rc, "%s", rc == CRAWL_ECANCELLED ? "interrupted"
								       : strerror(errno));
		if (rc == 0)
			return set_err(c, CRAWL_ETIMEDOUT, "timed out sending to crawld");
	}
	return 0;
}

int ctl_conn_send(struct ctl_conn *c, const char *cmd, const json_t *args, int timeout_ms)
{
	json_t *req = NULL;
	char *text = NULL;
	size_t n;
	int rc = CRAWL_ENOMEM;

	c->err[0] = '\0';
	if (!(req = json_pack("{s:I, s:s}", "id", c->id + 1, "cmd", cmd)))
		goto fail;
	if (args && json_object_set(req, "args", (json_t *)args) != 0)
		goto fail;
	if (!(text = json_dumps(req, JSON_COMPACT)))
		goto fail;
	n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: the line is sent by length */
	c->id++;
	rc = write_all(c, text, n + 1, timeout_ms);
fail:
	if (rc == CRAWL_ENOMEM)
		set_err(c, rc, "out of memory");
	free(text);
	json_decref(req);
	return rc;
}

/* Makes room for READ_CHUNK more bytes: drops consumed bytes, then grows. */
static int buf_room(struct ctl_conn *c)
{
	size_t cap;
	char *grown;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->scanned -= c->start;
		c->start = 0;
	}
	if (c->cap - c->len >= READ_CHUNK)
		return 0;
	cap = c->cap * 2;
	if (!(grown = realloc(c->buf, cap)))
		return set_err(c, CRAWL_ENOMEM, "out of memory");
	c->buf = grown;
	c->cap = cap;
	return 0;
}

/* Reads what the socket has, waiting until deadline for something. */
static int fill(struct ctl_conn *c, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if ((rc = buf_room(c)) != 0)
		return rc;
	if ((rc = ctl_signal_poll(&pfd, 1, left_ms(deadline))) < 0)
		return set_err(c, rc, "%s", rc == CRAWL_ECANCELLED ? "interrupted" : strerror(errno));
	if (rc == 0)
		return set_err(c, CRAWL_ETIMEDOUT, "timed out waiting for crawld's reply");
	n = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0 && errno != ECONNRESET)
		return set_err(c, CRAWL_ESYS, "read from crawld: %s", strerror(errno));
	if (n <= 0)
		c->eof = true;
	else
		c->len += (size_t)n;
	return 0;
}

/* Finds the next complete line: *line (not NUL-terminated) and *n. */
static int read_line(struct ctl_conn *c, int64_t deadline, const char **line, size_t *n)
{
	int rc;

	for (;;) {
		char *nl = memchr(c->buf + c->scanned, '\n', c->len - c->scanned);

		if (nl) {
			*line = c->buf + c->start;
			*n = (size_t)(nl - *line);
			c->start = c->scanned = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		c->scanned = c->len;
		if (c->len - c->start > CTL_LINE_MAX)
			return set_err(c, CRAWL_EPROTO, "reply line longer than %d bytes",
				    CTL_LINE_MAX);
		if (c->eof)
			return set_err(c, CRAWL_ERESET, "connection closed by crawld %s",
				    c->len > c->start ? "in the middle of a reply line"
						      : "before the reply was complete");
		if ((rc = fill(c, deadline)) != 0)
			return rc;
	}
}

/* Whether a reply's id is the last request's; a null id on a final error
 * is the daemon refusing the whole connection. */
static bool reply_is_ours(const struct ctl_conn *c, json_t *line)
{
	json_t *id = json_object_get(line, "id");

	if (json_is_integer(id))
		return json_integer_value(id) == c->id;
	return (!id || json_is_null(id)) && json_is_false(json_object_get(line, "ok"));
}

/* Classifies a reply line of ours into r (which takes line). */
static int classify(struct ctl_conn *c, json_t *line, struct ctl_reply *r)
{
	json_t *ok = json_object_get(line, "ok");
	json_t *code, *msg;

	r->line = line;
	if ((r->value = json_object_get(line, "item"))) {
		r->kind = CTL_REPLY_ITEM;
	} else if (json_is_true(ok)) {
		r->kind = CTL_REPLY_OK;
		if (!(r->value = json_object_get(line, "result")))
			r->value = json_null();
	} else if (json_is_false(ok)) {
		r->kind = CTL_REPLY_ERROR;
		r->value = json_object_get(line, "error");
		code = json_object_get(r->value, "code");
		msg = json_object_get(r->value, "message");
		r->code = json_is_string(code) ? json_string_value(code) : "unknown";
		r->message = json_is_string(msg) ? json_string_value(msg) : "";
	} else {
		ctl_reply_clear(r);
		return set_err(c, CRAWL_EPROTO, "bad reply from crawld: neither item nor ok");
	}
	return 0;
}

int ctl_conn_next(struct ctl_conn *c, int timeout_ms, struct ctl_reply *r)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	json_error_t jerr;

	memset(r, 0, sizeof *r);
	c->err[0] = '\0';
	for (;;) {
		const char *text = NULL;
		size_t n = 0;
		json_t *line;
		int rc;

		if ((rc = read_line(c, deadline, &text, &n)) != 0)
			return rc;
		if (!(line = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr)))
			return set_err(c, CRAWL_EPROTO, "bad reply from crawld: %s", jerr.text);
		if (!json_is_object(line)) {
			json_decref(line);
			return set_err(c, CRAWL_EPROTO, "bad reply from crawld: not an object");
		}
		if (reply_is_ours(c, line))
			return classify(c, line, r);
		json_decref(line);
	}
}

const char *ctl_conn_errmsg(const struct ctl_conn *c)
{
	return c->err;
}

void ctl_conn_free(struct ctl_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

void ctl_reply_clear(struct ctl_reply *r)
{
	json_decref(r->line);
	memset(r, 0, sizeof *r);
}
