/* fetch_policy.h - which IP addresses a real fetch may connect to.
 *
 * A crawler follows links written by strangers, so a link (or a redirect,
 * or a DNS answer) must not make it talk to the machine it runs on or to the
 * private network behind it (server-side request forgery). The policy is
 * applied to the address a connection is actually made to, after DNS, so a
 * public name that resolves to 127.0.0.1 is refused as well.
 *
 * Refused unless allowed (each with the reason reported):
 *   IPv4: 0/8 "unspecified", 10/8 172.16/12 192.168/16 "private",
 *         100.64/10 "carrier-grade NAT", 127/8 "loopback",
 *         169.254/16 "link-local", 192.0.0/24 "IETF protocol assignments",
 *         192.0.2/24 198.51.100/24 203.0.113/24 "documentation",
 *         192.88.99/24 "6to4 relay anycast", 198.18/15 "benchmarking",
 *         224/4 "multicast", 240/4 "reserved" (255.255.255.255 included);
 *   IPv6: ::/128 "unspecified", ::1/128 "loopback", fc00::/7 "unique local
 *         (private)", fe80::/10 "link-local", fec0::/10 "site-local",
 *         ff00::/8 "multicast", 100::/64 "discard", 2001:db8::/32
 *         "documentation", ::/96 "IPv4-compatible (deprecated)";
 *         ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64) and 2002::/16
 *         (6to4) are judged by the IPv4 address they carry.
 * Everything else (the public unicast space) is allowed.
 *
 * A policy either allows every address (allow_private) or refuses the ranges
 * above except those on its allow-list: up to FETCH_POLICY_ALLOW_MAX
 * addresses or CIDR blocks ("127.0.0.1", "::1", "10.0.0.0/8").
 */
#ifndef CRAWL_FETCH_POLICY_H
#define CRAWL_FETCH_POLICY_H

#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

#define FETCH_POLICY_ALLOW_MAX 16
/* Longest allow-list string accepted, bytes. */
#define FETCH_POLICY_LIST_MAX 1024

struct fetch_policy_net {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;   /* prefix length */
	uint8_t addr[16];
};

/* Embedded by value (no allocation); fill with fetch_policy_init. */
struct fetch_policy {
	uint8_t allow_private; /* 1: every address is allowed */
	uint8_t nallow;
	struct fetch_policy_net allow[FETCH_POLICY_ALLOW_MAX];
};

/* Fills *p. allow_list is NULL, "" or a list of addresses / CIDR blocks
 * separated by commas and/or spaces; it is parsed, not kept.
 * Errors: CRAWL_EINVAL (p NULL, an entry that is not an IPv4/IPv6 address
 * with an optional /prefix in range, more than FETCH_POLICY_ALLOW_MAX
 * entries, a list longer than FETCH_POLICY_LIST_MAX); *p then allows
 * nothing special (as init with allow_private 0 and no list). */
int fetch_policy_init(struct fetch_policy *p, int allow_private, const char *allow_list);

/* Judges the address in sa (AF_INET or AF_INET6; not kept). Returns 0 when
 * allowed, CRAWL_EADDRBLOCKED when refused, CRAWL_EINVAL for another family
 * or NULL. *why (may be NULL) gets a static reason ("loopback", ...) on
 * refusal, "" otherwise. */
int fetch_policy_check(const struct fetch_policy *p, const struct sockaddr *sa, const char **why);

/* The same for a textual address ("127.0.0.1", "::1"); CRAWL_EINVAL if it
 * does not parse. */
int fetch_policy_check_str(const struct fetch_policy *p, const char *ip, const char **why);

#endif
