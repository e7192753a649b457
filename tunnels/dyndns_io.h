/*
 * One endpoint update over HTTPS (dyndns.h builds and reads it): resolve
 * the URL's host to IPv4 addresses (the broker learns the endpoint from
 * an IPv4 request), connect, TLS 1.2 or newer with the certificate and
 * host name verified, one GET, the answer read to its end (bounded in
 * size), every step under a deadline.  Runs in aiccud-tic's update mode,
 * unprivileged.
 */
#ifndef AICCUD_DYNDNS_IO_H
#define AICCUD_DYNDNS_IO_H

#include "ipc.h"

#define DYNDNS_STEP_TIMEOUT_MS  10000 /* connect, handshake, each read and write */
#define DYNDNS_TOTAL_TIMEOUT_MS 20000 /* the whole update */
/* TLS 1.2 and 1.3 only: older versions are refused in the handshake. */
#define DYNDNS_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/*
 * Load the trust (ca_file, or the system's store) while files can still be
 * read; *cred is NULL and err says why when it cannot be loaded.
 */
int dyndns_trust_load(const struct tunnel_update *u, void **cred, char *err, size_t errlen);
void dyndns_trust_free(void *cred);

/* The update; res is always filled (err 0: an answer was read and judged). */
void dyndns_update(const struct ipc_update *req, void *cred, const char *trust_err,
                   const char *version, struct ipc_update_result *res);

#endif
