/* libFuzzer target: URL normalisation and link resolution (outside input:
 * every href of every page, every seed a user types). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *out = NULL, *again = NULL;
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (url_normalize(in, &out) == 0) {
		/* a normal form is a fixed point */
		if (url_normalize(out, &again) != 0 || strcmp(out, again) != 0)
			abort();
	}
	free(out);
	free(again);
	out = NULL;
	if (url_resolve("http://example.com/a/b/c?q#f", in, &out) == 0) {
		char host[URL_HOST_MAX];
		if (url_host(out, host, sizeof host) != 0)
			abort();
	}
	free(out);
	free(in);
	return 0;
}
