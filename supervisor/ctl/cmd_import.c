/*
 * aiccuctl import-aiccu [-o FILE] [--table N] [--rule-priority N]
 *                       [--interface NAME] AICCU.CONF
 * aiccuctl import-aiccu -d DIR [--rule-priority N] AICCU.CONF...
 *
 * Converts an AICCU configuration into a tunnel file (stdout, or FILE
 * created 0600 and never overwritten) and prints on stderr what could not
 * be carried over.  With -d, every file given (one AICCU instance each)
 * becomes DIR/INTERFACE.conf, converted together so that they load
 * together (aiccu_import_many).  All or nothing: when DIR is missing or
 * one file cannot be created, the files already written are removed and
 * nothing is reported as written or printed.  Exit 0: every file is
 * complete; 1: one needs editing (or an AICCU file could not be read or
 * a file not written); 2: usage.  Needs no daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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

static void report_json(const struct aiccu_import *r, const char *outfile, json_t *files)
{
	json_t *o = json_pack("{s:b}", "complete", r->complete);
	json_t *notes = json_array();

	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(o, "notes", notes);
	if (outfile)
		json_object_set_new(o, "file", json_string(outfile));
	else if (r->text)
		json_object_set_new(o, "text", json_string(r->text));
	json_array_append_new(files, o);
}

static void report_text(const struct aiccu_import *r, const char *outfile)
{
	for (size_t i = 0; i < r->nnotes; i++)
		fprintf(stderr, "%s\n", r->notes[i]);
	if (!r->text)
		fprintf(stderr, "aiccuctl: nothing converted\n");
	else if (!r->complete)
		fprintf(stderr, "aiccuctl: the tunnel file needs editing before aiccud can use it "
		                "(see above)\n");
	if (r->text && !outfile)
		fputs(r->text, stdout);
	else if (r->text)
		fprintf(stderr, "aiccuctl: wrote %s\n", outfile);
}

struct import_args {
	struct aiccu_import_opts o;
	const char *outfile, *dir;
	const char **in;
	size_t nin;
};

static int parse_args(int argc, char **argv, struct import_args *a)
{
	for (int i = 1; i < argc; i++) {
		bool has_val = i + 1 < argc;

		if (strcmp(argv[i], "-o") == 0 && has_val)
			a->outfile = argv[++i];
		else if (strcmp(argv[i], "-d") == 0 && has_val)
			a->dir = argv[++i];
		else if (strcmp(argv[i], "--interface") == 0 && has_val)
			a->o.interface = argv[++i];
		else if (strcmp(argv[i], "--table") == 0 && has_val) {
			if (parse_u32(argv[++i], 1, UINT32_MAX, &a->o.table) < 0 ||
			    a->o.table == 253 || a->o.table == 254 || a->o.table == 255) {
				fprintf(stderr,
				        "aiccuctl: --table wants 1..4294967295, not 253..255\n");
				return EX_USAGE;
			}
		} else if (strcmp(argv[i], "--rule-priority") == 0 && has_val) {
			if (parse_u32(argv[++i], 1, 32765, &a->o.rule_priority) < 0) {
				fprintf(stderr, "aiccuctl: --rule-priority wants 1..32765\n");
				return EX_USAGE;
			}
		} else if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
			a->in[a->nin++] = argv[i];
		else
			return ctl_usage("import-aiccu");
	}
	if (a->nin == 0 || (a->outfile && a->dir) || (a->nin > 1 && !a->dir))
		return ctl_usage("import-aiccu");
	if (a->nin > 1 && (a->o.table || a->o.interface)) {
		fprintf(stderr, "aiccuctl: --table and --interface apply to one file only\n");
		return EX_USAGE;
	}
	return EX_DONE;
}

/* Read every input; on failure say which. */
static int read_inputs(const struct import_args *a, struct aiccu_import_in *in, char **bufs)
{
	for (size_t i = 0; i < a->nin; i++) {
		int err = read_all(a->in[i], &bufs[i], &in[i].len);

		in[i].source = strcmp(a->in[i], "-") == 0 ? "(stdin)" : a->in[i];
		in[i].text = bufs[i];
		if (err < 0) {
			fprintf(stderr, "aiccuctl: cannot read %s: %s\n", in[i].source,
			        strerror(-err));
			return EX_FAILED;
		}
	}
	return EX_DONE;
}

/* -d DIR must name an existing directory; said before anything is written. */
static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		fprintf(stderr, "aiccuctl: -d %s: %s (create the directory first)\n", dir,
		        strerror(errno));
		return EX_FAILED;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "aiccuctl: -d %s: not a directory\n", dir);
		return EX_FAILED;
	}
	return EX_DONE;
}

/* Remove what write_outputs wrote before it failed; nothing counts as written then. */
static void unwrite(size_t n, char **paths)
{
	for (size_t i = 0; i < n; i++) {
		if (paths[i])
			unlink(paths[i]);
		free(paths[i]);
		paths[i] = NULL;
	}
}

/* Write every converted file; paths[i] is NULL for stdout.  All or nothing. */
static int write_outputs(const struct import_args *a, struct aiccu_import *r, char **paths)
{
	for (size_t i = 0; i < a->nin; i++) {
		int err;

		if (!r[i].text || (!a->outfile && !a->dir))
			continue;
		if (a->dir && asprintf(&paths[i], "%s/%s.conf", a->dir, r[i].interface) < 0)
			paths[i] = NULL;
		if (a->outfile)
			paths[i] = strdup(a->outfile);
		if (!paths[i]) {
			unwrite(i, paths);
			fprintf(stderr, "aiccuctl: %s\n", strerror(ENOMEM));
			return EX_FAILED;
		}
		err = write_new(paths[i], r[i].text);
		if (err < 0) {
			fprintf(stderr, "aiccuctl: cannot create %s: %s%s\n", paths[i],
			        strerror(-err), err == -EEXIST ? " (it is never overwritten)" : "");
			free(paths[i]);
			paths[i] = NULL;
			unwrite(i, paths);
			if (i > 0)
				fprintf(stderr, "aiccuctl: removed the files written before it: "
				                "nothing was imported\n");
			return EX_FAILED;
		}
	}
	return EX_DONE;
}

int cmd_import_aiccu(struct ctl *ctl, int argc, char **argv)
{
	struct import_args a = {.in = calloc((size_t)argc, sizeof(char *))};
	struct aiccu_import_in *in = calloc((size_t)argc, sizeof(*in));
	struct aiccu_import *r = calloc((size_t)argc, sizeof(*r));
	char **bufs = calloc((size_t)argc, sizeof(char *));
	char **paths = calloc((size_t)argc, sizeof(char *));
	int rc = EX_FAILED, err;

	if (!a.in || !in || !r || !bufs || !paths)
		goto out;
	rc = parse_args(argc, argv, &a);
	if (rc == EX_DONE)
		rc = read_inputs(&a, in, bufs);
	if (rc != EX_DONE)
		goto out;
	a.o.source = in[0].source;
	err = aiccu_import_many(in, a.nin, &a.o, r);
	if (err < 0) {
		fprintf(stderr, "aiccuctl: converting: %s\n", strerror(-err));
		rc = EX_FAILED;
		goto out;
	}
	rc = a.dir ? check_dir(a.dir) : EX_DONE;
	if (rc == EX_DONE)
		rc = write_outputs(&a, r, paths);
	/* Nothing written: no notes, no text, only the error said above. */
	if (rc != EX_DONE) {
		if (ctl->json) {
			json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error",
			                      "nothing imported (the reason is on stderr)");

			ctl_print_json(o);
			json_decref(o);
		}
		goto out;
	}
	if (ctl->json) {
		json_t *files = json_array();
		bool all = true;

		for (size_t i = 0; i < a.nin; i++) {
			report_json(&r[i], paths[i], files);
			all = all && r[i].complete;
		}
		json_t *o = json_pack("{s:b, s:b}", "ok", all && rc == EX_DONE, "complete", all);

		/* One file: its notes and file (or text) at the top, as before. */
		if (a.nin == 1)
			json_object_update(o, json_array_get(files, 0));
		json_object_set_new(o, "files", files);
		ctl_print_json(o);
		json_decref(o);
	} else
		for (size_t i = 0; i < a.nin; i++)
			report_text(&r[i], paths[i]);
	for (size_t i = 0; i < a.nin && rc == EX_DONE; i++)
		if (!r[i].complete)
			rc = EX_FAILED;
out:
	for (size_t i = 0; i < a.nin; i++) {
		if (bufs && bufs[i]) {
			explicit_bzero(bufs[i], in[i].len);
			free(bufs[i]);
		}
		if (r)
			aiccu_import_free(&r[i]);
		if (paths)
			free(paths[i]);
	}
	free(a.in);
	free(in);
	free(r);
	free(bufs);
	free(paths);
	return rc;
}
