/* results_file.h - a job's results as JSON lines, <state_dir>/job-<id>.jsonl.
 *
 * One compact JSON object per line, one line per result newly inserted in
 * the store: {"job":1,"seq":3,"url":"...","final_url":"...","status":200,
 * "depth":1,"referrer":"...","content_type":"...","bytes":512,
 * "fetch_ms":12.5,"links":7,"error":null,"error_code":0}. Strings that are
 * not UTF-8 have their non-ASCII bytes replaced by '?'.
 *
 * The store is the source of truth; this file is a convenient copy that must
 * never hold a result twice, even across a crash. The protocol:
 *   1. at start-up, results_file_resync(path, store, job) for each job that
 *      has a file: a torn last line is cut off, and if the file's line
 *      count differs from the store's result count, the file is rewritten
 *      from the store (atomically, through a temporary file and rename);
 *   2. then results_file_open, and for each result: store_result_add, and
 *      results_file_append only if it was inserted (a duplicate is not).
 * A crash between the two writes, or in the middle of a batch, leaves the
 * file with a different count than the store, which step 1 repairs.
 *
 * Errors: CRAWL_ESYS (a system call failed; the message names the file and
 * strerror), CRAWL_ENOMEM, and the store's codes during a resync. Nothing
 * prints. A results_file belongs to one thread.
 */
#ifndef CRAWLD_RESULTS_FILE_H
#define CRAWLD_RESULTS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct results_file;

/* Opens (creating, mode 0640) the file at path for appending, cuts off a
 * torn last line (anything after the last '\n'), and sets *lines (may be
 * NULL) to the number of complete lines. path is copied. On failure *out is
 * NULL and err (may be NULL) holds the reason. */
int results_file_open(struct results_file **out, const char *path,
		      int64_t *lines, char *err, size_t errlen);

/* Appends r of job as one line, with a single write. If the write fails
 * part-way the file is cut back to its previous length, so no torn line is
 * left behind. Nothing of r is kept. */
int results_file_append(struct results_file *rf, int64_t job,
			const struct store_result *r);

/* The number of complete lines in the file (as opened, plus appends). */
int64_t results_file_lines(const struct results_file *rf);

/* The message of the last failure ("" if none); owned by rf. */
const char *results_file_errmsg(const struct results_file *rf);

/* Closes the file. NULL is accepted. */
void results_file_close(struct results_file *rf);

/* Makes the file at path (created if missing) agree with the store's
 * results of job: repairs a torn last line, and if the count of lines
 * differs from store_result_count, rewrites the whole file from the store
 * in completion order (seq). Returns 0 if the file was already in sync, 1
 * if it was rewritten, or a negative code with a message in err (may be
 * NULL); on failure the old file is left as it was. */
int results_file_resync(const char *path, struct store *st, int64_t job,
			char *err, size_t errlen);

#endif
