/* Byte budget with oldest-first progress (membudget.h). */
#include "membudget.h"

#include <pthread.h>
#include <stdlib.h>

struct srv_membudget {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  size_t limit, used, peak;
  srv_memuser *head, *tail; /* users in order of entry: head is the oldest */
};

srv_membudget *srv_membudget_new(size_t limit) {
  srv_membudget *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  pthread_mutex_init(&b->lock, NULL);
  pthread_cond_init(&b->cond, NULL);
  b->limit = limit;
  return b;
}

void srv_membudget_free(srv_membudget *b) {
  if (!b) return;
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->cond);
  free(b);
}

void srv_membudget_enter(srv_membudget *b, srv_memuser *u) {
  u->b = b;
  u->charged = 0;
  u->next = NULL;
  pthread_mutex_lock(&b->lock);
  u->prev = b->tail;
  if (b->tail) b->tail->next = u;
  else b->head = u;
  b->tail = u;
  pthread_mutex_unlock(&b->lock);
}

int srv_membudget_charge(srv_memuser *u, size_t bytes) {
  srv_membudget *b = u->b;
  pthread_mutex_lock(&b->lock);
  while (b->limit && b->used + bytes > b->limit && b->head != u) pthread_cond_wait(&b->cond, &b->lock);
  b->used += bytes;
  if (b->used > b->peak) b->peak = b->used;
  u->charged += bytes;
  pthread_mutex_unlock(&b->lock);
  return 0;
}

int srv_membudget_leave(srv_memuser *u) {
  srv_membudget *b = u->b;
  pthread_mutex_lock(&b->lock);
  b->used -= u->charged;
  u->charged = 0;
  if (u->prev) u->prev->next = u->next;
  else b->head = u->next;
  if (u->next) u->next->prev = u->prev;
  else b->tail = u->prev;
  int idle = b->head == NULL;
  /* Memory came back, and the oldest may have changed: every waiter looks again. */
  pthread_cond_broadcast(&b->cond);
  pthread_mutex_unlock(&b->lock);
  return idle;
}

size_t srv_membudget_used(srv_membudget *b) {
  pthread_mutex_lock(&b->lock);
  size_t n = b->used;
  pthread_mutex_unlock(&b->lock);
  return n;
}

size_t srv_membudget_peak(srv_membudget *b) {
  pthread_mutex_lock(&b->lock);
  size_t n = b->peak;
  pthread_mutex_unlock(&b->lock);
  return n;
}
