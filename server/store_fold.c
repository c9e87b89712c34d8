/* Write-behind ingest: the in-memory accumulator of acknowledged batches and the binary journal form
 * of a batch (store_fold.h). */
#include "store_fold.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/sketch.h"
#include "sat.h"

/* ---- the accumulator ---- */

/* Bump allocation for rows and their sketch bins, kept across resets: the accumulator refills the
 * same memory every fold instead of page-faulting fresh heap (expensive on VMs). */
#define SLAB_BLOCK (4u << 20)
#define SLAB_KEEP (256u << 20) /* default: blocks beyond this are given back on reset */

typedef struct slab_block {
  struct slab_block *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
} slab_block;

typedef struct slab {
  slab_block *head, *cur;
  size_t total;
  size_t keep;
} slab;

static void *slab_alloc(slab *s, size_t n) {
  n = (n + 15) & ~(size_t)15;
  for (;;) {
    if (s->cur && s->cur->size - s->cur->used >= n) {
      void *p = s->cur->data + s->cur->used;
      s->cur->used += n;
      return p;
    }
    if (s->cur && s->cur->next) {
      s->cur = s->cur->next;
      s->cur->used = 0;
      continue;
    }
    size_t size = n > SLAB_BLOCK ? n : SLAB_BLOCK;
    slab_block *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->next = NULL;
    b->used = 0;
    b->size = size;
    if (s->cur) s->cur->next = b;
    else s->head = b;
    s->cur = b;
    s->total += size;
  }
}

static void slab_reset(slab *s) {
  size_t kept = 0;
  slab_block **link = &s->head;
  while (*link) {
    slab_block *b = *link;
    if (kept + b->size > s->keep) {
      *link = b->next;
      s->total -= b->size;
      free(b);
      continue;
    }
    kept += b->size;
    b->used = 0;
    link = &b->next;
  }
  s->cur = s->head;
}

static void slab_free(slab *s) {
  for (slab_block *b = s->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  memset(s, 0, sizeof *s);
}

typedef struct intern_set {
  const char **slots;
  size_t cap, n;
} intern_set;

struct srv_fold {
  hud_arena *arena;
  slab mem;
  srv_fold_row **buckets;
  size_t cap, n;
  srv_fold_row *head[SRV_FOLD_TABLES], **tail[SRV_FOLD_TABLES];
  srv_fold_decl **dbuckets, *dhead, **dtail;
  size_t dcap, dn;
  srv_fold_flow **fbuckets, *fhead, **ftail;
  size_t fcap, fn;
  intern_set strings;
  int64_t *jids;
  size_t njids, jcap;
  size_t sketch_bytes;
  int64_t now; /* latest receive time merged */
};

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

/* Final avalanche (murmur3's fmix64): bucket indexes take the low bits, which a multiply alone
 * leaves depending on the low bits of the input only (the first characters of a uuid). */
static uint64_t fmix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

static uint64_t hash_str(uint64_t h, const char *s) {
  size_t len = strlen(s);
  const unsigned char *p = (const unsigned char *)s;
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = mix(h, w);
    p += 8;
    len -= 8;
  }
  uint64_t w = 0;
  memcpy(&w, p, len);
  return fmix(mix(h, w ^ ((uint64_t)len << 56)));
}

static void uuid_set(hud_uuid dst, const char *src) {
  size_t n = strnlen(src, HUD_UUID_STRLEN);
  memcpy(dst, src, n);
  memset(dst + n, 0, sizeof(hud_uuid) - n);
}

/* The accumulator's copy of S (NULL for NULL): equal strings share one pointer. */
static const char *intern(srv_fold *f, const char *s) {
  if (!s) return NULL;
  intern_set *t = &f->strings;
  if ((t->n + 1) * 2 > t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 256;
    const char **ns = calloc(ncap, sizeof *ns);
    if (!ns) return NULL;
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->slots[i]) continue;
      size_t j = hash_str(0, t->slots[i]) & (ncap - 1);
      while (ns[j]) j = (j + 1) & (ncap - 1);
      ns[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
  }
  size_t j = hash_str(0, s) & (t->cap - 1);
  for (; t->slots[j]; j = (j + 1) & (t->cap - 1))
    if (strcmp(t->slots[j], s) == 0) return t->slots[j];
  char *copy = hud_arena_strdup(f->arena, s);
  if (!copy) return NULL;
  t->slots[j] = copy;
  t->n++;
  return copy;
}

srv_fold *srv_fold_new(size_t keep_bytes) {
  srv_fold *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->mem.keep = keep_bytes ? keep_bytes : SLAB_KEEP;
  f->arena = hud_arena_new();
  if (!f->arena) {
    free(f);
    return NULL;
  }
  srv_fold_reset(f);
  return f;
}

void srv_fold_reset(srv_fold *f) {
  for (int t = 0; t < SRV_FOLD_TABLES; t++) {
    f->head[t] = NULL; /* rows and their bins live in f->mem */
    f->tail[t] = &f->head[t];
  }
  /* Tables that grew large are given back rather than kept for the next round. */
  if (f->cap > (1u << 16)) {
    free(f->buckets);
    f->buckets = NULL;
    f->cap = 0;
  } else if (f->buckets) {
    memset(f->buckets, 0, f->cap * sizeof *f->buckets);
  }
  f->n = 0;
  if (f->dbuckets) memset(f->dbuckets, 0, f->dcap * sizeof *f->dbuckets);
  f->dhead = NULL;
  f->dtail = &f->dhead;
  f->dn = 0;
  if (f->fbuckets) memset(f->fbuckets, 0, f->fcap * sizeof *f->fbuckets);
  f->fhead = NULL;
  f->ftail = &f->fhead;
  f->fn = 0;
  free(f->strings.slots);
  memset(&f->strings, 0, sizeof f->strings);
  f->njids = 0;
  f->sketch_bytes = 0;
  f->now = 0;
  hud_arena_reset(f->arena);
  slab_reset(&f->mem);
}

void srv_fold_shrink(srv_fold *f) {
  size_t keep = f->mem.keep;
  f->mem.keep = 0;
  srv_fold_reset(f);
  f->mem.keep = keep;
  free(f->buckets);
  f->buckets = NULL;
  f->cap = 0;
}

void srv_fold_free(srv_fold *f) {
  if (!f) return;
  srv_fold_reset(f);
  free(f->buckets);
  free(f->dbuckets);
  free(f->fbuckets);
  free(f->jids);
  hud_arena_free(f->arena);
  slab_free(&f->mem);
  free(f);
}

static int grow_buckets(void ***buckets, size_t *cap, size_t n, size_t chain_off, size_t hash_off) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 1024;
  void **nb = calloc(ncap, sizeof *nb);
  if (!nb) return HUD_ENOMEM;
  for (size_t i = 0; i < *cap; i++) {
    for (char *e = (*buckets)[i], *next; e; e = next) {
      memcpy(&next, e + chain_off, sizeof next);
      uint64_t h;
      memcpy(&h, e + hash_off, sizeof h);
      void **slot = &nb[h & (ncap - 1)];
      memcpy(e + chain_off, slot, sizeof *slot);
      *slot = e;
    }
  }
  free(*buckets);
  *buckets = nb;
  *cap = ncap;
  return 0;
}

static uint64_t row_hash(const srv_fold_row *k) {
  uint64_t h = mix((uint64_t)k->table, (uint64_t)k->sid);
  h = mix(h, (uint64_t)k->vid);
  h = mix(h, (uint64_t)k->slice ^ ((uint64_t)k->width << 48));
  h = mix(h, (uint64_t)k->num);
  h = mix(h, (uint64_t)(uintptr_t)k->text);
  h = mix(h, (uint64_t)(uintptr_t)k->path);
  /* uuids hash by their first 16 characters (64 random bits of a uuid5); equality compares all. */
  uint64_t w[2];
  if (k->fn[0]) {
    memcpy(w, k->fn, 16);
    h = mix(mix(h, w[0]), w[1]);
  }
  if (k->caller[0]) {
    memcpy(w, k->caller, 16);
    h = mix(mix(h, w[0] ^ 0x1f), w[1]);
  }
  if (k->flow[0]) {
    memcpy(w, k->flow, 16);
    h = mix(mix(h, w[0] ^ 0x2f), w[1]);
  }
  return fmix(h);
}

static int row_eq(const srv_fold_row *a, const srv_fold_row *b) {
  return a->table == b->table && a->sid == b->sid && a->vid == b->vid && a->slice == b->slice &&
         a->width == b->width && a->num == b->num && a->text == b->text && a->path == b->path &&
         memcmp(a->fn, b->fn, sizeof a->fn) == 0 && memcmp(a->caller, b->caller, sizeof a->caller) == 0 &&
         memcmp(a->flow, b->flow, sizeof a->flow) == 0;
}

/* The row of key K (its sums zero when new), or NULL on out of memory. */
static srv_fold_row *row_get(srv_fold *f, const srv_fold_row *k) {
  if (grow_buckets((void ***)&f->buckets, &f->cap, f->n, offsetof(srv_fold_row, chain),
                   offsetof(srv_fold_row, hash)) < 0)
    return NULL;
  uint64_t h = row_hash(k);
  srv_fold_row **slot = &f->buckets[h & (f->cap - 1)];
  for (srv_fold_row *r = *slot; r; r = r->chain)
    if (r->hash == h && row_eq(r, k)) return r;
  srv_fold_row *r = slab_alloc(&f->mem, sizeof *r);
  if (!r) return NULL;
  memcpy(r, k, sizeof *r);
  r->hash = h;
  r->chain = *slot;
  *slot = r;
  r->next = NULL;
  *f->tail[k->table] = r;
  f->tail[k->table] = &r->next;
  f->n++;
  return r;
}

static void key_init(srv_fold_row *k, int table, int64_t sid, int64_t vid, int64_t slice, int64_t width) {
  memset(k, 0, sizeof *k);
  k->table = table;
  k->sid = sid;
  k->vid = vid;
  k->slice = slice;
  k->width = width;
}

static void slice_of(hud_time_ns ts, int64_t cutoff, int64_t *slice, int64_t *width) {
  int64_t s = ts / 1000000000;
  if (ts < 0 && ts % 1000000000) s--;
  if (s < cutoff) {
    *width = 3600;
    *slice = s - (((s % 3600) + 3600) % 3600);
  } else {
    *width = 60;
    *slice = s - (((s % 60) + 60) % 60);
  }
}

/* srv_acc_add_bins with the bins in the slab: growth copies into a new slab piece (the old one is
 * simply left behind until the reset). */
static int add_sketch(srv_fold *f, srv_fold_row *r, const hud_sketch_bins *b) {
  if (!b) return 0;
  srv_bins_acc *a = &r->sketch;
  if (srv_acc_begin(a, b->alpha) < 0) return HUD_EINVAL;
  a->zero = srv_sat_addu(a->zero, b->zero_count);
  if (!b->n) return 0;
  int64_t off = b->offset;
  if (!a->n || off < a->offset || off + (int64_t)b->n > a->offset + (int64_t)a->n) {
    int64_t lo = a->n ? a->offset : off, hi = a->n ? a->offset + (int64_t)a->n : off + (int64_t)b->n;
    /* Geometric headroom on the side that grew: a few regrowths per row, each leaving its old
     * piece in the slab until the reset. */
    int64_t pad = ((int64_t)b->n > (int64_t)a->n ? (int64_t)b->n : (int64_t)a->n) / 4 + 8;
    if (off < lo || !a->n) lo = off - pad;
    if (off + (int64_t)b->n > hi || !a->n) hi = off + (int64_t)b->n + pad;
    size_t need = (size_t)(hi - lo);
    uint64_t *c = slab_alloc(&f->mem, need * sizeof *c);
    if (!c) return HUD_ENOMEM;
    memset(c, 0, need * sizeof *c);
    if (a->n) memcpy(c + (a->offset - lo), a->counts, a->n * sizeof *c);
    f->sketch_bytes += need * sizeof *c;
    a->counts = c;
    a->cap = 0; /* in the slab: never freed or grown in place */
    a->borrowed = 1;
    a->offset = lo;
    a->n = need;
  }
  uint64_t *restrict dst = a->counts + (off - a->offset);
  const uint64_t *restrict src = b->counts;
  size_t n = b->n;
  for (size_t i = 0; i < n; i++) dst[i] = srv_sat_addu(dst[i], src[i]); /* vectorizes */
  return 0;
}

static int add_count(srv_fold *f, const srv_fold_row *k, int64_t count) {
  srv_fold_row *r = row_get(f, k);
  if (!r) return HUD_ENOMEM;
  r->count = srv_sat_add(r->count, count);
  return 0;
}

static int add_decl(srv_fold *f, int64_t sid, int64_t vid, int64_t now, const hud_function_decl *d) {
  if (grow_buckets((void ***)&f->dbuckets, &f->dcap, f->dn, offsetof(srv_fold_decl, chain),
                   offsetof(srv_fold_decl, hash)) < 0)
    return HUD_ENOMEM;
  uint64_t h = hash_str(mix((uint64_t)sid, (uint64_t)vid), d->function_id);
  srv_fold_decl **slot = &f->dbuckets[h & (f->dcap - 1)], *e;
  for (e = *slot; e; e = e->chain)
    if (e->hash == h && e->sid == sid && e->vid == vid && strcmp(e->d.function_id, d->function_id) == 0) break;
  if (!e) {
    e = hud_arena_alloc(f->arena, sizeof *e);
    if (!e) return HUD_ENOMEM;
    e->hash = h;
    e->sid = sid;
    e->vid = vid;
    e->first = now;
    e->chain = *slot;
    *slot = e;
    *f->dtail = e;
    f->dtail = &e->next;
    f->dn++;
  }
  /* The latest declaration wins, as successive upserts would have it (module_path: the latest known). */
  const char *module = d->module_path ? d->module_path : e->d.module_path;
  e->d = *d;
  e->d.name = intern(f, d->name);
  e->d.file = intern(f, d->file);
  e->d.module_path = intern(f, module);
  if ((d->name && !e->d.name) || (d->file && !e->d.file) || (module && !e->d.module_path)) return HUD_ENOMEM;
  if (now < e->first) e->first = now;
  if (now > e->last) e->last = now;
  return 0;
}

static int add_flow(srv_fold *f, int64_t sid, int64_t now, const hud_flow *fl) {
  if (grow_buckets((void ***)&f->fbuckets, &f->fcap, f->fn, offsetof(srv_fold_flow, chain),
                   offsetof(srv_fold_flow, hash)) < 0)
    return HUD_ENOMEM;
  uint64_t h = hash_str((uint64_t)sid ^ 0x5bd1e995u, fl->flow_id);
  srv_fold_flow **slot = &f->fbuckets[h & (f->fcap - 1)], *e;
  for (e = *slot; e; e = e->chain)
    if (e->hash == h && e->sid == sid && strcmp(e->flow, fl->flow_id) == 0) break;
  if (!e) {
    e = hud_arena_alloc(f->arena, sizeof *e);
    if (!e) return HUD_ENOMEM;
    e->hash = h;
    e->sid = sid;
    uuid_set(e->flow, fl->flow_id);
    e->first = now;
    e->chain = *slot;
    *slot = e;
    *f->ftail = e;
    f->ftail = &e->next;
    f->fn++;
    /* Details are fixed by the first record: the stored row keeps its kind and route once known. */
    e->kind = fl->kind;
    e->method = intern(f, fl->method);
    e->route = intern(f, fl->route);
    e->task_name = intern(f, fl->task_name);
    e->queue = intern(f, fl->queue);
    if ((fl->method && !e->method) || (fl->route && !e->route) || (fl->task_name && !e->task_name) ||
        (fl->queue && !e->queue))
      return HUD_ENOMEM;
  }
  if (now < e->first) e->first = now;
  if (now > e->last) e->last = now;
  return 0;
}

static int64_t map_total(const hud_count_map *m) {
  int64_t t = 0;
  for (size_t i = 0; i < m->n; i++) t += m->items[i].count;
  return t;
}

static int add_invocations(srv_fold *f, int64_t sid, int64_t vid, int64_t cutoff, const hud_batch *b) {
  srv_fold_row k;
  for (size_t i = 0; i < b->n_invocations; i++) {
    const hud_invocation *v = &b->invocations[i];
    int64_t slice, width;
    slice_of(v->timestamp, cutoff, &slice, &width);
    int64_t errors = map_total(&v->exceptions);
    key_init(&k, SRV_FOLD_CALLS, sid, vid, slice, width);
    uuid_set(k.fn, v->function_id);
    if (v->has_caller) {
      uuid_set(k.caller, v->caller.caller_function_id);
      k.num = v->caller.line;
      /* The caller's module names module-level code only (no caller function). */
      k.text = intern(f, k.caller[0] ? "" : v->caller.caller_module_path ? v->caller.caller_module_path : "");
    } else {
      k.text = intern(f, "");
    }
    uuid_set(k.flow, v->flow_id);
    if (!k.text) return HUD_ENOMEM;
    /* fn_slices rows are derived from these once per fold (srv_fold_finish), not per invocation. */
    srv_fold_row *r = row_get(f, &k);
    if (!r) return HUD_ENOMEM;
    r->count = srv_sat_add(r->count, v->count);
    r->sampled = srv_sat_add(r->sampled, v->sampled_count);
    r->sum = srv_sat_add(r->sum, v->sum_duration);
    r->sumsq = srv_sat_addf(r->sumsq, v->sum_squared_duration);
    r->self = srv_sat_add(r->self, v->self_duration);
    r->errors = srv_sat_add(r->errors, errors);
    int rc = add_sketch(f, r, v->sketch);
    if (rc < 0) return rc;
    for (size_t e = 0; e < v->exceptions.n; e++) {
      key_init(&k, SRV_FOLD_FN_ERRORS, sid, vid, slice, width);
      uuid_set(k.fn, v->function_id);
      k.text = intern(f, v->exceptions.items[e].key);
      if (!k.text) return HUD_ENOMEM;
      if ((rc = add_count(f, &k, v->exceptions.items[e].count)) < 0) return rc;
    }
  }
  return 0;
}

static int add_flows(srv_fold *f, int64_t sid, int64_t vid, int64_t now, int64_t cutoff, const hud_batch *b) {
  srv_fold_row k;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < b->n_flows; i++) {
    const hud_flow *fl = &b->flows[i];
    if ((rc = add_flow(f, sid, now, fl)) < 0) break;
    int64_t slice, width;
    slice_of(fl->timestamp, cutoff, &slice, &width);
    key_init(&k, SRV_FOLD_FLOW_SLICES, sid, vid, slice, width);
    uuid_set(k.flow, fl->flow_id);
    srv_fold_row *r = row_get(f, &k);
    if (!r) return HUD_ENOMEM;
    r->count = srv_sat_add(r->count, fl->count);
    r->errors = srv_sat_add(r->errors, fl->error_count);
    r->sampled = srv_sat_add(r->sampled, fl->sampled_count);
    r->sum = srv_sat_add(r->sum, fl->sum_duration);
    r->sumsq = srv_sat_addf(r->sumsq, fl->sum_squared_duration);
    if ((rc = add_sketch(f, r, fl->sketch)) < 0) break;
    for (size_t s = 0; rc == 0 && s < fl->n_status_codes; s++) {
      key_init(&k, SRV_FOLD_FLOW_STATUS, sid, vid, slice, width);
      uuid_set(k.flow, fl->flow_id);
      k.num = fl->status_codes[s].status;
      rc = add_count(f, &k, fl->status_codes[s].count);
    }
    for (size_t e = 0; rc == 0 && e < fl->exceptions.n; e++) {
      key_init(&k, SRV_FOLD_FLOW_ERRORS, sid, vid, slice, width);
      uuid_set(k.flow, fl->flow_id);
      k.text = intern(f, fl->exceptions.items[e].key);
      rc = k.text ? add_count(f, &k, fl->exceptions.items[e].count) : HUD_ENOMEM;
    }
  }
  for (size_t i = 0; rc == 0 && i < b->n_flow_functions; i++) {
    const hud_flow_function *ff = &b->flow_functions[i];
    int64_t slice, width;
    slice_of(ff->timestamp, cutoff, &slice, &width);
    key_init(&k, SRV_FOLD_FLOW_FUNCTIONS, sid, vid, slice, width);
    uuid_set(k.flow, ff->flow_id);
    uuid_set(k.fn, ff->function_id);
    srv_fold_row *r = row_get(f, &k);
    if (!r) return HUD_ENOMEM;
    r->count = srv_sat_add(r->count, ff->count);
    r->errors = srv_sat_add(r->errors, ff->error_count);
    r->sampled = srv_sat_add(r->sampled, ff->sampled_count);
    r->sum = srv_sat_add(r->sum, ff->sum_duration);
    r->self = srv_sat_add(r->self, ff->self_duration);
  }
  return rc;
}

static int add_exception_flows(srv_fold *f, int64_t sid, int64_t vid, int64_t cutoff, const hud_batch *b) {
  srv_fold_row k;
  for (size_t i = 0; i < b->n_exception_flows; i++) {
    const hud_exception_flow *x = &b->exception_flows[i];
    int64_t slice, width;
    slice_of(x->timestamp, cutoff, &slice, &width);
    key_init(&k, SRV_FOLD_EXC_FLOWS, sid, vid, slice, width);
    uuid_set(k.flow, x->flow_id);
    uuid_set(k.fn, x->origin_function_id);
    uuid_set(k.caller, x->caught_in_function_id);
    k.num = x->origin_line;
    k.text = intern(f, x->exception_type ? x->exception_type : "");
    char *path = malloc(x->n_propagated * (HUD_UUID_STRLEN + 1) + 1);
    if (!path) return HUD_ENOMEM;
    size_t len = 0;
    for (size_t p = 0; p < x->n_propagated; p++) {
      size_t n = strnlen(x->propagated_through[p], HUD_UUID_STRLEN);
      if (p) path[len++] = ' ';
      memcpy(path + len, x->propagated_through[p], n);
      len += n;
    }
    path[len] = 0;
    k.path = intern(f, path);
    free(path);
    if (!k.text || !k.path) return HUD_ENOMEM;
    int rc = add_count(f, &k, x->count);
    if (rc < 0) return rc;
  }
  return 0;
}

int srv_fold_add(srv_fold *f, int64_t jid, int64_t sid, int64_t vid, int64_t now, int64_t cutoff,
                 const hud_batch *b) {
  if (f->njids == f->jcap) {
    size_t cap = f->jcap ? f->jcap * 2 : 64;
    int64_t *j = realloc(f->jids, cap * sizeof *j);
    if (!j) return HUD_ENOMEM;
    f->jids = j;
    f->jcap = cap;
  }
  f->jids[f->njids++] = jid;
  if (now > f->now) f->now = now;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < b->n_declarations; i++) rc = add_decl(f, sid, vid, now, &b->declarations[i]);
  if (rc == 0) rc = add_flows(f, sid, vid, now, cutoff, b);
  if (rc == 0) rc = add_invocations(f, sid, vid, cutoff, b);
  if (rc == 0) rc = add_exception_flows(f, sid, vid, cutoff, b);
  return rc;
}

int srv_fold_finish(srv_fold *f) {
  if (f->head[SRV_FOLD_FN_SLICES]) return 0; /* done already */
  srv_fold_row k;
  for (const srv_fold_row *c = f->head[SRV_FOLD_CALLS]; c; c = c->next) {
    key_init(&k, SRV_FOLD_FN_SLICES, c->sid, c->vid, c->slice, c->width);
    memcpy(k.fn, c->fn, sizeof k.fn);
    srv_fold_row *r = row_get(f, &k);
    if (!r) return HUD_ENOMEM;
    r->count = srv_sat_add(r->count, c->count);
    r->sampled = srv_sat_add(r->sampled, c->sampled);
    r->sum = srv_sat_add(r->sum, c->sum);
    r->sumsq = srv_sat_addf(r->sumsq, c->sumsq);
    r->self = srv_sat_add(r->self, c->self);
    r->errors = srv_sat_add(r->errors, c->errors);
    if (c->sketch.set) {
      hud_sketch_bins b = {c->sketch.alpha, c->sketch.zero, 0, c->sketch.n, c->sketch.counts};
      /* Bins of the accumulator are int64-offset; sketches never leave int32 (the decoder checks). */
      int rc;
      if (c->sketch.offset < INT32_MIN || c->sketch.offset > INT32_MAX) return HUD_ERANGE;
      b.offset = (int32_t)c->sketch.offset;
      if ((rc = add_sketch(f, r, &b)) < 0) return rc;
    }
  }
  return 0;
}

const srv_fold_row *srv_fold_rows(const srv_fold *f, int table) { return f->head[table]; }
const srv_fold_decl *srv_fold_decls(const srv_fold *f) { return f->dhead; }
const srv_fold_flow *srv_fold_flows(const srv_fold *f) { return f->fhead; }

const int64_t *srv_fold_journal_ids(const srv_fold *f, size_t *n) {
  *n = f->njids;
  return f->jids;
}

size_t srv_fold_size(const srv_fold *f) { return f->n; }

int64_t srv_fold_now(const srv_fold *f) { return f->now; }

size_t srv_fold_bytes(const srv_fold *f) {
  return hud_arena_used(f->arena) + f->sketch_bytes + f->n * sizeof(srv_fold_row) + f->cap * sizeof *f->buckets;
}

/* ---- journal blobs ----
 * 'J' 1 | declarations | invocations | flows | flow functions | exception flows, each a varint count
 * then the records. Integers are zigzag LEB128 varints, doubles 8 bytes little endian. A string is a
 * reference: 0 = NULL, 1..n = the n strings seen so far, n + 1 = a new one (varint length, bytes). */

typedef struct wbuf {
  unsigned char *p;
  size_t len, cap;
  int oom;
  const char **strs; /* open addressing: pointers into the batch, compared by content */
  uint32_t *idx;
  size_t scap, sn;
} wbuf;

static void w_reserve(wbuf *w, size_t n) {
  if (w->oom || w->len + n <= w->cap) return;
  size_t cap = w->cap ? w->cap : 4096;
  while (cap < w->len + n) cap *= 2;
  unsigned char *p = realloc(w->p, cap);
  if (!p) {
    w->oom = 1;
    return;
  }
  w->p = p;
  w->cap = cap;
}

static void w_u(wbuf *w, uint64_t v) {
  if (w->len + 10 > w->cap) {
    w_reserve(w, 10);
    if (w->oom) return;
  }
  unsigned char *p = w->p + w->len;
  while (v >= 0x80) {
    *p++ = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  *p++ = (unsigned char)v;
  w->len = (size_t)(p - w->p);
}

static void w_i(wbuf *w, int64_t v) { w_u(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void w_d(wbuf *w, double d) {
  uint64_t bits;
  memcpy(&bits, &d, 8);
  w_reserve(w, 8);
  if (w->oom) return;
  for (int i = 0; i < 8; i++) w->p[w->len++] = (unsigned char)(bits >> (8 * i));
}

/* Strings of a batch are mostly uuids: their first 16 characters are random enough to hash. */
static uint64_t w_hash(const char *s) {
  size_t n = strnlen(s, 16);
  uint64_t w[2] = {0, 0};
  memcpy(w, s, n);
  return fmix(mix(mix(n, w[0]), w[1]));
}

static void w_s(wbuf *w, const char *s) {
  if (!s) {
    w_u(w, 0);
    return;
  }
  if ((w->sn + 1) * 2 > w->scap) {
    size_t ncap = w->scap ? w->scap * 2 : 512;
    const char **ns = calloc(ncap, sizeof *ns);
    uint32_t *ni = calloc(ncap, sizeof *ni);
    if (!ns || !ni) {
      free(ns);
      free(ni);
      w->oom = 1;
      return;
    }
    for (size_t i = 0; i < w->scap; i++) {
      if (!w->strs[i]) continue;
      size_t j = w_hash(w->strs[i]) & (ncap - 1);
      while (ns[j]) j = (j + 1) & (ncap - 1);
      ns[j] = w->strs[i];
      ni[j] = w->idx[i];
    }
    free(w->strs);
    free(w->idx);
    w->strs = ns;
    w->idx = ni;
    w->scap = ncap;
  }
  size_t j = w_hash(s) & (w->scap - 1);
  for (; w->strs[j]; j = (j + 1) & (w->scap - 1))
    if (w->strs[j] == s || strcmp(w->strs[j], s) == 0) {
      w_u(w, w->idx[j]);
      return;
    }
  w->strs[j] = s;
  w->idx[j] = (uint32_t)++w->sn;
  size_t n = strlen(s);
  w_u(w, w->sn);
  w_u(w, n);
  w_reserve(w, n);
  if (w->oom) return;
  memcpy(w->p + w->len, s, n);
  w->len += n;
}

/* Bins: alpha (1 = the default, else 2 and 8 bytes), zero count, offset, n, then the non-empty bins
 * as (gap since the previous non-empty one, count) pairs: 20 samples spread over ~200 bins take ~40
 * bytes instead of ~200. */
static void w_sketch(wbuf *w, const hud_sketch_bins *b) {
  if (!b) {
    w_u(w, 0);
    return;
  }
  if (b->alpha == HUD_SKETCH_DEFAULT_ALPHA) {
    w_u(w, 1);
  } else {
    w_u(w, 2);
    w_d(w, b->alpha);
  }
  w_u(w, b->zero_count);
  w_i(w, b->offset);
  w_u(w, b->n);
  size_t nz = 0;
  for (size_t i = 0; i < b->n; i++) nz += b->counts[i] != 0;
  w_u(w, nz);
  size_t last = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (!b->counts[i]) continue;
    w_u(w, i - last);
    w_u(w, b->counts[i]);
    last = i;
  }
}

static void w_map(wbuf *w, const hud_count_map *m) {
  w_u(w, m->n);
  for (size_t i = 0; i < m->n; i++) {
    w_s(w, m->items[i].key);
    w_i(w, m->items[i].count);
  }
}

int srv_journal_encode(const hud_batch *b, unsigned char **out, size_t *len) {
  wbuf w = {0};
  w_reserve(&w, 64 + b->n_invocations * 64);
  w_u(&w, 'J');
  w_u(&w, 1);
  w_u(&w, b->n_declarations);
  for (size_t i = 0; i < b->n_declarations; i++) {
    const hud_function_decl *d = &b->declarations[i];
    w_s(&w, d->function_id);
    w_s(&w, d->name);
    w_s(&w, d->file);
    w_s(&w, d->module_path);
    w_i(&w, d->start_line);
    w_i(&w, d->end_line);
    w_u(&w, (uint64_t)d->is_async | (uint64_t)d->is_generator << 1);
    w_s(&w, d->source_code_hash);
  }
  w_u(&w, b->n_invocations);
  for (size_t i = 0; i < b->n_invocations; i++) {
    const hud_invocation *v = &b->invocations[i];
    w_s(&w, v->function_id);
    w_u(&w, v->has_caller);
    if (v->has_caller) {
      w_s(&w, v->caller.caller_function_id);
      w_s(&w, v->caller.caller_module_path);
      w_i(&w, v->caller.line);
    }
    w_s(&w, v->flow_id);
    w_i(&w, v->timestamp);
    w_i(&w, v->timeslice);
    w_i(&w, v->count);
    w_i(&w, v->sampled_count);
    w_i(&w, v->sum_duration);
    w_d(&w, v->sum_squared_duration);
    w_i(&w, v->self_duration);
    w_sketch(&w, v->sketch);
    w_map(&w, &v->exceptions);
  }
  w_u(&w, b->n_flows);
  for (size_t i = 0; i < b->n_flows; i++) {
    const hud_flow *f = &b->flows[i];
    w_s(&w, f->flow_id);
    w_u(&w, (uint64_t)f->kind);
    w_s(&w, f->method);
    w_s(&w, f->route);
    w_s(&w, f->task_name);
    w_s(&w, f->queue);
    w_i(&w, f->timestamp);
    w_i(&w, f->timeslice);
    w_i(&w, f->count);
    w_i(&w, f->error_count);
    w_i(&w, f->sampled_count);
    w_i(&w, f->sum_duration);
    w_d(&w, f->sum_squared_duration);
    w_sketch(&w, f->sketch);
    w_u(&w, f->n_status_codes);
    for (size_t s = 0; s < f->n_status_codes; s++) {
      w_i(&w, f->status_codes[s].status);
      w_i(&w, f->status_codes[s].count);
    }
    w_map(&w, &f->exceptions);
  }
  w_u(&w, b->n_flow_functions);
  for (size_t i = 0; i < b->n_flow_functions; i++) {
    const hud_flow_function *ff = &b->flow_functions[i];
    w_s(&w, ff->flow_id);
    w_s(&w, ff->function_id);
    w_i(&w, ff->timestamp);
    w_i(&w, ff->timeslice);
    w_i(&w, ff->count);
    w_i(&w, ff->error_count);
    w_i(&w, ff->sampled_count);
    w_i(&w, ff->sum_duration);
    w_i(&w, ff->self_duration);
  }
  w_u(&w, b->n_exception_flows);
  for (size_t i = 0; i < b->n_exception_flows; i++) {
    const hud_exception_flow *x = &b->exception_flows[i];
    w_s(&w, x->exception_type);
    w_s(&w, x->origin_function_id);
    w_i(&w, x->origin_line);
    w_u(&w, x->n_propagated);
    for (size_t p = 0; p < x->n_propagated; p++) w_s(&w, x->propagated_through[p]);
    w_s(&w, x->caught_in_function_id);
    w_s(&w, x->flow_id);
    w_i(&w, x->timestamp);
    w_i(&w, x->timeslice);
    w_i(&w, x->count);
  }
  free(w.strs);
  free(w.idx);
  if (w.oom) {
    free(w.p);
    return HUD_ENOMEM;
  }
  *out = w.p;
  *len = w.len;
  return 0;
}

typedef struct rbuf {
  const unsigned char *p, *end;
  int bad;
  hud_arena *arena;
  const char **strs;
  size_t sn, scap;
} rbuf;

static uint64_t r_u(rbuf *r) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) break;
    unsigned char b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  r->bad = 1;
  return 0;
}

static int64_t r_i(rbuf *r) {
  uint64_t z = r_u(r);
  return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

static double r_d(rbuf *r) {
  if (r->end - r->p < 8) {
    r->bad = 1;
    return 0;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  double d;
  memcpy(&d, &bits, 8);
  return d;
}

/* A count of items that each take at least one byte: larger than what is left is damage. */
static size_t r_n(rbuf *r) {
  uint64_t n = r_u(r);
  if (n > (uint64_t)(r->end - r->p)) {
    r->bad = 1;
    return 0;
  }
  return (size_t)n;
}

static const char *r_s(rbuf *r) {
  uint64_t ref = r_u(r);
  if (r->bad || ref == 0) return NULL;
  if (ref <= r->sn) return r->strs[ref - 1];
  if (ref != r->sn + 1) {
    r->bad = 1;
    return NULL;
  }
  uint64_t n = r_u(r);
  if (r->bad || n > (uint64_t)(r->end - r->p)) {
    r->bad = 1;
    return NULL;
  }
  char *s = hud_arena_strndup(r->arena, (const char *)r->p, (size_t)n);
  r->p += n;
  if (r->sn == r->scap) {
    size_t cap = r->scap ? r->scap * 2 : 256;
    const char **ns = realloc(r->strs, cap * sizeof *ns);
    if (!ns) s = NULL;
    else {
      r->strs = ns;
      r->scap = cap;
    }
  }
  if (!s) {
    r->bad = 1;
    return NULL;
  }
  r->strs[r->sn++] = s;
  return s;
}

static void r_uuid(rbuf *r, hud_uuid out) {
  const char *s = r_s(r);
  if (!s || strlen(s) > HUD_UUID_STRLEN) {
    r->bad = 1;
    out[0] = 0;
    return;
  }
  uuid_set(out, s);
}

static const char *r_str_nn(rbuf *r) {
  const char *s = r_s(r);
  if (!s) r->bad = 1;
  return s ? s : "";
}

static hud_sketch_bins *r_sketch(rbuf *r) {
  uint64_t present = r_u(r);
  if (r->bad || !present) return NULL;
  hud_sketch_bins *b = hud_arena_alloc(r->arena, sizeof *b);
  if (!b || present > 2) {
    r->bad = 1;
    return NULL;
  }
  b->alpha = present == 1 ? HUD_SKETCH_DEFAULT_ALPHA : r_d(r);
  b->zero_count = r_u(r);
  int64_t off = r_i(r);
  uint64_t n = r_u(r);
  if (r->bad || off < INT32_MIN || off > INT32_MAX || n > HUD_SKETCH_MAX_BINS * 4u) {
    r->bad = 1;
    return NULL;
  }
  b->offset = (int32_t)off;
  b->n = (size_t)n;
  b->counts = hud_arena_calloc(r->arena, b->n ? b->n : 1, sizeof *b->counts);
  uint64_t nz = r_u(r);
  if (!b->counts || nz > n) {
    r->bad = 1;
    return NULL;
  }
  uint64_t at = 0;
  for (uint64_t i = 0; i < nz && !r->bad; i++) {
    at += r_u(r);
    if (at >= n) r->bad = 1;
    else b->counts[at] = r_u(r);
  }
  return b;
}

static void r_map(rbuf *r, hud_count_map *m) {
  m->n = r_n(r);
  if (!m->n) return;
  m->items = hud_arena_calloc(r->arena, m->n, sizeof *m->items);
  if (!m->items) {
    r->bad = 1;
    m->n = 0;
    return;
  }
  for (size_t i = 0; i < m->n && !r->bad; i++) {
    m->items[i].key = r_str_nn(r);
    m->items[i].count = r_i(r);
  }
}

#define R_ARRAY(r, ptr, n)                                                        \
  do {                                                                            \
    (n) = r_n(r);                                                                 \
    (ptr) = (n) ? hud_arena_calloc((r)->arena, (n), sizeof *(ptr)) : NULL;        \
    if ((n) && !(ptr)) (r)->bad = 1;                                              \
  } while (0)

int srv_journal_decode(const void *blob, size_t len, hud_arena *arena, hud_batch *b) {
  memset(b, 0, sizeof *b);
  rbuf r = {blob, (const unsigned char *)blob + len, 0, arena, NULL, 0, 0};
  if (r_u(&r) != 'J' || r_u(&r) != 1 || r.bad) return HUD_EPARSE;
  R_ARRAY(&r, b->declarations, b->n_declarations);
  for (size_t i = 0; i < b->n_declarations && !r.bad; i++) {
    hud_function_decl *d = &b->declarations[i];
    r_uuid(&r, d->function_id);
    d->name = r_s(&r);
    d->file = r_s(&r);
    d->module_path = r_s(&r);
    d->start_line = (int32_t)r_i(&r);
    d->end_line = (int32_t)r_i(&r);
    uint64_t flags = r_u(&r);
    d->is_async = flags & 1;
    d->is_generator = (flags >> 1) & 1;
    const char *h = r_str_nn(&r);
    snprintf(d->source_code_hash, sizeof d->source_code_hash, "%s", h);
  }
  if (!r.bad) R_ARRAY(&r, b->invocations, b->n_invocations);
  for (size_t i = 0; i < b->n_invocations && !r.bad; i++) {
    hud_invocation *v = &b->invocations[i];
    r_uuid(&r, v->function_id);
    v->has_caller = r_u(&r) != 0;
    if (v->has_caller) {
      r_uuid(&r, v->caller.caller_function_id);
      v->caller.caller_module_path = r_str_nn(&r);
      v->caller.line = (int32_t)r_i(&r);
    } else {
      v->caller.caller_module_path = "";
    }
    r_uuid(&r, v->flow_id);
    v->timestamp = r_i(&r);
    v->timeslice = r_i(&r);
    v->count = r_i(&r);
    v->sampled_count = r_i(&r);
    v->sum_duration = r_i(&r);
    v->sum_squared_duration = r_d(&r);
    v->self_duration = r_i(&r);
    v->sketch = r_sketch(&r);
    r_map(&r, &v->exceptions);
  }
  if (!r.bad) R_ARRAY(&r, b->flows, b->n_flows);
  for (size_t i = 0; i < b->n_flows && !r.bad; i++) {
    hud_flow *f = &b->flows[i];
    r_uuid(&r, f->flow_id);
    f->kind = (hud_flow_kind)r_u(&r);
    f->method = r_s(&r);
    f->route = r_s(&r);
    f->task_name = r_s(&r);
    f->queue = r_s(&r);
    f->timestamp = r_i(&r);
    f->timeslice = r_i(&r);
    f->count = r_i(&r);
    f->error_count = r_i(&r);
    f->sampled_count = r_i(&r);
    f->sum_duration = r_i(&r);
    f->sum_squared_duration = r_d(&r);
    f->sketch = r_sketch(&r);
    R_ARRAY(&r, f->status_codes, f->n_status_codes);
    for (size_t s = 0; s < f->n_status_codes && !r.bad; s++) {
      f->status_codes[s].status = (int32_t)r_i(&r);
      f->status_codes[s].count = r_i(&r);
    }
    r_map(&r, &f->exceptions);
  }
  if (!r.bad) R_ARRAY(&r, b->flow_functions, b->n_flow_functions);
  for (size_t i = 0; i < b->n_flow_functions && !r.bad; i++) {
    hud_flow_function *ff = &b->flow_functions[i];
    r_uuid(&r, ff->flow_id);
    r_uuid(&r, ff->function_id);
    ff->timestamp = r_i(&r);
    ff->timeslice = r_i(&r);
    ff->count = r_i(&r);
    ff->error_count = r_i(&r);
    ff->sampled_count = r_i(&r);
    ff->sum_duration = r_i(&r);
    ff->self_duration = r_i(&r);
  }
  if (!r.bad) R_ARRAY(&r, b->exception_flows, b->n_exception_flows);
  for (size_t i = 0; i < b->n_exception_flows && !r.bad; i++) {
    hud_exception_flow *x = &b->exception_flows[i];
    x->exception_type = r_str_nn(&r);
    r_uuid(&r, x->origin_function_id);
    x->origin_line = (int32_t)r_i(&r);
    R_ARRAY(&r, x->propagated_through, x->n_propagated);
    for (size_t p = 0; p < x->n_propagated && !r.bad; p++) r_uuid(&r, x->propagated_through[p]);
    r_uuid(&r, x->caught_in_function_id);
    x->escaped = x->caught_in_function_id[0] == 0;
    r_uuid(&r, x->flow_id);
    x->timestamp = r_i(&r);
    x->timeslice = r_i(&r);
    x->count = r_i(&r);
  }
  free(r.strs);
  if (r.bad || r.p != r.end) {
    memset(b, 0, sizeof *b);
    return HUD_EPARSE;
  }
  return 0;
}
