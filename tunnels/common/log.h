/*
 * Logging: stderr in the foreground, syslog (daemon facility) when
 * detached.  Every line carries the process's tag (e.g. "sixxs0") so it
 * names its tunnel.  log_warn appends strerror(errno).
 *
 * On stderr a line starts with the time of day, unless stderr is the
 * journal's stream (systemd: $JOURNAL_STREAM names stderr's device and
 * inode): then it starts with its syslog priority as sd-daemon(3) wants
 * ("<4>" for a warning) and the journal adds the time itself.
 *
 * Lines above the current level (log_level_set; -v: debug, else info)
 * are dropped; fatal's always go out.
 *
 * Warnings caused by what arrives from the network (bad packets, a
 * misbehaving peer) go through log_ratelimited so that a flood of them
 * cannot fill the disk or drown the other lines.
 */
#ifndef AICCUD_LOG_H
#define AICCUD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

void log_init(const char *tag, bool to_syslog, int verbosity);
/*
 * Pure: one syslog datagram (RFC 3164, facility daemon, "aiccud[PID]: TAG:
 * MSG[: SUFFIX]"), cut to fit len; its length without the NUL.
 */
size_t log_format_syslog(char *out, size_t len, int prio, const struct tm *when, long pid,
                         const char *tag, const char *msg, const char *suffix);
void log_set_tag(const char *tag);

/* Levels by syslog priority: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
int log_level_get(void);
/* 0, or -EINVAL for another priority. */
int log_level_set(int prio);
/* One step more verbose (delta > 0) or less (< 0), within error..debug; the new level. */
int log_level_step(int delta);
/* Set the level and log the change (as a warning, whatever the levels), naming by. */
void log_level_change(int prio, const char *by);
/* "error", "warning", "info", "debug" <-> the priority; -1 / "?" for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(int prio);

/*
 * Pure: whether a $JOURNAL_STREAM value ("DEV:INODE", decimal) names the
 * file with that device and inode.
 */
bool log_journal_stream_matches(const char *value, unsigned long long dev, unsigned long long ino);
/* Whether fd is the stream $JOURNAL_STREAM (value) names. */
bool log_fd_is_journal(const char *value, int fd);
/*
 * Pure: one line for stderr into out (len > 0), ending in "\n", cut to
 * fit: "<N>tag: msg[: suffix]" for the journal (N = prio & 7), else
 * "when tag: msg[: suffix]".  Returns its length.
 */
size_t log_format_line(char *out, size_t len, int prio, bool journal, const char *when,
                       const char *tag, const char *msg, const char *suffix);

/* A failure the operator must see (a tunnel failed, aiccud cannot start). */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Broken invariant, lost IPC or out of memory: log and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * A rate limit for one kind of warning: at most burst lines per interval
 * seconds; the rest are counted and the count is reported with the next
 * line printed (or by log_ratelimit_flush).  Zero-initialised apart from
 * interval and burst; one per call site (or per tunnel and call site).
 */
struct log_ratelimit {
	double interval;         /* seconds per window (> 0) */
	unsigned burst;          /* lines printed per window (>= 1) */
	double window_start;     /* monotonic seconds, valid when started */
	bool started;            /* a window is open */
	unsigned printed;        /* lines printed in the current window */
	uint64_t suppressed;     /* lines dropped since the last one printed */
	double suppressed_since; /* monotonic time of the first of them */
};
#define LOG_RATELIMIT_INIT(interval_s, burst_n)                                                    \
	{                                                                                          \
		.interval = (interval_s), .burst = (burst_n)                                       \
	}

/*
 * Pure decision for rl at monotonic time now (seconds): true when a line
 * may be printed.  Then *suppressed is how many were dropped before it
 * (and the count restarts); otherwise the drop is counted.
 */
bool log_ratelimit_allow(struct log_ratelimit *rl, double now, uint64_t *suppressed);
/*
 * log_warnx through rl; a printed line says how many were suppressed
 * before it.  The _at form takes the monotonic time (seconds) from the
 * caller (a loop's ev_now, a test's fake clock); the other reads the clock.
 */
void log_ratelimited(struct log_ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_ratelimited_at(struct log_ratelimit *rl, double now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Report drops still pending once their window is over ("N similar
 * warnings suppressed"); call it from a periodic timer so the last burst
 * of a flood is not left unreported.  prefix names the kind, e.g. "sixxs0: AYIYA".
 */
void log_ratelimit_flush(struct log_ratelimit *rl, const char *prefix);
void log_ratelimit_flush_at(struct log_ratelimit *rl, double now, const char *prefix);

#endif
