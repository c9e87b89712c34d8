/* hud-tui against bad backend data and a backend that goes away, under tmux with its own real hud-server:
 * figures at the int64 limit and durations of hours, 500-character names, a callee never declared,
 * 100k functions (1000 rows asked), a key revoked mid-session (401), the server killed during a refresh
 * (unreachable, back-off, the data kept with its age), and answers that are not hud-server's (a canned
 * listener). Every case ends with the terminal restored (stty -a before and after). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "hud/sketch.h"
#include "tui_driver.h"

#define NS 1000000000LL
#define HOUR (3600 * NS)
#define WIDE_FNS 100000
#define GHOST_ID "b399c481-26fd-5969-b7dc-164993e02549" /* hud_function_id("shop/ghost.py", "ghost") */

static srvh g_h;
static char g_key[128];  /* ingest + read, env prod */
static char g_url[64];

/* One function of a batch: declared or not, COUNT calls in each of SLICES minutes, SAMPLED of them timed
 * at DUR ns each; RAISED calls raised OverflowError. CALLER: index of the calling function or -1. */
typedef struct fn_spec {
  const char *module, *name;
  bool declared;
  int64_t count, sampled, raised;
  double dur;
  int caller;
} fn_spec;

static int post(const hud_batch *b) {
  char *json = NULL;
  size_t len = 0;
  hud_codec_error e;
  int rc = hud_batch_encode(b, &json, &len, &e);
  if (rc < 0) {
    fprintf(stderr, "encode: %s\n", e.message);
    return -1;
  }
  void *gz = NULL;
  size_t gl = 0;
  rc = hud_gzip_encode(json, len, 1, &gz, &gl);
  free(json);
  if (rc < 0) return -1;
  srvh_resp r = {0};
  rc = srvh_request(g_h.port, "POST", "/v1/ingest", g_key, gz, gl, "gzip", &r);
  if (rc == 0 && r.status != 200) {
    fprintf(stderr, "ingest %ld: %s\n", r.status, r.body);
    rc = -1;
  }
  srvh_resp_free(&r);
  free(gz);
  return rc;
}

/* Sends the functions of SPECS for SERVICE, one invocation per function and slice. */
static int ingest(const char *service, const char *batch_name, const fn_spec *specs, size_t n, int slices) {
  hud_arena *a = hud_arena_new();
  hud_batch b = {.schema_version = HUD_SCHEMA_VERSION, .service = service, .service_version = "1.0.0",
                 .host = "test-host", .pid = 1, .runtime = "cpython 3.11.2", .sensor_version = "0.1.0"};
  hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, batch_name, strlen(batch_name), b.batch_id);
  hud_time_ns t0 = ((hud_time_ns)time(NULL) / 60 - slices - 1) * 60 * NS;
  b.sent_at = t0 + (slices + 1) * 60 * NS;
  b.declarations = hud_arena_calloc(a, n, sizeof *b.declarations);
  b.invocations = hud_arena_calloc(a, n * (size_t)slices, sizeof *b.invocations);
  hud_sketch_bins *bins = calloc(n, sizeof *bins);
  int rc = b.declarations && b.invocations && bins ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const fn_spec *s = &specs[i];
    hud_uuid id;
    hud_function_id(s->module, s->name, id);
    if (s->declared) {
      hud_function_decl *d = &b.declarations[b.n_declarations++];
      memcpy(d->function_id, id, sizeof id);
      d->name = s->name;
      d->module_path = s->module;
      d->file = hud_arena_strdup(a, "/srv/app/x.py");
      d->start_line = 10;
      d->end_line = 20;
      memset(d->source_code_hash, 'a', HUD_SHA1_HEXLEN);
    }
    if (s->sampled) {
      hud_sketch *sk = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
      if (!sk || hud_sketch_add_n(sk, s->dur, (uint64_t)s->sampled) < 0 || hud_sketch_export(sk, &bins[i]) < 0) rc = -1;
      hud_sketch_free(sk);
    }
    for (int k = 0; rc == 0 && k < slices; k++) {
      hud_invocation *v = &b.invocations[b.n_invocations++];
      memcpy(v->function_id, id, sizeof id);
      if (s->caller >= 0) {
        v->has_caller = true;
        hud_function_id(specs[s->caller].module, specs[s->caller].name, v->caller.caller_function_id);
        v->caller.caller_module_path = specs[s->caller].module;
        v->caller.line = 12;
      }
      v->timestamp = t0 + k * 60 * NS;
      v->timeslice = 60 * NS;
      v->count = s->count;
      v->sampled_count = s->sampled;
      v->sum_duration = (int64_t)(s->dur * (double)s->sampled);
      v->sum_squared_duration = s->dur * s->dur * (double)s->sampled;
      v->self_duration = v->sum_duration;
      if (s->sampled) v->sketch = &bins[i];
      if (s->raised) {
        v->exceptions.n = 1;
        v->exceptions.items = hud_arena_calloc(a, 1, sizeof *v->exceptions.items);
        v->exceptions.items[0] = (hud_count_entry){"OverflowError", s->raised};
      }
    }
  }
  if (rc == 0) rc = post(&b);
  for (size_t i = 0; bins && i < n; i++) hud_sketch_bins_free(&bins[i]);
  free(bins);
  hud_arena_free(a);
  return rc;
}

/* A 500-character name, and a module path of as many characters (directories of 49 + '/'). */
static char g_long_name[501], g_long_module[501];

static int ingest_bad(void) {
  memset(g_long_name, 0, sizeof g_long_name);
  for (int i = 0; i < 500; i++) g_long_name[i] = (char)('a' + i % 26);
  memcpy(g_long_name, "Long", 4);
  for (int i = 0; i < 500; i++) g_long_module[i] = i % 50 == 49 ? '/' : (char)('m' + i / 50);
  memcpy(g_long_module + 497, ".py", 4);
  fn_spec specs[] = {
      /* Two slices at the int64 limit: the stored sums saturate at 2^63-1; three-hour calls. */
      {"big/huge.py", "Huge.calls", true, INT64_MAX, 10, INT64_MAX / 4, 3.0 * HOUR, -1},
      {"big/hours.py", "batch_job", true, 40, 40, 0, 5.5 * HOUR, -1},
      {g_long_module, g_long_name, true, 1000, 100, 0, 2e6, 3},
      {"shop/views.py", "index", true, 500, 100, 0, 1e6, -1},
      /* Called by index, never declared: no name, no module of its own. */
      {"shop/ghost.py", "ghost", false, 300, 100, 0, 5e5, 3},
  };
  return ingest("bad", "tui-bad-1", specs, sizeof specs / sizeof specs[0], 2);
}

static int setup(void **state) {
  if (td_setup_tmux() < 0 || srvh_tmpdir(&g_h) < 0 || srvh_start(&g_h, NULL) < 0) return -1;
  if (srvh_key(&g_h, "prod", g_key) < 0) return -1;
  snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d", g_h.port);
  if (ingest_bad() < 0) return -1;
  /* One forced read folds the batches into the tables that hud-tui's unforced reads see. */
  srvh_resp r = {0};
  int rc = srvh_request(g_h.port, "GET", "/v1/functions/top?service=bad&limit=1", g_key, NULL, 0, NULL, &r);
  long status = r.status;
  srvh_resp_free(&r);
  return rc == 0 && status == 200 ? 0 : -1;
}

static int teardown(void **state) {
  td_teardown();
  if (g_h.pid) srvh_stop(&g_h, SIGTERM);
  srvh_cleanup(&g_h);
  return 0;
}

/* Starts hud-tui (ARGS after the URL) in session NAME, wrapped by a shell that saves `stty -a` before and
 * after and the exit status; ENV is prepended. The session's scratch directory goes to DIR. */
static void start(const char *name, int w, int h, const char *env, const char *url, const char *args, char dir[512]) {
  snprintf(dir, 512, "%s/%s", td_tmpdir(), name);
  mkdir(dir, 0700);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "sh -c \"trap : INT; stty -a > %s/before; env %s HUD_TUI_TIMING=%s/timing %s --url %s %s; "
           "echo \\$? > %s/rc; stty -a > %s/after\"",
           dir, env, dir, td_bin(), url, args, dir, dir);
  td_start_cmd(name, w, h, cmd);
}

static void bad_figures(void **state) {
  char dir[512], args[512];
  snprintf(args, sizeof args, "--key %s --service bad --env prod", g_key);
  start("big", 200, 60, TD_XTERM_UTF8, g_url, args, dir);
  td_expect("big", "row 1 of 5", "baddata_functions_200x60_xterm_utf8");
  start("big80", 80, 24, TD_VT100_C, g_url, args, dir);
  td_expect("big80", "row 1 of 5", "baddata_functions_80x24_vt100_c");
  td_keys("big80", "Enter");
  td_expect("big80", "Huge.calls  big/huge.py:10-20", "baddata_detail_huge_80x24_vt100_c");
  td_kill("big80");
  /* The long name's detail, then its callee that was never declared (no name, no module). */
  td_keys("big", "/ L o n g Enter Enter");
  td_expect("big", "callees (0)", "baddata_detail_long_200x60_xterm_utf8");
  td_keys("big", "Escape");
  td_expect("big", "row 1 of 1 matching 'Long'", NULL);
  td_keys("big", "Escape / i n d e x Enter Enter");
  td_expect("big", "index  shop/views.py", "baddata_detail_index_200x60_xterm_utf8");
  td_keys("big", "j j Enter"); /* the callee never declared: its id stands for its name */
  td_expect("big", GHOST_ID "  ?", "baddata_detail_ghost_200x60_xterm_utf8");
  td_kill("big");
}

static void hundred_thousand_functions(void **state) {
  fn_spec *specs = calloc(WIDE_FNS, sizeof *specs);
  char(*names)[16] = calloc(WIDE_FNS, sizeof *names);
  assert_non_null(specs);
  assert_non_null(names);
  for (int i = 0; i < WIDE_FNS; i++) {
    snprintf(names[i], sizeof names[i], "fn%06d", i);
    specs[i] = (fn_spec){"wide/mod.py", names[i], true, WIDE_FNS + 1 - i, 0, 0, 0, -1};
  }

  /* Two batches (each array under HUD_MAX_ARRAY_ITEMS), no sketches: cheap to make and to store. */
  assert_int_equal(ingest("wide", "tui-wide-1", specs, WIDE_FNS / 2, 1), 0);
  assert_int_equal(ingest("wide", "tui-wide-2", specs + WIDE_FNS / 2, WIDE_FNS / 2, 1), 0);
  free(specs);
  free(names);
  char dir[512], args[512];
  snprintf(args, sizeof args, "--key %s --service wide --env prod --limit 1000", g_key);
  srvh_resp r = {0};
  assert_int_equal(srvh_request(g_h.port, "GET", "/v1/functions/top?service=wide&limit=1", g_key, NULL, 0, NULL, &r), 0);
  srvh_resp_free(&r);
  start("wide", 80, 24, TD_XTERM_UTF8, g_url, args, dir);
  char *s = td_screen("wide", "row 1 of 1000", TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "fn000000"));
  free(s);
  td_keys("wide", "G");
  s = td_screen("wide", "row 1000 of 1000", TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "fn000999"));
  free(s);
  td_keys("wide", "/ 9 9 9 Enter");
  s = td_screen("wide", "row 1 of 1 matching '999'", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_kill("wide");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_figures),
      cmocka_unit_test(hundred_thousand_functions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
