/* ctl_parse.h - crawlctl's checks of its own input: numbers in a range,
 * job ids, the --since forms, and seed URLs read from a file or stdin.
 *
 * Pure functions: nothing prints, nothing exits, nothing is kept. Every
 * function returns 0 or CRAWL_EINVAL (the text is not of the expected form
 * or out of range); the reader of URL lists also CRAWL_ENOMEM and
 * CRAWL_ESYS (a read error), with a message in err.
 */
#ifndef CRAWLD_CTL_PARSE_H
#define CRAWLD_CTL_PARSE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "error.h"

/* Most seed URLs one submit accepts (command line, --file and stdin). */
#define CTL_SEEDS_MAX 100000

/* A decimal integer (optional sign, digits, nothing else: no spaces, no
 * hex) in [min, max] into *out. *out is untouched on failure. */
int ctl_parse_int(const char *s, long long min, long long max, long long *out);

/* A job id: a decimal integer from 1 to 2^53 - 1 (exact in JSON doubles). */
int ctl_parse_job(const char *s, long long *out);

/* The --since forms into Unix seconds *out, given the current time now:
 *   - a Unix time: digits with an optional fraction ("1764000000.5");
 *   - an ISO date-time in local time: "2026-11-25T10:00:00" (a space may
 *     replace the T, seconds may be left out, a trailing 'Z' means UTC),
 *     or a date alone "2026-11-25" (midnight);
 *   - a relative time before now: a positive integer and a unit, s m h d w
 *     ("10m", "2h", "1d"), at most 100 years.
 * Anything else, including trailing text, is CRAWL_EINVAL. */
int ctl_parse_since(const char *s, time_t now, double *out);

/* Reads one URL per line from fp and appends each to the JSON array seeds
 * (strings, copied). Leading and trailing blanks are trimmed; empty lines
 * and lines whose first non-blank character is '#' are skipped. A line
 * longer than URL_MAX_LEN bytes, a line holding blanks inside, or more than
 * CTL_SEEDS_MAX entries in seeds in all are CRAWL_EINVAL, with "line N: ..."
 * in err (name names the source in the message, e.g. the file's path).
 * On failure seeds may hold the URLs read before the bad line. */
int ctl_parse_url_lines(FILE *fp, const char *name, json_t *seeds, char *err,
			size_t errlen);

#endif
