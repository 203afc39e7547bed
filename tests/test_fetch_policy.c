/* test_fetch_policy.c - the address policy of real fetches: every special
 * range refused with its reason, public addresses allowed, IPv4 carried in
 * IPv6, allow-lists and allow_private, bad lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "fetch_policy.h"

static void expect_blocked(const struct fetch_policy *p, const char *ip, const char *why)
{
	const char *got = NULL;
	int rc = fetch_policy_check_str(p, ip, &got);
	if (rc != CRAWL_EADDRBLOCKED)
		fail_msg("%s: expected refused (%s), got %d", ip, why, rc);
	assert_string_equal(got, why);
}

static void expect_allowed(const struct fetch_policy *p, const char *ip)
{
	const char *got = NULL;
	int rc = fetch_policy_check_str(p, ip, &got);
	if (rc != 0)
		fail_msg("%s: expected allowed, got %d (%s)", ip, rc, got ? got : "?");
	assert_string_equal(got, "");
}

static void test_default_refuses_special_v4(void **state)
{
	struct fetch_policy p;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 0, NULL), 0);
	expect_blocked(&p, "0.0.0.0", "unspecified");
	expect_blocked(&p, "10.1.2.3", "private");
	expect_blocked(&p, "172.16.0.1", "private");
	expect_blocked(&p, "172.31.255.255", "private");
	expect_blocked(&p, "192.168.1.1", "private");
	expect_blocked(&p, "100.64.0.1", "carrier-grade NAT");
	expect_blocked(&p, "100.127.255.254", "carrier-grade NAT");
	expect_blocked(&p, "127.0.0.1", "loopback");
	expect_blocked(&p, "127.255.0.9", "loopback");
	expect_blocked(&p, "169.254.169.254", "link-local");
	expect_blocked(&p, "192.0.0.8", "IETF protocol assignments");
	expect_blocked(&p, "192.0.2.7", "documentation");
	expect_blocked(&p, "198.51.100.7", "documentation");
	expect_blocked(&p, "203.0.113.7", "documentation");
	expect_blocked(&p, "198.18.0.1", "benchmarking");
	expect_blocked(&p, "198.19.255.1", "benchmarking");
	expect_blocked(&p, "224.0.0.1", "multicast");
	expect_blocked(&p, "239.255.255.250", "multicast");
	expect_blocked(&p, "240.0.0.1", "reserved");
	expect_blocked(&p, "255.255.255.255", "reserved");
}

static void test_default_allows_public_v4(void **state)
{
	struct fetch_policy p;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 0, ""), 0);
	expect_allowed(&p, "1.1.1.1");
	expect_allowed(&p, "93.184.216.34");
	expect_allowed(&p, "172.15.255.255"); /* just below 172.16/12 */
	expect_allowed(&p, "172.32.0.0");     /* just above */
	expect_allowed(&p, "100.63.255.255");
	expect_allowed(&p, "100.128.0.0");
	expect_allowed(&p, "192.169.0.1");
	expect_allowed(&p, "223.255.255.255");
}

static void test_v6(void **state)
{
	struct fetch_policy p;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 0, NULL), 0);
	expect_blocked(&p, "::", "unspecified");
	expect_blocked(&p, "::1", "loopback");
	expect_blocked(&p, "fc00::1", "unique local (private)");
	expect_blocked(&p, "fd12:3456::1", "unique local (private)");
	expect_blocked(&p, "fe80::1", "link-local");
	expect_blocked(&p, "febf::1", "link-local");
	expect_blocked(&p, "fec0::1", "site-local");
	expect_blocked(&p, "ff02::1", "multicast");
	expect_blocked(&p, "100::1", "discard");
	expect_blocked(&p, "2001:db8::1", "documentation");
	expect_blocked(&p, "::10.0.0.1", "IPv4-compatible (deprecated)");
	/* IPv4 inside IPv6 is judged as IPv4. */
	expect_blocked(&p, "::ffff:127.0.0.1", "loopback");
	expect_blocked(&p, "::ffff:192.168.0.1", "private");
	expect_blocked(&p, "64:ff9b::10.0.0.1", "private");
	expect_blocked(&p, "2002:7f00:1::", "loopback");
	expect_allowed(&p, "::ffff:1.1.1.1");
	expect_allowed(&p, "64:ff9b::808:808");
	expect_allowed(&p, "2002:808:808::1");
	expect_allowed(&p, "2606:4700::1111");
	expect_allowed(&p, "2001:4860:4860::8888");
}

static void test_allow_private_allows_all(void **state)
{
	struct fetch_policy p;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 1, NULL), 0);
	expect_allowed(&p, "127.0.0.1");
	expect_allowed(&p, "::1");
	expect_allowed(&p, "10.0.0.1");
	expect_allowed(&p, "ff02::1");
}

static void test_allow_list(void **state)
{
	struct fetch_policy p;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 0, "127.0.0.1, ::1,10.20.0.0/16 fd00::/8"), 0);
	assert_int_equal(p.nallow, 4);
	expect_allowed(&p, "127.0.0.1");
	expect_blocked(&p, "127.0.0.2", "loopback");
	expect_allowed(&p, "::1");
	expect_allowed(&p, "::ffff:127.0.0.1"); /* the same host */
	expect_allowed(&p, "10.20.255.1");
	expect_blocked(&p, "10.21.0.1", "private");
	expect_allowed(&p, "fd00::5");
	expect_blocked(&p, "fc00::5", "unique local (private)");
	expect_allowed(&p, "8.8.8.8");
	/* /0 allows a whole family */
	assert_int_equal(fetch_policy_init(&p, 0, "0.0.0.0/0"), 0);
	expect_allowed(&p, "192.168.0.1");
	expect_blocked(&p, "::1", "loopback");
}

static void test_sockaddr(void **state)
{
	struct fetch_policy p;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct sockaddr un = {.sa_family = AF_UNIX};
	const char *why = NULL;
	(void)state;
	assert_int_equal(fetch_policy_init(&p, 0, NULL), 0);
	memset(&in4, 0, sizeof in4);
	in4.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr);
	assert_int_equal(fetch_policy_check(&p, (struct sockaddr *)&in4, &why), CRAWL_EADDRBLOCKED);
	assert_string_equal(why, "loopback");
	inet_pton(AF_INET, "8.8.4.4", &in4.sin_addr);
	assert_int_equal(fetch_policy_check(&p, (struct sockaddr *)&in4, &why), 0);
	memset(&in6, 0, sizeof in6);
	in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "fe80::2", &in6.sin6_addr);
	assert_int_equal(fetch_policy_check(&p, (struct sockaddr *)&in6, NULL), CRAWL_EADDRBLOCKED);
	assert_int_equal(fetch_policy_check(&p, &un, &why), CRAWL_EINVAL);
	assert_int_equal(fetch_policy_check(&p, NULL, &why), CRAWL_EINVAL);
	assert_int_equal(fetch_policy_check(NULL, &un, &why), CRAWL_EINVAL);
}

static void test_bad_lists(void **state)
{
	static const char *const bad[] = {
		"localhost", "127.0.0.1/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8x",
		"1.2.3", "127.0.0.1/-1", "[::1]", "1.2.3.4/+8",
		"1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,"
		"1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17",
	};
	struct fetch_policy p;
	char longlist[FETCH_POLICY_LIST_MAX + 2];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (fetch_policy_init(&p, 1, bad[i]) != CRAWL_EINVAL)
			fail_msg("allow list '%s' accepted", bad[i]);
		/* a refused list leaves a policy that allows nothing special */
		assert_int_equal(p.allow_private, 0);
		assert_int_equal(p.nallow, 0);
	}
	memset(longlist, ' ', sizeof longlist - 1);
	longlist[sizeof longlist - 1] = '\0';
	assert_int_equal(fetch_policy_init(&p, 0, longlist), CRAWL_EINVAL);
	assert_int_equal(fetch_policy_init(NULL, 0, NULL), CRAWL_EINVAL);
	assert_int_equal(fetch_policy_init(&p, 0, NULL), 0);
	assert_int_equal(fetch_policy_check_str(&p, "not-an-ip", NULL), CRAWL_EINVAL);
	assert_int_equal(fetch_policy_check_str(&p, NULL, NULL), CRAWL_EINVAL);
	/* separators only: an empty list */
	assert_int_equal(fetch_policy_init(&p, 0, " , ,"), 0);
	assert_int_equal(p.nallow, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_refuses_special_v4),
		cmocka_unit_test(test_default_allows_public_v4),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_allow_private_allows_all),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_bad_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
