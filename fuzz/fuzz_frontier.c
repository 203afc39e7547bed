/* libFuzzer target: the checkpoint format a restarted daemon reads back
 * (a file on disk that a crash may have torn). */
#include <stdint.h>
#include <stdlib.h>

#include "frontier.h"
#include "seen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *arg, const char *url, const char *referrer, unsigned depth,
		 unsigned attempt)
{
	(void)url;
	(void)referrer;
	(void)depth;
	(void)attempt;
	(*(size_t *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	struct seen *s = NULL;
	frontier_parse((const char *)data, size, count, &n);
	if (seen_load_buf(&s, data, size) == 0)
		seen_free(s);
	return 0;
}
