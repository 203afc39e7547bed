/* commands.h - the control protocol's commands (docs/protocol.md), served
 * from the daemon's state: jobs, store and log. */
#ifndef CRAWLD_COMMANDS_H
#define CRAWLD_COMMANDS_H

#include "control.h"

struct jobs;
struct store;
struct dlog;

struct commands_ctx {
	struct jobs *jobs;
	struct store *store;
	struct dlog *log;
	struct control *control; /* set once the socket is open */
	double started;          /* Unix time the daemon started */
};

/* The table for control_open, ended by {NULL, NULL}; arg is a
 * struct commands_ctx. */
extern const struct control_cmd commands_table[];

#define CRAWLD_VERSION "0.1.0"

#endif
