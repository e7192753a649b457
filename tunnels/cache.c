/* The tunnel cache (see cache.h): file I/O around tic.c's show parser. */
#include "cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
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

int cache_dir_open(const char *state_dir, bool create)
{
	char dir[4096];
	int fd;

	if (snprintf(dir, sizeof(dir), "%s/" CACHE_DIR, state_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* O_DIRECTORY and O_NOFOLLOW: a symlink or a file there is refused. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cache_format(const struct tic_tunnel *t, time_t fetched, time_t failed, char *buf, size_t len)
{
	int n, m;

	/* The id comes from the network: it must not climb out of the directory. */
	if (t->fetch_err || !tic_id_valid(t->id))
		return -EINVAL;
	n = tic_show_format(t, buf, len);
	if (n < 0)
		return n;
	m = snprintf(buf + n, len - (size_t)n, "Fetched: %" PRIdMAX "\n", (intmax_t)fetched);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENOSPC;
	n += m;
	if (failed) {
		m = snprintf(buf + n, len - (size_t)n, "Failed: %" PRIdMAX "\n", (intmax_t)failed);
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -ENOSPC;
		n += m;
	}
	return n;
}

static int write_file(int dir, const struct tic_tunnel *t, time_t fetched, time_t failed)
{
	char buf[CACHE_FILE_MAX];
	int n = cache_format(t, fetched, failed, buf, sizeof(buf)), r;

	if (n < 0)
		return n;
	r = file_write_atomic_at(dir, t->id, buf, (size_t)n, 0600);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int cache_write_at(int dir, const struct tic_tunnel *t, time_t fetched)
{
	return write_file(dir, t, fetched, 0);
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

static int read_file(int dir, const char *id, struct tic_tunnel *t, time_t *fetched, time_t *failed,
                     char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int r;

	if (!tic_id_valid(id))
		return -EINVAL;
	/* It holds the tunnel password: refuse a file others may read. */
	r = file_read_small_at(dir, id, CACHE_FILE_MAX, 1, &buf, &len);
	if (r == -EPERM) {
		struct stat st;

		if (fstatat(dir, id, &st, AT_SYMLINK_NOFOLLOW) == 0)
			snprintf(err, errlen,
			         "readable by group/others (mode %04o), and it holds the tunnel "
			         "password: only the aiccud user may read it",
			         (unsigned)(st.st_mode & 07777));
		else
			snprintf(err, errlen,
			         "readable by group/others, and it holds the tunnel "
			         "password: only the aiccud user may read it");
	}
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

int cache_read_why_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched, char *err,
                      size_t errlen)
{
	time_t failed;
	int r = read_file(dir, id, t, fetched, &failed, err, errlen);

	if (r)
		return r;
	return failed ? -ESTALE : 0;
}

int cache_read_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched)
{
	char err[TIC_ERR_MAX];

	return cache_read_why_at(dir, id, t, fetched, err, sizeof(err));
}

bool cache_fresh(time_t fetched, time_t now, uint32_t max_age)
{
	return fetched <= now && (uintmax_t)(now - fetched) <= max_age;
}

enum cache_use cache_decide(int dir_err, int read_err, bool fresh, bool fresh_fetch)
{
	/* Missing (or no directory yet), unreadable as ours, too old: TIC, once. */
	bool missing =
	    dir_err == -ENOENT || (!dir_err && (read_err == -ENOENT || read_err == -EBADMSG));

	if (missing)
		return fresh_fetch ? CACHE_FAIL : CACHE_ASK_TIC;
	if (dir_err)
		return CACHE_FAIL; /* the directory itself: nothing was read */
	switch (read_err) {
	case 0:
		/* Right after a fetch an "old" file is the fetch's (a clock step): use it. */
		return fresh || fresh_fetch ? CACHE_USE : CACHE_ASK_TIC;
	case -ESTALE:
		/* Marked failed: TIC decides; after a fetch that kept them, they stand. */
		return fresh_fetch ? CACHE_USE : CACHE_ASK_TIC;
	default:
		return CACHE_FAIL;
	}
}

int cache_mark_failed_at(int dir, const char *id)
{
	struct tic_tunnel t;
	time_t fetched, failed;
	char err[TIC_ERR_MAX];
	int r = read_file(dir, id, &t, &fetched, &failed, err, sizeof(err));

	if (r)
		return r;
	if (failed)
		return 0;
	/* The time is for people reading the file; only its presence matters. */
	failed = time(NULL);
	r = write_file(dir, &t, fetched, failed > 0 ? failed : 1);
	explicit_bzero(&t, sizeof(t));
	return r;
}
