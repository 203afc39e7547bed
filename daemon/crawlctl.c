/* crawlctl.c - placeholder so that `make install` has a binary to install; the
 * real crawlctl replaces this file. */
#include <stdio.h>

int main(void)
{
	puts("not yet");
	return 1;
}
