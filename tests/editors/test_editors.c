/* The editor integrations end to end: Neovim (Debian's 0.7.2, headless) with editors/neovim loaded, and
 * Emacs 28 with eglot, each driving the real hud-lsp against a real hud-server on loopback that holds a
 * small call tree of the service "shop" (figures below). Each editor runs a script of
 * tests/editors/ that writes what it saw to a JSON file, asserted here. One test per CTest entry
 * (EDITORS_TEST=nvim_plugin | nvim_plugin_panels | emacs_eglot); skipped when the editor is missing. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "hud/sketch.h"

#define NS 1000000000LL
#define MS 1000000LL

/* The sample project (PROJECT/app/shop/{cart,views,pricing}.py; billing/tax.py is not in it):
 *   view_cart (shop/views.py)    -> checkout (call on line 5)
 *   checkout  (shop/cart.py)     -> apply_discounts (line 6), billing/tax.py:compute_tax (line 7)
 * apply_discounts raised KeyError 12 times; it went through checkout and view_cart caught it. Every
 * function: 6000 calls in the last hour (100/min), 600 sampled, 90% at 0.98 x mean, 10% at 1.18 x. */
static const char cart_py[] = "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\n"
                              "def checkout(cart):\n    total = apply_discounts(cart)\n"
                              "    return total + billing.tax.compute_tax(total)\n";
static const char views_py[] = "from shop.cart import checkout\n\n\ndef view_cart(request):\n"
                               "    try:\n        return checkout(request.cart)\n    except KeyError:\n"
                               "        return None\n";
static const char pricing_py[] = "def apply_discounts(cart):\n    return sum(cart[\"items\"])\n";

typedef struct ed_fn {
  const char *module, *name;
  int caller; /* index in ed_fns, -1: none */
  int line;   /* call site in the caller */
  double mean_ms, self_ms;
  long long errors; /* KeyError escaping it */
  const char *src;  /* its file's text (NULL: not in the project) */
  int start, end;   /* its lines, 1-based */
} ed_fn;

static const ed_fn ed_fns[] = {
    {"shop/views.py", "view_cart", -1, 0, 16, 1, 0, views_py, 4, 8},
    {"shop/cart.py", "checkout", 0, 6, 15, 2, 12, cart_py, 5, 7},
    {"shop/pricing.py", "apply_discounts", 1, 6, 12, 12, 12, pricing_py, 1, 2},
    {"billing/tax.py", "compute_tax", 1, 7, 1, 1, 0, NULL, 1, 2},
};
#define N_FNS (sizeof ed_fns / sizeof ed_fns[0])

typedef struct fixture {
  srvh h;
  char key[128];
  char url[64], project[600], other[600], cfg_home[600];
} fixture;

static fixture *fx;

static json_t *sketch_json(double d1, double d2, long long sampled) {
  hud_sketch *s = hud_sketch_new(0.005);
  hud_sketch_add_n(s, d1, (uint64_t)(sampled - sampled / 10));
  hud_sketch_add_n(s, d2, (uint64_t)(sampled / 10));
  hud_sketch_bins b;
  hud_sketch_export(s, &b);
  json_t *c = json_array();
  for (size_t i = 0; i < b.n; i++) json_array_append_new(c, json_integer((json_int_t)b.counts[i]));
  json_t *out = json_pack("{s:f,s:I,s:I,s:o}", "a", b.alpha, "z", (json_int_t)b.zero_count, "o", (json_int_t)b.offset,
                          "c", c);
  hud_sketch_bins_free(&b);
  hud_sketch_free(s);
  return out;
}

static char *batch_json(void) {
  hud_time_ns now = (hud_time_ns)time(NULL) * NS;
  hud_time_ns slice = now / (60 * NS) * (60 * NS) - 10 * 60 * NS;
  char ts[HUD_TIME_STRLEN + 1], sent[HUD_TIME_STRLEN + 1], ids[N_FNS][HUD_UUID_STRLEN + 1];
  hud_time_format(slice, ts);
  hud_time_format(now, sent);
  for (size_t i = 0; i < N_FNS; i++) hud_function_id(ed_fns[i].module, ed_fns[i].name, ids[i]);
  json_t *decls = json_array(), *invs = json_array();
  for (size_t i = 0; i < N_FNS; i++) {
    const ed_fn *f = &ed_fns[i];
    char file[256], hash[HUD_SHA1_HEXLEN + 1] = "0123456789abcdef0123456789abcdef01234567";
    snprintf(file, sizeof file, "/srv/app/%s", f->module);
    /* The deployed code is the code on screen: lenses without "≠ prod". */
    if (f->src) hud_source_hash(f->src, strlen(f->src), f->start, f->end, hash);
    json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", ids[i], "name",
                                           f->name, "file", file, "module_path", f->module, "start_line", f->start,
                                           "end_line", f->end, "is_async", 0, "source_code_hash", hash));
    long long calls = 6000, sampled = 600, n2 = sampled / 10, n1 = sampled - n2;
    double d1 = f->mean_ms * 0.98 * MS, d2 = f->mean_ms * 1.18 * MS;
    double sum = n1 * d1 + n2 * d2, sq = n1 * d1 * d1 + n2 * d2 * d2;
    json_t *caller = f->caller < 0 ? json_array() : json_pack("[[s,s,i]]", ids[f->caller], ed_fns[f->caller].module,
                                                              f->line);
    json_t *inv = json_pack("{s:s,s:o,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:o}", "function_id", ids[i], "caller_function_id",
                            caller, "timestamp", ts, "timeslice", (json_int_t)(60 * NS), "count", (json_int_t)calls,
                            "sampled_count", (json_int_t)sampled, "sum_duration", (json_int_t)sum,
                            "sum_squared_duration", sq, "self_duration", (json_int_t)(sum * f->self_ms / f->mean_ms),
                            "duration_sketch", sketch_json(d1, d2, sampled));
    if (f->errors) json_object_set_new(inv, "exceptions", json_pack("{s:I}", "KeyError", (json_int_t)f->errors));
    json_array_append_new(invs, inv);
  }
  json_t *flows = json_pack("[{s:s,s:s,s:i,s:[s],s:s,s:s,s:I,s:i}]", "exception_type", "KeyError",
                            "origin_function_id", ids[2], "origin_line", 2, "propagated_through", ids[1],
                            "caught_in_function_id", ids[0], "timestamp", ts, "timeslice", (json_int_t)(60 * NS),
                            "count", 12);
  json_t *b = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o,s:o}", "schema_version", 1, "batch_id",
                        "3c0d2b6e-5f0a-4c1e-9d7a-0e1d2c3b4a51", "service", "shop", "service_version", "1.0.0", "host",
                        "test-host", "pid", 4244, "runtime", "cpython 3.11.2", "sensor_version", "0.1.0", "sent_at",
                        sent, "declarations", decls, "invocations", invs, "exception_flows", flows);
  char *s = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return s;
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[900];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  size_t n = fwrite(text, 1, strlen(text), f);
  return fclose(f) == 0 && n == strlen(text) ? 0 : -1;
}

/* PROJECT/.git (the root the plugin finds), PROJECT/app/shop/{cart,views,pricing}.py, and OTHER/.git + OTHER/x.py (a
 * second root). */
static int project_setup(void) {
  char dir[800];
  snprintf(fx->project, sizeof fx->project, "%s/project", fx->h.dir);
  snprintf(fx->other, sizeof fx->other, "%s/other", fx->h.dir);
  const char *dirs[] = {"project", "project/.git", "project/app", "project/app/shop", "other", "other/.git"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf(dir, sizeof dir, "%s/%s", fx->h.dir, dirs[i]);
    if (mkdir(dir, 0700) < 0) return -1;
  }
  snprintf(dir, sizeof dir, "%s/app/shop", fx->project);
  if (write_file(dir, "cart.py", cart_py) || write_file(dir, "views.py", views_py) ||
      write_file(dir, "pricing.py", pricing_py) || write_file(fx->other, "x.py", "def x():\n    return 1\n"))
    return -1;
  return 0;
}

static int setup(void **state) {
  (void)state;
  fx = calloc(1, sizeof *fx);
  if (!fx || srvh_tmpdir(&fx->h) < 0 || srvh_start(&fx->h, NULL) < 0 || srvh_key(&fx->h, "prod", fx->key) < 0)
    return -1;
  char *batch = batch_json();
  int rc = srvh_ingest_json(fx->h.port, fx->key, batch, strlen(batch));
  free(batch);
  if (rc < 0) return -1;
  /* A read with no-cache waits for the fold: hud-lsp then reads the tables as editors do. */
  srvh_resp r;
  if (srvh_request(fx->h.port, "GET", "/v1/functions/top?service=shop", fx->key, NULL, 0, NULL, &r) < 0 ||
      r.status != 200)
    return -1;
  srvh_resp_free(&r);
  snprintf(fx->url, sizeof fx->url, "http://127.0.0.1:%d", fx->h.port);
  snprintf(fx->cfg_home, sizeof fx->cfg_home, "%s/xdg", fx->h.dir);
  if (mkdir(fx->cfg_home, 0700) < 0) return -1;
  return project_setup();
}

static int teardown(void **state) {
  (void)state;
  if (fx) {
    srvh_stop(&fx->h, 15);
    srvh_cleanup(&fx->h);
    free(fx);
  }
  return 0;
}

/* Runs ARGV (an editor) with HOME and XDG_* in a directory of its own, the fixture's settings in
 * HUD_TEST_* variables and HUD_KEY set only when WITH_KEY_ENV; kills it after SECONDS. Its output file
 * OUT is parsed and returned (NULL: the test fails with the editor's log). */
/* The editor's own output, for a failure's message (the directory goes away with the fixture). */
static void print_log(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  printf("# %s:\n%s\n", path, buf);
}

static json_t *run_editor(const char *name, char *const argv[], const char *file, const char *scenario,
                          int with_key_env, int seconds) {
  char out_path[800], log_path[800], home[800], lsp_bin[1200], plugin[1200];
  snprintf(out_path, sizeof out_path, "%s/%s-out.json", fx->h.dir, name);
  snprintf(log_path, sizeof log_path, "%s/%s.log", fx->h.dir, name);
  snprintf(home, sizeof home, "%s/%s-home", fx->h.dir, name);
  mkdir(home, 0700);
  snprintf(lsp_bin, sizeof lsp_bin, "%s/lsp/hud-lsp", getenv("HUD_BUILD_DIR"));
  snprintf(plugin, sizeof plugin, "%s/editors", getenv("HUD_SOURCE_DIR"));
  unlink(out_path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY), log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    setpgid(0, 0);
    setenv("HOME", home, 1);
    setenv("XDG_CONFIG_HOME", fx->cfg_home, 1); /* hud-lsp's configuration: none */
    setenv("XDG_CACHE_HOME", home, 1);          /* Neovim's lsp.log */
    setenv("XDG_STATE_HOME", home, 1);
    setenv("XDG_DATA_HOME", home, 1);
    setenv("TERM", "dumb", 1);
    unsetenv("HUD_KEY");
    unsetenv("HUD_URL");
    unsetenv("HUD_SERVICE");
    if (with_key_env) setenv("HUD_KEY", fx->key, 1);
    setenv("HUD_TEST_LSP", lsp_bin, 1);
    setenv("HUD_TEST_EDITORS", plugin, 1);
    setenv("HUD_TEST_URL", fx->url, 1);
    setenv("HUD_TEST_KEY", fx->key, 1);
    setenv("HUD_TEST_PROJECT", fx->project, 1);
    setenv("HUD_TEST_OTHER", fx->other, 1);
    setenv("HUD_TEST_FILE", file, 1);
    setenv("HUD_TEST_SCENARIO", scenario, 1);
    setenv("HUD_TEST_OUT", out_path, 1);
    if (chdir(fx->h.dir) < 0) _exit(126); /* the working directory is no project's root */
    execvp(argv[0], argv);
    _exit(127);
  }
  int st = -1;
  for (int i = 0; i < seconds * 10 && waitpid(pid, &st, WNOHANG) == 0; i++) usleep(100000);
  if (waitpid(pid, NULL, WNOHANG) == 0) {
    kill(-pid, SIGKILL); /* the editor and the hud-lsp it started */
    waitpid(pid, NULL, 0);
    print_log(log_path);
    fail_msg("%s did not end within %d s (log: %s)", name, seconds, log_path);
  }
  json_error_t je;
  json_t *got = json_load_file(out_path, 0, &je);
  if (!got) print_log(log_path);
  if (!got) fail_msg("no output from %s (%s; log: %s)", name, je.text, log_path);
  char *text = json_dumps(got, JSON_INDENT(1));
  printf("# what %s saw: %s\n", name, text);
  free(text);
  if (json_array_size(json_object_get(got, "errors")) != 0) print_log(log_path);
  if (json_array_size(json_object_get(got, "errors")) != 0) fail_msg("%s reported errors (log: %s)", name, log_path);
  return got;
}

/* The string member KEY of O; "(none)" when missing. */
static const char *str(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "(none)";
}

/* The lines of ARR (strings) joined, for substring checks. */
static char *joined(const json_t *arr) {
  size_t cap = 1, i;
  json_t *v;
  json_array_foreach(arr, i, v) cap += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
  char *s = calloc(1, cap);
  json_array_foreach(arr, i, v) {
    strcat(s, json_string_value(v) ? json_string_value(v) : "");
    strcat(s, "\n");
  }
  return s;
}

static void assert_has(const char *hay, const char *needle) {
  if (!hay || !strstr(hay, needle)) fail_msg("missing \"%s\" in:\n%s", needle, hay ? hay : "(null)");
}

/* Does any file below DIR hold S? */
static int tree_holds(const char *dir, const char *s) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int found = 0;
  while (!found && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat sb;
    if (lstat(path, &sb) < 0) continue;
    if (S_ISDIR(sb.st_mode)) {
      found = tree_holds(path, s);
    } else if (S_ISREG(sb.st_mode) && sb.st_size < (1 << 24)) {
      FILE *f = fopen(path, "r");
      if (!f) continue;
      char *buf = malloc((size_t)sb.st_size + 1);
      size_t n = fread(buf, 1, (size_t)sb.st_size, f);
      buf[n] = '\0';
      fclose(f);
      found = memmem(buf, n, s, strlen(s)) != NULL;
      free(buf);
    }
  }
  closedir(d);
  return found;
}

static json_t *run_nvim(const char *scenario, int with_key_env) {
  char script[1200], file[900];
  snprintf(script, sizeof script, "luafile %s/tests/editors/nvim_plugin.lua", getenv("HUD_SOURCE_DIR"));
  snprintf(file, sizeof file, "%s/app/shop/cart.py", fx->project);
  char *argv[] = {"nvim", "--headless", "--clean", "-u", "NONE", "-c", script, NULL};
  return run_editor("nvim", argv, file, scenario, with_key_env, 60);
}

/* The plugin on a sample project: setup{key=...} (no HUD_KEY in the environment), lenses without asking
 * for them, the statusline text, :HudCallers / :HudCallees in the quickfix list, :HudExplain's message,
 * :checkhealth hud, one client per root. */
static void test_nvim_plugin(void **state) {
  (void)state;
  if (system("command -v nvim >/dev/null 2>&1") != 0) skip();
  json_t *got = run_nvim("plugin", 0);
  json_t *lenses = json_object_get(got, "lenses");
  assert_int_equal(json_array_size(lenses), 1);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(lenses, 0), "line")), 4);
  assert_string_equal(str(json_array_get(lenses, 0), "title"), "⚡ 100/min · p95 18 ms · 0.2% err");
  assert_string_equal(str(got, "status"), "hud ok (1 module)");
  /* The callers of checkout: view_cart, at its call site. */
  json_t *callers = json_object_get(got, "callers");
  assert_has(str(got, "callers_title"), "hud callers of checkout");
  assert_int_equal(json_array_size(callers), 1);
  json_t *c = json_array_get(callers, 0);
  assert_string_equal(str(c, "text"), "view_cart — 100 calls/min · mean 15 ms · 0.2% err");
  assert_string_equal(str(c, "file"), "app/shop/views.py");
  assert_int_equal(json_integer_value(json_object_get(c, "lnum")), 6);
  /* Its callees: apply_discounts in the project, compute_tax outside it (no file). */
  json_t *callees = json_object_get(got, "callees");
  assert_int_equal(json_array_size(callees), 2);
  assert_string_equal(str(json_array_get(callees, 0), "text"), "apply_discounts — 100 calls/min · mean 12 ms · 0.2% err");
  assert_string_equal(str(json_array_get(callees, 0), "file"), "app/shop/pricing.py");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(callees, 0), "lnum")), 1);
  assert_string_equal(str(json_array_get(callees, 1), "text"),
                      "compute_tax — billing/tax.py · 100 calls/min · mean 1 ms");
  assert_string_equal(str(json_array_get(callees, 1), "file"), "");
  /* :HudExplain: hud-lsp's message, through vim.notify. */
  char *msgs = joined(json_object_get(got, "messages"));
  assert_has(msgs, "hud: 1 of 1 functions have figures (module shop/cart.py, last 1h)\n");
  assert_null(strstr(msgs, "hud: hud:"));
  free(msgs);
  assert_string_equal(str(json_object_get(got, "explain"), "reason"), "ok");
  /* :checkhealth hud */
  char *health = joined(json_object_get(got, "health"));
  assert_has(health, "hud: hud-lsp");
  assert_has(health, "OK: ");
  assert_has(health, "hud-lsp (hud) 0.1.0");
  assert_has(health, "hud-server reachable at http://127.0.0.1:");
  assert_has(health, "key accepted, service shop (1 files mapped)");
  assert_has(health, "app/shop/cart.py: 1 of 1 functions have figures");
  if (strstr(health, "ERROR") || strstr(health, "WARNING")) fail_msg("health reports a problem:\n%s", health);
  free(health);
  /* cart.py and views.py share the project's client; other/x.py has its own. */
  assert_int_equal(json_integer_value(json_object_get(got, "clients_one_root")), 1);
  assert_int_equal(json_integer_value(json_object_get(got, "clients_two_roots")), 2);
  json_decref(got);
  /* The key went to hud-lsp in its environment only: no file Neovim wrote holds it. */
  char home[800];
  snprintf(home, sizeof home, "%s/nvim-home", fx->h.dir);
  assert_false(tree_holds(home, fx->key));
}

/* :HudHotPaths and :HudErrorFlows on checkout (hud/hotPaths, hud/errorFlows), the key from HUD_KEY. */
static void test_nvim_plugin_panels(void **state) {
  (void)state;
  if (system("command -v nvim >/dev/null 2>&1") != 0) skip();
  json_t *got = run_nvim("panels", 1);
  char *hot = joined(json_object_get(got, "hot_paths"));
  assert_has(hot, "Hot paths below checkout, by time, last 1h");
  assert_has(hot, "├─ apply_discounts");
  assert_has(hot, "└─ compute_tax");
  assert_true(strstr(hot, "apply_discounts") < strstr(hot, "compute_tax")); /* heaviest first */
  free(hot);
  char *flows = joined(json_object_get(got, "error_flows"));
  assert_has(flows, "Error flows through checkout, last 1h");
  assert_has(flows, "KeyError ×12  caught in view_cart");
  assert_has(flows, "  raised in  apply_discounts (shop/pricing.py)");
  assert_has(flows, "  caught in  view_cart (shop/views.py)");
  free(flows);
  assert_true(json_is_true(json_object_get(got, "jumped")));
  json_decref(got);
}

/* Emacs 28 with eglot 1.9 (Debian's) and editors/emacs/hud-eglot.el, in batch mode: the hover on
 * checkout, its code actions, hud.showCallers run from one, hud.explain. */
static void test_emacs_eglot(void **state) {
  (void)state;
  if (system("command -v emacs >/dev/null 2>&1 && test -d /usr/share/emacs/site-lisp/elpa-src/eglot-1.9") != 0 &&
      system("emacs --batch -Q --eval '(require (quote eglot))' >/dev/null 2>&1") != 0)
    skip();
  char script[1200], file[900];
  snprintf(script, sizeof script, "%s/tests/editors/eglot_test.el", getenv("HUD_SOURCE_DIR"));
  snprintf(file, sizeof file, "%s/app/shop/cart.py", fx->project);
  char *argv[] = {"emacs", "--batch", "-Q", "-l", script, NULL};
  json_t *got = run_editor("emacs", argv, file, "eglot", 1, 60);
  assert_string_equal(str(got, "status"), "hud ok (1 modules)");
  assert_has(str(got, "hover"), "checkout");
  assert_has(str(got, "hover"), "production, last 1h (shop)");
  assert_has(str(got, "hover"), "100");
  char *actions = joined(json_object_get(got, "actions"));
  assert_has(actions, "hud: production detail of checkout");
  free(actions);
  assert_has(str(got, "callers"), "view_cart (shop/views.py:6) 100 calls/min · mean 15 ms");
  assert_has(str(got, "explain"), "1 of 1 functions have figures (module shop/cart.py, last 1h)");
  json_decref(got);
}

int main(void) {
  const char *only = getenv("EDITORS_TEST");
  struct CMUnitTest all[] = {
      cmocka_unit_test(test_nvim_plugin),
      cmocka_unit_test(test_nvim_plugin_panels),
      cmocka_unit_test(test_emacs_eglot),
  };
  const char *names[] = {"nvim_plugin", "nvim_plugin_panels", "emacs_eglot"};
  struct CMUnitTest tests[sizeof all / sizeof all[0]];
  size_t k = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!only || !strcmp(only, names[i])) tests[k++] = all[i];
  if (k == 0) {
    fprintf(stderr, "test_editors: no test named %s\n", only);
    return 1;
  }
  return _cmocka_run_group_tests("editors", tests, k, setup, teardown);
}
