/* workers.c - thread pool with completions delivered on the loop thread. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

/* A job is its future: the caller's reference and the pool's (held while
 * the job is queued, running or waiting in the done-queue). */
struct job {
	future_t fut; /* first: the future is the job */
	struct workers *w;
	void (*fn)(void *arg);
	void *arg;
	struct job *prev, *next; /* queue links (mutex) */
	int state;               /* JOB_* (mutex) */
	int cancel_req;          /* cancelled while running (loop thread only) */
};

struct workers {
	loop_t *loop;
	int nthreads, started, stopping;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *q_head, *q_tail;       /* waiting for a thread */
	struct job *done_head, *done_tail; /* finished, not yet delivered */
	size_t nqueued;
	int efd;
	struct event *ev; /* our memory (event_assign): freeable after loop_close */
	int ev_added;
};

static int job_cancel(future_t *f);
static void job_destroy(future_t *f)
{
	free(f);
}
static const struct future_ops job_ops = {"Work", job_cancel, job_destroy};

/* ---- queues (callers hold the mutex) ---- */

static void queue_unlink(struct workers *w, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		w->q_head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		w->q_tail = j->prev;
	j->prev = j->next = NULL;
	w->nqueued--;
}

static void queue_push(struct workers *w, struct job *j)
{
	j->prev = w->q_tail;
	j->next = NULL;
	if (w->q_tail)
		w->q_tail->next = j;
	else
		w->q_head = j;
	w->q_tail = j;
	w->nqueued++;
}

/* Returns 1 if the done-queue was empty: only then is a wake-up needed,
 * as the loop has not yet taken the earlier jobs (it will see this one). */
static int done_push(struct workers *w, struct job *j)
{
	int was_empty = w->done_head == NULL;
	j->next = NULL;
	if (w->done_tail)
		w->done_tail->next = j;
	else
		w->done_head = j;
	w->done_tail = j;
	return was_empty;
}

/* ---- worker threads ---- */

/* EAGAIN means the counter is already non-zero: a wake-up is pending.
 * Nothing else can fail on a valid eventfd with 8 bytes. */
static void wake_loop(struct workers *w)
{
	uint64_t one = 1;
	while (write(w->efd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		struct job *j = w->q_head;
		if (!j) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		queue_unlink(w, j);
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&w->mu);
		j->fn(j->arg);
		pthread_mutex_lock(&w->mu);
		j->state = JOB_DONE;
		if (done_push(w, j))
			wake_loop(w);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- completion on the loop thread ---- */

/* Ends a job taken off the pool and drops the pool's reference. */
static void job_complete(struct job *j, int cancelled)
{
	if (cancelled || j->cancel_req)
		future__set_cancelled(&j->fut);
	else
		future_set_result(&j->fut, NULL);
	future_unref(&j->fut);
}

static struct job *done_take(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	struct job *list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	return list;
}

static void deliver(struct job *list, int cancelled)
{
	while (list) {
		struct job *j = list;
		list = j->next;
		j->next = NULL;
		job_complete(j, cancelled);
	}
}

/* The eventfd is read before the queue is taken: a job pushed after the
 * read rings again, so none is left behind (at worst one empty wake-up). */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;
	(void)what;
	while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
		;
	deliver(done_take(arg), 0);
}

/* Future cancel: a waiting job leaves the queue at once; a running or
 * finished one is marked, and ends CANCELLED when delivered. */
static int job_cancel(future_t *f)
{
	struct job *j = (struct job *)f;
	struct workers *w = j->w;
	pthread_mutex_lock(&w->mu);
	int queued = j->state == JOB_QUEUED;
	if (queued)
		queue_unlink(w, j);
	pthread_mutex_unlock(&w->mu);
	if (!queued) {
		j->cancel_req = 1;
		return 0;
	}
	job_complete(j, 1);
	return 0;
}

/* ---- public ---- */

/* The queue bound is checked under the mutex: workers shrink the queue. */
static int enqueue_job(struct workers *w, struct job *j)
{
	pthread_mutex_lock(&w->mu);
	int full = w->nqueued >= WORKERS_MAX_QUEUE;
	if (!full) {
		future_ref(&j->fut); /* the pool's */
		queue_push(w, j);
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return full ? CRAWL_EBUSY : 0;
}

int workers_submit(struct workers *w, void (*fn)(void *arg), void *arg, future_t **out)
{
	if (out)
		*out = NULL;
	if (!w || !fn || !out)
		return CRAWL_EINVAL;
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return CRAWL_ENOMEM;
	future__init(&j->fut, w->loop, &job_ops);
	j->w = w;
	j->fn = fn;
	j->arg = arg;
	if (!w->nthreads) {
		fn(arg); /* no threads: the caller's thread is the worker */
		future_set_result(&j->fut, NULL);
	} else {
		int rc = enqueue_job(w, j);
		if (rc) {
			future_unref(&j->fut);
			return rc;
		}
	}
	*out = &j->fut;
	return 0;
}

int workers_threads(const struct workers *w)
{
	return w->nthreads;
}

/* Threads start with every signal blocked, so that signals keep going to
 * the loop thread (signalfd or libevent handlers there). */
static int start_threads(struct workers *w)
{
	sigset_t all, old;
	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return CRAWL_ESYS;
	int rc = 0;
	for (; w->started < w->nthreads; w->started++) {
		if (pthread_create(&w->threads[w->started], NULL, worker_main, w) != 0) {
			rc = CRAWL_ESYS;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void stop_threads(struct workers *w)
{
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->started; i++)
		pthread_join(w->threads[i], NULL);
	w->started = 0;
}

static int event_setup(struct workers *w)
{
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return CRAWL_ESYS;
	if (!(w->ev = malloc(event_get_struct_event_size())))
		return CRAWL_ENOMEM;
	struct event_base *base = loop_event_base(w->loop);
	if (!base || event_assign(w->ev, base, w->efd, EV_READ | EV_PERSIST, on_wake, w) != 0 ||
	    event_add(w->ev, NULL) != 0)
		return CRAWL_ESYS;
	w->ev_added = 1;
	return 0;
}

static int sync_init(struct workers *w)
{
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return CRAWL_ESYS;
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return CRAWL_ESYS;
	}
	return 0;
}

int workers_new(loop_t *l, int nthreads, struct workers **out)
{
	if (out)
		*out = NULL;
	if (!l || !out || nthreads < 0 || nthreads > WORKERS_MAX_THREADS)
		return CRAWL_EINVAL;
	struct workers *w = calloc(1, sizeof *w);
	if (!w)
		return CRAWL_ENOMEM;
	w->loop = l;
	w->efd = -1;
	int rc = sync_init(w);
	if (rc) {
		free(w);
		return rc;
	}
	w->nthreads = nthreads;
	if (nthreads && !(w->threads = calloc((size_t)nthreads, sizeof *w->threads)))
		rc = CRAWL_ENOMEM;
	if (rc == 0 && nthreads)
		rc = event_setup(w);
	if (rc == 0)
		rc = start_threads(w);
	if (rc) {
		workers_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Jobs left waiting never run; finished ones are delivered as usual. */
static void drain_all(struct workers *w)
{
	struct job *waiting = w->q_head;
	for (struct job *j = waiting; j; j = j->next)
		j->state = JOB_DONE; /* off the queue: a cancel now only marks it */
	w->q_head = w->q_tail = NULL;
	w->nqueued = 0;
	deliver(done_take(w), 0);
	deliver(waiting, 1);
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	stop_threads(w);
	drain_all(w);
	if (w->ev_added && !loop_is_closed(w->loop))
		event_del(w->ev);
	free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
