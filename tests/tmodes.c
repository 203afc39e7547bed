#include "tmodes.h"

#include "coro.h"

int tmodes_setup_dedicated(void **state)
{
	(void)state;
	coro_default_shared(0);
	return 0;
}

int tmodes_setup_shared(void **state)
{
	(void)state;
	coro_default_shared(1);
	return 0;
}
