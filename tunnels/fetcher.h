/*
 * The TIC fetcher: a short-lived child (aiccud-tic -F) that the parent starts
 * only after the limiter granted a TIC connection.  It reads one
 * IPC_P_FETCH request, logs in to the account's TIC server once, fetches
 * every requested tunnel, writes each into the tunnel cache, reports one
 * IPC_F_RESULT per tunnel and an IPC_F_DONE, and exits.
 *
 * Needs no privileges beyond writing the state directory; TLS and
 * everything parsed from the broker live here, not in the parent.
 */
#ifndef AICCUD_FETCHER_H
#define AICCUD_FETCHER_H

void fetcher_main(int ipc_fd) __attribute__((noreturn));
/* aiccud-tic -U: one endpoint update (updater.c). */
void updater_main(int ipc_fd) __attribute__((noreturn));

#endif
