/* A fixed set of threads running queued jobs, with a bounded queue: hud-server runs its slow handlers here
 * (ingest decodes, queries) so libmicrohttpd's polling threads stay free for I/O, /healthz and /metrics. */
#ifndef SRV_WORKPOOL_H
#define SRV_WORKPOOL_H

#include <stddef.h>

typedef struct srv_pool srv_pool;

/* A job: CANCELED is non-zero when the pool is being freed before the job could start (the job must still
 * release what it holds and finish its request, e.g. with a 503). */
typedef void (*srv_pool_fn)(void *arg, int canceled);

/* THREADS workers (1..64), at most QUEUE_MAX jobs waiting. *OUT owned by the caller (srv_pool_free()).
 * HUD_EINVAL, HUD_ENOMEM. */
int srv_pool_new(int threads, size_t queue_max, srv_pool **out);
/* Queues FN(ARG, 0). HUD_EBUSY when QUEUE_MAX jobs already wait, HUD_ECANCELED once freeing began. */
int srv_pool_submit(srv_pool *p, srv_pool_fn fn, void *arg);
/* Jobs waiting or running now. */
size_t srv_pool_pending(srv_pool *p);
/* Lets running jobs finish, calls the waiting ones with CANCELED = 1 and joins the threads; the pool stays
 * valid (submit answers HUD_ECANCELED) until srv_pool_free, so threads that still hold it may call it. */
void srv_pool_stop(srv_pool *p);
/* srv_pool_stop (if not yet), then frees. NULL is a no-op. */
void srv_pool_free(srv_pool *p);

#endif
