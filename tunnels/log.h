/*
 * Logging: stderr in the foreground, syslog (daemon facility) when
 * detached.  Every line carries the process's tag (e.g. "sixxs0") so it
 * names its tunnel.  log_warn appends strerror(errno).
 */
#ifndef AICCUD_LOG_H
#define AICCUD_LOG_H

#include <stdbool.h>

void log_init(const char *tag, bool to_syslog, int verbosity);
void log_set_tag(const char *tag);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Broken invariant, lost IPC or out of memory: log and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
