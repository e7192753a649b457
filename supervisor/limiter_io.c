/*
 * The limiter's I/O edge: its state file and the clocks.  The parent calls
 * these; it needs write access to the state directory and nothing else.
 */
#include "limiter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"

int limiter_load(struct limiter *l, const char *path, const struct limiter_now *now)
{
	char *buf;
	size_t len;
	int err;

	/* Not secret, but any size beyond LIMITER_STATE_MAX is corrupt anyway. */
	err = file_read_small(path, LIMITER_STATE_MAX, 0, &buf, &len);
	if (err < 0) {
		limiter_init(l, l->burst, l->refill, now);
		return err;
	}
	err = limiter_parse(l, buf, len, now);
	free(buf);
	return err;
}

int limiter_save(const struct limiter *l, const char *path)
{
	char buf[LIMITER_STATE_MAX];
	int n;

	n = limiter_serialize(l, buf, sizeof(buf));
	if (n < 0)
		return n;
	return file_write_atomic(path, buf, (size_t)n, 0600);
}

int limiter_boot_id_read(const char *path, char *out, size_t len)
{
	char *buf;
	size_t n;
	int err;

	err = file_read_small(path, 64, 0, &buf, &n);
	if (err < 0)
		return err;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	err = limiter_boot_id_ok(buf, n) && n < len ? 0 : -EINVAL;
	if (!err)
		snprintf(out, len, "%.*s", (int)n, buf);
	free(buf);
	return err;
}

static int clock_ms(clockid_t id, int64_t *ms)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return -errno;
	*ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

int limiter_now_read(struct limiter_now *now)
{
	int err;

	memset(now, 0, sizeof(*now));
	err = clock_ms(CLOCK_BOOTTIME, &now->boot_ms);
	if (!err)
		err = clock_ms(CLOCK_REALTIME, &now->wall_ms);
	if (err < 0)
		return err;
	err = limiter_boot_id_read(LIMITER_BOOT_ID_PATH, now->boot_id, sizeof(now->boot_id));
	if (err < 0)
		limiter_clock_boot_id(now->boot_ms, now->wall_ms, now->boot_id,
		                      sizeof(now->boot_id));
	return err;
}
