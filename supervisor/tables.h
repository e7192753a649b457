/*
 * The I/O edge of tabmap: gives the tunnels of a loaded configuration
 * that name no table their automatic one, reading and writing
 * state_dir/tables.  Used at start and on reload, before the tunnels are
 * compared or started, so an unchanged tunnel keeps its table.
 */
#ifndef AICCUD_TABLES_H
#define AICCUD_TABLES_H

#include "config.h"

/*
 * Never stops the start: a missing or damaged file only costs the old
 * assignments (logged); a file that cannot be written leaves the tables
 * assigned for as long as this aiccud runs (logged, and *write_err, may
 * be NULL, gets the -errno; 0 when written or unchanged).  A tunnel for
 * which no table is left becomes unusable with its reason.  Returns the
 * number of tunnels that got an automatic table.
 */
size_t tables_assign(struct config *cfg, int *write_err);

#endif
