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

#define AICCU_IMPORT_TABLE    200     /* default routing table of the converted tunnel */
#define AICCU_IMPORT_PRIORITY 1000    /* default rule priority */
#define AICCU_IMPORT_IFNAME   "aiccu" /* AICCU's ipv6_interface when the file has none */

struct aiccu_import_opts {
	const char *source;     /* the AICCU file's name, for notes and the header comment */
	const char *interface;  /* NULL: ipv6_interface of the file */
	uint32_t table;         /* 0: AICCU_IMPORT_TABLE */
	uint32_t rule_priority; /* 0: AICCU_IMPORT_PRIORITY */
};

struct aiccu_import {
	char *text;   /* the tunnel file; NULL when the protocol cannot be converted */
	char **notes; /* each "SOURCE:LINE: key: what was not carried over and why" */
	size_t nnotes;
	bool complete; /* text loads as it is: nothing required is missing */
};

/*
 * Convert src (len bytes, need not be NUL-terminated).  Returns 0 (see
 * out->complete and out->notes) or -ENOMEM.  Free out with
 * aiccu_import_free, also after an error.
 */
int aiccu_import(const char *src, size_t len, const struct aiccu_import_opts *opts,
                 struct aiccu_import *out);
void aiccu_import_free(struct aiccu_import *out);

#endif
