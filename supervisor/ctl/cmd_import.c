/*
 * aiccuctl import-aiccu [-o FILE] [--table N] [--rule-priority N]
 *                       [--interface NAME] AICCU.CONF
 *
 * Converts an AICCU configuration into a tunnel file (stdout, or FILE
 * created 0600 and never overwritten) and prints on stderr what could not
 * be carried over.  Exit 0: the file is complete; 1: it needs editing (or
 * the AICCU file could not be read); 2: usage.  Needs no daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiccu_import.h"
#include "ctl.h"

#define AICCU_FILE_MAX (1024 * 1024)

static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t cap = 4096;

	*len = 0;
	*buf = malloc(cap);
	if (!f || !*buf)
		return -errno;
	for (;;) {
		size_t n = fread(*buf + *len, 1, cap - *len, f);

		*len += n;
		if (n == 0)
			break;
		if (*len == cap) {
			char *p = cap >= AICCU_FILE_MAX ? NULL : realloc(*buf, cap * 2);

			if (!p) {
				if (f != stdin)
					fclose(f);
				return -EFBIG;
			}
			*buf = p;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		return -EIO;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n != (ssize_t)len || fsync(fd) < 0) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		unlink(path);
		return -err;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || !*s || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int report(const struct ctl *ctl, const struct aiccu_import *r, const char *outfile)
{
	int rc = r->complete ? EX_DONE : EX_FAILED;

	if (ctl->json) {
		json_t *o = json_pack("{s:b, s:b}", "ok", r->complete, "complete", r->complete);
		json_t *notes = json_array();

		for (size_t i = 0; i < r->nnotes; i++)
			json_array_append_new(notes, json_string(r->notes[i]));
		json_object_set_new(o, "notes", notes);
		if (outfile)
			json_object_set_new(o, "file", json_string(outfile));
		else if (r->text)
			json_object_set_new(o, "text", json_string(r->text));
		ctl_print_json(o);
		json_decref(o);
		return rc;
	}
	for (size_t i = 0; i < r->nnotes; i++)
		fprintf(stderr, "%s\n", r->notes[i]);
	if (!r->text)
		fprintf(stderr, "aiccuctl: nothing converted\n");
	else if (!r->complete)
		fprintf(stderr, "aiccuctl: the tunnel file needs editing before aiccud can use it "
		                "(see above)\n");
	if (r->text && !outfile)
		fputs(r->text, stdout);
	return rc;
}

int cmd_import_aiccu(struct ctl *ctl, int argc, char **argv)
{
	struct aiccu_import_opts o = {0};
	struct aiccu_import r;
	const char *in = NULL, *outfile = NULL;
	char *buf = NULL;
	size_t len;
	int err, rc;

	for (int i = 1; i < argc; i++) {
		bool has_val = i + 1 < argc;

		if (strcmp(argv[i], "-o") == 0 && has_val)
			outfile = argv[++i];
		else if (strcmp(argv[i], "--interface") == 0 && has_val)
			o.interface = argv[++i];
		else if (strcmp(argv[i], "--table") == 0 && has_val) {
			if (parse_u32(argv[++i], 1, UINT32_MAX, &o.table) < 0 || o.table == 253 ||
			    o.table == 254 || o.table == 255) {
				fprintf(stderr,
				        "aiccuctl: --table wants 1..4294967295, not 253..255\n");
				return EX_USAGE;
			}
		} else if (strcmp(argv[i], "--rule-priority") == 0 && has_val) {
			if (parse_u32(argv[++i], 1, 32765, &o.rule_priority) < 0) {
				fprintf(stderr, "aiccuctl: --rule-priority wants 1..32765\n");
				return EX_USAGE;
			}
		} else if (!in && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			in = argv[i];
		else
			return ctl_usage("import-aiccu");
	}
	if (!in)
		return ctl_usage("import-aiccu");
	o.source = strcmp(in, "-") == 0 ? "(stdin)" : in;
	err = read_all(in, &buf, &len);
	if (err < 0) {
		fprintf(stderr, "aiccuctl: cannot read %s: %s\n", o.source, strerror(-err));
		free(buf);
		return EX_FAILED;
	}
	err = aiccu_import(buf, len, &o, &r);
	explicit_bzero(buf, len);
	free(buf);
	if (err < 0) {
		fprintf(stderr, "aiccuctl: converting %s: %s\n", o.source, strerror(-err));
		aiccu_import_free(&r);
		return EX_FAILED;
	}
	if (outfile && r.text) {
		err = write_new(outfile, r.text);
		if (err < 0) {
			fprintf(stderr, "aiccuctl: cannot create %s: %s%s\n", outfile,
			        strerror(-err), err == -EEXIST ? " (it is never overwritten)" : "");
			aiccu_import_free(&r);
			return EX_FAILED;
		}
	}
	rc = report(ctl, &r, outfile);
	aiccu_import_free(&r);
	return rc;
}
