/* libFuzzer target: robots.txt parsing and matching (outside input: any
 * server's robots.txt). The first line of the input is the path asked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t plen = nl ? (size_t)(nl - text) : 0;
	char *path = strndup(text, plen);
	struct robots *r = NULL;
	if (!path)
		return 0;
	if (robots_parse(text + plen, size - plen, "crawld", &r) == 0) {
		int a = robots_allowed(r, path[0] == '/' ? path : "/x");
		if (a != 0 && a != 1)
			abort();
		if (robots_allowed(r, "/robots.txt") != 1)
			abort();
		robots_free(r);
	}
	free(path);
	return 0;
}
