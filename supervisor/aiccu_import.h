/*
 * AICCU configuration -> aiccud tunnel file.  Pure: text in, text and
 * notes out; no files, no printing.  aiccuctl import-aiccu is the edge.
 *
 * AICCU's file has one "key value" per line ('#' starts a comment line;
 * a value may be in double quotes).  What maps onto a tunnel file is
 * carried over; everything else (daemon-wide settings, behaviour aiccud
 * does not have) becomes a note saying why and what to do instead.
 */
#ifndef AICCUD_AICCU_IMPORT_H
#define AICCUD_AICCU_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AICCU_IMPORT_IFNAME "aiccu" /* AICCU's ipv6_interface when the file has none */
#define AICCU_IMPORT_METRIC 1024    /* the metric AICCU's default route got (the kernel's) */

struct aiccu_import_opts {
	const char *source;     /* the AICCU file's name, for notes and the header comment */
	const char *interface;  /* NULL: ipv6_interface of the file */
	uint32_t table;         /* 0: none written (aiccud picks the table) */
	uint32_t rule_priority; /* 0: none written (aiccud's default) */
	/* 0: none written; else default_route_metric (with default_route only) */
	uint32_t default_route_metric;
	const char *note; /* NULL, or more notes, one per line (why an option was set) */
};

struct aiccu_import {
	char *text;   /* the tunnel file; NULL when the protocol cannot be converted */
	char **notes; /* each "SOURCE:LINE: key: what was not carried over and why" */
	size_t nnotes;
	bool complete;      /* text loads as it is: nothing required is missing */
	bool default_route; /* the file asked for AICCU's default route */
	char interface[16]; /* the tunnel file's interface and TunnelId ("" when none) */
	char id[161];       /* (as long as a value may be) */
};

/* One AICCU file of a set converted together. */
struct aiccu_import_in {
	const char *source;
	const char *text;
	size_t len;
};

/*
 * Convert src (len bytes, need not be NUL-terminated).  Returns 0 (see
 * out->complete and out->notes) or -ENOMEM.  Free out with
 * aiccu_import_free, also after an error.
 */
int aiccu_import(const char *src, size_t len, const struct aiccu_import_opts *opts,
                 struct aiccu_import *out);
void aiccu_import_free(struct aiccu_import *out);

/*
 * Convert n AICCU files (one AICCU instance each, the set-up of a host
 * with several tunnels) so that the tunnel files load together: the
 * tables are left to aiccud, a second interface name is made unique, and
 * of several files with AICCU's default route the first keeps the
 * default metric while each later one gets the next (its route takes
 * over while the earlier tunnels are down).  A TunnelId given twice
 * cannot be fixed: noted, and that file is not complete.  base gives
 * rule_priority; its interface, table and note apply only when n is 1.
 * out[n]; free each with aiccu_import_free, also after an error.
 * Returns 0 or -ENOMEM.
 */
int aiccu_import_many(const struct aiccu_import_in *in, size_t n,
                      const struct aiccu_import_opts *base, struct aiccu_import *out);

#endif
