/* ctl_output.h - how crawlctl shows things to people: tables with aligned
 * columns, "key: value" lines, the progress bar of `wait`, colours.
 *
 * Text that comes from the daemon (URLs, messages) is written through
 * ctl_text_put, which replaces control characters with '?', so a page or a
 * log record can never send escape sequences to the user's terminal.
 * Write functions return 0, or CRAWL_ESYS when the stream reports an error
 * (ferror); CRAWL_ENOMEM where they allocate. Nothing here exits.
 */
#ifndef CRAWLD_CTL_OUTPUT_H
#define CRAWLD_CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "error.h"

/* Most rows one table holds; ctl_table_add refuses more (CRAWL_EINVAL). */
#define CTL_TABLE_ROWS_MAX 1000000
#define CTL_TABLE_COLS_MAX 16

/* ANSI sequences used for colours; CTL_COLOR_RESET ends any of them. */
#define CTL_COLOR_RED "\033[31m"
#define CTL_COLOR_YELLOW "\033[33m"
#define CTL_COLOR_DIM "\033[2m"
#define CTL_COLOR_RESET "\033[0m"

struct ctl_table;

/* A table of ncols (1..CTL_TABLE_COLS_MAX) columns with these headers
 * (copied). align holds one letter per column, 'l' or 'r' (numbers). The
 * last column is never padded, so no line ends in blanks. Errors:
 * CRAWL_EINVAL (ncols out of range, align not ncols letters), CRAWL_ENOMEM. */
int ctl_table_new(struct ctl_table **out, size_t ncols, const char *const *headers,
		  const char *align);

/* Appends a row of ncols cells (copied; NULL is shown as "-"). Errors:
 * CRAWL_ENOMEM, CRAWL_EINVAL (CTL_TABLE_ROWS_MAX rows already). */
int ctl_table_add(struct ctl_table *t, const char *const *cells);

/* Prints the header and the rows, columns two blanks apart, widths from the
 * widest cell (counting UTF-8 characters, not bytes). */
int ctl_table_print(const struct ctl_table *t, FILE *fp);

/* Frees t; NULL is fine. */
void ctl_table_free(struct ctl_table *t);

/* Writes s with control characters (bytes < 0x20 and 0x7f) as '?'. */
void ctl_text_put(FILE *fp, const char *s);

/* Writes s like ctl_text_put, then blanks up to width characters. */
void ctl_text_pad(FILE *fp, const char *s, size_t width);

/* The width of s on a terminal: UTF-8 characters, not bytes. */
size_t ctl_text_width(const char *s);

/* A scalar as text into buf: strings as they are, integers in decimal,
 * reals with at most 3 decimals ("12.3", "0.125"), true/false, "-" for
 * null; arrays of scalars joined with ", "; objects as compact JSON.
 * Returns buf, always NUL-terminated (cut at len - 1 bytes). */
const char *ctl_value_text(const json_t *v, char *buf, size_t len);

/* Prints obj's members as "key: value" lines with the values aligned one
 * column after the longest key. Keys listed in order (NULL-terminated, may
 * be NULL) come first in that order, then the others as the object holds
 * them; members of a nested object are shown as "outer.inner". */
int ctl_kv_print(FILE *fp, const json_t *obj, const char *const *order);

/* True when colours should be used on fd: it is a terminal and the
 * environment has no non-empty NO_COLOR (https://no-color.org). */
int ctl_color_enabled(int fd);

/* The colour of a log level: red error (and worse), yellow warning, dim
 * debug, "" otherwise. A static string. */
const char *ctl_color_level(const char *level);

/* Formats the `wait` progress line into buf (always NUL-terminated):
 *   [#########.........] 123 done, 45 queued, 12.3 pages/s, 2 errors
 * The bar is width characters (1..200) wide, '#' for done / (done + queued),
 * rounded down, all '.' when both are 0. Returns the length it needed (as
 * snprintf does). */
int ctl_progress_format(char *buf, size_t len, int width, int64_t done, int64_t queued,
			double rate, int64_t errors);

#endif
