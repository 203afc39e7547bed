/* fetch_policy.c - special-purpose address ranges (RFC 6890 and friends). */
#include "fetch_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct special {
	uint8_t family, bits;
	uint8_t addr[16];
	const char *why;
};

#define V4(a, b, c, d) {a, b, c, d}
static const struct special special4[] = {
	{4, 8, V4(0, 0, 0, 0), "unspecified"},
	{4, 8, V4(10, 0, 0, 0), "private"},
	{4, 10, V4(100, 64, 0, 0), "carrier-grade NAT"},
	{4, 8, V4(127, 0, 0, 0), "loopback"},
	{4, 16, V4(169, 254, 0, 0), "link-local"},
	{4, 12, V4(172, 16, 0, 0), "private"},
	{4, 24, V4(192, 0, 0, 0), "IETF protocol assignments"},
	{4, 24, V4(192, 0, 2, 0), "documentation"},
	{4, 24, V4(192, 88, 99, 0), "6to4 relay anycast"},
	{4, 16, V4(192, 168, 0, 0), "private"},
	{4, 15, V4(198, 18, 0, 0), "benchmarking"},
	{4, 24, V4(198, 51, 100, 0), "documentation"},
	{4, 24, V4(203, 0, 113, 0), "documentation"},
	{4, 4, V4(224, 0, 0, 0), "multicast"},
	{4, 4, V4(240, 0, 0, 0), "reserved"},
};

static const struct special special6[] = {
	{6, 128, {0}, "unspecified"},
	{6, 128, {[15] = 1}, "loopback"},
	{6, 7, {0xfc}, "unique local (private)"},
	{6, 10, {0xfe, 0x80}, "link-local"},
	{6, 10, {0xfe, 0xc0}, "site-local"},
	{6, 8, {0xff}, "multicast"},
	{6, 64, {0x01, 0x00}, "discard"},
	{6, 32, {0x20, 0x01, 0x0d, 0xb8}, "documentation"},
	{6, 96, {0}, "IPv4-compatible (deprecated)"},
};

/* IPv6 prefixes that carry an IPv4 address, and where it sits. */
static const struct {
	uint8_t bits, offset;
	uint8_t addr[16];
} embeds[] = {
	{96, 12, {[10] = 0xff, [11] = 0xff}}, /* ::ffff:a.b.c.d */
	{96, 12, {0x00, 0x64, 0xff, 0x9b}},   /* 64:ff9b::a.b.c.d */
	{16, 2, {0x20, 0x02}},                /* 2002:AABB:CCDD:: */
};

static int prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static int allowed_by_list(const struct fetch_policy *p, int family, const uint8_t *a)
{
	for (unsigned i = 0; i < p->nallow; i++) {
		const struct fetch_policy_net *n = &p->allow[i];
		if (n->family == family && prefix_match(a, n->addr, n->bits))
			return 1;
	}
	return 0;
}

static const char *special_reason(int family, const uint8_t *a)
{
	const struct special *t = family == 4 ? special4 : special6;
	size_t n = family == 4 ? sizeof special4 / sizeof *t : sizeof special6 / sizeof *t;
	for (size_t i = 0; i < n; i++)
		if (prefix_match(a, t[i].addr, t[i].bits))
			return t[i].why;
	return NULL;
}

/* Finds the IPv4 address an IPv6 one carries, if any. */
static int embedded_v4(const uint8_t *a6, uint8_t *a4)
{
	for (size_t i = 0; i < sizeof embeds / sizeof *embeds; i++) {
		if (prefix_match(a6, embeds[i].addr, embeds[i].bits)) {
			memcpy(a4, a6 + embeds[i].offset, 4);
			return 1;
		}
	}
	return 0;
}

static int judge(const struct fetch_policy *p, int family, const uint8_t *a, const char **why)
{
	uint8_t a4[4];
	const char *reason;
	*why = "";
	if (p->allow_private || allowed_by_list(p, family, a))
		return 0;
	if (family == 6 && embedded_v4(a, a4)) {
		if (allowed_by_list(p, 4, a4))
			return 0;
		reason = special_reason(4, a4);
	} else {
		reason = special_reason(family, a);
	}
	if (!reason)
		return 0;
	*why = reason;
	return CRAWL_EADDRBLOCKED;
}

int fetch_policy_check(const struct fetch_policy *p, const struct sockaddr *sa, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = "";
	if (!p || !sa)
		return CRAWL_EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return judge(p, 4, (const uint8_t *)&in->sin_addr, why);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return judge(p, 6, in6->sin6_addr.s6_addr, why);
	}
	return CRAWL_EINVAL;
}

int fetch_policy_check_str(const struct fetch_policy *p, const char *ip, const char **why)
{
	const char *dummy;
	uint8_t a[16];
	if (!why)
		why = &dummy;
	*why = "";
	if (!p || !ip)
		return CRAWL_EINVAL;
	if (inet_pton(AF_INET, ip, a) == 1)
		return judge(p, 4, a, why);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return judge(p, 6, a, why);
	return CRAWL_EINVAL;
}

/* One entry "ADDR" or "ADDR/BITS" of len bytes. */
static int parse_net(const char *s, size_t len, struct fetch_policy_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (len == 0 || len >= sizeof buf)
		return CRAWL_EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(n, 0, sizeof *n);
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = 4;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = 6;
	else
		return CRAWL_EINVAL;
	unsigned max = n->family == 4 ? 32 : 128;
	n->bits = (uint8_t)max;
	if (slash) {
		char *end;
		const char *digits = slash + 1;
		if (*digits < '0' || *digits > '9')
			return CRAWL_EINVAL;
		unsigned long bits = strtoul(digits, &end, 10);
		if (*end != '\0' || bits > max)
			return CRAWL_EINVAL;
		n->bits = (uint8_t)bits;
	}
	return 0;
}

static int is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

static int parse_list(struct fetch_policy *p, const char *list)
{
	if (strnlen(list, FETCH_POLICY_LIST_MAX + 1) > FETCH_POLICY_LIST_MAX)
		return CRAWL_EINVAL;
	const char *s = list;
	for (;;) {
		while (is_sep(*s))
			s++;
		if (*s == '\0')
			return 0;
		size_t len = 0;
		while (s[len] && !is_sep(s[len]))
			len++;
		if (p->nallow == FETCH_POLICY_ALLOW_MAX)
			return CRAWL_EINVAL;
		int rc = parse_net(s, len, &p->allow[p->nallow]);
		if (rc)
			return rc;
		p->nallow++;
		s += len;
	}
}

int fetch_policy_init(struct fetch_policy *p, int allow_private, const char *allow_list)
{
	if (!p)
		return CRAWL_EINVAL;
	p->allow_private = allow_private ? 1 : 0;
	p->nallow = 0;
	if (!allow_list)
		return 0;
	int rc = parse_list(p, allow_list);
	if (rc) {
		p->allow_private = 0;
		p->nallow = 0;
	}
	return rc;
}
