/*
 * The tunnel cache: <state_dir>/tunnels/<TunnelId>, one file per tunnel
 * with the "tunnel show" lines TIC gave, a "Fetched: <epoch>" line and,
 * once the parameters failed to bring the tunnel up, a "Failed: <epoch>"
 * line.  Mode 0600 (it holds the tunnel password), replaced atomically.
 * Starts and restarts use it; TIC is asked again only when it is missing,
 * stale, or marked failed.
 */
#ifndef AICCUD_CACHE_H
#define AICCUD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tic.h"

#define CACHE_DIR      "tunnels"
#define CACHE_FILE_MAX 4096

/* "<state_dir>/tunnels/<id>".  0, -EINVAL (id not a safe file name) or -ENAMETOOLONG. */
int cache_path(const char *state_dir, const char *id, char *buf, size_t len);
/*
 * Pure: the file's text for t (fetch_err 0) fetched at `fetched` (failed:
 * its Failed: time, 0 for none) into buf.  Its length, or -errno
 * (-ENOSPC: more than len bytes).
 */
int cache_format(const struct tic_tunnel *t, time_t fetched, time_t failed, char *buf, size_t len);
/*
 * Pure: parse a cache file's text (buf[len] must be its NUL terminator;
 * lines are split in place).  0, or -EBADMSG with err saying why.
 * *failed is the Failed: time, 0 when unmarked.
 */
int cache_parse(char *buf, size_t len, struct tic_tunnel *t, time_t *fetched, time_t *failed,
                char *err, size_t errlen);
/* Fetched no more than max_age seconds ago; a fetched time in the future is not fresh. */
bool cache_fresh(time_t fetched, time_t now, uint32_t max_age);
/*
 * The cache directory, <state_dir>/tunnels, created (0700) when create and
 * missing; processes work on it through this fd (the unprivileged fetcher
 * writes only through it).  fd or -errno.
 */
int cache_dir_open(const char *state_dir, bool create);
/* Store t (fetch_err must be 0) as fetched at `fetched`.  Clears a Failed marker.  0 or -errno. */
int cache_write_at(int dir, const struct tic_tunnel *t, time_t fetched);
/*
 * Read tunnel id back.  0 with *t and *fetched set; -ESTALE when the file
 * is valid but marked failed (*t and *fetched are set too: usable as a last
 * resort, but TIC must be asked first); -ENOENT when there is none; -EPERM
 * when group or others may read it; -EBADMSG when it does not parse or is
 * for another tunnel; -EINVAL when id is not a safe file name; other
 * -errno from reading.
 */
int cache_read_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched);
/* cache_read_at, and on -EBADMSG err says why (the policy's refusal, a bad line). */
int cache_read_why_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched, char *err,
                      size_t errlen);
/*
 * The cached parameters failed to bring the tunnel up: mark the file so
 * the next start asks TIC again.  0 (also when already marked), or -errno
 * (-ENOENT: nothing cached).
 */
int cache_mark_failed_at(int dir, const char *id);

/* What a worker starting a TIC tunnel does with its cache file. */
enum cache_use {
	CACHE_USE,     /* the parameters read are good to use */
	CACHE_ASK_TIC, /* ask the parent for a TIC fetch, then start again */
	CACHE_FAIL,    /* the tunnel fails: nothing read can be used */
};
/*
 * dir_err: 0 or the -errno of cache_dir_open; read_err: the result of
 * reading the tunnel's file (only looked at when dir_err is 0); fresh:
 * the file is young enough (cache_fresh); fresh_fetch: TIC was asked just
 * before this start.  CACHE_USE only when the file was read.
 */
enum cache_use cache_decide(int dir_err, int read_err, bool fresh, bool fresh_fetch);

#endif
