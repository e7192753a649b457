/*
 * A client's network waits under two deadlines (CLOCK_MONOTONIC, ms): one
 * per step (a connect, a handshake, each read or write) and one for the
 * whole exchange; every wait ends at the nearer.  Shared by the TIC
 * client (tic_io.c) and the endpoint update (dyndns_io.c): the TCP
 * connect and the TLS handshake of a client over a non-blocking socket.
 */
#ifndef AICCUD_DEADLINE_H
#define AICCUD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

struct addrinfo;

struct deadline {
	int64_t step, total;
};

int64_t deadline_now_ms(void);
/* The whole exchange ends total_ms from now (and so does the first step). */
void deadline_start(struct deadline *d, unsigned total_ms);
/* A new step: it ends step_ms from now. */
void deadline_step(struct deadline *d, unsigned step_ms);
/* Whether the whole's deadline comes first (what a time-out message names). */
bool deadline_total_first(const struct deadline *d);
/* Whether the whole's deadline has passed. */
bool deadline_total_passed(const struct deadline *d);
/*
 * Wait until fd has one of events: 0 (ready, or an error the next call
 * reports), -ETIMEDOUT at the nearer deadline, or -errno.
 */
int deadline_wait_fd(int fd, const struct deadline *d, short events);
/*
 * A non-blocking TCP connection to ai within the deadlines: the connected
 * socket (non-blocking, close-on-exec), or -errno (-ETIMEDOUT).
 */
int deadline_connect(const struct addrinfo *ai, const struct deadline *d);
/*
 * The TLS handshake of session (over the non-blocking fd) within the
 * deadlines: 0 when done; -ETIMEDOUT or -errno when a wait failed
 * (*tls_err 0); -EPROTO with *tls_err the gnutls error that ended it
 * (GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR among them).
 */
int deadline_tls_handshake(gnutls_session_t session, int fd, const struct deadline *d,
                           int *tls_err);

#endif
