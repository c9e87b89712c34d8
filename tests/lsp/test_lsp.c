/* hud-lsp end to end: transcripts (tests/lsp/transcripts/NAME.lsp, format in lsp_runner.c) run against
 * the real binary over pipes, with a real hud-server on loopback holding a fixed batch of the
 * synthetic shop service (figures below), plus a latency measurement on a 10k-line file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "hud/index.h"
#include "hud/sketch.h"
#include "lsp_runner.h"

#define NS 1000000000LL
#define MS 1000000LL

/* The batch: every figure a transcript expects comes from here (window 1 h: calls/60 per minute). */
typedef struct fx_fn {
  const char *module, *name;
  long long calls, errors, sampled;
  double d1, d2; /* sampled durations (ns): 90% d1, 10% d2 (all d1 when d2 == 0) */
} fx_fn;

static const fx_fn fx_fns[] = {
    {"shop/db.py", "fetch_order", 72000, 288, 1000, 10 * MS, 38 * MS}, /* 1.2k/min, p95 38 ms, 0.4% */
    {"shop/db.py", "fetch_items", 600, 0, 600, 2.5 * MS, 0},           /* 10/min, p95 2.5 ms, 0% */
    {"shop/db.py", "Pool.acquire", 30, 3, 30, 850e3, 0},               /* 0.5/min, p95 850 µs, 10% */
    {"db.py", "fetch_order", 6000, 0, 100, 1 * MS, 0},                 /* a shorter suffix: not chosen */
    {"shop/ui.js", "render", 120, 0, 120, 4 * MS, 0},                  /* 2/min, p95 4 ms */
};

/* The deployed code of shop/db.py:fetch_order, as in lenses.lsp. */
static const char fx_fetch_order_src[] = "def fetch_order(order_id):\n    return {\"id\": order_id}\n";

typedef struct fixture {
  srvh h;
  char key[128];
  char url[64], down_url[64], root[600], cfg_home[600], cfg_file_home[600];
  char market[700];
  char mk_ids[4][HUD_UUID_STRLEN + 1];
  char flow_cart[HUD_UUID_STRLEN + 1];
} fixture;

static fixture *fx;

static json_t *sketch_json(const fx_fn *f) {
  hud_sketch *s = hud_sketch_new(0.005);
  long long n2 = f->d2 > 0 ? f->sampled / 10 : 0;
  hud_sketch_add_n(s, f->d1, (uint64_t)(f->sampled - n2));
  if (n2) hud_sketch_add_n(s, f->d2, (uint64_t)n2);
  hud_sketch_bins b;
  hud_sketch_export(s, &b);
  json_t *c = json_array();
  for (size_t i = 0; i < b.n; i++) json_array_append_new(c, json_integer((json_int_t)b.counts[i]));
  json_t *out = json_pack("{s:f,s:I,s:I,s:o}", "a", b.alpha, "z", (json_int_t)b.zero_count, "o",
                          (json_int_t)b.offset, "c", c);
  hud_sketch_bins_free(&b);
  hud_sketch_free(s);
  return out;
}

static char *batch_json(void) {
  hud_time_ns now = (hud_time_ns)time(NULL) * NS;
  hud_time_ns slice = now / (60 * NS) * (60 * NS) - 5 * 60 * NS;
  char ts[HUD_TIME_STRLEN + 1], sent[HUD_TIME_STRLEN + 1];
  hud_time_format(slice, ts);
  hud_time_format(now, sent);
  json_t *decls = json_array(), *invs = json_array();
  for (size_t i = 0; i < sizeof fx_fns / sizeof fx_fns[0]; i++) {
    const fx_fn *f = &fx_fns[i];
    char id[HUD_UUID_STRLEN + 1], file[256];
    hud_function_id(f->module, f->name, id);
    snprintf(file, sizeof file, "/srv/app/%s", f->module);
    /* shop/db.py:fetch_order is declared with the hash of its code in lenses.lsp (the hover says nothing);
     * every other function with a hash no code has (the hover says the code was edited). */
    char hash[HUD_SHA1_HEXLEN + 1] = "0123456789abcdef0123456789abcdef01234567";
    if (!strcmp(f->module, "shop/db.py") && !strcmp(f->name, "fetch_order"))
      hud_source_hash(fx_fetch_order_src, strlen(fx_fetch_order_src), 1, 2, hash);
    json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", id, "name", f->name,
                                           "file", file, "module_path", f->module, "start_line", 10, "end_line", 12,
                                           "is_async", 0, "source_code_hash", hash));
    long long n2 = f->d2 > 0 ? f->sampled / 10 : 0, n1 = f->sampled - n2;
    double sum = n1 * f->d1 + n2 * f->d2, sq = n1 * f->d1 * f->d1 + n2 * f->d2 * f->d2;
    json_t *inv = json_pack("{s:s,s:[],s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:o}", "function_id", id, "caller_function_id",
                            "timestamp", ts, "timeslice", (json_int_t)(60 * NS), "count", (json_int_t)f->calls,
                            "sampled_count", (json_int_t)f->sampled, "sum_duration", (json_int_t)sum,
                            "sum_squared_duration", sq, "self_duration", (json_int_t)sum, "duration_sketch",
                            sketch_json(f));
    if (f->errors) json_object_set_new(inv, "exceptions", json_pack("{s:I}", "TimeoutError", (json_int_t)f->errors));
    json_array_append_new(invs, inv);
  }
  /* Declared, never called: the server lists it with zero calls; the editor shows no lens. */
  char id[HUD_UUID_STRLEN + 1];
  hud_function_id("shop/db.py", "save_order", id);
  json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", id, "name",
                                         "save_order", "file", "/srv/app/shop/db.py", "module_path", "shop/db.py",
                                         "start_line", 20, "end_line", 21, "is_async", 0, "source_code_hash",
                                         "0123456789abcdef0123456789abcdef01234567"));
  /* A module whose only function never ran in the window (explain.lsp: no_calls). */
  hud_function_id("shop/idle.py", "nap", id);
  json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", id, "name", "nap",
                                         "file", "/srv/app/shop/idle.py", "module_path", "shop/idle.py",
                                         "start_line", 1, "end_line", 2, "is_async", 0, "source_code_hash",
                                         "0123456789abcdef0123456789abcdef01234567"));
  json_t *b = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o}", "schema_version", 1, "batch_id",
                        "6f1c8f43-3a55-4d2b-9a43-5b8a8f1f0001", "service", "shop", "service_version", "1.0.0",
                        "host", "test-host", "pid", 4242, "runtime", "cpython 3.11.2", "sensor_version", "0.1.0",
                        "sent_at", sent, "declarations", decls, "invocations", invs);
  char *s = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return s;
}

/* The "market" services (call hierarchy, diagnostics, Neovim): a call tree whose version 1.1.0 made
 * shop/pricing.py:apply_discounts slower, which slowed down its callers. The workspace holds shop/ below
 * market/app/; billing/tax.py is not in it.
 *   view_cart (shop/views.py:4)  -> checkout (line 5)
 *   checkout  (shop/cart.py:5)   -> apply_discounts (line 6), billing/tax.py:compute_tax (line 7) */
typedef struct mk_fn {
  const char *module, *name;
  int caller;           /* index of the caller in mk_fns, -1: none */
  int line;             /* call site in the caller */
  double total_ms[2];   /* mean duration in 1.0.0 and 1.1.0 */
  double self_ms[2];
} mk_fn;

static const mk_fn mk_fns[] = {
    {"shop/views.py", "view_cart", -1, 0, {9, 16}, {1, 1}},
    {"shop/cart.py", "checkout", 0, 5, {8, 15}, {2, 2}},
    {"shop/pricing.py", "apply_discounts", 1, 6, {5, 12}, {5, 12}},
    {"billing/tax.py", "compute_tax", 1, 7, {1, 1}, {1, 1}},
};

static const char mk_cart_py[] = "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\n"
                                 "def checkout(cart):\n    total = apply_discounts(cart)\n"
                                 "    return total + billing.tax.compute_tax(total)\n";
static const char mk_views_py[] = "from shop.cart import checkout\n\n\ndef view_cart(request):\n"
                                  "    return checkout(request.cart)\n";
static const char mk_pricing_py[] = "def apply_discounts(cart):\n    return sum(cart)\n";

/* One version's batch: 6000 calls per function, 600 sampled (90% at the mean's 0.98, 10% at 1.18). SLOW
 * picks the durations of 1.1.0. */
static char *market_batch(const char *service, const char *version, int minutes_ago, int slow) {
  hud_time_ns now = (hud_time_ns)time(NULL) * NS;
  hud_time_ns slice = now / (60 * NS) * (60 * NS) - (hud_time_ns)minutes_ago * 60 * NS;
  char ts[HUD_TIME_STRLEN + 1], sent[HUD_TIME_STRLEN + 1];
  hud_time_format(slice, ts);
  hud_time_format(now, sent);
  json_t *decls = json_array(), *invs = json_array();
  char ids[4][HUD_UUID_STRLEN + 1];
  for (size_t i = 0; i < 4; i++) hud_function_id(mk_fns[i].module, mk_fns[i].name, ids[i]);
  for (size_t i = 0; i < 4; i++) {
    const mk_fn *f = &mk_fns[i];
    char file[256];
    snprintf(file, sizeof file, "/srv/app/%s", f->module);
    json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", ids[i], "name", f->name,
                                           "file", file, "module_path", f->module, "start_line", 1, "end_line", 2,
                                           "is_async", 0, "source_code_hash", "0123456789abcdef0123456789abcdef01234567"));
    fx_fn d = {f->module, f->name, 6000, 0, 600, f->total_ms[slow] * 0.98 * MS, f->total_ms[slow] * 1.18 * MS};
    long long n2 = d.sampled / 10, n1 = d.sampled - n2;
    double sum = n1 * d.d1 + n2 * d.d2, sq = n1 * d.d1 * d.d1 + n2 * d.d2 * d.d2;
    double self = sum * f->self_ms[slow] / f->total_ms[slow];
    json_t *caller = f->caller < 0 ? json_array()
                                   : json_pack("[[s,s,i]]", ids[f->caller], mk_fns[f->caller].module, f->line);
    json_array_append_new(invs, json_pack("{s:s,s:o,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:o}", "function_id", ids[i],
                                          "caller_function_id", caller, "timestamp", ts, "timeslice",
                                          (json_int_t)(60 * NS), "count", (json_int_t)d.calls, "sampled_count",
                                          (json_int_t)d.sampled, "sum_duration", (json_int_t)sum,
                                          "sum_squared_duration", sq, "self_duration", (json_int_t)self,
                                          "duration_sketch", sketch_json(&d)));
  }
  /* Exception paths (error_flows.lsp), in "market" only: compute_tax's TaxError passes checkout and is caught
   * in view_cart; apply_discounts' KeyError escapes through checkout and view_cart. */
  json_t *xs = json_array();
  if (!strcmp(service, "market")) {
    json_array_append_new(xs, json_pack("{s:s,s:s,s:[s],s:s,s:s,s:I,s:I}", "exception_type", "TaxError",
                                        "origin_function_id", ids[3], "propagated_through", ids[1],
                                        "caught_in_function_id", ids[0], "timestamp", ts, "timeslice",
                                        (json_int_t)(60 * NS), "count", (json_int_t)(slow ? 4 : 3)));
    json_array_append_new(xs, json_pack("{s:s,s:s,s:[s,s],s:s,s:I,s:I}", "exception_type", "KeyError",
                                        "origin_function_id", ids[2], "propagated_through", ids[1], ids[0],
                                        "timestamp", ts, "timeslice", (json_int_t)(60 * NS), "count",
                                        (json_int_t)2));
  }
  char batch_id[64];
  static int seq;
  snprintf(batch_id, sizeof batch_id, "7a2d9e54-4b66-4e3c-8b54-6c9b9a2e%04d", ++seq);
  json_t *b = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o}", "schema_version", 1, "batch_id", batch_id,
                        "service", service, "service_version", version, "host", "test-host", "pid", 4243, "runtime",
                        "cpython 3.11.2", "sensor_version", "0.1.0", "sent_at", sent, "declarations", decls,
                        "invocations", invs);
  json_object_set_new(b, "exception_flows", xs);
  char *s = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return s;
}

static int market_ingest(const char *service, const char *version, int minutes_ago, int slow) {
  char *batch = market_batch(service, version, minutes_ago, slow);
  int rc = srvh_ingest_json(fx->h.port, fx->key, batch, strlen(batch));
  free(batch);
  return rc;
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[900];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* market/app/shop/{cart,views,pricing}.py and the batches of "market" (and "fade", whose issue goes away
 * in test_diagnostics_cleared). */
static int market_setup(void) {
  char dir[800];
  snprintf(fx->market, sizeof fx->market, "%s/market", fx->root);
  mkdir(fx->market, 0700);
  snprintf(dir, sizeof dir, "%s/app", fx->market);
  mkdir(dir, 0700);
  snprintf(dir, sizeof dir, "%s/app/shop", fx->market);
  mkdir(dir, 0700);
  if (write_file(dir, "cart.py", mk_cart_py) || write_file(dir, "views.py", mk_views_py) ||
      write_file(dir, "pricing.py", mk_pricing_py))
    return -1;
  for (size_t i = 0; i < 4; i++) hud_function_id(mk_fns[i].module, mk_fns[i].name, fx->mk_ids[i]);
  /* 1.0.0 deployed 50 minutes ago, 1.1.0 40 minutes ago: both in the 1 h window, compared by version
   * (the window's second half has no data, so no window comparison). */
  const char *services[] = {"market", "fade"};
  for (size_t i = 0; i < 2; i++)
    if (market_ingest(services[i], "1.0.0", 50, 0) < 0 || market_ingest(services[i], "1.1.0", 40, 1) < 0) return -1;
  srvh_resp r;
  if (srvh_request(fx->h.port, "GET", "/v1/functions/top?service=market", fx->key, NULL, 0, NULL, &r) < 0 ||
      r.status != 200)
    return -1;
  srvh_resp_free(&r);
  /* Issues are stored by the server's detection runner after the fold: wait for them (bounded). */
  for (size_t i = 0; i < 2; i++) {
    char path[128];
    snprintf(path, sizeof path, "/v1/issues?service=%s", services[i]);
    int have = 0;
    for (int ms = 0; !have && ms < 30000; ms += 100) {
      if (srvh_request(fx->h.port, "GET", path, fx->key, NULL, 0, NULL, &r) < 0) return -1;
      have = r.status == 200 && r.body && strstr(r.body, "\"issue_id\"") != NULL;
      srvh_resp_free(&r);
      if (!have) usleep(100 * 1000);
    }
    if (!have) return -1;
  }
  return 0;
}

/* The "panels" service (panels_*.lsp): the market workspace's functions in one version 2.0.0, 10 minutes
 * ago, inside the flow GET /cart, with recursion and an exception edge:
 *   view_cart -> checkout (line 5) -> apply_discounts (line 6, 1200 calls), compute_tax (line 7, 600 calls)
 *   apply_discounts -> apply_discounts (line 2, recursion); compute_tax raises ValueError (30), caught in checkout
 * Every call is timed with one duration (the means and times below are exact). */
typedef struct pn_edge {
  int fn, caller, line;
  long long calls;
  double ms;            /* duration of each call */
  long long errors;     /* ValueError raised out */
} pn_edge;

static const pn_edge pn_edges[] = {
    {0, -1, 0, 600, 20, 0}, {1, 0, 5, 600, 15, 0}, {2, 1, 6, 1200, 2.5, 0}, {2, 2, 2, 300, 1, 0}, {3, 1, 7, 600, 8, 30},
};

static json_t *pn_record(const char *flow_id, hud_time_ns slice, json_t *o) {
  char ts[HUD_TIME_STRLEN + 1];
  hud_time_format(slice, ts);
  json_object_set_new(o, "timestamp", json_string(ts));
  json_object_set_new(o, "timeslice", json_integer((json_int_t)(60 * NS)));
  if (flow_id) json_object_set_new(o, "flow_id", json_string(flow_id));
  return o;
}

static char *panels_batch(void) {
  hud_time_ns now = (hud_time_ns)time(NULL) * NS;
  hud_time_ns slice = now / (60 * NS) * (60 * NS) - 10 * 60 * NS;
  char sent[HUD_TIME_STRLEN + 1], flow[HUD_UUID_STRLEN + 1], ids[4][HUD_UUID_STRLEN + 1];
  hud_time_format(now, sent);
  hud_flow_id_endpoint("GET", "/cart", flow);
  json_t *decls = json_array(), *invs = json_array(), *ffs = json_array();
  for (size_t i = 0; i < 4; i++) {
    hud_function_id(mk_fns[i].module, mk_fns[i].name, ids[i]);
    char file[256];
    snprintf(file, sizeof file, "/srv/app/%s", mk_fns[i].module);
    json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", ids[i], "name",
                                           mk_fns[i].name, "file", file, "module_path", mk_fns[i].module, "start_line",
                                           1, "end_line", 2, "is_async", 0, "source_code_hash",
                                           "0123456789abcdef0123456789abcdef01234567"));
  }
  for (size_t i = 0; i < sizeof pn_edges / sizeof pn_edges[0]; i++) {
    const pn_edge *e = &pn_edges[i];
    fx_fn d = {mk_fns[e->fn].module, mk_fns[e->fn].name, e->calls, e->errors, e->calls, e->ms * MS, 0};
    double sum = (double)e->calls * e->ms * MS;
    json_t *caller = e->caller < 0 ? json_array() : json_pack("[[s,s,i]]", ids[e->caller], mk_fns[e->caller].module, e->line);
    json_t *inv = json_pack("{s:s,s:o,s:I,s:I,s:I,s:f,s:I,s:o}", "function_id", ids[e->fn], "caller_function_id",
                            caller, "count", (json_int_t)e->calls, "sampled_count", (json_int_t)e->calls,
                            "sum_duration", (json_int_t)sum, "sum_squared_duration", sum * e->ms * MS, "self_duration",
                            (json_int_t)(sum / 2), "duration_sketch", sketch_json(&d));
    if (e->errors) json_object_set_new(inv, "exceptions", json_pack("{s:I}", "ValueError", (json_int_t)e->errors));
    json_array_append_new(invs, pn_record(NULL, slice, inv));
    json_array_append_new(ffs, pn_record(flow, slice, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "function_id", ids[e->fn],
                                                                "count", (json_int_t)e->calls, "error_count",
                                                                (json_int_t)e->errors, "sampled_count",
                                                                (json_int_t)e->calls, "sum_duration", (json_int_t)sum,
                                                                "self_duration", (json_int_t)(sum / 2))));
  }
  json_t *xf = json_pack("[o]", pn_record(flow, slice, json_pack("{s:s,s:s,s:i,s:[],s:s,s:I}", "exception_type",
                                                                  "ValueError", "origin_function_id", ids[3],
                                                                  "origin_line", 2, "propagated_through",
                                                                  "caught_in_function_id", ids[1], "count",
                                                                  (json_int_t)30)));
  double fsum = 600.0 * 20 * MS;
  json_t *flows = json_pack("[o]", pn_record(flow, slice, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:f}", "kind",
                                                                     "endpoint", "method", "GET", "route", "/cart",
                                                                     "count", (json_int_t)600, "error_count",
                                                                     (json_int_t)6, "sampled_count", (json_int_t)600,
                                                                     "sum_duration", (json_int_t)fsum,
                                                                     "sum_squared_duration", fsum * 20 * MS)));
  json_t *b = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "schema_version", 1, "batch_id",
                        "7a2d9e54-4b66-4e3c-8b54-6c9b9a2f0001", "service", "panels", "service_version", "2.0.0", "host",
                        "test-host", "pid", 4244, "runtime", "cpython 3.11.2", "sensor_version", "0.1.0", "sent_at",
                        sent, "declarations", decls, "invocations", invs, "exception_flows", xf, "flows", flows,
                        "flow_functions", ffs);
  char *out = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return out;
}

static int panels_setup(void) {
  char *batch = panels_batch();
  int rc = srvh_ingest_json(fx->h.port, fx->key, batch, strlen(batch));
  free(batch);
  if (rc < 0) return -1;
  hud_flow_id_endpoint("GET", "/cart", fx->flow_cart);
  srvh_resp r;
  if (srvh_request(fx->h.port, "GET", "/v1/functions/top?service=panels", fx->key, NULL, 0, NULL, &r) < 0 ||
      r.status != 200)
    return -1;
  srvh_resp_free(&r);
  return 0;
}

/* Small services of their own: "mapped" (module paths under app/, pathmap.lsp with the map "/app") and "stock"
 * (services_folders.lsp, services_discover.lsp). One minute slice 5 minutes ago, all calls timed at D1. */
static const fx_fn mini_mapped[] = {
    {"app/orders/api.py", "place_order", 6000, 60, 6000, 4 * MS, 0}, /* 100/min, 1% */
    {"app/orders/tax.py", "add_tax", 600, 0, 600, 1 * MS, 0},        /* 10/min */
};
static const fx_fn mini_stock[] = {
    {"inv/stock.py", "reserve", 1200, 0, 1200, 3 * MS, 0}, /* 20/min */
};

static int mini_ingest(const char *service, const char *batch_id, const fx_fn *fns, size_t n) {
  hud_time_ns now = (hud_time_ns)time(NULL) * NS;
  hud_time_ns slice = now / (60 * NS) * (60 * NS) - 5 * 60 * NS;
  char ts[HUD_TIME_STRLEN + 1], sent[HUD_TIME_STRLEN + 1];
  hud_time_format(slice, ts);
  hud_time_format(now, sent);
  json_t *decls = json_array(), *invs = json_array();
  for (size_t i = 0; i < n; i++) {
    const fx_fn *f = &fns[i];
    char id[HUD_UUID_STRLEN + 1];
    hud_function_id(f->module, f->name, id);
    json_array_append_new(decls, json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:s}", "function_id", id, "name", f->name,
                                           "file", f->module, "module_path", f->module, "start_line", 1, "end_line",
                                           2, "is_async", 0, "source_code_hash",
                                           "0123456789abcdef0123456789abcdef01234567"));
    double sum = (double)f->sampled * f->d1;
    json_t *inv = json_pack("{s:s,s:[],s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:o}", "function_id", id, "caller_function_id",
                            "timestamp", ts, "timeslice", (json_int_t)(60 * NS), "count", (json_int_t)f->calls,
                            "sampled_count", (json_int_t)f->sampled, "sum_duration", (json_int_t)sum,
                            "sum_squared_duration", sum * f->d1, "self_duration", (json_int_t)sum, "duration_sketch",
                            sketch_json(f));
    if (f->errors) json_object_set_new(inv, "exceptions", json_pack("{s:I}", "ValueError", (json_int_t)f->errors));
    json_array_append_new(invs, inv);
  }
  json_t *b = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o}", "schema_version", 1, "batch_id", batch_id,
                        "service", service, "service_version", "3.0.0", "host", "test-host", "pid", 4245, "runtime",
                        "cpython 3.11.2", "sensor_version", "0.1.0", "sent_at", sent, "declarations", decls,
                        "invocations", invs);
  char *body = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  int rc = srvh_ingest_json(fx->h.port, fx->key, body, strlen(body));
  free(body);
  if (rc < 0) return -1;
  char path[128];
  srvh_resp r;
  snprintf(path, sizeof path, "/v1/functions/top?service=%s", service);
  if (srvh_request(fx->h.port, "GET", path, fx->key, NULL, 0, NULL, &r) < 0 || r.status != 200) return -1;
  srvh_resp_free(&r);
  return 0;
}

/* The mapped service's workspace: ROOT/pm/src/orders/tax.py on disk (located through pathMaps). */
static int mini_setup(void) {
  char dir[800];
  const char *sub[] = {"pm", "pm/src", "pm/src/orders"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(dir, sizeof dir, "%s/%s", fx->root, sub[i]);
    mkdir(dir, 0700);
  }
  snprintf(dir, sizeof dir, "%s/pm/src/orders/tax.py", fx->root);
  FILE *fp = fopen(dir, "w");
  if (!fp) return -1;
  fputs("import math\n\n\ndef add_tax(total):\n    return total\n", fp);
  fclose(fp);
  if (mini_ingest("mapped", "8b3e0a65-5c77-4f4d-9c65-7d0c0b3a0001", mini_mapped, 2) < 0) return -1;
  return mini_ingest("stock", "8b3e0a65-5c77-4f4d-9c65-7d0c0b3a0002", mini_stock, 1);
}

/* A loopback port nothing listens on. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  bind(fd, (struct sockaddr *)&a, sizeof a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  return ntohs(a.sin_port);
}

static int setup(void **state) {
  (void)state;
  fx = calloc(1, sizeof *fx);
  /* An issue resolves as soon as its metric returned (diagnostics_cleared), not after 10 minutes. */
  const char *extra[] = {"--resolve-after", "0", NULL};
  if (!fx || srvh_tmpdir(&fx->h) < 0 || srvh_start(&fx->h, extra) < 0 || srvh_key(&fx->h, "prod", fx->key) < 0)
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
  snprintf(fx->down_url, sizeof fx->down_url, "http://127.0.0.1:%d", closed_port());
  snprintf(fx->root, sizeof fx->root, "%s/ws", fx->h.dir);
  snprintf(fx->cfg_home, sizeof fx->cfg_home, "%s/xdg", fx->h.dir);
  mkdir(fx->root, 0700);
  mkdir(fx->cfg_home, 0700);
  /* For transcripts named config_*: the shared config file holds the backend settings. */
  char path[700];
  snprintf(fx->cfg_file_home, sizeof fx->cfg_file_home, "%s/xdg-file", fx->h.dir);
  mkdir(fx->cfg_file_home, 0700);
  snprintf(path, sizeof path, "%s/hud", fx->cfg_file_home);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/hud/config", fx->cfg_file_home);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  dprintf(fd, "service = other\n[tui]\nservice = wrong\n[lsp]\nurl = %s\nkey = %s\nservice = shop\n", fx->url, fx->key);
  close(fd);
  return market_setup() < 0 || mini_setup() < 0 ? -1 : panels_setup();
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

static void run_transcript(void **state) {
  const char *path = *state;
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  const char *home = strncmp(base, "config_", 7) == 0 ? fx->cfg_file_home : fx->cfg_home;
  lspr_var vars[] = {{"ROOT", fx->root},         {"URL", fx->url},          {"KEY", fx->key},
                     {"DOWN_URL", fx->down_url}, {"MARKET", fx->market},    {"ID_VIEW_CART", fx->mk_ids[0]},
                     {"ID_CHECKOUT", fx->mk_ids[1]}, {"ID_APPLY_DISCOUNTS", fx->mk_ids[2]},
                     {"ID_COMPUTE_TAX", fx->mk_ids[3]}, {"FLOW_CART", fx->flow_cart}};
  char err[8192];
  if (lspr_run_file(path, home, vars, sizeof vars / sizeof vars[0], err, sizeof err) != 0) fail_msg("%s", err);
}

/* initialize (options: the fixture's server, SERVICE, and a REFRESH-second refresh when non-zero), its
 * answer, then initialized. */
static void lsp_initialize(lspr *r, const char *root_uri, const char *service, int refresh) {
  json_t *opts = json_pack("{s:s,s:s,s:s}", "url", fx->url, "key", fx->key, "service", service);
  if (refresh) json_object_set_new(opts, "refreshSeconds", json_integer(refresh));
  assert_int_equal(lspr_send_json(r, json_pack("{s:s,s:i,s:s,s:{s:s,s:{},s:o}}", "jsonrpc", "2.0", "id", 1, "method",
                                               "initialize", "params", "rootUri", root_uri, "capabilities",
                                               "initializationOptions", opts)),
                   0);
  json_t *e = json_pack("{s:i}", "id", 1);
  json_t *got = lspr_expect(r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r->err);
  assert_int_equal(lspr_send_json(r, json_pack("{s:s,s:s,s:{}}", "jsonrpc", "2.0", "method", "initialized", "params")), 0);
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* A 10k-line Python module: 1000 ten-line functions, then the three with figures. */
static char *big_module(void) {
  size_t cap = 1 << 20, len = 0;
  char *s = malloc(cap);
  for (int i = 0; i < 1000; i++) {
    len += (size_t)snprintf(s + len, cap - len, "def helper_%d(x):\n", i);
    for (int k = 0; k < 8; k++) len += (size_t)snprintf(s + len, cap - len, "    x = x + %d  # é\n", k);
    len += (size_t)snprintf(s + len, cap - len, "\n");
  }
  len += (size_t)snprintf(s + len, cap - len,
                          "class Pool:\n    def acquire(self):\n        return 1\n\n"
                          "def fetch_order(order_id):\n    return order_id\n\n"
                          "def fetch_items(order_id):\n    return []\n");
  return s;
}

static json_t *lens_request(int id, const char *uri) {
  return json_pack("{s:s,s:i,s:s,s:{s:{s:s}}}", "jsonrpc", "2.0", "id", id, "method", "textDocument/codeLens",
                   "params", "textDocument", "uri", uri);
}

/* codeLens latency on a 10k-line file, warm and right after an edit (the edit's re-parse included). */
static void test_lens_latency(void **state) {
  (void)state;
  lspr r;
  assert_int_equal(lspr_start(&r, fx->cfg_home, NULL), 0);
  char root_uri[700], uri[800];
  snprintf(root_uri, sizeof root_uri, "file://%s", fx->root);
  snprintf(uri, sizeof uri, "file://%s/services/backend/shop/db.py", fx->root);
  lsp_initialize(&r, root_uri, "shop", 0);
  json_t *e;
  char *text = big_module();
  long long t0 = now_us();
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:{s:s,s:s,s:i,s:s}}}", "jsonrpc", "2.0", "method",
                                                "textDocument/didOpen", "params", "textDocument", "uri", uri,
                                                "languageId", "python", "version", 1, "text", text)),
                   0);
  free(text);
  /* A request on the document waits for its index: this one's answer marks the end of the parse. */
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:i,s:s,s:{s:{s:s},s:{s:i,s:i}}}", "jsonrpc", "2.0", "id", 2,
                                                "method", "textDocument/hover", "params", "textDocument", "uri", uri,
                                                "position", "line", 0, "character", 0)),
                   0);
  e = json_pack("{s:i}", "id", 2);
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  long long index_us = now_us() - t0;
  e = json_pack("{s:s,s:{s:s}}", "method", "hud/status", "params", "state", "ok");
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  long long open_us = now_us() - t0;
  enum { N = 20 };
  long long warm[N], edit[N];
  int id = 10;
  for (int i = 0; i < N; i++) {
    t0 = now_us();
    assert_int_equal(lspr_send_json(&r, lens_request(++id, uri)), 0);
    e = json_pack("{s:i}", "id", id);
    json_t *got = lspr_expect(&r, e, 10000);
    json_decref(e);
    if (!got) fail_msg("%s", r.err);
    warm[i] = now_us() - t0;
    assert_int_equal(json_array_size(json_object_get(got, "result")), 3);
  }
  for (int i = 0; i < N; i++) {
    t0 = now_us();
    /* One line inserted at the top: everything below moves down. */
    assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:{s:s,s:i},s:[{s:{s:{s:i,s:i},s:{s:i,s:i}},s:s}]}}",
                                                  "jsonrpc", "2.0", "method", "textDocument/didChange", "params",
                                                  "textDocument", "uri", uri, "version", i + 2, "contentChanges",
                                                  "range", "start", "line", 0, "character", 0, "end", "line", 0,
                                                  "character", 0, "text", "# edited\n")),
                     0);
    assert_int_equal(lspr_send_json(&r, lens_request(++id, uri)), 0);
    e = json_pack("{s:i}", "id", id);
    json_t *got = lspr_expect(&r, e, 10000);
    json_decref(e);
    if (!got) fail_msg("%s", r.err);
    edit[i] = now_us() - t0;
    json_t *first = json_array_get(json_object_get(got, "result"), 0);
    /* Pool.acquire's name was on line 10001 (0-based) before the edits. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(first, "range"), "start"), "line")),
                     10001 + i + 1);
  }
  qsort(warm, N, sizeof warm[0], cmp_ll);
  qsort(edit, N, sizeof edit[0], cmp_ll);
  printf("# codeLens on a 10k-line file (1003 functions, 3 lenses): didOpen parsed and indexed in %.1f ms, figures "
         "after %.1f ms; warm median %.2f ms max %.2f ms; after a one-line edit median %.2f ms max %.2f ms\n",
         index_us / 1e3, open_us / 1e3, warm[N / 2] / 1e3, warm[N - 1] / 1e3, edit[N / 2] / 1e3, edit[N - 1] / 1e3);
  /* Generous bounds: a sanitized build on a busy 2-core machine. */
  assert_true(warm[N / 2] < 500000);
  assert_true(edit[N / 2] < 2000000);
  lspr_close_input(&r);
  assert_int_equal(lspr_wait_exit(&r, 10000), 1);
  lspr_stop(&r);
}


static json_t *open_note(const char *uri, int version, const char *text) {
  return json_pack("{s:s,s:s,s:{s:{s:s,s:s,s:i,s:s}}}", "jsonrpc", "2.0", "method", "textDocument/didOpen", "params",
                   "textDocument", "uri", uri, "languageId", "python", "version", version, "text", text);
}

static size_t frame_index(const lspr *r, int id) {
  for (size_t i = 0; i < r->n_frames; i++) {
    json_t *v = json_object_get(r->frames[i], "id");
    if (json_is_integer(v) && json_integer_value(v) == id && !json_object_get(r->frames[i], "method")) return i;
  }
  return (size_t)-1;
}

/* Indexing runs on a worker: while a 10k-line file parses, a request on another document is answered
 * first, and the big file's own request waits for its index. A full replacement sent while the parse
 * runs makes its result stale: the answer describes the new text. */
static void test_parse_off_loop(void **state) {
  (void)state;
  lspr r;
  assert_int_equal(lspr_start(&r, fx->cfg_home, NULL), 0);
  char root_uri[700], big[800], small[800];
  snprintf(root_uri, sizeof root_uri, "file://%s", fx->root);
  snprintf(big, sizeof big, "file://%s/services/backend/shop/db.py", fx->root);
  snprintf(small, sizeof small, "file://%s/services/backend/shop/other.py", fx->root);
  lsp_initialize(&r, root_uri, "shop", 0);
  json_t *e;
  /* The first index of a process compiles the queries (once, on the first worker that needs them). */
  assert_int_equal(lspr_send_json(&r, open_note(small, 1, "def other():\n    return 1\n")), 0);
  assert_int_equal(lspr_send_json(&r, lens_request(10, small)), 0);
  e = json_pack("{s:i}", "id", 10);
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  char *text = big_module();
  long long t0 = now_us();
  assert_int_equal(lspr_send_json(&r, open_note(big, 1, text)), 0);
  free(text);
  assert_int_equal(lspr_send_json(&r, lens_request(2, big)), 0);
  long long t_small = now_us();
  assert_int_equal(lspr_send_json(&r, lens_request(3, small)), 0);
  e = json_pack("{s:i}", "id", 3);
  json_t *got = lspr_expect(&r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  long long small_us = now_us() - t_small;
  /* The big file is still being parsed: its request has no answer yet; one cancelled meanwhile is
   * answered RequestCancelled at once, and never again. */
  assert_int_equal(frame_index(&r, 2), (size_t)-1);
  assert_int_equal(lspr_send_json(&r, lens_request(5, big)), 0);
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:i}}", "jsonrpc", "2.0", "method", "$/cancelRequest",
                                                "params", "id", 5)),
                   0);
  e = json_pack("{s:i,s:{s:i}}", "id", 5, "error", "code", -32800);
  got = lspr_expect(&r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  assert_int_equal(frame_index(&r, 2), (size_t)-1);
  /* A full replacement while the parse runs: that parse's result is dropped. */
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:{s:s,s:i},s:[{s:s}]}}", "jsonrpc", "2.0", "method",
                                                "textDocument/didChange", "params", "textDocument", "uri", big,
                                                "version", 2, "contentChanges", "text",
                                                "\n\ndef fetch_order(order_id):\n    return order_id\n")),
                   0);
  e = json_pack("{s:s,s:{s:s}}", "method", "hud/status", "params", "state", "ok");
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  assert_int_equal(lspr_send_json(&r, lens_request(4, big)), 0);
  e = json_pack("{s:i}", "id", 2);
  got = lspr_expect(&r, e, 20000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  long long big_us = now_us() - t0;
  e = json_pack("{s:i}", "id", 4);
  got = lspr_expect(&r, e, 20000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  assert_true(frame_index(&r, 3) < frame_index(&r, 2));
  e = json_pack("{s:i}", "id", 5);
  assert_int_equal(lspr_count(&r, e), 1);
  json_decref(e);
  /* The new text's one function, on line 2: nothing of the 10k lines. */
  json_t *lenses = json_object_get(got, "result");
  assert_int_equal(json_array_size(lenses), 1);
  json_t *start = json_object_get(json_object_get(json_array_get(lenses, 0), "range"), "start");
  assert_int_equal(json_integer_value(json_object_get(start, "line")), 2);
  printf("# while a 10k-line file parses on a worker: a request on another document answered in %.1f ms; the big "
         "file's request answered after %.1f ms\n",
         small_us / 1e3, big_us / 1e3);
  /* Closed while its parse runs: the waiting request learns it is gone; the job's end frees the document.
   * Then the session ends with another parse in flight (the exit waits for it; a leak fails the exit code). */
  text = big_module();
  assert_int_equal(lspr_send_json(&r, open_note(big, 3, text)), 0);
  assert_int_equal(lspr_send_json(&r, lens_request(6, big)), 0);
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:{s:s}}}", "jsonrpc", "2.0", "method",
                                                "textDocument/didClose", "params", "textDocument", "uri", big)),
                   0);
  e = json_pack("{s:i,s:{s:i}}", "id", 6, "error", "code", -32602);
  got = lspr_expect(&r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  assert_int_equal(lspr_send_json(&r, open_note(big, 4, text)), 0);
  free(text);
  lspr_close_input(&r);
  assert_int_equal(lspr_wait_exit(&r, 10000), 1);
  lspr_stop(&r);
}

/* hud-server's count of answered GET /v1/functions/{id} (its /metrics). */
static long long function_requests(void) {
  srvh_resp m;
  assert_int_equal(srvh_request(fx->h.port, "GET", "/metrics", NULL, NULL, 0, NULL, &m), 0);
  const char *k = "hud_http_requests_total{route=\"function\",status=\"200\"} ";
  const char *at = strstr(m.body, k);
  long long n = at ? atoll(at + strlen(k)) : 0;
  srvh_resp_free(&m);
  return n;
}

static size_t hints(lspr *r, int id, const char *uri) {
  assert_int_equal(lspr_send_json(r, json_pack("{s:s,s:i,s:s,s:{s:{s:s},s:{s:{s:i,s:i},s:{s:i,s:i}}}}", "jsonrpc",
                                               "2.0", "id", id, "method", "textDocument/inlayHint", "params",
                                               "textDocument", "uri", uri, "range", "start", "line", 0, "character",
                                               0, "end", "line", 9, "character", 0)),
                   0);
  json_t *e = json_pack("{s:i}", "id", id);
  json_t *got = lspr_expect(r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r->err);
  return json_array_size(json_object_get(got, "result"));
}

/* Inlay hints are cached per document version: asked again for the same text they need no GET
 * /v1/functions/{id}; after an edit they are asked for again. */
static void test_inlay_cached(void **state) {
  (void)state;
  lspr r;
  assert_int_equal(lspr_start(&r, fx->cfg_home, NULL), 0);
  char root_uri[800], uri[900];
  snprintf(root_uri, sizeof root_uri, "file://%s", fx->market);
  snprintf(uri, sizeof uri, "file://%s/app/shop/cart.py", fx->market);
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:i,s:s,s:{s:s,s:{s:{s:{}}},s:{s:s,s:s,s:s}}}", "jsonrpc", "2.0",
                                               "id", 1, "method", "initialize", "params", "rootUri", root_uri,
                                               "capabilities", "textDocument", "inlayHint", "initializationOptions",
                                               "url", fx->url, "key", fx->key, "service", "market")),
                   0);
  json_t *e = json_pack("{s:i}", "id", 1);
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{}}", "jsonrpc", "2.0", "method", "initialized", "params")), 0);
  assert_int_equal(lspr_send_json(&r, open_note(uri, 1, mk_cart_py)), 0);
  e = json_pack("{s:s,s:{s:s}}", "method", "hud/status", "params", "state", "ok");
  assert_non_null(lspr_expect(&r, e, 10000));
  json_decref(e);
  long long n0 = function_requests();
  assert_int_equal(hints(&r, 2, uri), 2); /* checkout's two calls */
  long long n1 = function_requests();
  assert_int_equal(n1 - n0, 1);
  assert_int_equal(hints(&r, 3, uri), 2);
  assert_int_equal(hints(&r, 4, uri), 2);
  assert_int_equal(function_requests(), n1); /* the same version: from the cache */
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:s,s:{s:{s:s,s:i},s:[{s:{s:{s:i,s:i},s:{s:i,s:i}},s:s}]}}",
                                               "jsonrpc", "2.0", "method", "textDocument/didChange", "params",
                                               "textDocument", "uri", uri, "version", 2, "contentChanges", "range",
                                               "start", "line", 7, "character", 0, "end", "line", 7, "character", 0,
                                               "text", "\n")),
                   0);
  assert_int_equal(hints(&r, 5, uri), 2);
  assert_int_equal(function_requests(), n1 + 1); /* a new version asks again */
  lspr_close_input(&r);
  lspr_wait_exit(&r, 10000);
  lspr_stop(&r);
}

/* An issue that goes away clears its diagnostics: service "fade" (the market batches) gets a version
 * 1.2.0 as fast as 1.0.0 while hud-lsp runs; the server resolves the issue (the metric returned) and
 * the next refresh (1 s) finds no active issue. */
static void test_diagnostics_cleared(void **state) {
  (void)state;
  lspr r;
  assert_int_equal(lspr_start(&r, fx->cfg_home, NULL), 0);
  char root_uri[800], uri[900];
  snprintf(root_uri, sizeof root_uri, "file://%s", fx->market);
  snprintf(uri, sizeof uri, "file://%s/app/shop/pricing.py", fx->market);
  lsp_initialize(&r, root_uri, "fade", 1);
  json_t *e;
  assert_int_equal(lspr_send_json(&r, open_note(uri, 1, mk_pricing_py)), 0);
  e = json_pack("{s:s,s:{s:s,s:[{s:s}]}}", "method", "textDocument/publishDiagnostics", "params", "uri", uri,
                "diagnostics", "message",
                "apply_discounts self time +7 ms per call (1.0.0 \u2192 1.1.0)\nits self time includes calls that are "
                "not instrumented\np = 2.7e-09");
  json_t *got = lspr_expect(&r, e, 10000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  assert_int_equal(market_ingest("fade", "1.2.0", 5, 0), 0);
  e = json_pack("{s:s,s:{s:s,s:[]}}", "method", "textDocument/publishDiagnostics", "params", "uri", uri, "diagnostics");
  got = lspr_expect(&r, e, 15000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  lspr_close_input(&r);
  assert_int_equal(lspr_wait_exit(&r, 10000), 1);
  lspr_stop(&r);
}

/* A file the index refuses (over HUD_INDEX_MAX_BYTES) is kept as text: hud.explain says it was skipped
 * and why. */
static void test_explain_skipped(void **state) {
  (void)state;
  lspr r;
  assert_int_equal(lspr_start(&r, fx->cfg_home, NULL), 0);
  char root_uri[700], uri[800];
  snprintf(root_uri, sizeof root_uri, "file://%s", fx->root);
  snprintf(uri, sizeof uri, "file://%s/big/shop/db.py", fx->root);
  lsp_initialize(&r, root_uri, "shop", 0);
  json_t *e;
  size_t len = HUD_INDEX_MAX_BYTES + 4096;
  char *text = malloc(len + 1);
  assert_non_null(text);
  for (size_t i = 0; i < len; i += 8) memcpy(text + i, "x = 1  \n", len - i < 8 ? len - i : 8);
  text[len] = '\0';
  assert_int_equal(lspr_send_json(&r, open_note(uri, 1, text)), 0);
  free(text);
  assert_int_equal(lspr_send_json(&r, json_pack("{s:s,s:i,s:s,s:{s:s,s:[s]}}", "jsonrpc", "2.0", "id", 2, "method",
                                                "workspace/executeCommand", "params", "command", "hud.explain",
                                                "arguments", uri)),
                   0);
  e = json_pack("{s:i,s:{s:s}}", "id", 2, "result", "reason", "skipped");
  json_t *got = lspr_expect(&r, e, 20000);
  json_decref(e);
  if (!got) fail_msg("%s", r.err);
  const char *msg = json_string_value(json_object_get(json_object_get(got, "result"), "message"));
  assert_non_null(msg);
  assert_non_null(strstr(msg, "input too large"));
  lspr_close_input(&r);
  assert_int_equal(lspr_wait_exit(&r, 10000), 1);
  lspr_stop(&r);
}

/* Neovim 0.7.2 (Debian's) as the client, headless, driven by tests/lsp/nvim_client.lua: lenses, hover,
 * call hierarchy and diagnostics as a real editor receives them, written to a JSON file asserted here.
 * Bounded: the script's waits are, and Neovim is killed by pid after 60 s. Skipped without nvim. */
static void test_neovim(void **state) {
  (void)state;
  if (system("command -v nvim >/dev/null 2>&1") != 0) skip();
  char out_path[800], log_path[800], xdg[800], script[1200], lsp_bin[1200], file[900];
  snprintf(out_path, sizeof out_path, "%s/nvim-out.json", fx->h.dir);
  snprintf(log_path, sizeof log_path, "%s/nvim.log", fx->h.dir);
  snprintf(xdg, sizeof xdg, "%s/nvim-home", fx->h.dir);
  mkdir(xdg, 0700);
  snprintf(script, sizeof script, "luafile %s/tests/lsp/nvim_client.lua", getenv("HUD_SOURCE_DIR"));
  snprintf(lsp_bin, sizeof lsp_bin, "%s/lsp/hud-lsp", getenv("HUD_BUILD_DIR"));
  snprintf(file, sizeof file, "%s/app/shop/cart.py", fx->market);
  unlink(out_path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY), log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    setenv("HOME", xdg, 1);
    setenv("XDG_CONFIG_HOME", fx->cfg_home, 1); /* hud-lsp's configuration: none */
    setenv("XDG_CACHE_HOME", xdg, 1);           /* Neovim's lsp.log */
    setenv("XDG_STATE_HOME", xdg, 1);
    setenv("XDG_DATA_HOME", xdg, 1);
    setenv("HUD_LSP", lsp_bin, 1);
    char diag_file[800];
    snprintf(diag_file, sizeof diag_file, "%s/app/shop/pricing.py", fx->market);
    setenv("HUD_DIAG_FILE", diag_file, 1); /* the root cause's file: where the diagnostic is */
    setenv("HUD_URL", fx->url, 1);
    setenv("HUD_KEY", fx->key, 1);
    setenv("HUD_SERVICE", "market", 1);
    setenv("HUD_ROOT", fx->market, 1);
    setenv("HUD_FILE", file, 1);
    setenv("HUD_OUT", out_path, 1);
    execlp("nvim", "nvim", "--headless", "--clean", "-u", "NONE", "-c", script, (char *)NULL);
    _exit(127);
  }
  int st = -1;
  for (int i = 0; i < 600 && waitpid(pid, &st, WNOHANG) == 0; i++) usleep(100000);
  if (waitpid(pid, NULL, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("nvim did not end within 60 s (log: %s)", log_path);
  }
  json_error_t je;
  json_t *got = json_load_file(out_path, 0, &je);
  if (!got) fail_msg("no output from nvim (%s; log: %s)", je.text, log_path);
  char *text = json_dumps(got, JSON_INDENT(1));
  printf("# what Neovim received: %s\n", text);
  free(text);
  assert_int_equal(json_array_size(json_object_get(got, "errors")), 0);
  json_t *want = json_pack(
      "{s:b,s:[{s:i,s:s}],s:{s:s,s:s},s:[{s:s,s:s,s:s,s:i,s:[i]}],"
      "s:[{s:s,s:s,s:s,s:i,s:[i]},{s:s,s:s,s:i,s:[i]}],s:[{s:i,s:i,s:i,s:s,s:s}]}",
      "call_hierarchy_provider", 1,
      "lenses", "line", 4, "title", "⚡ 200/min · p95 15 ms ▲88% · 0% err · ≠ prod (1.1.0)",
      "item", "name", "checkout", "detail", "200 calls/min · p95 15 ms",
      "incoming", "name", "view_cart", "detail", "200 calls/min · mean 12 ms", "path", "app/shop/views.py", "line", 3,
      "sites", 4,
      "outgoing", "name", "apply_discounts", "detail", "200 calls/min · mean 8.5 ms", "path", "app/shop/pricing.py",
      "line", 0, "sites", 5, "name", "compute_tax", "detail", "billing/tax.py · 200 calls/min · mean 1 ms", "line", 0,
      "sites", 6,
      "diagnostics", "line", 0, "col", 4, "severity", 3, "source", "hud", "message",
      "apply_discounts self time +7 ms per call (1.0.0 \u2192 1.1.0)\nits self time includes calls that are not "
      "instrumented\np = 2.7e-09");
  assert_non_null(want);
  if (!lspr_match(want, got)) {
    char *w = json_dumps(want, JSON_COMPACT);
    printf("# want %s\n", w);
    free(w);
    json_decref(want);
    json_decref(got);
    fail_msg("Neovim did not receive what was expected");
  }
  const char *hover = json_string_value(json_object_get(got, "hover"));
  assert_non_null(hover);
  assert_non_null(strstr(hover, "**checkout** — production, last 1h (market)"));
  json_decref(want);
  json_decref(got);
}

/* stdin and stdout regular files (a client that replays a session, `hud-lsp < in > out`): read with
 * uv_fs_read, written with write(2), the end of the file is the end of the session. */
static void test_stdio_files(void **state) {
  (void)state;
  char in_path[700], out_path[700];
  snprintf(in_path, sizeof in_path, "%s/session.in", fx->h.dir);
  snprintf(out_path, sizeof out_path, "%s/session.out", fx->h.dir);
  const char *msgs[] = {
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"capabilities\":{}}}",
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"shutdown\"}",
      "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}",
  };
  FILE *f = fopen(in_path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < 4; i++) fprintf(f, "Content-Length: %zu\r\n\r\n%s", strlen(msgs[i]), msgs[i]);
  fclose(f);
  char cmd[2400];
  snprintf(cmd, sizeof cmd, "XDG_CONFIG_HOME=%s %s/lsp/hud-lsp < %s > %s", fx->cfg_home, getenv("HUD_BUILD_DIR"),
           in_path, out_path);
  int st = system(cmd);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  f = fopen(out_path, "r");
  assert_non_null(f);
  char out[8192];
  size_t n = fread(out, 1, sizeof out - 1, f);
  fclose(f);
  out[n] = '\0';
  assert_non_null(strstr(out, "\"id\":1,\"result\":{\"capabilities\""));
  assert_non_null(strstr(out, "\"id\":2,\"error\":{\"code\":-32601"));
  assert_non_null(strstr(out, "\"id\":3,\"result\":null"));
  /* Without exit, the end of the file ends the session with code 1. */
  f = fopen(in_path, "w");
  fprintf(f, "Content-Length: %zu\r\n\r\n%s", strlen(msgs[0]), msgs[0]);
  fclose(f);
  st = system(cmd);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int is_transcript(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 4 && strcmp(d->d_name + n - 4, ".lsp") == 0;
}

int main(void) {
  const char *src = getenv("HUD_SOURCE_DIR");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/lsp/transcripts", src ? src : ".");
  struct dirent **ents = NULL;
  int n = scandir(dir, &ents, is_transcript, by_name);
  if (n < 0) {
    fprintf(stderr, "test_lsp: cannot read %s\n", dir);
    return 1;
  }
  const char *only = getenv("LSP_TRANSCRIPT"); /* run one transcript: LSP_TRANSCRIPT=lenses */
  struct CMUnitTest *tests = calloc((size_t)n + 8, sizeof *tests);
  char **paths = calloc((size_t)n + 8, sizeof *paths);
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    if (!only || strncmp(ents[i]->d_name, only, strlen(only)) == 0) {
      paths[k] = NULL;
      if (asprintf(&paths[k], "%s/%s", dir, ents[i]->d_name) < 0) return 1;
      tests[k] = (struct CMUnitTest){.name = strdup(ents[i]->d_name), .test_func = run_transcript,
                                     .initial_state = paths[k]};
      k++;
    }
    free(ents[i]);
  }
  free(ents);
  if (!only || !strcmp(only, "files"))
    tests[k++] = (struct CMUnitTest){.name = "stdio_files", .test_func = test_stdio_files};
  if (!only || !strcmp(only, "latency"))
    tests[k++] = (struct CMUnitTest){.name = "lens_latency_10k_lines", .test_func = test_lens_latency};
  /* Its own CTest entry (test_lsp_neovim): only when asked for. */
  if (only && !strcmp(only, "neovim"))
    tests[k++] = (struct CMUnitTest){.name = "neovim", .test_func = test_neovim};
  if (!only || !strcmp(only, "fade"))
    tests[k++] = (struct CMUnitTest){.name = "diagnostics_cleared", .test_func = test_diagnostics_cleared};
  if (!only || !strcmp(only, "skipped"))
    tests[k++] = (struct CMUnitTest){.name = "explain_skipped", .test_func = test_explain_skipped};
  if (!only || !strcmp(only, "inlaycache"))
    tests[k++] = (struct CMUnitTest){.name = "inlay_cached", .test_func = test_inlay_cached};
  if (!only || !strcmp(only, "offloop"))
    tests[k++] = (struct CMUnitTest){.name = "parse_off_loop", .test_func = test_parse_off_loop};
  /* LSP_SHARD=i/n keeps every n-th test from the i-th: CTest runs the suite as n shorter tests. */
  const char *shard = getenv("LSP_SHARD");
  unsigned si = 0, sn = 1;
  if (shard && sscanf(shard, "%u/%u", &si, &sn) == 2 && sn > 1 && si < sn) {
    size_t kept = 0;
    for (size_t i = 0; i < k; i++) {
      if (i % sn == si) {
        tests[kept] = tests[i];
        paths[kept++] = paths[i];
      } else {
        if (tests[i].test_func == run_transcript) free((char *)tests[i].name);
        free(paths[i]);
      }
    }
    k = kept;
  }
  int rc = _cmocka_run_group_tests("lsp", tests, k, setup, teardown);
  for (size_t i = 0; i < k; i++) {
    if (tests[i].test_func == run_transcript) free((char *)tests[i].name);
    free(paths[i]);
  }
  free(paths);
  free(tests);
  return rc;
}
