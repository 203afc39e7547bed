/* test_seen.c - the fingerprint set: hashing, membership, growth, memory
 * per URL, and checkpoint save/load including damaged data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "seen.h"

#define MANY 1000000

static int add_str(struct seen *s, const char *str)
{
	return seen_add(s, str, strlen(str));
}

static int has_str(const struct seen *s, const char *str)
{
	return seen_contains(s, str, strlen(str));
}

/* A set of n URLs "http://h/p/<i>". */
static struct seen *make_set(size_t expected, int n)
{
	struct seen *s = NULL;
	char url[64];

	assert_int_equal(seen_new(&s, expected), 0);
	for (int i = 0; i < n; i++) {
		int len = snprintf(url, sizeof(url), "http://h/p/%d", i);
		assert_int_equal(seen_add(s, url, (size_t)len), 1);
	}
	return s;
}

static void assert_holds_range(const struct seen *s, int n)
{
	char url[64];

	assert_int_equal(seen_count(s), n);
	for (int i = 0; i < n; i++) {
		int len = snprintf(url, sizeof(url), "http://h/p/%d", i);
		assert_int_equal(seen_contains(s, url, (size_t)len), 1);
	}
}

/* Vectors computed with the reference libxxhash (XXH64, seed 0). */
static void test_hash_vectors(void **state)
{
	unsigned char bytes[100];
	const char *s42 = "0123456789abcdef0123456789abcdef0123456789";

	(void)state;
	for (int i = 0; i < 100; i++)
		bytes[i] = (unsigned char)i;
	assert_true(seen_hash(NULL, 0) == 0xef46db3751d8e999ULL);
	assert_true(seen_hash("a", 1) == 0xd24ec4f1a98c6e5bULL);
	assert_true(seen_hash("abc", 3) == 0x44bc2cf5ad770999ULL);
	assert_true(seen_hash("http://h/p/1", 12) == 0xaff0317aab09c6a1ULL);
	assert_true(seen_hash(s42, 42) == 0xa76190c3acf08a1cULL);
	assert_true(seen_hash(bytes, 100) == 0x6ac1e58032166597ULL);
}

static void test_add_contains(void **state)
{
	struct seen *s = NULL;

	(void)state;
	assert_int_equal(seen_new(&s, 0), 0);
	assert_int_equal(seen_count(s), 0);
	assert_int_equal(has_str(s, "http://a/"), 0);
	assert_int_equal(add_str(s, "http://a/"), 1);
	assert_int_equal(add_str(s, "http://a/"), 0);
	assert_int_equal(add_str(s, "http://b/"), 1);
	assert_int_equal(has_str(s, "http://a/"), 1);
	assert_int_equal(has_str(s, "http://b/"), 1);
	assert_int_equal(has_str(s, "http://c/"), 0);
	/* Bytes, not strings: a prefix is another URL. */
	assert_int_equal(seen_contains(s, "http://a/", 8), 0);
	assert_int_equal(seen_count(s), 2);
	seen_free(s);
	seen_free(NULL);
}

static void test_hash_zero_is_one(void **state)
{
	struct seen *s = NULL;

	(void)state;
	assert_int_equal(seen_new(&s, 10), 0);
	assert_int_equal(seen_contains_hash(s, 0), 0);
	assert_int_equal(seen_add_hash(s, 0), 1);
	assert_int_equal(seen_add_hash(s, 1), 0);
	assert_int_equal(seen_contains_hash(s, 1), 1);
	assert_int_equal(seen_contains_hash(s, 0), 1);
	assert_int_equal(seen_add_hash(s, UINT64_MAX), 1);
	assert_int_equal(seen_count(s), 2);
	seen_free(s);
}

/* Hashes that share their low bits all land on one slot: probing must
 * wrap around the table and still find each of them. */
static void test_colliding_slots(void **state)
{
	struct seen *s = NULL;

	(void)state;
	assert_int_equal(seen_new(&s, 0), 0);
	for (uint64_t i = 1; i <= 200; i++)
		assert_int_equal(seen_add_hash(s, i << 40 | 0xF), 1);
	for (uint64_t i = 1; i <= 200; i++) {
		assert_int_equal(seen_contains_hash(s, i << 40 | 0xF), 1);
		assert_int_equal(seen_add_hash(s, i << 40 | 0xF), 0);
	}
	assert_int_equal(seen_contains_hash(s, 201ULL << 40 | 0xF), 0);
	assert_int_equal(seen_count(s), 200);
	seen_free(s);
}

/* Growth from the minimum size through 17 doublings. */
static void test_million_urls(void **state)
{
	struct seen *s = make_set(0, MANY);
	char url[64];

	(void)state;
	assert_holds_range(s, MANY);
	for (int i = 0; i < MANY; i += 997) {
		int len = snprintf(url, sizeof(url), "http://h/p/%d", i);
		assert_int_equal(seen_add(s, url, (size_t)len), 0);
		len = snprintf(url, sizeof(url), "http://h/q/%d", i);
		assert_int_equal(seen_contains(s, url, (size_t)len), 0);
	}
	assert_int_equal(seen_count(s), MANY);
	double per_url = (double)seen_memory(s) / MANY;
	assert_true(per_url < 20.0);
	assert_true(per_url > 8.0);
	seen_free(s);
}

/* Sizing for the expected count means no growth: memory stays put. */
static void test_presized(void **state)
{
	struct seen *s = NULL;
	size_t before;

	(void)state;
	assert_int_equal(seen_new(&s, 10000), 0);
	before = seen_memory(s);
	seen_free(s);
	s = make_set(10000, 10000);
	assert_int_equal(seen_memory(s), before);
	assert_true(before < 10000 * 20);
	seen_free(s);
}

static void test_bad_args(void **state)
{
	struct seen *s = NULL;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_new(NULL, 0), CRAWL_EINVAL);
	assert_int_equal(seen_new(&s, SIZE_MAX), CRAWL_ENOMEM);
	assert_null(s);
	assert_int_equal(seen_save(NULL, stdout), CRAWL_EINVAL);
	assert_int_equal(seen_save_buf(NULL, &buf, &len), CRAWL_EINVAL);
	assert_int_equal(seen_load(NULL, stdin), CRAWL_EINVAL);
	assert_int_equal(seen_load(&s, NULL), CRAWL_EINVAL);
	assert_int_equal(seen_load_buf(&s, NULL, 8), CRAWL_EINVAL);
	assert_int_equal(seen_load_buf(&s, NULL, 0), CRAWL_EINVAL);
	assert_null(s);
}

static void test_buf_round_trip(void **state)
{
	struct seen *s = make_set(0, 5000), *t = NULL;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_save_buf(s, &buf, &len), 0);
	assert_int_equal(len, (3 + 5000 + 1) * 8);
	assert_memory_equal(buf, "CRWLSEEN\1\0\0\0\0\0\0\0", 16);
	assert_int_equal(seen_load_buf(&t, buf, len), 0);
	assert_holds_range(t, 5000);
	assert_int_equal(has_str(t, "http://h/p/5000"), 0);
	/* The loaded set is a normal set: it grows and takes new URLs. */
	assert_int_equal(add_str(t, "http://h/p/5000"), 1);
	assert_int_equal(add_str(t, "http://h/p/4999"), 0);
	free(buf);
	seen_free(s);
	seen_free(t);
}

static void test_empty_round_trip(void **state)
{
	struct seen *s = make_set(0, 0), *t = NULL;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_save_buf(s, &buf, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(seen_load_buf(&t, buf, len), 0);
	assert_int_equal(seen_count(t), 0);
	free(buf);
	seen_free(s);
	seen_free(t);
}

/* The set is written in the middle of a stream: what follows stays unread. */
static void test_file_round_trip(void **state)
{
	struct seen *s = make_set(0, 20000), *t = NULL;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(fputs("head", f) >= 0, 1);
	assert_int_equal(seen_save(s, f), 0);
	assert_int_equal(fputs("tail", f) >= 0, 1);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(ftell(f), 4 + (3 + 20000 + 1) * 8 + 4);
	assert_int_equal(fseek(f, 4, SEEK_SET), 0);
	assert_int_equal(seen_load(&t, f), 0);
	assert_holds_range(t, 20000);
	assert_int_equal(fgetc(f), 't');
	fclose(f);
	seen_free(s);
	seen_free(t);
}

static void test_write_error(void **state)
{
	struct seen *s = make_set(0, 10);
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (f) {
		/* Unbuffered, so the failing write is seen at once. */
		setvbuf(f, NULL, _IONBF, 0);
		assert_int_equal(seen_save(s, f), CRAWL_ESYS);
		fclose(f);
	}
	seen_free(s);
}

static void test_truncated_rejected(void **state)
{
	struct seen *s = make_set(0, 100), *t = NULL;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_save_buf(s, &buf, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		assert_int_equal(seen_load_buf(&t, buf, cut), CRAWL_EINVAL);
		assert_null(t);

		FILE *f = tmpfile();
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, cut, f), cut);
		rewind(f);
		assert_int_equal(seen_load(&t, f), CRAWL_EINVAL);
		assert_null(t);
		fclose(f);
	}
	free(buf);
	seen_free(s);
}

static void test_trailing_bytes_in_buf_rejected(void **state)
{
	struct seen *s = make_set(0, 3), *t = NULL;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_save_buf(s, &buf, &len), 0);
	unsigned char *longer = calloc(1, len + 8);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	assert_int_equal(seen_load_buf(&t, longer, len + 8), CRAWL_EINVAL);
	assert_int_equal(seen_load_buf(&t, longer, len + 1), CRAWL_EINVAL);
	assert_null(t);
	free(longer);
	free(buf);
	seen_free(s);
}

/* Every single-bit change anywhere is caught, whatever field it hits. */
static void test_bit_flips_rejected(void **state)
{
	struct seen *s = make_set(0, 100), *t = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_save_buf(s, (void **)&buf, &len), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_int_equal(seen_load_buf(&t, buf, len), CRAWL_EINVAL);
		assert_null(t);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	assert_int_equal(seen_load_buf(&t, buf, len), 0);
	seen_free(t);
	free(buf);
	seen_free(s);
}

/* Writes one little-endian word. */
static void put_word(FILE *f, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		assert_int_equal(fputc((int)(v >> (8 * i)) & 0xff, f) != EOF, 1);
}

/* A header claiming 2^60 entries over a short file: rejected as truncated,
 * without first allocating a table for the claimed count. */
static void test_huge_count_file_rejected(void **state)
{
	struct seen *t = NULL;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_int_equal(fwrite("CRWLSEEN", 1, 8, f), 8);
	put_word(f, 1);
	put_word(f, 1ULL << 60);
	for (uint64_t i = 1; i <= 10; i++)
		put_word(f, i);
	rewind(f);
	assert_int_equal(seen_load(&t, f), CRAWL_EINVAL);
	assert_null(t);
	fclose(f);
}

/* Hand-built files with a wrong version, a zero or a repeated fingerprint. */
static void test_bad_fields_file_rejected(void **state)
{
	static const uint64_t cases[][3] = {
		{ 2, 5, 6 }, /* version 2 */
		{ 1, 0, 6 }, /* a zero fingerprint */
		{ 1, 7, 7 }, /* a repeated fingerprint */
	};
	struct seen *t = NULL;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		FILE *f = tmpfile();
		assert_non_null(f);
		assert_int_equal(fwrite("CRWLSEEN", 1, 8, f), 8);
		put_word(f, cases[c][0]);
		put_word(f, 2);
		put_word(f, cases[c][1]);
		put_word(f, cases[c][2]);
		put_word(f, 0);
		rewind(f);
		assert_int_equal(seen_load(&t, f), CRAWL_EINVAL);
		assert_null(t);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_add_contains),
		cmocka_unit_test(test_hash_zero_is_one),
		cmocka_unit_test(test_colliding_slots),
		cmocka_unit_test(test_million_urls),
		cmocka_unit_test(test_presized),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_buf_round_trip),
		cmocka_unit_test(test_empty_round_trip),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_truncated_rejected),
		cmocka_unit_test(test_trailing_bytes_in_buf_rejected),
		cmocka_unit_test(test_bit_flips_rejected),
		cmocka_unit_test(test_huge_count_file_rejected),
		cmocka_unit_test(test_bad_fields_file_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
