#include "batchgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "hud/sketch.h"

static uint64_t rnd(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double unif(uint64_t *s) { return ((double)(rnd(s) >> 11) + 0.5) / 9007199254740992.0; }

static double lognormal(uint64_t *s, double mu, double sigma) {
  double u1 = unif(s), u2 = unif(s);
  return exp(mu + sigma * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

static const char *const k_modules[] = {"shop/orders.py", "shop/cart.py", "shop/db.py", "shop/api/views.py",
                                        "shop/payments.py", "shop/util/cache.py"};
#define N_MODULES (sizeof k_modules / sizeof k_modules[0])

int batchgen_make(const batchgen_opts *o, hud_arena *a, hud_batch *b) {
  uint64_t s = o->seed * 7919 + 17;
  size_t nfn = o->n_functions ? o->n_functions : 50;
  size_t ninv = o->n_invocations ? o->n_invocations : 200;
  size_t nflow = o->n_flows ? o->n_flows : 3;
  hud_time_ns ts = o->timestamp;
  if (!ts) ts = ((hud_time_ns)time(NULL) / 60) * 60 * 1000000000LL;
  memset(b, 0, sizeof *b);
  b->schema_version = HUD_SCHEMA_VERSION;
  char name[64];
  snprintf(name, sizeof name, "batch-%llu", (unsigned long long)o->seed);
  hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, name, strlen(name), b->batch_id);
  b->service = o->service ? o->service : "shop";
  b->service_version = o->version ? o->version : "1.0.0";
  b->host = "bench-host";
  b->pid = 4242;
  b->runtime = "cpython 3.11.2";
  b->sensor_version = "0.1.0";
  b->sent_at = ts + 60000000000LL;
  b->overhead.interval_ns = 30000000000LL;
  b->overhead.cpu_ns = 12000000;
  b->overhead.cpu_fraction = 0.004;
  b->overhead.memory_bytes = 1 << 20;
  b->overhead.sample_rate = 1.0;

  b->n_declarations = nfn;
  b->declarations = hud_arena_calloc(a, nfn, sizeof *b->declarations);
  if (!b->declarations) return HUD_ENOMEM;
  for (size_t i = 0; i < nfn; i++) {
    hud_function_decl *d = &b->declarations[i];
    const char *mod = k_modules[i % N_MODULES];
    snprintf(name, sizeof name, "Handler%zu.run", i);
    d->name = hud_arena_strdup(a, name);
    d->module_path = mod;
    char file[128];
    snprintf(file, sizeof file, "/app/%s", mod);
    d->file = hud_arena_strdup(a, file);
    d->start_line = (int32_t)(10 + 20 * (i / N_MODULES));
    d->end_line = d->start_line + 12;
    d->is_async = (i % 7) == 0;
    hud_function_id(mod, d->name, d->function_id);
    hud_sha1_hex(name, strlen(name), d->source_code_hash);
  }

  b->n_flows = nflow;
  b->flows = hud_arena_calloc(a, nflow, sizeof *b->flows);
  if (!b->flows) return HUD_ENOMEM;
  static const char *const routes[] = {"/orders/<id>", "/cart", "/checkout", "/search", "/health"};
  for (size_t i = 0; i < nflow; i++) {
    hud_flow *f = &b->flows[i];
    f->kind = HUD_FLOW_ENDPOINT;
    f->method = i % 2 ? "POST" : "GET";
    f->route = routes[i % 5];
    hud_flow_id_endpoint(f->method, f->route, f->flow_id);
    f->timestamp = ts;
    f->timeslice = 60000000000LL;
    f->count = 100 + (int64_t)(rnd(&s) % 100);
    f->error_count = (int64_t)(rnd(&s) % 3);
    f->sampled_count = f->count;
    f->sum_duration = f->count * 20000000;
    f->sum_squared_duration = (double)f->count * 4e14;
    f->n_status_codes = 2;
    f->status_codes = hud_arena_calloc(a, 2, sizeof *f->status_codes);
    if (!f->status_codes) return HUD_ENOMEM;
    f->status_codes[0] = (hud_status_count){200, f->count - f->error_count};
    f->status_codes[1] = (hud_status_count){500, f->error_count};
  }

  b->n_invocations = ninv;
  b->invocations = hud_arena_calloc(a, ninv, sizeof *b->invocations);
  if (!b->invocations) return HUD_ENOMEM;
  hud_sketch *sk = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  if (!sk) return HUD_ENOMEM;
  for (size_t i = 0; i < ninv; i++) {
    hud_invocation *v = &b->invocations[i];
    size_t f = i % nfn;
    memcpy(v->function_id, b->declarations[f].function_id, sizeof v->function_id);
    v->has_caller = f != 0;
    if (v->has_caller) {
      size_t c = (f * 31 + i / nfn) % f; /* callers come earlier: a DAG */
      memcpy(v->caller.caller_function_id, b->declarations[c].function_id, sizeof v->function_id);
      v->caller.caller_module_path = b->declarations[c].module_path;
      v->caller.line = b->declarations[c].start_line + 3;
    } else {
      v->caller.caller_module_path = "";
    }
    memcpy(v->flow_id, b->flows[i % nflow].flow_id, sizeof v->flow_id);
    v->timestamp = ts;
    v->timeslice = 60000000000LL;
    v->count = 1 + (int64_t)(rnd(&s) % 500);
    v->sampled_count = v->count < 20 ? v->count : 20;
    double mu = log(1e5 * (double)(1 + f % 13));
    hud_sketch_clear(sk);
    double sum = 0, sumsq = 0;
    for (int64_t k = 0; k < v->sampled_count; k++) {
      double d = lognormal(&s, mu, 0.6);
      sum += d;
      sumsq += d * d;
      hud_sketch_add(sk, d);
    }
    v->sum_duration = (int64_t)sum;
    v->sum_squared_duration = sumsq;
    v->self_duration = (int64_t)(sum * 0.6);
    if (o->with_sketches >= 0) {
      hud_sketch_bins bins;
      if (hud_sketch_export(sk, &bins) == 0) {
        v->sketch = hud_arena_alloc(a, sizeof *v->sketch);
        if (v->sketch) {
          *v->sketch = bins;
          v->sketch->counts = hud_arena_calloc(a, bins.n ? bins.n : 1, sizeof *bins.counts);
          if (v->sketch->counts) memcpy(v->sketch->counts, bins.counts, bins.n * sizeof *bins.counts);
        }
        hud_sketch_bins_free(&bins);
      }
    }
    if (f % 11 == 5) {
      v->exceptions.n = 1;
      v->exceptions.items = hud_arena_calloc(a, 1, sizeof *v->exceptions.items);
      int64_t raised = 1 + (int64_t)(rnd(&s) % 3);
      if (raised > v->count) raised = v->count;
      if (v->exceptions.items) v->exceptions.items[0] = (hud_count_entry){"ValueError", raised};
      else v->exceptions.n = 0;
    }
  }
  hud_sketch_free(sk);

  b->n_exception_flows = 1;
  b->exception_flows = hud_arena_calloc(a, 1, sizeof *b->exception_flows);
  if (!b->exception_flows) return HUD_ENOMEM;
  hud_exception_flow *x = &b->exception_flows[0];
  x->exception_type = "ValueError";
  memcpy(x->origin_function_id, b->declarations[nfn > 5 ? 5 : 0].function_id, sizeof(hud_uuid));
  x->origin_line = 42;
  x->n_propagated = nfn > 1 ? 1 : 0;
  x->propagated_through = hud_arena_calloc(a, 1, sizeof(hud_uuid));
  if (!x->propagated_through) return HUD_ENOMEM;
  if (nfn > 1) memcpy(x->propagated_through[0], b->declarations[1].function_id, sizeof(hud_uuid));
  memcpy(x->flow_id, b->flows[0].flow_id, sizeof(hud_uuid));
  x->timestamp = ts;
  x->timeslice = 60000000000LL;
  x->count = 2;
  x->escaped = true;

  b->n_flow_functions = nfn < 10 ? nfn : 10;
  b->flow_functions = hud_arena_calloc(a, b->n_flow_functions, sizeof *b->flow_functions);
  if (!b->flow_functions) return HUD_ENOMEM;
  for (size_t i = 0; i < b->n_flow_functions; i++) {
    hud_flow_function *ff = &b->flow_functions[i];
    memcpy(ff->flow_id, b->flows[i % nflow].flow_id, sizeof(hud_uuid));
    memcpy(ff->function_id, b->declarations[i].function_id, sizeof(hud_uuid));
    ff->timestamp = ts;
    ff->timeslice = 60000000000LL;
    ff->count = 10;
    ff->sampled_count = 10;
    ff->sum_duration = 1000000;
    ff->self_duration = 500000;
  }
  return 0;
}

int batchgen_encode(const hud_batch *b, int gzip, void **body, size_t *len) {
  char *json;
  size_t jl;
  hud_codec_error err;
  int rc = hud_batch_encode(b, &json, &jl, &err);
  if (rc < 0) {
    fprintf(stderr, "batchgen: encode: %s\n", err.message);
    return rc;
  }
  if (!gzip) {
    *body = json;
    *len = jl;
    return 0;
  }
  rc = hud_gzip_encode(json, jl, 1, body, len);
  free(json);
  return rc;
}
