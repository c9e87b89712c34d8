/* Header deadline sweeper (conn_watch.h). The sweeper shuts a late connection's socket down; libmicrohttpd
 * then sees the end of the stream and closes the connection itself. The list's mutex is held both while
 * the sweeper calls shutdown() and while a closed connection leaves the list, and libmicrohttpd reports the
 * close before it closes the descriptor: a descriptor shut down is always the watched connection's. */
#include "conn_watch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "hud/err.h"

struct srv_conn_entry {
  srv_conn_entry *prev, *next;
  int fd;
  int waiting; /* for headers, or for the rest of a body */
  int kicked;
  int64_t since_ms, deadline_ms;
};

struct srv_conn_watch {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  srv_conn_entry *head;
  int deadline_ms;
  int stop;
  pthread_t thread;
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sweep(srv_conn_watch *w) {
  int64_t now = now_ms();
  for (srv_conn_entry *e = w->head; e; e = e->next) {
    if (!e->waiting || e->kicked || now - e->since_ms < e->deadline_ms) continue;
    shutdown(e->fd, SHUT_RDWR);
    e->kicked = 1;
  }
}

static void *sweeper(void *arg) {
  srv_conn_watch *w = arg;
  pthread_mutex_lock(&w->mu);
  while (!w->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (int64_t)(w->deadline_ms / 4 + 1) * 1000000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    if (!w->stop) sweep(w);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int srv_conn_watch_new(int deadline_ms, srv_conn_watch **out) {
  if (deadline_ms <= 0 || !out) return HUD_EINVAL;
  srv_conn_watch *w = calloc(1, sizeof *w);
  if (!w) return HUD_ENOMEM;
  w->deadline_ms = deadline_ms;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if (pthread_create(&w->thread, NULL, sweeper, w) != 0) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    return HUD_ENOMEM;
  }
  *out = w;
  return 0;
}

void srv_conn_watch_free(srv_conn_watch *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  while (w->head) { /* not expected: every connection reports its close */
    srv_conn_entry *e = w->head;
    w->head = e->next;
    free(e);
  }
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w);
}

srv_conn_entry *srv_conn_watch_opened(srv_conn_watch *w, int fd) {
  srv_conn_entry *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->fd = fd;
  e->waiting = 1;
  e->since_ms = now_ms();
  e->deadline_ms = w->deadline_ms;
  pthread_mutex_lock(&w->mu);
  e->next = w->head;
  if (w->head) w->head->prev = e;
  w->head = e;
  pthread_mutex_unlock(&w->mu);
  return e;
}

void srv_conn_watch_headers_done(srv_conn_watch *w, srv_conn_entry *e) {
  if (!e) return;
  pthread_mutex_lock(&w->mu);
  e->waiting = 0;
  pthread_mutex_unlock(&w->mu);
}

static void arm(srv_conn_watch *w, srv_conn_entry *e, int64_t deadline_ms) {
  if (!e) return;
  pthread_mutex_lock(&w->mu);
  e->waiting = 1;
  e->since_ms = now_ms();
  e->deadline_ms = deadline_ms;
  pthread_mutex_unlock(&w->mu);
}

void srv_conn_watch_idle(srv_conn_watch *w, srv_conn_entry *e) { arm(w, e, w->deadline_ms); }

void srv_conn_watch_body(srv_conn_watch *w, srv_conn_entry *e, size_t bytes) {
  arm(w, e, w->deadline_ms + (int64_t)(bytes / SRV_CONN_MIN_BODY_RATE) * 1000);
}

void srv_conn_watch_closed(srv_conn_watch *w, srv_conn_entry *e) {
  if (!e) return;
  pthread_mutex_lock(&w->mu);
  if (e->prev) e->prev->next = e->next;
  else w->head = e->next;
  if (e->next) e->next->prev = e->prev;
  pthread_mutex_unlock(&w->mu);
  free(e);
}
