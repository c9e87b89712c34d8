/* The fetch worker: blocking API calls run on one background thread so that keys and redraws never wait
 * for the backend; the main loop polls for the finished result and swaps it in. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hud/err.h"
#include "tui.h"

#define N_SIDE 3

struct tui_worker {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  hud_client *c;
  bool quit, busy, has_job, has_res;
  int wake[2]; /* a byte per finished result: the main loop sleeps on it and on the keyboard */
  int job_view;
  tui_query job;
  tui_result res;
  /* Side jobs with slots of their own, never dropped by a view's job: [0] the services list, [1] the
   * selected row's series (the sparkline pane), [2] an issue's status change. */
  bool has_side_job[N_SIDE], has_side_res[N_SIDE];
  tui_query side_job[N_SIDE];
  tui_result side_res[N_SIDE];
};

static int side_of(int view) { return view == TUI_JOB_SERVICES ? 0 : view == TUI_JOB_SPARK ? 1 : 2; }
static int job_of(int side) { return side == 0 ? TUI_JOB_SERVICES : side == 1 ? TUI_JOB_SPARK : TUI_JOB_ISSUE; }

static int set_issue_status(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  hud_issue *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  hud_issue_status_request req = {.status = q->issue_status};
  tui_scope(q, &req.scope);
  snprintf(req.issue_id, sizeof req.issue_id, "%s", q->issue_id);
  return hud_api_issue_status(c, &req, arena, r, err);
}

static int fetch_services(hud_client *c, const tui_query *q, hud_arena *arena, void **resp, hud_api_error *err) {
  (void)q;
  hud_services_response *r = hud_arena_alloc(arena, sizeof *r);
  if (!r) return HUD_ENOMEM;
  *resp = r;
  hud_services_request req = {.service = NULL};
  return hud_api_services(c, &req, arena, r, err);
}

static void run_job(tui_worker *w, int view, tui_query *q, tui_result *r) {
  memset(r, 0, sizeof *r);
  r->view = view;
  r->gen = q->gen;
  snprintf(r->function_id, sizeof r->function_id, "%s", q->function_id);
  r->rc = view == TUI_JOB_SERVICES ? 0 : tui_resolve_service(w->c, q, &r->err);
  snprintf(r->service, sizeof r->service, "%s", q->service);
  if (r->rc) return;
  r->data.arena = hud_arena_new();
  if (!r->data.arena) {
    r->rc = r->err.code = HUD_ENOMEM;
    return;
  }
  const char *vname = view == TUI_JOB_SERVICES ? "services"
                      : view == TUI_JOB_SPARK  ? "spark"
                      : view == TUI_JOB_ISSUE  ? "issue-status"
                                               : tui_views[view]->name;
  tui_timing_mark("fetch-start", "%s", vname);
  int (*fetch)(hud_client *, const tui_query *, hud_arena *, void **, hud_api_error *) =
      view == TUI_JOB_SERVICES ? fetch_services
      : view == TUI_JOB_SPARK  ? tui_view_detail.fetch
      : view == TUI_JOB_ISSUE  ? set_issue_status
                               : tui_views[view]->fetch;
  r->rc = fetch(w->c, q, r->data.arena, &r->data.resp, &r->err);
  r->data.fetched_ms = tui_now_ms();
  tui_timing_mark("fetch-done", "%s rc=%d", vname, r->rc);
  if (r->rc) {
    hud_arena_free(r->data.arena);
    r->data.arena = NULL;
    r->data.resp = NULL;
  }
}

static void *main_fn(void *arg) {
  tui_worker *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->quit && !w->has_job && !w->has_side_job[0] && !w->has_side_job[1] && !w->has_side_job[2])
      pthread_cond_wait(&w->cv, &w->mu);
    if (w->quit) break;
    /* A status change first (a person waits for it), then the view's job, the services list, the pane. */
    int side = w->has_side_job[2] ? 2 : w->has_job ? -1 : w->has_side_job[0] ? 0 : 1;
    int view = side < 0 ? w->job_view : job_of(side);
    tui_query q = side < 0 ? w->job : w->side_job[side];
    if (side >= 0) w->has_side_job[side] = false;
    else w->has_job = false;
    w->busy = true;
    pthread_mutex_unlock(&w->mu);
    tui_result r;
    run_job(w, view, &q, &r);
    pthread_mutex_lock(&w->mu);
    w->busy = false;
    bool *has = side >= 0 ? &w->has_side_res[side] : &w->has_res;
    tui_result *slot = side >= 0 ? &w->side_res[side] : &w->res;
    if (*has) hud_arena_free(slot->data.arena); /* never taken: superseded */
    *slot = r;
    *has = true;
    ssize_t n = write(w->wake[1], "", 1);
    (void)n; /* full pipe: a wake-up is already pending */
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int tui_worker_new(tui_worker **out, hud_client *c) {
  tui_worker *w = calloc(1, sizeof *w);
  if (!w) return HUD_ENOMEM;
  w->c = c;
  if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
    free(w);
    return HUD_ENOMEM;
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  /* Signals belong to the main loop, which restores the terminal. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_create(&w->th, NULL, main_fn, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    close(w->wake[0]);
    close(w->wake[1]);
    free(w);
    return HUD_ENOMEM;
  }
  *out = w;
  return 0;
}

int tui_worker_submit(tui_worker *w, int view, const tui_query *q) {
  pthread_mutex_lock(&w->mu);
  int dropped = w->has_job && w->job_view != view ? w->job_view : -1;
  w->job_view = view;
  w->job = *q;
  w->has_job = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return dropped;
}

int tui_worker_fd(const tui_worker *w) { return w->wake[0]; }

bool tui_worker_poll(tui_worker *w, tui_result *out) {
  char drain[64];
  while (read(w->wake[0], drain, sizeof drain) > 0) continue;
  pthread_mutex_lock(&w->mu);
  bool got = w->has_res;
  if (got) {
    *out = w->res;
    w->has_res = false;
  }
  pthread_mutex_unlock(&w->mu);
  return got;
}

void tui_worker_submit_side(tui_worker *w, int kind, const tui_query *q) {
  pthread_mutex_lock(&w->mu);
  w->side_job[side_of(kind)] = *q;
  w->has_side_job[side_of(kind)] = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

bool tui_worker_poll_side(tui_worker *w, int kind, tui_result *out) {
  pthread_mutex_lock(&w->mu);
  int k = side_of(kind);
  bool got = w->has_side_res[k];
  if (got) {
    *out = w->side_res[k];
    w->has_side_res[k] = false;
  }
  pthread_mutex_unlock(&w->mu);
  return got;
}

bool tui_worker_busy(tui_worker *w) {
  pthread_mutex_lock(&w->mu);
  bool b = w->busy || w->has_job || w->has_side_job[0] || w->has_side_job[1] || w->has_side_job[2];
  pthread_mutex_unlock(&w->mu);
  return b;
}

bool tui_worker_free(tui_worker *w) {
  if (!w) return true;
  pthread_mutex_lock(&w->mu);
  w->quit = true;
  bool busy = w->busy;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (busy) return false;
  pthread_join(w->th, NULL);
  if (w->has_res) hud_arena_free(w->res.data.arena);
  for (int k = 0; k < N_SIDE; k++)
    if (w->has_side_res[k]) hud_arena_free(w->side_res[k].data.arena);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  close(w->wake[0]);
  close(w->wake[1]);
  free(w);
  return true;
}
