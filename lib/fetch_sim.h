/* fetch_sim.h - the simulated backend of fetch (internal to lib/fetch).
 *
 * A sim:// fetch asks the simulated web (lib/simweb) what the URL gives on
 * this attempt and arms one embedded loop timer: after latency_ms the future
 * completes with a response (status, content type, the page rendered by
 * simweb_render), or, for a page that never answers or answers later than
 * opts->timeout, fails with CRAWL_ETIMEDOUT when the timeout runs out. No
 * thread, no blocking sleep: the seed's asyncio.sleep. A bad sim URL fails
 * at once (CRAWL_EURL), an unknown simulated host too (CRAWL_EDNS).
 */
#ifndef CRAWL_FETCH_SIM_H
#define CRAWL_FETCH_SIM_H

#include "fetch.h"

struct fetch_sim;

/* The sim backend of loop l (kept). Errors: CRAWL_ENOMEM. */
int fetch_sim_new(loop_t *l, struct fetch_sim **out);

/* Cancels every simulated fetch in flight, then frees. NULL is fine. */
void fetch_sim_free(struct fetch_sim *s);

/* Starts a simulated fetch of url (copied) against w (kept until the fetch
 * ends) with opts (validated by fetch(), not kept). *out gets the caller's
 * reference to the future. Errors: CRAWL_ENOMEM (no future made). */
int fetch_sim_start(struct fetch_sim *s, const struct simweb *w, const char *url,
		    const struct fetch_opts *opts, future_t **out);

size_t fetch_sim_inflight(const struct fetch_sim *s);

#endif
