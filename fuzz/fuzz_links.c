/* libFuzzer target: link extraction from HTML (outside input: every page
 * fetched). The input is fed in two chunks, as a network would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_link(void *arg, const char *url)
{
	char *again = NULL;
	(void)arg;
	/* every link handed out is already in normal form */
	if (url_normalize(url, &again) != 0 || strcmp(url, again) != 0)
		abort();
	free(again);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct links *l = NULL;
	if (links_new(&l, "http://example.com/dir/page.html", check_link, NULL) != 0)
		return 0;
	size_t half = size / 2;
	if (links_feed(l, (const char *)data, half) == 0 &&
	    links_feed(l, (const char *)data + half, size - half) == 0)
		links_finish(l);
	links_free(l);
	return 0;
}
