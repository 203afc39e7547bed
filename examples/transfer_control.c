/* transfer_control.c - seed section 2.3: yield from hands control to a
 * sub-coroutine. Three lists of three random country codes; each list is
 * sent, code by code, into a new delegating coroutine (dele_coro) that runs
 * a sorting sub-coroutine (sub_coro) with yield_from; 'CLOSE' (the end
 * marker) makes the sub return the sorted list, which the delegator prints.
 * lib/pipeline is exactly that pair of coroutines.
 *
 * Usage: transfer_control [--seed N]   (N: 0..2^64-1; default from the clock)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

enum { LISTS = 3, PER_LIST = 3 };

/* ISO 3166-1 alpha-2, all 249 officially assigned codes (faker's
 * country_code draws from the same set). */
static const char CODES[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM "
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ "
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";
enum { NCODES = (sizeof CODES) / 3 };

/* splitmix64: small, and the same sequence on every platform. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* fake.country_code() */
static void pick_code(char code[3], uint64_t *rng)
{
	memcpy(code, CODES + next_random(rng) % NCODES * 3, 2);
	code[2] = '\0';
}

/* print(label, l): Python's repr of a list of strings. */
static void print_list(const char *label, void *const *items, size_t n)
{
	printf("%s [", label);
	for (size_t i = 0; i < n; i++)
		printf("%s'%s'", i ? ", " : "", (const char *)items[i]);
	printf("]\n");
}

static int cmp_code(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	return strcmp(a, b);
}

/* The delegator's body after "l = yield from sub_coro()". */
static void print_sorted(void *arg, struct pipeline_batch *batch)
{
	(void)arg;
	print_list("排序后的列表：", batch->items, batch->count);
	printf("------------------\n");
	pipeline_batch_free(batch);
}

static int send_list(char (*list)[3])
{
	struct pipeline *c = NULL; /* c = dele_coro() */
	int rc = pipeline_new(&c, cmp_code, NULL, print_sorted, NULL);
	for (int i = 0; rc == 0 && i < PER_LIST; i++)
		rc = pipeline_send(c, list[i]); /* c.send(country) */
	if (rc == 0)
		rc = pipeline_end_batch(c); /* c.send('CLOSE') */
	pipeline_free(c);
	return rc;
}

static int parse_seed(const char *s, uint64_t *out)
{
	char *end = NULL;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "transfer_control: %s '%s'\nusage: transfer_control [--seed N]\n", msg,
		arg);
	return 2;
}

int main(int argc, char **argv)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t seed = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--seed") == 0)
			v = i + 1 < argc ? argv[++i] : "";
		else if (strncmp(argv[i], "--seed=", 7) == 0)
			v = argv[i] + 7;
		else
			return usage_error("unknown argument", argv[i]);
		if (parse_seed(v, &seed) != 0)
			return usage_error("--seed expects an integer from 0 to 2^64-1, got", v);
	}
	uint64_t rng = seed;
	char lists[LISTS][PER_LIST][3];
	for (int j = 0; j < LISTS; j++)
		for (int i = 0; i < PER_LIST; i++)
			pick_code(lists[j][i], &rng);
	for (int j = 0; j < LISTS; j++) {
		void *items[PER_LIST];
		for (int i = 0; i < PER_LIST; i++)
			items[i] = lists[j][i];
		print_list("国家代号列表：", items, PER_LIST);
		int rc = send_list(lists[j]);
		if (rc) {
			fprintf(stderr, "transfer_control: %s\n", crawl_strerror(rc));
			return 1;
		}
	}
	return 0;
}
