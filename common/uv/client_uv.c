/* libuv hooks for the non-blocking client: libcurl says which sockets to watch and when to wake it. */
#include "hud/client_uv.h"

#include <stdlib.h>

#include "hud/err.h"

typedef struct sock_watch {
  uv_poll_t poll;
  int fd;
  hud_client_uv *d;
  struct sock_watch *next;
} sock_watch;

struct hud_client_uv {
  uv_loop_t *loop;
  hud_client *client;
  uv_timer_t timer;
  sock_watch *socks;
  uint64_t max_call_ns;
  size_t calls;
};

static void track(hud_client_uv *d, uint64_t t0) {
  uint64_t dt = uv_hrtime() - t0;
  if (dt > d->max_call_ns) d->max_call_ns = dt;
  d->calls++;
}

static void on_poll(uv_poll_t *p, int status, int events) {
  sock_watch *w = p->data;
  hud_client_uv *d = w->d;
  int ev = 0;
  if (status >= 0) {
    if (events & UV_READABLE) ev |= HUD_POLL_IN;
    if (events & UV_WRITABLE) ev |= HUD_POLL_OUT;
  }
  if (!d->client) return;
  uint64_t t0 = uv_hrtime();
  hud_client_on_socket(d->client, w->fd, ev);
  track(d, t0);
}

static void on_close_free(uv_handle_t *h) { free(h->data); }

static void watch_close(sock_watch *w) {
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, on_close_free);
}

static void watch_socket(void *ud, int fd, int events) {
  hud_client_uv *d = ud;
  sock_watch **pp = &d->socks;
  while (*pp && (*pp)->fd != fd) pp = &(*pp)->next;
  if (events == 0) {
    if (*pp) {
      sock_watch *w = *pp;
      *pp = w->next;
      watch_close(w);
    }
    return;
  }
  sock_watch *w = *pp;
  if (!w) {
    w = calloc(1, sizeof *w);
    if (!w) return; /* the transfer then ends at its time limit */
    if (uv_poll_init_socket(d->loop, &w->poll, fd) != 0) {
      free(w);
      return;
    }
    w->fd = fd;
    w->d = d;
    w->poll.data = w;
    w->next = d->socks;
    d->socks = w;
  }
  int uvev = (events & HUD_POLL_IN ? UV_READABLE : 0) | (events & HUD_POLL_OUT ? UV_WRITABLE : 0);
  uv_poll_start(&w->poll, uvev, on_poll);
}

static void on_timer(uv_timer_t *t) {
  hud_client_uv *d = t->data;
  if (!d->client) return;
  uint64_t t0 = uv_hrtime();
  hud_client_on_timeout(d->client);
  track(d, t0);
}

static void set_timer(void *ud, long ms) {
  hud_client_uv *d = ud;
  if (ms < 0) uv_timer_stop(&d->timer);
  else uv_timer_start(&d->timer, on_timer, (uint64_t)ms, 0);
}

int hud_client_uv_new(uv_loop_t *loop, hud_client *c, hud_client_uv **out) {
  if (!loop || !out) return HUD_EINVAL;
  hud_client_uv *d = calloc(1, sizeof *d);
  if (!d) return HUD_ENOMEM;
  d->loop = loop;
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  int rc = hud_client_uv_attach(d, c);
  if (rc < 0) {
    d->timer.data = d;
    uv_close((uv_handle_t *)&d->timer, on_close_free);
    return rc;
  }
  *out = d;
  return 0;
}

int hud_client_uv_attach(hud_client_uv *d, hud_client *c) {
  if (!d) return HUD_EINVAL;
  d->client = c;
  if (!c) return 0;
  hud_client_loop hooks = {.watch_socket = watch_socket, .set_timer = set_timer, .loop_ud = d};
  return hud_client_attach_loop(c, &hooks);
}

void hud_client_uv_free(hud_client_uv *d) {
  if (!d) return;
  for (sock_watch *w = d->socks, *n; w; w = n) {
    n = w->next;
    watch_close(w);
  }
  d->socks = NULL;
  d->client = NULL;
  uv_timer_stop(&d->timer);
  /* The timer is embedded in D: its close callback frees D. */
  d->timer.data = d;
  uv_close((uv_handle_t *)&d->timer, on_close_free);
}

void hud_client_uv_stats(const hud_client_uv *d, uint64_t *max_call_ns, size_t *calls) {
  if (max_call_ns) *max_call_ns = d ? d->max_call_ns : 0;
  if (calls) *calls = d ? d->calls : 0;
}
