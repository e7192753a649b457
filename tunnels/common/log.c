#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static char log_tag[64] = "aiccud";
static bool log_syslog;
static int log_verbosity;

void log_init(const char *tag, bool to_syslog, int verbosity)
{
	log_set_tag(tag);
	log_syslog = to_syslog;
	log_verbosity = verbosity;
	if (to_syslog)
		openlog("aiccud", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

static void __attribute__((format(printf, 2, 0)))
log_emit(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (suffix)
			syslog(prio, "%s: %s: %s", log_tag, msg, suffix);
		else
			syslog(prio, "%s: %s", log_tag, msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (suffix)
		fprintf(stderr, "%s.%03ld %s: %s: %s\n", when, ts.tv_nsec / 1000000, log_tag, msg,
		        suffix);
	else
		fprintf(stderr, "%s.%03ld %s: %s\n", when, ts.tv_nsec / 1000000, log_tag, msg);
}

#define LOG_BODY(prio, suffix)                                                                     \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, fmt, ap, suffix);                                                   \
		va_end(ap);                                                                        \
	} while (0)

void log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY(LOG_WARNING, err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbosity < 1)
		return;
	LOG_BODY(LOG_DEBUG, NULL);
}

void fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY(LOG_CRIT, err);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, NULL);
	exit(1);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, double now, uint64_t *suppressed)
{
	unsigned burst = rl->burst ? rl->burst : 1;

	if (!rl->started || now - rl->window_start >= rl->interval || now < rl->window_start) {
		/* A new window (a clock that went back also opens one). */
		rl->started = true;
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed >= burst) {
		if (rl->suppressed++ == 0)
			rl->suppressed_since = now;
		return false;
	}
	rl->printed++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ratelimited_v(struct log_ratelimit *rl, double now, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void ratelimited_v(struct log_ratelimit *rl, double now, const char *fmt, va_list ap)
{
	char msg[1024];
	uint64_t dropped;

	if (!log_ratelimit_allow(rl, now, &dropped))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (dropped)
		log_warnx("%s (%llu similar warning(s) suppressed before this one)", msg,
		          (unsigned long long)dropped);
	else
		log_warnx("%s", msg);
}

void log_ratelimited_at(struct log_ratelimit *rl, double now, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ratelimited_v(rl, now, fmt, ap);
	va_end(ap);
}

void log_ratelimited(struct log_ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ratelimited_v(rl, monotonic_now(), fmt, ap);
	va_end(ap);
}

void log_ratelimit_flush(struct log_ratelimit *rl, const char *prefix)
{
	log_ratelimit_flush_at(rl, monotonic_now(), prefix);
}

void log_ratelimit_flush_at(struct log_ratelimit *rl, double now, const char *prefix)
{
	if (!rl->suppressed || !rl->started || now - rl->window_start < rl->interval)
		return;
	log_warnx("%s: %llu similar warning(s) suppressed in the last %.0f s", prefix,
	          (unsigned long long)rl->suppressed, now - rl->suppressed_since);
	rl->suppressed = 0;
	rl->started = false;
}
