/* The non-blocking client driven by a real libuv loop against the loopback fixture.
 * The adapter is the library's (hud/client_uv.h), the one hud-lsp runs on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "client_support.h"
#include "httpd_fixture.h"
#include "hud/client.h"
#include "hud/client_uv.h"
#include "hud/err.h"

/* ---- fixture ---- */

typedef struct fx {
  httpd *h;
  hud_config *cfg;
  hud_client *c;
  uv_loop_t loop;
  hud_client_uv *d;
  uv_timer_t guard, ticker;
  uint64_t last_tick, max_gap_ns;
  size_t ticks;
  size_t done, want;
} fx;

typedef struct outcome {
  fx *f;
  int err;
  long status;
  char *body;
  char *message;
  uint64_t at_ns; /* completion time since start */
  int calls;
} outcome;

static uint64_t t_start;

static void on_guard(uv_timer_t *t) {
  fx *f = t->data;
  fprintf(stderr, "guard expired: %zu of %zu requests done\n", f->done, f->want);
  uv_stop(&f->loop);
}

static void on_tick(uv_timer_t *t) {
  fx *f = t->data;
  uint64_t now = uv_hrtime();
  if (f->last_tick && now - f->last_tick > f->max_gap_ns) f->max_gap_ns = now - f->last_tick;
  f->last_tick = now;
  f->ticks++;
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->h = httpd_start();
  if (!f->h) return -1;
  f->cfg = test_config(httpd_url(f->h), "k-async");
  if (!f->cfg || hud_client_new(&f->c, f->cfg, NULL, 0) != 0) return -1;
  uv_loop_init(&f->loop);
  if (hud_client_uv_new(&f->loop, f->c, &f->d) != 0) return -1;
  uv_timer_init(&f->loop, &f->guard);
  f->guard.data = f;
  uv_timer_init(&f->loop, &f->ticker);
  f->ticker.data = f;
  t_start = uv_hrtime();
  *state = f;
  return 0;
}

static void close_walk(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

static int teardown(void **state) {
  fx *f = *state;
  hud_client_free(f->c); /* cancels what is left; curl removes its sockets through the hooks */
  hud_client_uv_free(f->d);
  uv_walk(&f->loop, close_walk, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&f->loop);
  hud_config_free(f->cfg);
  httpd_stop(f->h);
  free(f);
  return rc == 0 ? 0 : -1;
}

static void on_done(hud_client *c, unsigned long id, hud_result *res, void *ud) {
  outcome *o = ud;
  o->err = res->err;
  o->status = res->status;
  o->body = res->body; /* taken */
  res->body = NULL;
  o->message = res->message ? strdup(res->message) : NULL;
  o->at_ns = uv_hrtime() - t_start;
  o->calls++;
  fx *f = o->f;
  if (++f->done == f->want) uv_stop(&f->loop);
}

static void outcome_free(outcome *o) {
  free(o->body);
  free(o->message);
}

/* Runs the loop until F->want callbacks ran, or fails after GUARD_MS. */
static void run(fx *f, size_t want, int guard_ms) {
  f->want = want;
  uv_timer_start(&f->guard, on_guard, (uint64_t)guard_ms, 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&f->guard);
  assert_int_equal(f->done, want);
}

static void slow_request_does_not_block_the_loop(void **state) {
  fx *f = *state;
  httpd_response slow = {.status = 200, .body = "{\"slow\":true}", .delay_ms = 1500};
  httpd_route(f->h, "GET", "/slow", &slow);
  httpd_route_simple(f->h, "GET", "/fast", 200, "{\"fast\":true}");
  httpd_route_simple(f->h, "POST", "/v1/ingest", 202, "{\"ok\":1}");
  uv_timer_start(&f->ticker, on_tick, 10, 10);

  outcome o[3] = {{.f = f}, {.f = f}, {.f = f}};
  hud_request slow_req = {.path = "/slow"};
  hud_param p[] = {{"n", "1"}};
  hud_request fast_req = {.path = "/fast", .params = p, .n_params = 1};
  const char *json = "{\"functions\":[{\"id\":\"x\"}],\"pad\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
  hud_request post_req = {.path = "/v1/ingest", .body = json, .body_len = strlen(json), .gzip = true};
  unsigned long ids[3];
  uint64_t t0 = uv_hrtime();
  assert_int_equal(hud_client_start(f->c, &slow_req, on_done, &o[0], &ids[0]), 0);
  assert_int_equal(hud_client_start(f->c, &fast_req, on_done, &o[1], &ids[1]), 0);
  assert_int_equal(hud_client_start(f->c, &post_req, on_done, &o[2], &ids[2]), 0);
  uint64_t start_ns = uv_hrtime() - t0;
  assert_true(ids[0] && ids[1] && ids[2] && ids[0] != ids[1]);
  assert_int_equal(hud_client_pending(f->c), 3);
  assert_int_equal(f->done, 0); /* no callback from inside start */

  run(f, 3, 10000);
  uv_timer_stop(&f->ticker);
  uint64_t max_call_ns;
  size_t calls;
  hud_client_uv_stats(f->d, &max_call_ns, &calls);
  print_message("fast at %.1f ms, post at %.1f ms, slow at %.1f ms; longest client call %.2f ms over %zu calls, "
                "starting 3 requests %.2f ms; longest loop gap %.1f ms over %zu ticks\n",
                o[1].at_ns / 1e6, o[2].at_ns / 1e6, o[0].at_ns / 1e6, max_call_ns / 1e6, calls,
                start_ns / 1e6, f->max_gap_ns / 1e6, f->ticks);
  assert_int_equal(o[1].err, 0);
  assert_string_equal(o[1].body, "{\"fast\":true}");
  assert_int_equal(o[2].err, 0);
  assert_int_equal(o[2].status, 202);
  assert_int_equal(o[0].err, 0);
  assert_string_equal(o[0].body, "{\"slow\":true}");
  /* The fast requests finish while the slow one is still waiting. */
  assert_true(o[1].at_ns < 700 * 1000000ull);
  assert_true(o[2].at_ns < 700 * 1000000ull);
  assert_true(o[0].at_ns >= 1400 * 1000000ull);
  /* The loop kept turning: no client call took long, and the 10 ms ticker kept ticking. */
  assert_true(max_call_ns < 100 * 1000000ull);
  assert_true(start_ns < 100 * 1000000ull);
  assert_true(f->ticks >= 50);
  assert_true(f->max_gap_ns < 250 * 1000000ull);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(o[i].calls, 1);
    outcome_free(&o[i]);
  }
  assert_int_equal(hud_client_pending(f->c), 0);

  /* The fixture got the gzip body intact, with the key. */
  const httpd_request *r = NULL;
  for (size_t i = 0; i < httpd_request_count(f->h); i++)
    if (strcmp(httpd_request_at(f->h, i)->method, "POST") == 0) r = httpd_request_at(f->h, i);
  assert_non_null(r);
  assert_string_equal(httpd_request_header(r, "Content-Encoding"), "gzip");
  assert_string_equal((const char *)r->decoded, json);
  assert_string_equal(httpd_request_header(r, "Authorization"), "Bearer k-async");
}

static void errors_arrive_through_the_callback(void **state) {
  fx *f = *state;
  hud_config_set(f->cfg, "timeout_ms", "300", HUD_CFG_SRC_FLAG);
  hud_client *c2;
  assert_int_equal(hud_client_new(&c2, f->cfg, NULL, 0), 0);
  /* Swap in the client with the short time limit. */
  hud_client_free(f->c);
  f->c = c2;
  assert_int_equal(hud_client_uv_attach(f->d, f->c), 0);

  httpd_response slow = {.status = 200, .body = "{}", .delay_ms = 10000};
  httpd_route(f->h, "GET", "/slow", &slow);
  httpd_route_simple(f->h, "GET", "/auth", 401, "{\"error\":{\"code\":\"bad_key\",\"message\":\"unknown key\"}}");
  httpd_route_simple(f->h, "GET", "/boom", 500, "{\"error\":{\"code\":\"internal\",\"message\":\"kaboom\"}}");
  outcome o[3] = {{.f = f}, {.f = f}, {.f = f}};
  hud_request r0 = {.path = "/slow"}, r1 = {.path = "/auth"}, r2 = {.path = "/boom"};
  assert_int_equal(hud_client_start(f->c, &r0, on_done, &o[0], NULL), 0);
  assert_int_equal(hud_client_start(f->c, &r1, on_done, &o[1], NULL), 0);
  assert_int_equal(hud_client_start(f->c, &r2, on_done, &o[2], NULL), 0);
  run(f, 3, 5000);
  assert_int_equal(o[0].err, HUD_ETIMEOUT);
  assert_true(o[0].at_ns >= 280 * 1000000ull && o[0].at_ns < 1500 * 1000000ull);
  assert_int_equal(o[1].err, HUD_EAUTH);
  assert_string_equal(o[1].message, "unknown key");
  assert_int_equal(o[1].status, 401);
  assert_int_equal(o[2].err, HUD_ESERVER);
  assert_string_equal(o[2].message, "kaboom");
  for (int i = 0; i < 3; i++) outcome_free(&o[i]);
}

static void refused_through_the_loop(void **state) {
  fx *f = *state;
  int port = 0;
  int fd = refusing_port(&port);
  assert_true(fd >= 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  hud_config_set(f->cfg, "url", url, HUD_CFG_SRC_FLAG);
  hud_client *c2;
  assert_int_equal(hud_client_new(&c2, f->cfg, NULL, 0), 0);
  hud_client_free(f->c);
  f->c = c2;
  assert_int_equal(hud_client_uv_attach(f->d, f->c), 0);
  outcome o = {.f = f};
  hud_request r = {.path = "/v1/services"};
  assert_int_equal(hud_client_start(f->c, &r, on_done, &o, NULL), 0);
  run(f, 1, 5000);
  assert_int_equal(o.err, HUD_ECONNECT);
  assert_true(o.at_ns < 1000 * 1000000ull);
  assert_non_null(strstr(o.message, url));
  outcome_free(&o);
  close(fd);
}

typedef struct canceller {
  fx *f;
  unsigned long id;
  int rc;
} canceller;

static void on_cancel_timer(uv_timer_t *t) {
  canceller *k = t->data;
  k->rc = hud_client_cancel(k->f->c, k->id);
}

static void cancel_and_free_with_pending(void **state) {
  fx *f = *state;
  httpd_response slow = {.status = 200, .body = "{}", .delay_ms = 10000};
  httpd_route(f->h, "GET", "/slow", &slow);
  outcome o = {.f = f}, o2 = {.f = f};
  hud_request r = {.path = "/slow"};
  canceller k = {.f = f};
  assert_int_equal(hud_client_start(f->c, &r, on_done, &o, &k.id), 0);
  uv_timer_t t;
  uv_timer_init(&f->loop, &t);
  t.data = &k;
  uv_timer_start(&t, on_cancel_timer, 100, 0);
  run(f, 1, 5000);
  assert_int_equal(k.rc, 0);
  assert_int_equal(o.err, HUD_ECANCELED);
  assert_true(o.at_ns >= 90 * 1000000ull && o.at_ns < 1000 * 1000000ull);
  assert_int_equal(o.calls, 1);
  assert_int_equal(hud_client_cancel(f->c, k.id), HUD_ENOTFOUND);
  outcome_free(&o);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&f->loop, UV_RUN_NOWAIT); /* T lives on this stack frame: finish closing it here */

  /* Freeing the client with a request in flight ends it with HUD_ECANCELED, once. */
  assert_int_equal(hud_client_start(f->c, &r, on_done, &o2, NULL), 0);
  assert_int_equal(httpd_wait_requests(f->h, 2, 0), 1); /* not sent yet: the loop has not run */
  f->want = 100;
  uv_run(&f->loop, UV_RUN_NOWAIT);
  hud_client_free(f->c);
  f->c = NULL;
  hud_client_uv_attach(f->d, NULL);
  assert_int_equal(o2.err, HUD_ECANCELED);
  assert_int_equal(o2.calls, 1);
  outcome_free(&o2);
}

typedef struct chain {
  fx *f;
  int left;
  int errs;
} chain;

/* Each completion starts the next request from inside the callback. */
static void on_chain(hud_client *c, unsigned long id, hud_result *res, void *ud) {
  chain *ch = ud;
  if (res->err != 0) ch->errs++;
  if (--ch->left > 0) {
    hud_request r = {.path = "/n"};
    assert_int_equal(hud_client_start(c, &r, on_chain, ch, NULL), 0);
  } else {
    uv_stop(&ch->f->loop);
  }
}

static void callbacks_may_start_requests(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "GET", "/n", 200, "{}");
  chain ch = {.f = f, .left = 25};
  hud_request r = {.path = "/n"};
  assert_int_equal(hud_client_start(f->c, &r, on_chain, &ch, NULL), 0);
  uv_timer_start(&f->guard, on_guard, 10000, 0);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&f->guard);
  assert_int_equal(ch.left, 0);
  assert_int_equal(ch.errs, 0);
  assert_int_equal(httpd_request_count(f->h), 25);
}

static void start_without_loop_is_einval(void **state) {
  hud_config *cfg = test_config("http://127.0.0.1:1", NULL);
  hud_client *c;
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  hud_request r = {.path = "/"};
  unsigned long id = 7;
  assert_int_equal(hud_client_start(c, &r, on_done, NULL, &id), HUD_EINVAL);
  assert_int_equal(id, 0);
  hud_client_free(c);
  hud_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(slow_request_does_not_block_the_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(errors_arrive_through_the_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(refused_through_the_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(cancel_and_free_with_pending, setup, teardown),
      cmocka_unit_test_setup_teardown(callbacks_may_start_requests, setup, teardown),
      cmocka_unit_test(start_without_loop_is_einval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
