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
 * Store t (fetch_err must be 0) as fetched at `fetched`; creates
 * <state_dir>/tunnels (0700) when missing.  Clears a Failed marker.
 * 0 or -errno.
 */
int cache_write(const char *state_dir, const struct tic_tunnel *t, time_t fetched);
/*
 * Pure: the file's text for t (fetch_err 0) fetched at `fetched` (failed:
 * its Failed: time, 0 for none) into buf.  Its length, or -errno
 * (-ENOSPC: more than len bytes).
 */
int cache_format(const struct tic_tunnel *t, time_t fetched, time_t failed, char *buf, size_t len);
/*
 * Read tunnel id back.  0 with *t and *fetched set; -ESTALE when the file
 * is valid but marked failed (*t and *fetched are set too: usable as a last
 * resort, but TIC must be asked first); -ENOENT when there is none; -EPERM
 * when group or others may read it; -EBADMSG when it does not parse or is
 * for another tunnel; other -errno from reading.
 */
int cache_read(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched);
/* cache_read, and on -EBADMSG err says why (the policy's refusal, a bad line). */
int cache_read_why(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched,
                   char *err, size_t errlen);
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
 * The cached parameters failed to bring the tunnel up: mark the file so
 * the next start asks TIC again.  0 (also when already marked), or -errno
 * (-ENOENT: nothing cached).
 */
int cache_mark_failed(const char *state_dir, const char *id);

/*
 * The same relative to the cache directory open as dir (cache_dir_open),
 * for processes that may not reach it by path: the unprivileged fetcher
 * writes only through this fd.
 */
int cache_dir_open(const char *state_dir, bool create); /* fd or -errno */
int cache_write_at(int dir, const struct tic_tunnel *t, time_t fetched);
int cache_read_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched);
int cache_read_why_at(int dir, const char *id, struct tic_tunnel *t, time_t *fetched, char *err,
                      size_t errlen);
int cache_mark_failed_at(int dir, const char *id);

#endif
