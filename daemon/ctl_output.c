/* ctl_output.c - tables, "key: value" lines, progress bar, colours (see
 * ctl_output.h). */
#include "ctl_output.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Most "key: value" lines one ctl_kv_print shows (nested members count). */
#define KV_MAX 256
#define KEY_MAX 128
#define VALUE_MAX 1024

struct ctl_table {
	size_t ncols;
	char align[CTL_TABLE_COLS_MAX];
	char **cells;   /* (nrows + 1) * ncols, row 0 the header */
	size_t nrows;   /* data rows */
	size_t cap;     /* rows (header included) cells has room for */
};

static int table_put_row(struct ctl_table *t, const char *const *cells)
{
	size_t row = t->nrows + 1;

	if (row >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);

		if (!grown)
			return CRAWL_ENOMEM;
		t->cells = grown;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *copy = strdup(cells[i] ? cells[i] : "-");

		if (!copy) {
			while (i-- > 0)
				free(t->cells[row * t->ncols + i]);
			return CRAWL_ENOMEM;
		}
		t->cells[row * t->ncols + i] = copy;
	}
	t->nrows++;
	return 0;
}

int ctl_table_new(struct ctl_table **out, size_t ncols, const char *const *headers,
		  const char *align)
{
	struct ctl_table *t;
	int rc;

	*out = NULL;
	if (ncols == 0 || ncols > CTL_TABLE_COLS_MAX || !align || strlen(align) != ncols ||
	    strspn(align, "lr") != ncols)
		return CRAWL_EINVAL;
	if (!(t = calloc(1, sizeof *t)))
		return CRAWL_ENOMEM;
	t->ncols = ncols;
	memcpy(t->align, align, ncols);
	/* The header takes row 0: put it as a data row, then un-count it. */
	t->nrows = (size_t)-1;
	if ((rc = table_put_row(t, headers)) != 0) {
		t->nrows = 0;
		ctl_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	if (t->nrows >= CTL_TABLE_ROWS_MAX)
		return CRAWL_EINVAL;
	return table_put_row(t, cells);
}

int ctl_table_print(const struct ctl_table *t, FILE *fp)
{
	size_t width[CTL_TABLE_COLS_MAX] = { 0 };

	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = ctl_text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			size_t pad = width[c] - ctl_text_width(cell);
			bool last = c + 1 == t->ncols;

			if (c > 0)
				fputs("  ", fp);
			if (t->align[c] == 'r')
				fprintf(fp, "%*s", (int)pad, "");
			ctl_text_put(fp, cell);
			if (t->align[c] == 'l' && !last)
				fprintf(fp, "%*s", (int)pad, "");
		}
		fputc('\n', fp);
	}
	return ferror(fp) ? CRAWL_ESYS : 0;
}

void ctl_table_free(struct ctl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->cells && i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ctl_text_put(FILE *fp, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, fp);
	}
}

void ctl_text_pad(FILE *fp, const char *s, size_t width)
{
	size_t w = ctl_text_width(s);

	ctl_text_put(fp, s);
	if (w < width)
		fprintf(fp, "%*s", (int)(width - w), "");
}

size_t ctl_text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* "%.3f" without the trailing zeros (and the dot if nothing follows it). */
static void real_text(double d, char *buf, size_t len)
{
	char *dot;
	size_t n;

	if (!isfinite(d)) {
		snprintf(buf, len, "%s", isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	snprintf(buf, len, "%.3f", d);
	if (!(dot = strchr(buf, '.')))
		return;
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, len, "0");
}

/* The elements of an array, joined with ", ". */
static void array_text(const json_t *v, char *buf, size_t len)
{
	size_t used = 0;
	size_t i;
	json_t *e;

	buf[0] = '\0';
	json_array_foreach(v, i, e) {
		char one[VALUE_MAX];

		ctl_value_text(e, one, sizeof one);
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
		if (used >= len)
			return;
	}
}

const char *ctl_value_text(const json_t *v, char *buf, size_t len)
{
	char *dump;

	if (len == 0)
		return buf;
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		real_text(json_real_value(v), buf, len);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
		break;
	case JSON_ARRAY:
		array_text(v, buf, len);
		break;
	case JSON_OBJECT:
		dump = json_dumps(v, JSON_COMPACT);
		snprintf(buf, len, "%s", dump ? dump : "{...}");
		free(dump);
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
	return buf;
}

struct kv_list {
	size_t n;
	char key[KV_MAX][KEY_MAX];
	const json_t *value[KV_MAX];
};

static void kv_add(struct kv_list *kv, const char *prefix, const char *key, const json_t *v)
{
	const char *sub;
	json_t *e;
	char full[KEY_MAX];

	snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", key);
	if (json_is_object(v) && json_object_size(v) > 0) {
		json_object_foreach((json_t *)v, sub, e)
			kv_add(kv, full, sub, e);
		return;
	}
	if (kv->n >= KV_MAX)
		return;
	memcpy(kv->key[kv->n], full, sizeof full);
	kv->value[kv->n++] = v;
}

static bool in_order(const char *const *order, const char *key)
{
	for (size_t i = 0; order && order[i]; i++)
		if (strcmp(order[i], key) == 0)
			return true;
	return false;
}

int ctl_kv_print(FILE *fp, const json_t *obj, const char *const *order)
{
	struct kv_list *kv = calloc(1, sizeof *kv);
	size_t width = 0;
	const char *key;
	json_t *v;

	if (!kv)
		return CRAWL_ENOMEM;
	for (size_t i = 0; order && order[i]; i++)
		if ((v = json_object_get(obj, order[i])))
			kv_add(kv, "", order[i], v);
	json_object_foreach((json_t *)obj, key, v)
		if (!in_order(order, key))
			kv_add(kv, "", key, v);
	for (size_t i = 0; i < kv->n; i++)
		if (ctl_text_width(kv->key[i]) > width)
			width = ctl_text_width(kv->key[i]);
	for (size_t i = 0; i < kv->n; i++) {
		char text[VALUE_MAX];

		ctl_text_put(fp, kv->key[i]);
		fputc(':', fp);
		fprintf(fp, "%*s", (int)(width - ctl_text_width(kv->key[i]) + 1), "");
		ctl_text_put(fp, ctl_value_text(kv->value[i], text, sizeof text));
		fputc('\n', fp);
	}
	free(kv);
	return ferror(fp) ? CRAWL_ESYS : 0;
}

int ctl_color_enabled(int fd)
{
	const char *no = getenv("NO_COLOR");

	return isatty(fd) && !(no && no[0]);
}

const char *ctl_color_level(const char *level)
{
	static const struct {
		const char *level;
		const char *color;
	} map[] = {
		{ "emerg", CTL_COLOR_RED }, { "alert", CTL_COLOR_RED },
		{ "crit", CTL_COLOR_RED },  { "error", CTL_COLOR_RED },
		{ "err", CTL_COLOR_RED },   { "warning", CTL_COLOR_YELLOW },
		{ "warn", CTL_COLOR_YELLOW }, { "debug", CTL_COLOR_DIM },
	};

	for (size_t i = 0; level && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].level, level) == 0)
			return map[i].color;
	return "";
}

int ctl_progress_format(char *buf, size_t len, int width, int64_t done, int64_t queued,
			double rate, int64_t errors)
{
	char bar[201];
	char rtext[32];
	int filled = 0;

	if (width < 1)
		width = 1;
	if (width > 200)
		width = 200;
	if (done < 0)
		done = 0;
	if (queued < 0)
		queued = 0;
	if (done + queued > 0)
		filled = (int)((double)done / (double)(done + queued) * width);
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(width - filled));
	bar[width] = '\0';
	snprintf(rtext, sizeof rtext, "%.1f", isfinite(rate) && rate > 0 ? rate : 0.0);
	return snprintf(buf, len, "[%s] %" PRId64 " done, %" PRId64 " queued, %s pages/s, %" PRId64
			" error%s",
			bar, done, queued, rtext, errors, errors == 1 ? "" : "s");
}
