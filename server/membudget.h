/* A byte budget shared by threads that allocate a lot for a while (the ingest decodes): a user
 * charges what it allocates and waits while the budget is spent by others. The oldest user (first
 * to enter among those still in) never waits, so the users always make progress and the budget may
 * be exceeded by what that one user needs alone. Thread-safe. */
#ifndef SRV_MEMBUDGET_H
#define SRV_MEMBUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_membudget srv_membudget;

/* One user between enter and leave (on the caller's stack). */
typedef struct srv_memuser {
  srv_membudget *b;
  struct srv_memuser *prev, *next; /* users in order of entry */
  size_t charged;
} srv_memuser;

/* NULL on out of memory. LIMIT in bytes (0: no limit). */
srv_membudget *srv_membudget_new(size_t limit);
void srv_membudget_free(srv_membudget *b);

void srv_membudget_enter(srv_membudget *b, srv_memuser *u);
/* Charges BYTES to U, first waiting while they do not fit and U is not the oldest user. 0. */
int srv_membudget_charge(srv_memuser *u, size_t bytes);
/* Gives back everything U charged. Returns 1 when no user is left (the budget is idle), else 0. */
int srv_membudget_leave(srv_memuser *u);

/* Bytes charged now and the most ever charged at once (statistics, tests). */
size_t srv_membudget_used(srv_membudget *b);
size_t srv_membudget_peak(srv_membudget *b);

#endif
