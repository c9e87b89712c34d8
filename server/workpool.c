/* Bounded job queue served by a fixed set of threads (workpool.h). */
#include "workpool.h"

#include <pthread.h>
#include <stdlib.h>

#include "hud/err.h"

typedef struct job {
  srv_pool_fn fn;
  void *arg;
} job;

struct srv_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *ring; /* QUEUE_MAX slots */
  size_t cap, head, n, running;
  int stopping;
  int nthreads;
  pthread_t *threads;
};

static void *worker(void *arg) {
  srv_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->n && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
    if (!p->n) break;
    job j = p->ring[p->head];
    p->head = (p->head + 1) % p->cap;
    p->n--;
    int canceled = p->stopping;
    p->running++;
    pthread_mutex_unlock(&p->mu);
    j.fn(j.arg, canceled);
    pthread_mutex_lock(&p->mu);
    p->running--;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int srv_pool_new(int threads, size_t queue_max, srv_pool **out) {
  if (threads < 1 || threads > 64 || queue_max < 1 || !out) return HUD_EINVAL;
  srv_pool *p = calloc(1, sizeof *p);
  if (!p) return HUD_ENOMEM;
  p->ring = calloc(queue_max, sizeof *p->ring);
  p->threads = calloc((size_t)threads, sizeof *p->threads);
  if (!p->ring || !p->threads) {
    free(p->ring);
    free(p->threads);
    free(p);
    return HUD_ENOMEM;
  }
  p->cap = queue_max;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (; p->nthreads < threads; p->nthreads++)
    if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) break;
  if (p->nthreads == 0) {
    srv_pool_free(p);
    return HUD_ENOMEM;
  }
  *out = p;
  return 0;
}

int srv_pool_submit(srv_pool *p, srv_pool_fn fn, void *arg) {
  pthread_mutex_lock(&p->mu);
  int rc = p->stopping ? HUD_ECANCELED : p->n == p->cap ? HUD_EBUSY : 0;
  if (rc == 0) {
    p->ring[(p->head + p->n) % p->cap] = (job){fn, arg};
    p->n++;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

size_t srv_pool_pending(srv_pool *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = p->n + p->running;
  pthread_mutex_unlock(&p->mu);
  return n;
}

void srv_pool_stop(srv_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  int joined = p->stopping == 2;
  p->stopping = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (joined) return;
  for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_lock(&p->mu);
  p->stopping = 2;
  pthread_mutex_unlock(&p->mu);
}

void srv_pool_free(srv_pool *p) {
  if (!p) return;
  srv_pool_stop(p);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->ring);
  free(p->threads);
  free(p);
}
