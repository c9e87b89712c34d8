/* The sender: a native thread that turns each period into a batch (common codec), keeps a
 * bounded backlog and posts it to hud-server (common client) with retries and backoff.
 *
 * It never blocks the application: the only time it holds the runtime's lock (sns_rt_ops) is
 * the snapshot (a pointer swap, closing open exception paths, call-site line lookups);
 * encoding, compression and HTTP run without it. A failing backend costs nothing but memory,
 * which the backlog bounds. */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hud/client.h"
#include "hud/codec.h"
#include "hud/config.h"
#include "hud/err.h"
#include "hud/identity.h"
#include "hud/version.h"

typedef struct pending {
  char *json;
  size_t len;
  hud_uuid batch_id;
  int64_t decls, invocations, xflows, flows, flow_functions; /* for drop accounting */
  hud_dropped carried;      /* drop counters this batch reports; back to S.dropped if it is lost */
  uint32_t decl_from;       /* first declaration it carries (re-sent when the batch is lost) */
  struct pending *next;
} pending;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;      /* sender waits on it */
  pthread_cond_t done;      /* flush()/shutdown() wait on it */
  pthread_mutex_t rt_mu;    /* held around every runtime lock taken by the sender */
  pthread_t thread;
  bool running;
  bool stop;
  bool rt_dead;             /* the runtime is finalizing: never take its lock again */
  const sns_rt_ops *ops;
  uint64_t flush_req;       /* flush requests issued */
  uint64_t flush_done;      /* requests whose snapshot was taken and send attempted */
  bool last_send_ok;
  pending *head, *tail;
  int n_backlog;
  size_t backlog_bytes;
  /* Settings. */
  sns_settings s;
  hud_config *cfg;
  hud_client *client;
  char *version_frozen;
  /* State owned by the sender thread. */
  sns_period *spare;
  uint32_t decl_sent;
  int64_t *debt;            /* per function: timed calls carried over periods (sampled <= count) */
  size_t debt_cap;
  hud_dropped dropped;      /* not yet put into a batch */
  hud_dropped dropped_total;
  int64_t batches_sent, batches_failed, send_errors;
  int64_t last_status;
  char last_error[256];
  double cpu_prev_proc, cpu_prev_thread;
  uint64_t calls_total, samples_total;
  int64_t xflows_cut_total;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER,
       .rt_mu = PTHREAD_MUTEX_INITIALIZER};

static FILE *log_fp;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void sns_log(const char *fmt, ...) {
  if (!log_fp) return;
  pthread_mutex_lock(&log_mu);
  char ts[HUD_TIME_STRLEN + 1];
  hud_time_format(sns_wall_ns(), ts);
  fprintf(log_fp, "%s hud[%d] ", ts, (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log_fp, fmt, ap);
  va_end(ap);
  fputc('\n', log_fp);
  fflush(log_fp);
  pthread_mutex_unlock(&log_mu);
}

static double cpu_seconds(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void random_uuid(hud_uuid out) {
  unsigned char b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    uint64_t t = (uint64_t)sns_wall_ns() ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < 16; i++) b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 37);
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  static const char hx[] = "0123456789abcdef";
  int k = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
    out[k++] = hx[b[i] >> 4];
    out[k++] = hx[b[i] & 15];
  }
  out[k] = 0;
}

/* ---- version: HUD_VERSION, else a hash over the declarations known at the first batch ---- */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *declarations_hash(uint32_t nfns) {
  char **keys = calloc(nfns ? nfns : 1, sizeof *keys);
  if (!keys) return strdup("unknown");
  size_t total = 0;
  for (uint32_t i = 0; i < nfns; i++) {
    sns_fn *f = sns_fn_at(i);
    keys[i] = malloc(HUD_UUID_STRLEN + HUD_SHA1_HEXLEN + 3);
    if (!keys[i]) continue;
    snprintf(keys[i], HUD_UUID_STRLEN + HUD_SHA1_HEXLEN + 3, "%s:%s\n", f->function_id, f->source_hash);
    total += strlen(keys[i]);
  }
  for (uint32_t i = 0; i < nfns; i++)
    if (!keys[i]) keys[i] = strdup("");
  qsort(keys, nfns, sizeof *keys, cmp_str);
  char *buf = malloc(total + 1), *p = buf;
  for (uint32_t i = 0; i < nfns; i++) {
    if (buf && keys[i]) {
      size_t l = strlen(keys[i]);
      memcpy(p, keys[i], l);
      p += l;
    }
    free(keys[i]);
  }
  free(keys);
  char hex[HUD_SHA1_HEXLEN + 1];
  hud_sha1_hex(buf ? buf : "", buf ? (size_t)(p - buf) : 0, hex);
  free(buf);
  hex[12] = 0;
  return strdup(hex);
}

/* ---- batch building ---- */
static void debt_ensure(uint32_t nfns) {
  if (nfns <= S.debt_cap) return;
  size_t ncap = S.debt_cap ? S.debt_cap : 1024;
  while (ncap < nfns) ncap *= 2;
  int64_t *nd = calloc(ncap, sizeof *nd);
  if (!nd) return;
  if (S.debt) memcpy(nd, S.debt, S.debt_cap * sizeof *nd);
  free(S.debt);
  S.debt = nd;
  S.debt_cap = ncap;
}

static hud_sketch_bins *export_sketch(hud_arena *a, const hud_sketch *sk) {
  if (!sk || hud_sketch_count(sk) == 0) return NULL;
  hud_sketch_bins tmp;
  if (hud_sketch_export(sk, &tmp) != 0) return NULL;
  hud_sketch_bins *b = hud_arena_alloc(a, sizeof *b);
  uint64_t *c = tmp.n ? hud_arena_calloc(a, tmp.n, sizeof *c) : NULL;
  if (b && (c || !tmp.n)) {
    *b = tmp;
    if (tmp.n) memcpy(c, tmp.counts, tmp.n * sizeof *c);
    b->counts = c;
  } else {
    b = NULL;
  }
  hud_sketch_bins_free(&tmp);
  return b;
}

static void set_call_site(hud_invocation *inv, const sns_edge *e) {
  if (e->caller == SNS_NONE) {
    inv->has_caller = false;
    inv->caller.caller_function_id[0] = 0;
    inv->caller.caller_module_path = "";
    inv->caller.line = 0;
    return;
  }
  sns_fn *c = sns_fn_at(e->caller);
  inv->has_caller = true;
  memcpy(inv->caller.caller_function_id, c->function_id, sizeof(hud_uuid));
  inv->caller.caller_module_path = c->module_path;
  inv->caller.line = e->line;
}

/* A batch that will never be acknowledged: its content and the drops it carried are counted
 * again, to be reported by the next batch. Call with S.mu held or from the sender alone. */
static void lose(const pending *pd, const hud_dropped *carried) {
  hud_dropped *d = &S.dropped;
  d->batches += carried->batches + 1;
  /* Declarations are never lost for good: the next batch carries them again. */
  d->declarations += carried->declarations;
  if (pd && pd->decls && pd->decl_from < S.decl_sent) S.decl_sent = pd->decl_from;
  d->invocations += carried->invocations + (pd ? pd->invocations : 0);
  d->exception_flows += carried->exception_flows + (pd ? pd->xflows : 0);
  d->flows += carried->flows + (pd ? pd->flows : 0);
  d->flow_functions += carried->flow_functions + (pd ? pd->flow_functions : 0);
  d->bytes += carried->bytes + (int64_t)(pd ? pd->len : 0);
  S.dropped_total.batches++;
}

/* Builds and encodes the batch of period P (retired) plus declarations [decl_sent, nfns). */
static pending *build_batch(sns_period *p, uint32_t nfns, hud_time_ns end_wall, double interval_ns) {
  hud_arena *a = hud_arena_new();
  if (!a) return NULL;
  hud_batch b;
  memset(&b, 0, sizeof b);
  b.schema_version = HUD_SCHEMA_VERSION;
  random_uuid(b.batch_id);
  b.service = S.s.service ? S.s.service : "unknown";
  b.environment = S.s.environment;
  b.service_version = S.version_frozen;
  b.host = S.s.host ? S.s.host : "localhost";
  b.pid = getpid();
  b.runtime = S.s.runtime ? S.s.runtime : "unknown";
  b.sensor_version = S.s.sensor_version ? S.s.sensor_version : "hud/" HUD_VERSION_STRING;
  b.sent_at = end_wall;
  b.tags = S.s.tags;
  b.n_tags = S.s.n_tags;
  int64_t slice = end_wall - p->start_wall;
  if (slice <= 0) slice = 1;

  /* Declarations. */
  uint32_t nd = nfns > S.decl_sent ? nfns - S.decl_sent : 0;
  if (nd > 50000) nd = 50000; /* the rest goes with the next batch */
  b.declarations = nd ? hud_arena_calloc(a, nd, sizeof *b.declarations) : NULL;
  for (uint32_t k = 0; k < nd && b.declarations; k++) {
    sns_fn *f = sns_fn_at(S.decl_sent + k);
    hud_function_decl *d = &b.declarations[b.n_declarations++];
    memcpy(d->function_id, f->function_id, sizeof(hud_uuid));
    d->name = f->qualname;
    d->file = f->file;
    d->module_path = f->module_path;
    d->start_line = f->start_line;
    d->end_line = f->end_line < f->start_line ? f->start_line : f->end_line;
    d->is_async = f->is_async;
    d->is_generator = f->is_generator;
    memcpy(d->source_code_hash, f->source_hash, sizeof d->source_code_hash);
  }

  /* Invocations, exceptions per edge, flow x function links. */
  debt_ensure(nfns);
  uint32_t *inv_of = calloc(p->ecap, sizeof *inv_of);
  int64_t *exc_sum = calloc(p->ecap, sizeof *exc_sum);
  b.invocations = p->en ? hud_arena_calloc(a, p->en, sizeof *b.invocations) : NULL;
  size_t nff_cap = p->en ? p->en : 1;
  hud_flow_function *ff = hud_arena_calloc(a, nff_cap, sizeof *ff);
  size_t nff = 0;
  if (inv_of && exc_sum && (b.invocations || !p->en) && ff) {
    for (uint32_t i = 0; i < p->xcap; i++) {
      sns_exc *x = &p->excs[i];
      if (x->fn == SNS_NONE) continue;
      sns_edge *e = sns_edge_find(p, x->fn, x->caller, x->off, x->flow);
      if (e) exc_sum[e - p->edges] += x->count;
    }
    for (uint32_t i = 0; i < p->ecap; i++) {
      sns_edge *e = &p->edges[i];
      if (e->fn == SNS_NONE || e->fn >= nfns) continue;
      sns_fn *f = sns_fn_at(e->fn);
      hud_invocation *inv = &b.invocations[b.n_invocations];
      inv_of[i] = (uint32_t)b.n_invocations + 1;
      b.n_invocations++;
      memcpy(inv->function_id, f->function_id, sizeof(hud_uuid));
      set_call_site(inv, e);
      if (e->flow && e->flow <= sns_nflows) memcpy(inv->flow_id, sns_flowdefs[e->flow].flow_id, sizeof(hud_uuid));
      inv->timestamp = p->start_wall;
      inv->timeslice = slice;
      /* A call that ends (timed, or raising) in this period may have been counted in the
       * previous one: the wire wants sampled_count and exceptions <= count per record, so such
       * calls are moved here and taken off the function's next records (totals stay exact). */
      int64_t count = e->count;
      int64_t need = e->sampled > exc_sum[i] ? e->sampled : exc_sum[i];
      if (S.debt && e->fn < S.debt_cap) {
        int64_t pay = S.debt[e->fn] < count - need ? S.debt[e->fn] : count - need;
        if (pay > 0) {
          count -= pay;
          S.debt[e->fn] -= pay;
        }
      }
      if (need > count) {
        if (S.debt && e->fn < S.debt_cap) S.debt[e->fn] += need - count;
        count = need;
      }
      inv->count = count;
      inv->sampled_count = e->sampled;
      inv->sum_duration = e->sum_ns;
      inv->sum_squared_duration = e->sumsq;
      inv->self_duration = e->self_ns;
      inv->sketch = export_sketch(a, e->sketch);
      if (e->flow && e->flow <= sns_nflows) {
        /* Merge into the (flow, function) link; linear over links of this flow is fine for
         * the sizes seen (edges per flow are few compared with edges overall). */
        hud_flow_function *l = NULL;
        for (size_t k = 0; k < nff; k++) {
          if (!strcmp(ff[k].flow_id, inv->flow_id) && !strcmp(ff[k].function_id, inv->function_id)) {
            l = &ff[k];
            break;
          }
        }
        if (!l) {
          l = &ff[nff++];
          memcpy(l->flow_id, inv->flow_id, sizeof(hud_uuid));
          memcpy(l->function_id, inv->function_id, sizeof(hud_uuid));
          l->timestamp = p->start_wall;
          l->timeslice = slice;
        }
        l->count += count;
        l->error_count += exc_sum[i];
        l->sampled_count += e->sampled;
        l->sum_duration += e->sum_ns;
        l->self_duration += e->self_ns;
      }
    }
    /* Exceptions: count map per invocation. */
    for (uint32_t i = 0; i < p->xcap; i++) {
      sns_exc *x = &p->excs[i];
      if (x->fn == SNS_NONE) continue;
      sns_edge *e = sns_edge_find(p, x->fn, x->caller, x->off, x->flow);
      if (!e || !inv_of[e - p->edges]) continue;
      hud_invocation *inv = &b.invocations[inv_of[e - p->edges] - 1];
      hud_count_map *m = &inv->exceptions;
      hud_count_entry *ni = hud_arena_calloc(a, m->n + 1, sizeof *ni);
      if (!ni) continue;
      if (m->n) memcpy(ni, m->items, m->n * sizeof *ni);
      ni[m->n].key = x->type;
      ni[m->n].count = x->count;
      m->items = ni;
      m->n++;
    }
  }
  free(exc_sum);
  free(inv_of);
  b.flow_functions = ff;
  b.n_flow_functions = nff;

  /* Exception flows. */
  b.exception_flows = p->fn ? hud_arena_calloc(a, p->fn, sizeof *b.exception_flows) : NULL;
  for (uint32_t i = 0; i < p->fcap && b.exception_flows; i++) {
    sns_xflow *x = &p->xflows[i];
    if (!x->hash || !x->count || x->path[0] >= nfns) continue; /* 0: moved (sns_xpath_escaped) */
    hud_exception_flow *o = &b.exception_flows[b.n_exception_flows++];
    o->exception_type = x->type;
    memcpy(o->origin_function_id, sns_fn_at(x->path[0])->function_id, sizeof(hud_uuid));
    o->origin_line = x->origin_line;
    o->n_propagated = x->n > 1 ? x->n - 1 : 0;
    o->propagated_through = o->n_propagated ? hud_arena_calloc(a, o->n_propagated, sizeof(hud_uuid)) : NULL;
    for (size_t k = 0; k < o->n_propagated && o->propagated_through; k++)
      memcpy(o->propagated_through[k], sns_fn_at(x->path[k + 1])->function_id, sizeof(hud_uuid));
    if (!o->propagated_through) o->n_propagated = 0;
    if (x->catcher != SNS_NONE && x->catcher < nfns)
      memcpy(o->caught_in_function_id, sns_fn_at(x->catcher)->function_id, sizeof(hud_uuid));
    o->escaped = o->caught_in_function_id[0] == 0;
    if (x->flow && x->flow <= sns_nflows) memcpy(o->flow_id, sns_flowdefs[x->flow].flow_id, sizeof(hud_uuid));
    o->timestamp = p->start_wall;
    o->timeslice = slice;
    o->count = x->count;
  }

  /* Flows. */
  uint32_t nflows = 0;
  for (uint32_t i = 1; i < p->flows_cap; i++)
    if (p->flows[i].count) nflows++;
  b.flows = nflows ? hud_arena_calloc(a, nflows, sizeof *b.flows) : NULL;
  for (uint32_t i = 1; i < p->flows_cap && b.flows && i <= sns_nflows; i++) {
    sns_flow_stat *fs = &p->flows[i];
    if (!fs->count) continue;
    sns_flowdef *d = &sns_flowdefs[i];
    hud_flow *o = &b.flows[b.n_flows++];
    memcpy(o->flow_id, d->flow_id, sizeof(hud_uuid));
    o->kind = d->kind;
    o->method = d->method;
    o->route = d->route;
    o->task_name = d->task;
    o->queue = d->queue;
    o->timestamp = p->start_wall;
    o->timeslice = slice;
    o->count = fs->count;
    o->error_count = fs->errors;
    o->sampled_count = fs->count;
    o->sum_duration = fs->sum_ns;
    o->sum_squared_duration = fs->sumsq;
    o->sketch = export_sketch(a, fs->sketch);
    int ns = 0;
    while (ns < SNS_FLOW_MAX_STATUS && fs->status[ns]) ns++;
    if (ns && d->kind == HUD_FLOW_ENDPOINT) {
      o->status_codes = hud_arena_calloc(a, (size_t)ns, sizeof *o->status_codes);
      for (int k = 0; k < ns && o->status_codes; k++) {
        o->status_codes[k].status = fs->status[k];
        o->status_codes[k].count = fs->status_count[k];
      }
      o->n_status_codes = o->status_codes ? (size_t)ns : 0;
    }
    int ne = 0;
    while (ne < SNS_FLOW_MAX_EXC && fs->exc[ne]) ne++;
    if (ne) {
      o->exceptions.items = hud_arena_calloc(a, (size_t)ne, sizeof *o->exceptions.items);
      for (int k = 0; k < ne && o->exceptions.items; k++) {
        o->exceptions.items[k].key = fs->exc[k];
        o->exceptions.items[k].count = fs->exc_count[k];
      }
      o->exceptions.n = o->exceptions.items ? (size_t)ne : 0;
    }
  }

  /* The sensor's own cost. */
  double proc = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID), thr = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  double hook_ns = (double)p->calls * sns_cal_call_ns + (double)p->samples * sns_cal_sample_ns +
                   (double)p->extra_ns; /* the import-time rewrite, charged by the runtime */
  double sender_ns = (thr - S.cpu_prev_thread) * 1e9;
  double proc_ns = (proc - S.cpu_prev_proc) * 1e9;
  S.cpu_prev_proc = proc;
  S.cpu_prev_thread = thr;
  b.overhead.interval_ns = (int64_t)interval_ns;
  b.overhead.cpu_ns = (int64_t)(hook_ns + sender_ns);
  b.overhead.cpu_fraction = proc_ns > 0 ? (hook_ns + sender_ns) / proc_ns : 0;
  if (b.overhead.cpu_fraction > 1) b.overhead.cpu_fraction = 1;
  b.overhead.memory_bytes = sns_mem_bytes + (int64_t)S.backlog_bytes;
  b.overhead.sample_rate = p->calls ? (double)p->samples / (double)p->calls : 0;
  if (b.overhead.sample_rate > 1) b.overhead.sample_rate = 1;
  S.calls_total += p->calls;
  S.samples_total += p->samples;
  S.dropped.invocations += p->dropped_invocations;
  /* The protocol has no field for a cut path: the events whose path was cut at its limit are
   * counted as (partly) dropped exception flows (docs/protocol.md, exception_flow). */
  S.dropped.exception_flows += p->dropped_xflows + p->cut_xflows;
  S.xflows_cut_total += p->cut_xflows;
  pthread_mutex_lock(&S.mu);
  b.dropped = S.dropped;
  memset(&S.dropped, 0, sizeof S.dropped);
  pthread_mutex_unlock(&S.mu);

  pending *pd = calloc(1, sizeof *pd);
  hud_codec_error err;
  if (!pd || hud_batch_encode(&b, &pd->json, &pd->len, &err) != 0) {
    if (pd) sns_log("batch encoding failed: %s", err.message);
    pending lost = {.decls = (int64_t)b.n_declarations, .invocations = (int64_t)b.n_invocations,
                    .xflows = (int64_t)b.n_exception_flows, .flows = (int64_t)b.n_flows,
                    .flow_functions = (int64_t)b.n_flow_functions, .decl_from = S.decl_sent};
    pthread_mutex_lock(&S.mu);
    lose(&lost, &b.dropped);
    pthread_mutex_unlock(&S.mu);
    free(pd);
    hud_arena_free(a);
    return NULL;
  }
  memcpy(pd->batch_id, b.batch_id, sizeof(hud_uuid));
  pd->carried = b.dropped;
  pd->decl_from = S.decl_sent;
  pd->decls = (int64_t)b.n_declarations;
  pd->invocations = (int64_t)b.n_invocations;
  pd->xflows = (int64_t)b.n_exception_flows;
  pd->flows = (int64_t)b.n_flows;
  pd->flow_functions = (int64_t)b.n_flow_functions;
  S.decl_sent += nd;
  hud_arena_free(a);
  return pd;
}

/* Drops the oldest batches until one more fits. Before the next batch is built: a dropped batch's
 * declarations are then carried by that batch (lose()), also when it is the last one at exit. */
static void backlog_make_room(void) {
  pthread_mutex_lock(&S.mu);
  while (S.n_backlog >= S.s.backlog_max && S.head) {
    pending *old = S.head;
    S.head = old->next;
    if (!S.head) S.tail = NULL;
    S.n_backlog--;
    S.backlog_bytes -= old->len;
    lose(old, &old->carried);
    sns_log("backlog full: dropped batch %s (%zu bytes)", old->batch_id, old->len);
    free(old->json);
    free(old);
  }
  pthread_mutex_unlock(&S.mu);
}

static void backlog_push(pending *pd) {
  pthread_mutex_lock(&S.mu);
  if (S.tail)
    S.tail->next = pd;
  else
    S.head = pd;
  S.tail = pd;
  S.n_backlog++;
  S.backlog_bytes += pd->len;
  pthread_mutex_unlock(&S.mu);
}

/* Sends the backlog head. Returns 0 when sent or dropped for good, <0 to retry later. */
static int send_one(void) {
  pthread_mutex_lock(&S.mu);
  pending *pd = S.head;
  pthread_mutex_unlock(&S.mu);
  if (!pd) return 0;
  if (!S.client) {
    if (hud_client_new(&S.client, S.cfg, S.last_error, sizeof S.last_error) != 0) {
      return HUD_ECONFIG;
    }
  }
  hud_result res;
  memset(&res, 0, sizeof res);
  int rc = hud_client_post_json(S.client, "/v1/ingest", pd->json, pd->len, true, &res);
  S.last_status = res.status;
  bool permanent = rc == HUD_EAUTH || rc == HUD_EFORBIDDEN || rc == HUD_ETOOBIG ||
                   (res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429);
  if (rc != 0) {
    snprintf(S.last_error, sizeof S.last_error, "%s (HTTP %ld): %s", hud_strerror(rc), res.status,
             res.message ? res.message : "");
    sns_log("send %s failed: %s", pd->batch_id, S.last_error);
    S.send_errors++;
  }
  hud_result_clear(&res);
  if (rc != 0 && !permanent) return rc;
  pthread_mutex_lock(&S.mu);
  S.head = pd->next;
  if (!S.head) S.tail = NULL;
  S.n_backlog--;
  S.backlog_bytes -= pd->len;
  if (rc == 0) {
    S.batches_sent++;
  } else {
    S.batches_failed++;
    lose(pd, &pd->carried);
  }
  pthread_mutex_unlock(&S.mu);
  if (rc == 0) sns_log("sent batch %s (%zu bytes json)", pd->batch_id, pd->len);
  free(pd->json);
  free(pd);
  return 0;
}

/* Under the runtime lock: closes the open exception paths and swaps periods. FINAL: the last
 * snapshot before exit (calls still running stay in the retired period). Returns the retired
 * period (owned by the sender until sns_period_clear). */
static sns_period *snapshot_locked(sns_period *fresh, bool final, uint32_t *nfns_out) {
  sns_xpaths_close();
  sns_period *old = sns_cur;
  fresh->start_wall = sns_wall_ns();
  fresh->start_ticks = sns_ticks();
  sns_cur = fresh;
  if (S.ops->move_running) S.ops->move_running(old, fresh, final);
  *nfns_out = sns_nfns;
  sns_clock_refine();
  /* Call-site lines need the runtime's view of the caller: resolve them now. */
  old->calls = 0;
  for (uint32_t i = 0; i < old->ecap; i++) {
    sns_edge *e = &old->edges[i];
    if (e->fn == SNS_NONE) continue;
    old->calls += (uint64_t)e->count;
    e->line = 0;
    if (e->caller != SNS_NONE && S.ops->call_line) e->line = S.ops->call_line(sns_fn_at(e->caller), e->off);
    if (e->line < 0) e->line = 0;
  }
  return old;
}

/* Takes a snapshot under the runtime lock and queues its batch (FINAL: the last one, at exit).
 * False if the runtime is gone. */
static bool snapshot_and_queue(bool final) {
  if (!S.spare) S.spare = sns_period_new();
  if (!S.spare) return true;
  pthread_mutex_lock(&S.rt_mu);
  if (S.rt_dead || !S.ops->lock()) {
    pthread_mutex_unlock(&S.rt_mu);
    return false;
  }
  uint32_t nfns;
  sns_period *old = snapshot_locked(S.spare, final, &nfns);
  if (!S.version_frozen) S.version_frozen = S.s.version ? strdup(S.s.version) : declarations_hash(nfns);
  S.ops->unlock();
  pthread_mutex_unlock(&S.rt_mu);
  S.spare = NULL;
  hud_time_ns now = sns_wall_ns();
  double interval_ns = (double)(now - old->start_wall);
  sns_adapt_sampling(old, S.s.budget);
  bool empty = old->en == 0 && old->fn == 0 && S.decl_sent >= nfns;
  for (uint32_t i = 1; i < old->flows_cap && empty; i++)
    if (old->flows[i].count) empty = false;
  if (!empty) {
    backlog_make_room();
    pending *pd = build_batch(old, nfns, now, interval_ns);
    if (pd) backlog_push(pd);
  }
  sns_period_clear(old);
  S.spare = old;
  return true;
}

/* Once a second, lowers the quota from the running period, under the runtime lock: before the
 * first snapshot the quota has not been adapted yet, and after a quiet period it was adapted to
 * that period's few edges (up to 100,000 timed calls per function per second). Many hot
 * functions or a slow run then keep within the budget within a second, not only after the next
 * batch. */
static void adapt_early(void) {
  pthread_mutex_lock(&S.rt_mu);
  if (!S.rt_dead && S.ops->lock()) {
    sns_adapt_sampling_early(sns_cur, S.s.budget);
    S.ops->unlock();
  }
  pthread_mutex_unlock(&S.rt_mu);
}

static void *sender_main(void *arg) {
  (void)arg;
  double backoff = 0.5, retry_at = 0;
  double next_flush = cpu_seconds(CLOCK_MONOTONIC) + S.s.interval_s;
  double next_early = cpu_seconds(CLOCK_MONOTONIC) + 1.0;
  S.cpu_prev_thread = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  for (;;) {
    pthread_mutex_lock(&S.mu);
    for (;;) {
      double now = cpu_seconds(CLOCK_MONOTONIC);
      if (S.stop || S.flush_req != S.flush_done || now >= next_flush || (S.head && now >= retry_at)) break;
      if (now >= next_early) break;
      double until = next_flush;
      if (S.head && retry_at < until) until = retry_at;
      if (next_early < until) until = next_early;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      double wait = until - now;
      if (wait > 1.0) wait = 1.0;
      long long ns = (long long)ts.tv_nsec + (long long)(wait * 1e9);
      ts.tv_sec += ns / 1000000000LL;
      ts.tv_nsec = ns % 1000000000LL;
      pthread_cond_timedwait(&S.wake, &S.mu, &ts);
    }
    uint64_t req = S.flush_req;
    bool stop = S.stop;
    bool want_snap = stop || req != S.flush_done || cpu_seconds(CLOCK_MONOTONIC) >= next_flush;
    pthread_mutex_unlock(&S.mu);

    if (!want_snap && cpu_seconds(CLOCK_MONOTONIC) >= next_early) {
      adapt_early();
      next_early = cpu_seconds(CLOCK_MONOTONIC) + 1.0;
    }
    bool alive = true;
    if (want_snap) {
      alive = snapshot_and_queue(stop);
      next_flush = cpu_seconds(CLOCK_MONOTONIC) + S.s.interval_s;
      /* An explicit flush and the final one send now, whatever the backoff. */
      if (stop || req != S.flush_done) retry_at = 0;
    }
    bool ok = true;
    if (stop) {
      /* Final flush: retry briefly until the exit budget (shutdown waits 2 s) is nearly spent. */
      double deadline = cpu_seconds(CLOCK_MONOTONIC) + 1.8;
      for (;;) {
        pthread_mutex_lock(&S.mu);
        bool have = S.head != NULL;
        pthread_mutex_unlock(&S.mu);
        if (!have) break;
        int rc = send_one();
        if (rc != 0) {
          /* Nothing listens (connection refused): waiting out the budget would not change that,
           * and the program would take 2 s longer to exit. */
          if (rc == HUD_ECONNECT || cpu_seconds(CLOCK_MONOTONIC) + 0.2 >= deadline) {
            ok = false;
            break;
          }
          struct timespec nap = {0, 200000000};
          nanosleep(&nap, NULL);
        }
      }
    }
    while (alive && !stop) {
      pthread_mutex_lock(&S.mu);
      bool have = S.head != NULL;
      pthread_mutex_unlock(&S.mu);
      if (!have) break;
      if (cpu_seconds(CLOCK_MONOTONIC) < retry_at) {
        ok = false;
        break;
      }
      if (send_one() != 0) {
        ok = false;
        retry_at = cpu_seconds(CLOCK_MONOTONIC) + backoff;
        backoff = backoff * 2 > 60 ? 60 : backoff * 2;
        break;
      }
      backoff = 0.5;
    }
    pthread_mutex_lock(&S.mu);
    if (want_snap) {
      S.flush_done = req;
      S.last_send_ok = ok;
      pthread_cond_broadcast(&S.done);
    }
    pthread_mutex_unlock(&S.mu);
    /* Quit only after a pass that saw the stop request: a stop that arrives while a periodic
     * batch is being sent still gets its final snapshot on the next pass. */
    if (stop) break;
  }
  pthread_mutex_lock(&S.mu);
  S.running = false;
  pthread_cond_broadcast(&S.done);
  pthread_mutex_unlock(&S.mu);
  return NULL;
}

static int start_thread(void) {
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  S.stop = false;
  S.running = true;
  int rc = pthread_create(&S.thread, &at, sender_main, NULL);
  pthread_attr_destroy(&at);
  if (rc != 0) {
    S.running = false;
    return -1;
  }
  return 0;
}

static void settings_free(sns_settings *s) {
  free(s->service);
  free(s->version);
  free(s->environment);
  free(s->host);
  free(s->runtime);
  free(s->log_file);
  for (size_t i = 0; i < s->n_tags; i++) {
    free((char *)s->tags[i].key);
    free((char *)s->tags[i].value);
  }
  free(s->tags);
  memset(s, 0, sizeof *s);
}

int sns_sender_start(sns_settings *in, const sns_rt_ops *ops, char *err, size_t errlen) {
  if (S.running) {
    settings_free(in);
    return 0;
  }
  settings_free(&S.s);
  S.s = *in;
  memset(in, 0, sizeof *in);
  S.ops = ops;
  if (S.s.interval_s < 0.05) S.s.interval_s = 0.05;
  if (S.s.backlog_max < 1) S.s.backlog_max = 1;
  if (S.s.log_file && !log_fp) log_fp = fopen(S.s.log_file, "a");

  /* Shared configuration: defaults < file < env (HUD_URL, HUD_KEY, ...) < init() arguments. */
  if (!S.cfg) {
    if (hud_config_new(&S.cfg, "sensor") != 0) {
      snprintf(err, errlen, "out of memory");
      return HUD_ENOMEM;
    }
    if (hud_config_load(S.cfg, NULL) != 0) {
      snprintf(err, errlen, "configuration: %s", hud_config_error(S.cfg));
      hud_config_free(S.cfg);
      S.cfg = NULL;
      return HUD_ECONFIG;
    }
  }
  for (size_t i = 0; i < S.s.n_flags; i++) {
    const char *k = S.s.flags[2 * i], *v = S.s.flags[2 * i + 1];
    if (k && v && hud_config_set(S.cfg, k, v, HUD_CFG_SRC_FLAG) != 0) {
      snprintf(err, errlen, "%s: %s", k, hud_config_error(S.cfg));
      return HUD_ECONFIG;
    }
  }
  S.s.n_flags = 0; /* the values were the caller's, valid only during this call */
  if (!S.s.service) {
    const char *sv = hud_config_str(S.cfg, HUD_CFG_SERVICE);
    if (sv && *sv) S.s.service = strdup(sv);
  }
  if (!S.s.environment) {
    const char *ev = hud_config_str(S.cfg, HUD_CFG_ENV);
    if (ev && *ev) S.s.environment = strdup(ev);
  }
  char cerr[512] = "";
  if (hud_client_new(&S.client, S.cfg, cerr, sizeof cerr) != 0) {
    snprintf(err, errlen, "backend client: %s", cerr);
    return HUD_ECONFIG;
  }
  S.cpu_prev_proc = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  if (start_thread() != 0) {
    snprintf(err, errlen, "cannot start the sender thread");
    return HUD_EIO;
  }
  sns_log("started: service=%s url=%s interval=%.2fs", S.s.service ? S.s.service : "?",
          hud_config_str(S.cfg, HUD_CFG_URL), S.s.interval_s);
  return 0;
}

/* Waits until a flush requested now has been attempted. */
int sns_sender_flush(double timeout_s) {
  if (!S.running) return -1;
  int rc = -1;
  pthread_mutex_lock(&S.mu);
  uint64_t want = ++S.flush_req;
  pthread_cond_signal(&S.wake);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ns = (long long)ts.tv_nsec + (long long)(timeout_s * 1e9);
  ts.tv_sec += ns / 1000000000LL;
  ts.tv_nsec = ns % 1000000000LL;
  while (S.running && S.flush_done < want) {
    if (pthread_cond_timedwait(&S.done, &S.mu, &ts) == ETIMEDOUT) break;
  }
  if (S.flush_done >= want && S.last_send_ok) rc = 0;
  pthread_mutex_unlock(&S.mu);
  return rc;
}

int sns_sender_shutdown(double timeout_s) {
  if (!S.running) return -1;
  int rc = -1;
  pthread_mutex_lock(&S.mu);
  S.stop = true;
  pthread_cond_signal(&S.wake);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ns = (long long)ts.tv_nsec + (long long)(timeout_s * 1e9);
  ts.tv_sec += ns / 1000000000LL;
  ts.tv_nsec = ns % 1000000000LL;
  while (S.running) {
    if (pthread_cond_timedwait(&S.done, &S.mu, &ts) == ETIMEDOUT) break;
  }
  rc = !S.running && S.head == NULL ? 0 : -1;
  pthread_mutex_unlock(&S.mu);
  /* From here on the sender must not touch the runtime: it is about to finalize. */
  pthread_mutex_lock(&S.rt_mu);
  S.rt_dead = true;
  pthread_mutex_unlock(&S.rt_mu);
  sns_log("shutdown: %s", rc == 0 ? "backlog empty" : "data left unsent");
  return rc;
}

void sns_sender_before_fork(void) {
  pthread_mutex_lock(&S.rt_mu);
  pthread_mutex_lock(&S.mu);
  pthread_mutex_lock(&log_mu);
}

void sns_sender_after_fork_parent(void) {
  pthread_mutex_unlock(&log_mu);
  pthread_mutex_unlock(&S.mu);
  pthread_mutex_unlock(&S.rt_mu);
}

void sns_core_after_fork_child(void) {
  /* The child starts its own state: the parent sends what it recorded. */
  sns_period_clear(sns_cur);
  sns_cur->start_wall = sns_wall_ns();
  sns_cur->start_ticks = sns_ticks();
  sns_xpaths_forget();
  pthread_mutex_init(&log_mu, NULL);
  pthread_mutex_init(&S.mu, NULL);
  pthread_mutex_init(&S.rt_mu, NULL);
  pthread_cond_init(&S.wake, NULL);
  pthread_cond_init(&S.done, NULL);
  /* The parent's backlog is the parent's to send. */
  while (S.head) {
    pending *p = S.head;
    S.head = p->next;
    free(p->json);
    free(p);
  }
  S.tail = NULL;
  S.n_backlog = 0;
  S.backlog_bytes = 0;
  memset(&S.dropped, 0, sizeof S.dropped);
  S.decl_sent = 0; /* the child declares everything again, under its own pid */
  S.flush_req = S.flush_done = 0;
  S.client = NULL; /* the parent's curl handle is not ours to use (its sockets are shared) */
  if (S.spare) sns_period_clear(S.spare);
  if (S.debt) memset(S.debt, 0, S.debt_cap * sizeof *S.debt);
  S.cpu_prev_proc = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  bool was_running = S.running;
  S.running = false;
  if (was_running && !S.rt_dead) {
    if (hud_client_new(&S.client, S.cfg, NULL, 0) == 0) start_thread();
  }
}

void sns_sender_get_stats(sns_sender_stats *o) {
  pthread_mutex_lock(&S.mu);
  o->running = S.running;
  o->batches_sent = S.batches_sent;
  o->batches_failed = S.batches_failed;
  o->send_errors = S.send_errors;
  o->n_backlog = S.n_backlog;
  o->backlog_bytes = S.backlog_bytes;
  o->dropped_batches = S.dropped_total.batches;
  o->last_status = S.last_status;
  o->declarations_sent = S.decl_sent;
  memcpy(o->last_error, S.last_error, sizeof o->last_error);
  o->calls_total = S.calls_total;
  o->samples_total = S.samples_total;
  o->exception_paths_cut = S.xflows_cut_total;
  pthread_mutex_unlock(&S.mu);
}
