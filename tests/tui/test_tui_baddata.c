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
      /* Wide characters (two columns each), a combining-free accent, an emoji, and control characters. */
      {"shop/jp.py", "\u4fa1\u683c\u8a08\u7b97", true, 40, 10, 0, 1e6, -1},
      {"shop/prix.py", "Prix.calcul\u00e9", true, 39, 10, 0, 1e6, -1},
      {"shop/emoji.py", "f\U0001F600x", true, 38, 10, 0, 1e6, -1},
      {"shop/ctl.py", "tab\there\nnl\x1b[31mred", true, 37, 10, 0, 1e6, -1},
      {"shop/jp.py", "\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97"
                     "\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97\u8a08\u7b97",
       true, 36, 10, 0, 1e6, -1}, /* 64 columns: cut in both widths */
  };
  return ingest("bad", "tui-bad-1", specs, sizeof specs / sizeof specs[0], 2);
}

/* Service "tree": handler calls slow (few calls, most of the time) and chatty (many calls, little time),
 * so that Hot paths by time and by calls disagree. */
static int ingest_tree(void) {
  fn_spec specs[] = {
      {"tree/app.py", "handler", true, 100, 100, 0, 1e8, -1},
      {"tree/app.py", "slow", true, 10, 10, 0, 5e8, 0},
      {"tree/app.py", "chatty", true, 5000, 100, 0, 1e4, 0},
  };
  return ingest("tree", "tui-tree-1", specs, sizeof specs / sizeof specs[0], 2);
}
#define HANDLER_ID_OF(buf) hud_function_id("tree/app.py", "handler", buf)

static int setup(void **state) {
  if (td_setup_tmux() < 0 || srvh_tmpdir(&g_h) < 0 || srvh_start(&g_h, NULL) < 0) return -1;
  if (srvh_key(&g_h, "prod", g_key) < 0) return -1;
  snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d", g_h.port);
  if (ingest_bad() < 0 || ingest_tree() < 0) return -1;
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
           "sh -c \"trap : INT; stty -a > %s/before; env %s XDG_STATE_HOME=%s/state HUD_TUI_TIMING=%s/timing %s --url %s %s; "
           "echo \\$? > %s/rc; stty -a > %s/after\"",
           dir, env, dir, dir, td_bin(), url, args, dir, dir);
  td_start_cmd(name, w, h, cmd);
}

static void bad_figures(void **state) {
  char dir[512], args[512];
  snprintf(args, sizeof args, "--key %s --service bad --env prod", g_key);
  start("big", 200, 60, TD_XTERM_UTF8, g_url, args, dir);
  td_expect("big", "row 1 of 10", "baddata_functions_200x60_xterm_utf8");
  start("big80", 80, 24, TD_VT100_C, g_url, args, dir);
  td_expect("big80", "row 1 of 10", "baddata_functions_80x24_vt100_c");
  td_keys("big80", "Enter");
  td_expect("big80", "Huge.calls  big/huge.py:10-20", "baddata_detail_huge_80x24_vt100_c");
  td_kill("big80");
  /* The long name's detail; index's, whose callees are the long name and a function never declared; that
   * one's detail (no name, no module). */
  td_keys("big", "/ L o n g Enter Enter");
  td_expect("big", "callees (0)", "baddata_detail_long_200x60_xterm_utf8");
  td_keys("big", "Escape");
  td_expect("big", "row 1 of 1 matching 'Long'", NULL);
  td_keys("big", "Escape / i n d e x Enter Enter");
  td_expect("big", "index  shop/views.py", "baddata_detail_index_200x60_xterm_utf8");
  td_keys("big", "j j j Enter"); /* row 1 is index itself; the callee never declared: its id stands for its name */
  td_expect("big", GHOST_ID "  ?", "baddata_detail_ghost_200x60_xterm_utf8");
  td_kill("big");
  /* --once: the same cells; in the C locale what it cannot show is '?', control characters never pass. */
  int st = -1;
  char *out = td_sh_out(&st, "env LC_ALL=C %s --url %s --key %s --service bad --env prod --once --width 80", td_bin(),
                        g_url, g_key);
  assert_int_equal(st, 0);
  assert_non_null(out);
  assert_non_null(strstr(out, "\nPrix.calcul?                0.05  1.00ms"));
  assert_non_null(strstr(out, "\ntab here nl?[31mred         0.05"));
  assert_null(strchr(out, '\033'));
  free(out);
  out = td_sh_out(&st, "env LC_ALL=C.UTF-8 %s --url %s --key %s --service bad --env prod --once --width 80", td_bin(),
                  g_url, g_key);
  assert_non_null(out);
  assert_non_null(strstr(out, "\n\u4fa1\u683c\u8a08\u7b97                    0.06  1.00ms")); /* 8 columns wide */
  free(out);
}

/* Hot paths expands by time, `c` by calls (the head marked moves from total to calls), `c` again by time. */
static void paths_order(void **state) {
  char dir[512], args[512];
  hud_uuid id;
  HANDLER_ID_OF(id);
  snprintf(args, sizeof args, "--key %s --service tree --env prod --view paths --function %s", g_key, id);
  start("tree", 80, 24, TD_VT100_C, g_url, args, dir);
  td_expect("tree", "row 1 of 3", "baddata_paths_by_time_80x24_vt100_c");
  td_keys("tree", "c");
  td_expect("tree", "calls*", "baddata_paths_by_calls_80x24_vt100_c");
  td_keys("tree", "c");
  td_expect("tree", "total*", NULL);
  td_kill("tree");
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

/* The key hud-tui uses is revoked while it runs: the status line says 401, the last data stays. SIGTERM
 * then ends it with the terminal restored. */
static void key_revoked_mid_session(void **state) {
  char key[128], out[4096], dir[512], args[512];
  assert_int_equal(srvh_key_roles(&g_h, "prod", "read", key), 0);
  assert_int_equal(srvh_cli(&g_h, (const char *const[]){"keys", "list", NULL}, out, sizeof out), 0);
  char id[32] = ""; /* the newest key: the last line's first column */
  for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
    if (l[0] >= '0' && l[0] <= '9') sscanf(l, "%31s", id);
  assert_true(id[0]);
  snprintf(args, sizeof args, "--key %s --service bad --env prod --interval 1", key);
  start("revoked", 80, 24, TD_XTERM_UTF8, g_url, args, dir);
  td_expect("revoked", "row 1 of 10", NULL);
  assert_int_equal(srvh_cli(&g_h, (const char *const[]){"keys", "revoke", id, NULL}, NULL, 0), 0);
  char *s = td_screen("revoked", "401 unauthorized", TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "showing the data from"));
  assert_non_null(strstr(s, "Huge.calls                  6.4P   2h59m"));
  assert_true(td_golden("baddata_revoked_80x24_xterm_utf8", s));
  free(s);
  int pid = td_pane_pid("revoked", true);
  assert_true(pid > 0);
  kill(pid, SIGTERM);
  td_assert_restored(dir, 128 + SIGTERM);
  td_kill("revoked");
}

/* Fault injection, not a stand-in for hud-server: a listener on 127.0.0.1 that answers every request
 * with one canned HTTP response, for bodies hud-server never sends (not JSON, wrong shapes, control
 * characters in an error message). */
typedef struct canned {
  int fd, port;
  pthread_t th;
  pthread_mutex_t mu;
  char resp[2048];
} canned;

static void *canned_main(void *arg) {
  canned *c = arg;
  for (;;) {
    int cfd = accept(c->fd, NULL, NULL);
    if (cfd < 0) return NULL;
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) { /* read the request head: GETs have no body */
      ssize_t r = read(cfd, req + got, sizeof req - 1 - got);
      if (r <= 0) break;
      got += (size_t)r;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n")) break;
    }
    pthread_mutex_lock(&c->mu);
    char resp[2048];
    memcpy(resp, c->resp, sizeof resp);
    pthread_mutex_unlock(&c->mu);
    ssize_t w = write(cfd, resp, strlen(resp));
    (void)w;
    close(cfd);
  }
}

static void canned_set(canned *c, int status, const char *body) {
  pthread_mutex_lock(&c->mu);
  snprintf(c->resp, sizeof c->resp,
           "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
           status, strlen(body), body);
  pthread_mutex_unlock(&c->mu);
}

static int canned_start(canned *c) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(c->fd, 16) < 0 ||
      getsockname(c->fd, (struct sockaddr *)&a, &al) < 0)
    return -1;
  c->port = ntohs(a.sin_port);
  pthread_mutex_init(&c->mu, NULL);
  return pthread_create(&c->th, NULL, canned_main, c) == 0 ? 0 : -1;
}

static void canned_stop(canned *c) {
  shutdown(c->fd, SHUT_RDWR); /* accept() returns: the thread ends */
  pthread_join(c->th, NULL);
  close(c->fd);
  pthread_mutex_destroy(&c->mu);
}

/* The error line is the first of the two status lines: one line, no control characters, screen intact. */
static void expect_error_line(const char *name, const char *marker) {
  char *s = td_screen(name, marker, TD_WAIT_MS);
  assert_non_null(s);
  int lines = 0;
  for (const char *p = s; *p; p++) {
    lines += *p == '\n';
    assert_true((unsigned char)*p >= 0x20 || *p == '\n');
  }
  assert_int_equal(lines, 24);
  assert_null(strstr(s, "^["));
  const char *retry = strstr(s, "\nretry in "), *eol = retry ? strchr(retry + 1, '\n') : NULL;
  assert_non_null(eol); /* the second status line is whole: nothing of the message spilled into it */
  assert_true(eol - retry > 12 && strncmp(eol - 11, "no data yet", 11) == 0);
  assert_non_null(strstr(s, "?:help q:quit")); /* the footer is still the last line */
  assert_non_null(strstr(s, " 1 Functions 2 Flows"));
  free(s);
}

static void not_hud_server(void **state) {
  canned c;
  assert_int_equal(canned_start(&c), 0);
  canned_set(&c, 200, "<html><body>502 Bad Gateway</body></html>");
  char url[64], dir[512];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", c.port);
  start("garbage", 80, 24, TD_XTERM_UTF8, url, "--key k --service bad --env prod", dir);
  expect_error_line("garbage", "retry in");
  canned_set(&c, 200, "{\"from\": 12, \"items\": \"not an array\"}");
  td_keys("garbage", "r");
  expect_error_line("garbage", "does not decode");
  canned_set(&c, 500, "{\"error\": {\"code\": \"internal\", \"message\": \"line one\\nline two\\ttab \\u001b[2J\\u001b[31mred\"}}");
  td_keys("garbage", "r");
  expect_error_line("garbage", "line one");
  char *s = td_screen("garbage", "line one", TD_WAIT_MS);
  assert_non_null(s);
  assert_true(td_golden("baddata_control_chars_80x24_xterm_utf8", s));
  free(s);
  int pid = td_pane_pid("garbage", true);
  assert_true(pid > 0);
  kill(pid, SIGHUP);
  td_assert_restored(dir, 128 + SIGHUP);
  td_kill("garbage");
  canned_stop(&c);
}

/* From DIR/timing: the delay between each failed fetch at or after FROM_US and the next fetch (us). */
static size_t retry_delays(const char *dir, long long from_us, long long *out, size_t cap) {
  char path[600], line[256];
  snprintf(path, sizeof path, "%s/timing", dir);
  FILE *f = fopen(path, "r");
  size_t n = 0;
  long long failed = -1;
  while (f && fgets(line, sizeof line, f)) {
    long long t;
    char ev[64], view[64], rc[64] = "";
    if (sscanf(line, "%lld %63s %63s %63s", &t, ev, view, rc) < 2 || t < from_us) continue;
    if (strcmp(ev, "fetch-done") == 0 && strcmp(rc, "rc=0") != 0) failed = t;
    if (strcmp(ev, "fetch-start") == 0 && failed >= 0 && n < cap) {
      out[n++] = t - failed;
      failed = -1;
    }
  }
  if (f) fclose(f);
  return n;
}

static long long mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* q while a refresh waits for a stopped server: hud-tui ends at once (the fetch thread is left to the exit)
 * with the terminal restored. */
static void quit_while_request_hangs(void **state) {
  char dir[512], args[512];
  snprintf(args, sizeof args, "--key %s --service bad --env prod --timeout-ms 8000", g_key);
  start("hangq", 80, 24, TD_XTERM_UTF8, g_url, args, dir);
  td_expect("hangq", "row 1 of 10", NULL);
  kill(g_h.pid, SIGSTOP);
  td_keys("hangq", "r");
  char *s = td_screen_now("hangq", "loading...", 5000);
  assert_non_null(s);
  free(s);
  long long t0 = mono_us();
  td_keys("hangq", "q");
  td_assert_restored(dir, 0);
  long long ms = (mono_us() - t0) / 1000;
  kill(g_h.pid, SIGCONT);
  fprintf(stderr, "quit with a hanging request: restored after %lld ms\n", ms);
  assert_true(ms < 4000); /* the request itself would hang for 8 s */
  td_kill("hangq");
}

/* The server dies while a refresh waits for it (last: it ends the shared server): the status line says
 * unreachable, retries back off (1 s, then 2 s), the data stays with its age; q restores the terminal. */
static void backend_killed_mid_refresh(void **state) {
  char dir[512], args[512], want[128];
  snprintf(args, sizeof args, "--key %s --service bad --env prod --interval 1 --timeout-ms 8000", g_key);
  start("killed", 80, 24, TD_XTERM_UTF8, g_url, args, dir);
  td_expect("killed", "row 1 of 10", NULL);
  kill(g_h.pid, SIGSTOP);
  char *s = td_screen_now("killed", "loading...", 5000); /* a refresh is waiting for the stopped server */
  assert_non_null(s);
  free(s);
  long long killed = mono_us();
  srvh_stop(&g_h, SIGKILL);
  snprintf(want, sizeof want, "backend unreachable at %s", g_url);
  s = td_screen("killed", want, TD_WAIT_MS);
  assert_non_null(s);
  assert_non_null(strstr(s, "showing the data from"));
  assert_non_null(strstr(s, "Huge.calls                  6.4P   2h59m"));
  free(s);
  long long d[4];
  size_t n = 0;
  for (int i = 0; i < 100 && (n = retry_delays(dir, killed, d, 4)) < 2; i++) usleep(100000);
  assert_true(n >= 2);
  fprintf(stderr, "retries after the kill: %.2f s, then %.2f s\n", d[0] / 1e6, d[1] / 1e6);
  assert_true(d[0] >= 900000 && d[0] < 1900000); /* 1 s */
  assert_true(d[1] >= 1900000);                  /* then 2 s */
  td_keys("killed", "q");
  td_assert_restored(dir, 0);
  td_kill("killed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_figures),
      cmocka_unit_test(paths_order),
      cmocka_unit_test(hundred_thousand_functions),
      cmocka_unit_test(key_revoked_mid_session),
      cmocka_unit_test(not_hud_server),
      cmocka_unit_test(quit_while_request_hangs),
      cmocka_unit_test(backend_killed_mid_refresh), /* last: it kills the server */
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
