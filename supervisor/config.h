/*
 * Configuration: aiccud.conf plus conf.d/\*.conf, one tunnel per file.
 *
 * Pure parsing and validation (file reading is the only I/O).  All errors
 * of a file are collected as "file:line: message" in diag; a bad tunnel
 * file marks only that tunnel as failed, with the reason, and the others
 * load.  One parser serves the daemon, check-config and the tests.
 */
#ifndef AICCUD_CONFIG_H
#define AICCUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tunnel.h"

#define CONFIG_DEFAULT_FILE   "/etc/aiccud/aiccud.conf"
#define CONFIG_DEFAULT_SOCKET "/run/aiccud/aiccud.sock"
#define CONFIG_DEFAULT_STATE  "/var/lib/aiccud"
#define CONFIG_DEFAULT_USER   "aiccud" /* the unprivileged user of the children */
#define CONFIG_ERR_MAX        512

/* Collected messages, each "file:line: text". */
struct config_diag {
	char **msgs;
	size_t count;
};
void config_diag_add(struct config_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void config_diag_free(struct config_diag *d);

struct tunnel_entry {
	struct tunnel_conf conf;
	bool valid;                 /* false: error holds why it is not usable */
	char error[CONFIG_ERR_MAX]; /* first error of this file */
};

struct config {
	char file[TUNNEL_PATH_MAX];
	char conf_dir[TUNNEL_PATH_MAX]; /* [daemon] conf_dir, default <dir of file>/conf.d */
	char control_socket[TUNNEL_PATH_MAX];
	char state_dir[TUNNEL_PATH_MAX];
	char control_group[64];  /* group allowed to use the socket ("" = root only) */
	char readonly_group[64]; /* group allowed the reading commands ("" = none) */
	char user[64];           /* [daemon] user: workers and the fetcher run as it */
	struct tic_account tic;  /* [tic]: the default account */
	uint32_t cache_max_age;  /* [tic] cache_max_age, seconds (default 7 days) */
	uint32_t limiter_burst;  /* [limiter] burst: bucket size (default 1) */
	uint32_t limiter_refill; /* [limiter] refill: seconds per token (default 30) */
	struct tunnel_entry *tunnels;
	size_t ntunnels;
};

/*
 * Load path (aiccud.conf) and every *.conf in its conf_dir, sorted by name.
 * Returns 0 when aiccud.conf itself is usable (tunnel files may still have
 * failed: see tunnels[i].valid), -1 when it is not (no tunnels kept then).
 * diag gets every message, the tunnel files' too when aiccud.conf is not
 * usable.
 */
int config_load(struct config *cfg, const char *path, struct config_diag *diag);
void config_free(struct config *cfg);

/*
 * Parse one tunnel file alone, as config_load parses each (the unit tests
 * and the config fuzzer drive the parser through it).  Its [tic]
 * keys apply over the built-in default account (config_load passes
 * aiccud.conf's [tic] instead).  0 when te->valid, -1 when not.
 */
int config_load_tunnel(const char *path, struct tunnel_entry *te, struct config_diag *diag);

/*
 * Print the configuration normalized (every key with its effective value,
 * passwords as "********") for aiccud -nv.  Blocks start with
 * "# file: PATH": cut there, each block parses again as that file.  A tunnel
 * that did not load is one "# not loaded: ERROR" line.  0 or -EIO.
 */
int config_print(const struct config *cfg, FILE *out);

#endif
