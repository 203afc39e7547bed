#include "error.h"

const char *crawl_strerror(int code)
{
	switch (code) {
	case CRAWL_OK: return "success";
#define CRAWL_ERR_MSG(name, c, msg) case c: return msg;
	CRAWL_ERRNO_MAP(CRAWL_ERR_MSG)
#undef CRAWL_ERR_MSG
	default: break;
	}
	return code <= CRAWL_EUSER ? "program-defined error" : "unknown error";
}

const char *crawl_errname(int code)
{
	switch (code) {
	case CRAWL_OK: return "OK";
#define CRAWL_ERR_NAME(name, c, msg) case c: return #name;
	CRAWL_ERRNO_MAP(CRAWL_ERR_NAME)
#undef CRAWL_ERR_NAME
	default: break;
	}
	return code <= CRAWL_EUSER ? "EUSER" : "EUNKNOWN";
}
