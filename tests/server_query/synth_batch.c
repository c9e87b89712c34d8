#include "synth_batch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hud/err.h"
#include "hud/identity.h"

void synth_flow_uuid(int f, char out[HUD_UUID_STRLEN + 1]) {
  const char *name = synth_flow_name(f);
  if (strcmp(synth_flow_kind(f), "consumer") == 0) {
    hud_flow_id_queue(name, out);
  } else {
    char method[16];
    const char *sp = strchr(name, ' ');
    snprintf(method, sizeof method, "%.*s", (int)(sp - name), name);
    hud_flow_id_endpoint(method, sp + 1, out);
  }
}

static int export_sketch(hud_arena *a, const hud_sketch *s, hud_sketch_bins **out) {
  *out = NULL;
  if (!s) return 0;
  hud_sketch_bins tmp;
  if (hud_sketch_export(s, &tmp) < 0) return HUD_ENOMEM;
  hud_sketch_bins *b = hud_arena_calloc(a, 1, sizeof *b);
  uint64_t *c = hud_arena_calloc(a, tmp.n ? tmp.n : 1, sizeof *c);
  if (!b || !c) {
    hud_sketch_bins_free(&tmp);
    return HUD_ENOMEM;
  }
  *b = tmp;
  if (tmp.n) memcpy(c, tmp.counts, tmp.n * sizeof *c);
  b->counts = c;
  hud_sketch_bins_free(&tmp);
  *out = b;
  return 0;
}

int synth_batch(const synth_out *o, const char *version, const char *batch_id, hud_time_ns ts, hud_arena *a,
                hud_batch *b) {
  const synth_fn *fns = synth_fns();
  size_t nf = synth_fn_count(), nflows = synth_flow_count();
  memset(b, 0, sizeof *b);
  b->schema_version = HUD_SCHEMA_VERSION;
  snprintf(b->batch_id, sizeof b->batch_id, "%s", batch_id);
  b->service = "shop";
  b->service_version = version;
  b->host = "test-host";
  b->pid = 4242;
  b->runtime = "cpython 3.11.2";
  b->sensor_version = "0.1.0";
  b->sent_at = ts + 60000000000LL;
  b->overhead.interval_ns = 60000000000LL;
  b->overhead.sample_rate = 1.0;
  b->declarations = hud_arena_calloc(a, nf + 1, sizeof *b->declarations);
  b->invocations = hud_arena_calloc(a, o->n_rows ? o->n_rows : 1, sizeof *b->invocations);
  b->exception_flows = hud_arena_calloc(a, o->n_exc_rows ? o->n_exc_rows : 1, sizeof *b->exception_flows);
  b->flows = hud_arena_calloc(a, nflows, sizeof *b->flows);
  b->flow_functions = hud_arena_calloc(a, nflows * nf, sizeof *b->flow_functions);
  if (!b->declarations || !b->invocations || !b->exception_flows || !b->flows || !b->flow_functions)
    return HUD_ENOMEM;
  for (size_t i = 0; i < nf; i++) {
    hud_function_decl *d = &b->declarations[b->n_declarations++];
    snprintf(d->function_id, sizeof d->function_id, "%s", fns[i].id);
    d->name = fns[i].qualname;
    char file[256];
    snprintf(file, sizeof file, "/srv/app/%s", fns[i].module_path);
    d->file = hud_arena_strdup(a, file);
    d->module_path = fns[i].module_path;
    d->start_line = (int32_t)(10 * i + 1);
    d->end_line = d->start_line + 5;
    snprintf(d->source_code_hash, sizeof d->source_code_hash, "%040zx", i + 1);
  }
  /* Declared, never called. */
  hud_function_decl *u = &b->declarations[b->n_declarations++];
  hud_function_id("shop/db.py", "unused_helper", u->function_id);
  u->name = "unused_helper";
  u->file = "/srv/app/shop/db.py";
  u->module_path = "shop/db.py";
  u->start_line = 500;
  u->end_line = 510;
  snprintf(u->source_code_hash, sizeof u->source_code_hash, "%040d", 0);
  for (size_t i = 0; i < o->n_rows; i++) {
    const synth_row *r = &o->rows[i];
    hud_invocation *v = &b->invocations[b->n_invocations++];
    snprintf(v->function_id, sizeof v->function_id, "%s", fns[r->fn].id);
    v->has_caller = r->caller >= 0;
    if (r->caller >= 0) {
      snprintf(v->caller.caller_function_id, sizeof v->caller.caller_function_id, "%s", fns[r->caller].id);
      v->caller.caller_module_path = fns[r->caller].module_path;
      v->caller.line = r->call_line;
    } else {
      v->caller.caller_module_path = "";
    }
    synth_flow_uuid(r->flow, v->flow_id);
    v->timestamp = ts;
    v->timeslice = 60000000000LL;
    v->count = (int64_t)r->st.count;
    v->sampled_count = (int64_t)r->st.sampled_count;
    v->sum_duration = (int64_t)r->sum_int_ns;
    v->sum_squared_duration = r->st.sumsq_ns;
    v->self_duration = (int64_t)r->self_int_ns;
    if (export_sketch(a, r->sketch, &v->sketch) < 0) return HUD_ENOMEM;
    if (r->n_exc_types) {
      v->exceptions.items = hud_arena_calloc(a, (size_t)r->n_exc_types, sizeof *v->exceptions.items);
      if (!v->exceptions.items) return HUD_ENOMEM;
      for (int k = 0; k < r->n_exc_types; k++) {
        v->exceptions.items[k].key = r->exc_types[k];
        v->exceptions.items[k].count = (int64_t)r->exc_counts[k];
      }
      v->exceptions.n = (size_t)r->n_exc_types;
    }
  }
  for (size_t i = 0; i < o->n_exc_rows; i++) {
    const synth_exc_row *x = &o->exc_rows[i];
    hud_exception_flow *e = &b->exception_flows[b->n_exception_flows++];
    e->exception_type = x->type;
    snprintf(e->origin_function_id, sizeof e->origin_function_id, "%s", fns[x->origin].id);
    e->n_propagated = (size_t)x->n_path;
    e->propagated_through = hud_arena_calloc(a, x->n_path ? (size_t)x->n_path : 1, sizeof(hud_uuid));
    if (!e->propagated_through) return HUD_ENOMEM;
    for (int k = 0; k < x->n_path; k++)
      snprintf(e->propagated_through[k], sizeof(hud_uuid), "%s", fns[x->path[k]].id);
    if (x->caught >= 0) snprintf(e->caught_in_function_id, sizeof(hud_uuid), "%s", fns[x->caught].id);
    e->escaped = x->caught < 0;
    synth_flow_uuid(x->flow, e->flow_id);
    e->timestamp = ts;
    e->timeslice = 60000000000LL;
    e->count = (int64_t)x->count;
  }
  for (size_t f = 0; f < nflows; f++) {
    hud_flow *fl = &b->flows[b->n_flows++];
    synth_flow_uuid((int)f, fl->flow_id);
    const char *name = synth_flow_name((int)f);
    if (strcmp(synth_flow_kind((int)f), "consumer") == 0) {
      fl->kind = HUD_FLOW_QUEUE_CONSUMER;
      fl->task_name = name;
    } else {
      fl->kind = HUD_FLOW_ENDPOINT;
      const char *sp = strchr(name, ' ');
      fl->method = hud_arena_strndup(a, name, (size_t)(sp - name));
      fl->route = sp + 1;
    }
    fl->timestamp = ts;
    fl->timeslice = 60000000000LL;
    fl->count = (int64_t)o->flow_st[f].count;
    fl->error_count = (int64_t)o->flow_st[f].errors;
    fl->sampled_count = (int64_t)o->flow_st[f].sampled_count;
    fl->sum_duration = (int64_t)o->flow_sum_int_ns[f];
    fl->sum_squared_duration = o->flow_st[f].sumsq_ns;
    if (export_sketch(a, o->flow_sketch[f], &fl->sketch) < 0) return HUD_ENOMEM;
    if (fl->kind == HUD_FLOW_ENDPOINT) {
      fl->status_codes = hud_arena_calloc(a, 2, sizeof *fl->status_codes);
      if (!fl->status_codes) return HUD_ENOMEM;
      for (int k = 0; k < 2; k++)
        if (o->flow_status[f][k]) {
          fl->status_codes[fl->n_status_codes].status = k ? 500 : 200;
          fl->status_codes[fl->n_status_codes++].count = (int64_t)o->flow_status[f][k];
        }
    }
    /* Exceptions escaping the flow, by type. */
    fl->exceptions.items = hud_arena_calloc(a, o->n_exc_rows ? o->n_exc_rows : 1, sizeof *fl->exceptions.items);
    if (!fl->exceptions.items) return HUD_ENOMEM;
    for (size_t i = 0; i < o->n_exc_rows; i++) {
      const synth_exc_row *x = &o->exc_rows[i];
      if (x->flow != (int)f || x->caught >= 0) continue;
      size_t k = 0;
      while (k < fl->exceptions.n && strcmp(fl->exceptions.items[k].key, x->type) != 0) k++;
      if (k == fl->exceptions.n) fl->exceptions.items[fl->exceptions.n++].key = x->type;
      fl->exceptions.items[k].count += (int64_t)x->count;
    }
    /* Functions of the flow. */
    for (size_t fn = 0; fn < nf; fn++) {
      hud_flow_function ff = {0};
      for (size_t i = 0; i < o->n_rows; i++) {
        const synth_row *r = &o->rows[i];
        if (r->flow != (int)f || r->fn != (int)fn) continue;
        ff.count += (int64_t)r->st.count;
        ff.error_count += (int64_t)r->st.errors;
        ff.sampled_count += (int64_t)r->st.sampled_count;
        ff.sum_duration += (int64_t)r->sum_int_ns;
        ff.self_duration += (int64_t)r->self_int_ns;
      }
      if (!ff.count) continue;
      snprintf(ff.flow_id, sizeof ff.flow_id, "%s", fl->flow_id);
      snprintf(ff.function_id, sizeof ff.function_id, "%s", fns[fn].id);
      ff.timestamp = ts;
      ff.timeslice = 60000000000LL;
      b->flow_functions[b->n_flow_functions++] = ff;
    }
  }
  return 0;
}
