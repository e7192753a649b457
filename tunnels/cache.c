/* The tunnel cache (see cache.h): file I/O around tic.c's show parser. */
#include "cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

int cache_path(const char *state_dir, const char *id, char *buf, size_t len)
{
	int n;

	/* The id comes from the network: it must not climb out of the directory. */
	if (!tic_id_valid(id))
		return -EINVAL;
	n = snprintf(buf, len, "%s/" CACHE_DIR "/%s", state_dir, id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int ensure_dir(const char *state_dir)
{
	char dir[4096];
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, state_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int write_file(const char *state_dir, const struct tic_tunnel *t, time_t fetched,
                      time_t failed)
{
	char path[4096], buf[CACHE_FILE_MAX];
	int n, m, r;

	if (t->fetch_err)
		return -EINVAL;
	r = cache_path(state_dir, t->id, path, sizeof(path));
	if (!r)
		r = ensure_dir(state_dir);
	if (r)
		return r;
	n = tic_show_format(t, buf, sizeof(buf));
	if (n < 0)
		return n;
	m = snprintf(buf + n, sizeof(buf) - (size_t)n, "Fetched: %" PRIdMAX "\n",
	             (intmax_t)fetched);
	if (m < 0 || (size_t)m >= sizeof(buf) - (size_t)n)
		return -ENOSPC;
	n += m;
	if (failed) {
		m = snprintf(buf + n, sizeof(buf) - (size_t)n, "Failed: %" PRIdMAX "\n",
		             (intmax_t)failed);
		if (m < 0 || (size_t)m >= sizeof(buf) - (size_t)n)
			return -ENOSPC;
		n += m;
	}
	r = file_write_atomic(path, buf, (size_t)n, 0600);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int cache_write(const char *state_dir, const struct tic_tunnel *t, time_t fetched)
{
	return write_file(state_dir, t, fetched, 0);
}

static int parse_epoch(const char *s, time_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	*out = (time_t)v;
	return 0;
}

/* Our own lines first, the rest to the show parser that also reads TIC's answers. */
static int parse_line(struct tic_show *p, char *line, time_t *fetched, time_t *failed)
{
	if (!strncmp(line, "Fetched: ", 9))
		return parse_epoch(line + 9, fetched);
	if (!strncmp(line, "Failed: ", 8))
		return parse_epoch(line + 8, failed);
	return tic_show_line(p, line) < 0 ? -EBADMSG : 0;
}

int cache_parse(char *buf, size_t len, struct tic_tunnel *t, time_t *fetched, time_t *failed,
                char *err, size_t errlen)
{
	struct tic_show p;
	char *line = buf, *nl;
	int r = 0;

	snprintf(err, errlen, "not a tunnel cache file");
	if (memchr(buf, '\0', len) || buf[len])
		return -EBADMSG;
	*fetched = -1;
	*failed = 0;
	tic_show_begin(&p);
	for (; *line && !r; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			return -EBADMSG; /* a cut-off last line: not a file we wrote */
		*nl = '\0';
		r = parse_line(&p, line, fetched, failed);
	}
	if (!r && *fetched < 0)
		snprintf(err, errlen, "no 'Fetched:' line");
	if (!r && *fetched < 0)
		r = -EBADMSG;
	if (!r && tic_show_end(&p, t) < 0) {
		snprintf(err, errlen, "%s", p.err);
		r = -EBADMSG;
	} else if (p.error)
		snprintf(err, errlen, "%s", p.err);
	explicit_bzero(&p, sizeof(p));
	return r;
}

static int read_file(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched,
                     time_t *failed, char *err, size_t errlen)
{
	char path[4096], *buf;
	size_t len;
	int r;

	r = cache_path(state_dir, id, path, sizeof(path));
	if (r)
		return r;
	/* It holds the tunnel password: refuse a file others may read. */
	r = file_read_small(path, CACHE_FILE_MAX, 1, &buf, &len);
	if (r)
		return r;
	r = cache_parse(buf, len, t, fetched, failed, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	if (!r && strcmp(t->id, id)) {
		snprintf(err, errlen, "the file is for tunnel %s", t->id);
		r = -EBADMSG;
	}
	return r;
}

int cache_read_why(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched,
                   char *err, size_t errlen)
{
	time_t failed;
	int r = read_file(state_dir, id, t, fetched, &failed, err, errlen);

	if (r)
		return r;
	return failed ? -ESTALE : 0;
}

int cache_read(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched)
{
	char err[TIC_ERR_MAX];

	return cache_read_why(state_dir, id, t, fetched, err, sizeof(err));
}

bool cache_fresh(time_t fetched, time_t now, uint32_t max_age)
{
	return fetched <= now && (uintmax_t)(now - fetched) <= max_age;
}

int cache_mark_failed(const char *state_dir, const char *id)
{
	struct tic_tunnel t;
	time_t fetched, failed;
	char err[TIC_ERR_MAX];
	int r = read_file(state_dir, id, &t, &fetched, &failed, err, sizeof(err));

	if (r)
		return r;
	if (failed)
		return 0;
	/* The time is for people reading the file; only its presence matters. */
	failed = time(NULL);
	r = write_file(state_dir, &t, fetched, failed > 0 ? failed : 1);
	explicit_bzero(&t, sizeof(t));
	return r;
}
