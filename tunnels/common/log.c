#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static char log_tag[64] = "aiccud";
static bool log_syslog;
static bool log_journal; /* stderr is the journal's stream: <N> prefixes, no time */
static int log_level = LOG_INFO;
/*
 * Our own end of /dev/log, not glibc's syslog(): glibc re-creates its
 * socket whenever the syslog daemon is away, and a socket made after a
 * child's privilege drop lands above its network sockets, where the
 * seccomp filter refuses connect() (the worker died by SIGSYS on a host
 * without a syslog daemon).  This one is made at log_init, below every
 * network socket, and only ever re-connected.
 */
static int log_syslog_fd = -1;
static bool log_syslog_connect(void);
#define LOG_SYSLOG_PATH "/dev/log"

static const struct {
	int prio;
	const char *name;
} log_levels[] = {
    {LOG_ERR, "error"},
    {LOG_WARNING, "warning"},
    {LOG_INFO, "info"},
    {LOG_DEBUG, "debug"},
};

void log_init(const char *tag, bool to_syslog, int verbosity)
{
	log_set_tag(tag);
	log_syslog = to_syslog;
	log_level = verbosity > 0 ? LOG_DEBUG : LOG_INFO;
	log_journal = !to_syslog && log_fd_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO);
	if (to_syslog && log_syslog_fd < 0) {
		tzset(); /* the time zone read now, before a sandbox may hide it */
		log_syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		log_syslog_connect();
	}
}

/* Re-connect the syslog socket made by log_init to /dev/log: whether it worked. */
static bool log_syslog_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = LOG_SYSLOG_PATH};

	return log_syslog_fd >= 0 &&
	       connect(log_syslog_fd, (const struct sockaddr *)&a, sizeof(a)) == 0;
}

size_t log_format_syslog(char *out, size_t len, int prio, const struct tm *when, long pid,
                         const char *tag, const char *msg, const char *suffix)
{
	char stamp[32];
	int n;

	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", when);
	n = snprintf(out, len, "<%d>%s aiccud[%ld]: %s: %s%s%s", LOG_DAEMON | (prio & 7), stamp,
	             pid, tag, msg, suffix ? ": " : "", suffix ? suffix : "");
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : (len ? len - 1 : 0);
}

/* One datagram; never blocks the event loop (a message is lost when syslog is slow). */
static void log_syslog_send(int prio, const char *msg, const char *suffix)
{
	char line[1200];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	localtime_r(&now, &tm);
	n = log_format_syslog(line, sizeof(line), prio, &tm, (long)getpid(), log_tag, msg, suffix);
	if (send(log_syslog_fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
	    log_syslog_connect()) /* the syslog daemon restarted, or was not there at first */
		(void)send(log_syslog_fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void log_set_tag(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

bool log_journal_stream_matches(const char *value, unsigned long long dev, unsigned long long ino)
{
	unsigned long long d, i;
	char *end;

	if (!value || !*value)
		return false;
	errno = 0;
	d = strtoull(value, &end, 10);
	if (errno || end == value || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	value = end + 1;
	i = strtoull(value, &end, 10);
	return !errno && !*end && d == dev && i == ino;
}

bool log_fd_is_journal(const char *value, int fd)
{
	struct stat st;

	if (!value || fstat(fd, &st) < 0)
		return false;
	return log_journal_stream_matches(value, (unsigned long long)st.st_dev,
	                                  (unsigned long long)st.st_ino);
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(name, log_levels[i].name) == 0)
			return log_levels[i].prio;
	return -1;
}

const char *log_level_name(int prio)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (prio == log_levels[i].prio)
			return log_levels[i].name;
	return "?";
}

int log_level_get(void)
{
	return log_level;
}

int log_level_set(int prio)
{
	if (strcmp(log_level_name(prio), "?") == 0)
		return -EINVAL;
	log_level = prio;
	return 0;
}

int log_level_step(int delta)
{
	size_t n = sizeof(log_levels) / sizeof(log_levels[0]), at = 0;

	for (size_t i = 0; i < n; i++)
		if (log_levels[i].prio == log_level)
			at = i;
	if (delta > 0 && at + 1 < n)
		at++;
	else if (delta < 0 && at > 0)
		at--;
	log_level = log_levels[at].prio;
	return log_level;
}

void log_level_change(int prio, const char *by)
{
	int old = log_level;

	if (log_level_set(prio) < 0)
		return;
	/* Said at the more verbose of the two levels, so that the line is not dropped. */
	log_level = old > prio ? old : prio;
	log_warnx("log level %s -> %s (%s)", log_level_name(old), log_level_name(prio), by);
	log_level = prio;
}

size_t log_format_line(char *out, size_t len, int prio, bool journal, const char *when,
                       const char *tag, const char *msg, const char *suffix)
{
	int n;

	if (journal)
		n = snprintf(out, len, "<%d>%s: %s%s%s\n", prio & 7, tag, msg, suffix ? ": " : "",
		             suffix ? suffix : "");
	else
		n = snprintf(out, len, "%s %s: %s%s%s\n", when, tag, msg, suffix ? ": " : "",
		             suffix ? suffix : "");
	if (n < 0)
		n = 0;
	if (len && (size_t)n >= len) {
		/* Cut: the line still ends with its newline. */
		n = (int)len - 1;
		if (n > 0)
			out[n - 1] = '\n';
	}
	return (size_t)n;
}

static void __attribute__((format(printf, 2, 0)))
log_emit(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024], line[1200], when[32] = "";
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (prio > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		log_syslog_send(prio, msg, suffix);
		return;
	}
	if (!log_journal) {
		char hms[16];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
		snprintf(when, sizeof(when), "%s.%03ld", hms, ts.tv_nsec / 1000000);
	}
	n = log_format_line(line, sizeof(line), prio, log_journal, when, log_tag, msg, suffix);
	/* One write per line: lines of the parent and its workers do not interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

#define LOG_BODY(prio, suffix)                                                                     \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, fmt, ap, suffix);                                                   \
		va_end(ap);                                                                        \
	} while (0)

void log_errx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, NULL);
}

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
