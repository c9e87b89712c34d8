/* The table-driven decoder: yajl's parse events go straight into the structs the wire tables
 * describe, with no document tree in between. A batch of 1000 invocations used to cost about
 * 18 us per row through a jansson tree (most of it allocating and freeing the tree); streaming
 * it is the difference between the server's ingest being bound by JSON or by storage.
 *
 * Errors keep the tree decoder's precedence: a document that is not well-formed JSON reports
 * its syntax error, even when a field error comes earlier in the text (a second, skipping pass
 * finds it; errors are the slow path). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "codec_internal.h"
#include "hud/sketch.h"

typedef enum vtype { V_NULL, V_BOOL, V_INT, V_REAL, V_STR, V_OBJ, V_ARR } vtype;

/* One scalar as the parser hands it over; strings are not NUL-terminated. */
typedef struct sval {
  vtype t;
  bool b;
  int64_t i;
  double d;
  const char *s;
  size_t len;
} sval;

static const char *const k_vnames[] = {"null", "boolean", "integer", "real", "string", "object", "array"};

typedef enum fkind {
  K_OBJ,        /* struct of an htype */
  K_ARR,        /* FT_ARR: array of structs */
  K_SCALARS,    /* FT_UUIDARR, FT_STRARR, FT_I32ARR */
  K_MAP,        /* FT_COUNTMAP, FT_STATUS, FT_TAGS */
  K_CALLS,      /* FT_CALLER outer array */
  K_CALL,       /* FT_CALLER inner [id, module, line] */
  K_SKETCH,     /* sketch object */
  K_SKETCH_C,   /* sketch "c" in array form */
  K_SKIP,       /* a value nobody reads (unknown member in IGNORE mode, extra call sites) */
} fkind;

enum { SK_A, SK_Z, SK_O, SK_C, SK_N };
static const char *const k_sketch_keys[SK_N] = {"a", "z", "o", "c"};

typedef struct frame {
  fkind k;
  size_t plen0;        /* path length of this container */
  size_t idx;          /* arrays: index of the next element; maps/objects: members so far */
  const hfield *f;     /* the field this container decodes (NULL for K_OBJ roots, K_SKIP) */
  /* K_OBJ */
  const htype *t;
  char *base;
  uint64_t seen, nulls;
  const hfield *cur;   /* field of the pending member, NULL = unknown (skipped) */
  size_t hint;         /* index after the last member found: members usually come in table order */
  /* K_ARR, K_SCALARS, K_MAP: items grow in the arena by doubling */
  char *items;
  size_t cap, esz;
  char *dst;           /* parent slot: K_OBJ base of the owning struct */
  bool over;           /* past the item limit: the rest is counted, not read */
  /* K_MAP: the member name waiting for its value */
  const char *mkey;
  size_t mklen;
  /* K_CALL / K_CALLS */
  hud_call_site *cs;
  bool *has;
  /* K_SKETCH */
  unsigned sk_seen;
  int sk_cur;
  double alpha;
  int64_t zero, off;
  size_t raw;
  bool c_array;
} frame;

#define MAX_FRAMES 64

typedef struct dctx {
  cctx *c;
  const hfield *root;  /* the document's value */
  char *root_base;
  frame fr[MAX_FRAMES];
  size_t nfr;
  size_t depth;        /* containers open, frames or not */
  size_t max_depth;
  bool doc_error;      /* the error is about the text itself (syntax, limits of the parser) */
  bool skip_all;       /* syntax-only pass */
  /* Syntax-only pass for batches: the top-level schema_version as found. */
  bool want_version, has_version;
  int version_type;    /* vtype of its value, -1 before */
  int64_t version;
  bool at_version;     /* the member being read is the top-level schema_version */
  int64_t *vals;       /* sketch entries scratch, HUD_SKETCH_MAX_BINS */
  const char *text;
  yajl_handle h;
} dctx;

static int oom(cctx *c) { return cctx_fail(c, HUD_ENOMEM, "out of memory"); }

static int want(cctx *c, const char *what, vtype t) {
  return cctx_fail(c, HUD_EFIELD, "expected %s, got %s", what, k_vnames[t]);
}

/* ---------------------------------------------------------------------------------------- */
/* Scalars into fields. */

static int sv_string(cctx *c, const sval *v, bool nonempty, const char **out) {
  if (v->t != V_STR) return want(c, "string", v->t);
  if (v->len > c->lim.max_string_bytes)
    return cctx_fail(c, HUD_ERANGE, "string of %zu bytes exceeds the limit of %zu bytes", v->len,
                     c->lim.max_string_bytes);
  if (nonempty && v->len == 0) return cctx_fail(c, HUD_EFIELD, "must not be empty");
  char *s = hud_arena_strndup(c->arena, v->s, v->len);
  if (!s) return oom(c);
  *out = s;
  return 0;
}

static bool is_uuid_n(const char *s, size_t n) {
  char b[37];
  if (n != 36) return false;
  memcpy(b, s, 36);
  b[36] = '\0';
  return cx_is_uuid(b);
}

static int sv_uuid(cctx *c, const sval *v, char *out) {
  if (v->t != V_STR) return want(c, "UUID string", v->t);
  if (!is_uuid_n(v->s, v->len))
    return cctx_fail(c, HUD_EFIELD, "expected lowercase canonical UUID (8-4-4-4-12 hex)");
  memcpy(out, v->s, 36);
  out[36] = '\0';
  return 0;
}

static int sv_int(cctx *c, const sval *v, int64_t min, int64_t max, int64_t *out) {
  if (v->t != V_INT) return want(c, min == 0 && max == INT64_MAX ? "non-negative integer" : "integer", v->t);
  if (v->i < min || v->i > max) {
    if (min == 0 && max == INT64_MAX)
      return cctx_fail(c, HUD_ERANGE, "expected non-negative integer, got %lld", (long long)v->i);
    return cctx_fail(c, HUD_ERANGE, "expected integer in %lld..%lld, got %lld", (long long)min,
                     (long long)max, (long long)v->i);
  }
  *out = v->i;
  return 0;
}

static int sv_real(cctx *c, const sval *v, double min, double max, double *out) {
  if (v->t != V_INT && v->t != V_REAL) return want(c, "number", v->t);
  double d = v->t == V_INT ? (double)v->i : v->d;
  if (!isfinite(d)) return cctx_fail(c, HUD_ERANGE, "expected finite number");
  if (d < min || d > max)
    return cctx_fail(c, HUD_ERANGE, "expected number in %.17g..%.17g, got %.17g", min, max, d);
  *out = d;
  return 0;
}

/* A copy that ends in NUL, for the parsers that want one; false when it does not fit. */
static bool cstr(const sval *v, char *buf, size_t cap) {
  if (v->len >= cap) return false;
  memcpy(buf, v->s, v->len);
  buf[v->len] = '\0';
  return true;
}

/* What a field holds, for "expected X, got Y" when a container comes instead of a scalar or
 * the other way round. */
static const char *field_want(const hfield *f) {
  switch (f->type) {
  case FT_STR: return "string";
  case FT_UUID: return "UUID string";
  case FT_SHA1: return "SHA-1 hex string";
  case FT_I64:
  case FT_I32: return f->min == 0 && f->max == INT64_MAX ? "non-negative integer" : "integer";
  case FT_F64:
  case FT_F64_INT: return "number";
  case FT_BOOL:
  case FT_TRI: return "boolean";
  case FT_TIME: return "RFC 3339 timestamp string";
  case FT_ENUM: return "string";
  case FT_OBJ:
  case FT_OBJ_PTR: return "object";
  case FT_SKETCH: return "sketch object {\"a\",\"z\",\"o\",\"c\"}";
  case FT_CALLER: return "array of [caller_function_id, module_path, line]";
  case FT_COUNTMAP:
  case FT_STATUS:
  case FT_TAGS: return "object";
  case FT_ARR:
  case FT_UUIDARR:
  case FT_STRARR:
  case FT_I32ARR: return "array";
  }
  return "?";
}

static int scalar_field(cctx *c, const hfield *f, const sval *v, char *base) {
  char *p = base + f->off;
  int rc;
  switch (f->type) {
  case FT_STR: return sv_string(c, v, f->flags & F_NONEMPTY, (const char **)p);
  case FT_UUID: return sv_uuid(c, v, p);
  case FT_SHA1: {
    char b[41];
    if (v->t != V_STR) return want(c, "SHA-1 hex string", v->t);
    if (!cstr(v, b, sizeof b) || v->len != 40 || !cx_is_sha1(b))
      return cctx_fail(c, HUD_EFIELD, "expected 40 lowercase hex characters (SHA-1)");
    memcpy(p, b, 41);
    return 0;
  }
  case FT_I64:
  case FT_I32: {
    int64_t x;
    if ((rc = sv_int(c, v, f->min, f->max, &x))) return rc;
    if (f->type == FT_I64) {
      memcpy(p, &x, sizeof x);
    } else {
      int32_t x32 = (int32_t)x;
      memcpy(p, &x32, sizeof x32);
    }
    return 0;
  }
  case FT_F64:
  case FT_F64_INT: {
    double d = 0;
    if ((rc = sv_real(c, v, f->fmin, f->fmax, &d))) return rc;
    memcpy(p, &d, sizeof d);
    return 0;
  }
  case FT_BOOL:
    if (v->t != V_BOOL) return want(c, "boolean", v->t);
    *(bool *)p = v->b;
    return 0;
  case FT_TRI:
    if (v->t != V_BOOL) return want(c, "boolean", v->t);
    *(int8_t *)p = v->b ? 1 : 0;
    return 0;
  case FT_TIME: {
    char b[64];
    hud_time_ns t;
    if (v->t != V_STR) return want(c, "RFC 3339 timestamp string", v->t);
    rc = cstr(v, b, sizeof b) ? hud_time_parse(b, &t) : HUD_EFIELD;
    if (rc == HUD_ERANGE) return cctx_fail(c, HUD_ERANGE, "timestamp before 1970");
    if (rc) return cctx_fail(c, HUD_EFIELD, "expected RFC 3339 timestamp (e.g. 2024-08-19T09:14:38.042113+00:00)");
    memcpy(p, &t, sizeof t);
    return 0;
  }
  case FT_ENUM: {
    if (v->t == V_STR) {
      for (int i = 1; i < f->nnames; i++) {
        if (f->names[i] && strlen(f->names[i]) == v->len && memcmp(v->s, f->names[i], v->len) == 0) {
          memcpy(p, &i, sizeof i);
          return 0;
        }
      }
    }
    char list[256];
    size_t n = 0;
    list[0] = '\0';
    for (int i = 1; i < f->nnames && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s\"%s\"", i > 1 ? ", " : "", f->names[i]);
    return cctx_fail(c, HUD_EFIELD, "expected one of %s", list);
  }
  default:
    return want(c, field_want(f), v->t);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Frames. */

static frame *top(dctx *d) { return d->nfr ? &d->fr[d->nfr - 1] : NULL; }

static frame *push(dctx *d, fkind k, const hfield *f) {
  if (d->nfr == MAX_FRAMES) return NULL; /* max_depth is checked before, and is smaller */
  frame *fr = &d->fr[d->nfr++];
  memset(fr, 0, sizeof *fr);
  fr->k = k;
  fr->f = f;
  fr->plen0 = d->c->plen;
  return fr;
}

static size_t max_items(const cctx *c, const hfield *f) {
  return f->max_items ? f->max_items : c->lim.max_array_items;
}

/* The next slot of a growing collection, zeroed; NULL past the limit (FR->over: the rest is
 * only counted, for the error at its end) or on error (reported). */
static char *grow(dctx *d, frame *fr, size_t limit) {
  cctx *c = d->c;
  if (fr->idx >= limit) {
    fr->over = true;
    return NULL;
  }
  if (fr->idx == fr->cap) {
    size_t cap = fr->cap ? fr->cap * 2 : 8;
    if (cap > limit) cap = limit;
    char *n = hud_arena_calloc(c->arena, cap, fr->esz);
    if (!n) {
      oom(c);
      return NULL;
    }
    if (fr->idx) memcpy(n, fr->items, fr->idx * fr->esz);
    fr->items = n;
    fr->cap = cap;
  }
  return fr->items + fr->idx * fr->esz;
}

static size_t elem_size(const hfield *f) {
  switch (f->type) {
  case FT_ARR: return f->sub->size;
  case FT_UUIDARR: return sizeof(hud_uuid);
  case FT_STRARR: return sizeof(char *);
  case FT_I32ARR: return sizeof(int32_t);
  case FT_COUNTMAP: return sizeof(hud_count_entry);
  case FT_STATUS: return sizeof(hud_status_count);
  case FT_TAGS: return sizeof(hud_tag);
  default: return 0;
  }
}

/* Opens the container that field F of the struct at BASE holds. */
static int open_field(dctx *d, const hfield *f, char *base, bool obj) {
  cctx *c = d->c;
  char *p = base + f->off;
  frame *fr;
  switch (f->type) {
  case FT_OBJ:
  case FT_OBJ_PTR:
    if (!obj) return want(c, "object", V_ARR);
    if (f->type == FT_OBJ_PTR) {
      void *o = hud_arena_calloc(c->arena, 1, f->sub->size);
      if (!o) return oom(c);
      memcpy(p, &o, sizeof o);
      p = o;
    }
    if (!(fr = push(d, K_OBJ, f))) return oom(c);
    fr->t = f->sub;
    fr->base = p;
    return 0;
  case FT_ARR:
  case FT_UUIDARR:
  case FT_STRARR:
  case FT_I32ARR:
    if (obj) return want(c, "array", V_OBJ);
    if (!(fr = push(d, f->type == FT_ARR ? K_ARR : K_SCALARS, f))) return oom(c);
    fr->esz = elem_size(f);
    fr->dst = base;
    return 0;
  case FT_COUNTMAP:
  case FT_STATUS:
  case FT_TAGS:
    if (!obj) return want(c, "object", V_ARR);
    if (!(fr = push(d, K_MAP, f))) return oom(c);
    fr->esz = elem_size(f);
    fr->dst = base;
    return 0;
  case FT_SKETCH:
    if (!obj) return want(c, field_want(f), V_ARR);
    if (!d->vals && !(d->vals = malloc(HUD_SKETCH_MAX_BINS * sizeof *d->vals))) return oom(c);
    if (!(fr = push(d, K_SKETCH, f))) return oom(c);
    fr->dst = p;
    fr->sk_cur = -1;
    return 0;
  case FT_CALLER:
    if (obj) return want(c, field_want(f), V_OBJ);
    if (!(fr = push(d, K_CALLS, f))) return oom(c);
    fr->cs = (hud_call_site *)p;
    fr->has = (bool *)(base + f->count_off);
    return 0;
  default:
    return want(c, field_want(f), obj ? V_OBJ : V_ARR);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Values by container. */

static int sketch_scalar(dctx *d, frame *fr, const sval *v) {
  cctx *c = d->c;
  switch (fr->sk_cur) {
  case SK_A:
    if (v->t != V_INT && v->t != V_REAL) return want(c, "number", v->t);
    fr->alpha = v->t == V_INT ? (double)v->i : v->d;
    if (!(fr->alpha > 0 && fr->alpha < 0.5))
      return cctx_fail(c, HUD_ERANGE, "expected alpha in (0, 0.5), got %.17g", fr->alpha);
    return 0;
  case SK_Z:
    if (v->t != V_INT) return want(c, "non-negative integer", v->t);
    if (v->i < 0) return cctx_fail(c, HUD_ERANGE, "expected non-negative integer, got %lld", (long long)v->i);
    fr->zero = v->i;
    return 0;
  case SK_O:
    if (v->t != V_INT) return want(c, "integer", v->t);
    if (v->i < -CX_SKETCH_MAX_OFFSET || v->i > CX_SKETCH_MAX_OFFSET)
      return cctx_fail(c, HUD_ERANGE, "expected integer in %d..%d, got %lld", -CX_SKETCH_MAX_OFFSET,
                       CX_SKETCH_MAX_OFFSET, (long long)v->i);
    fr->off = v->i;
    return 0;
  case SK_C:
    if (v->t != V_STR) return want(c, "string or array", v->t);
    return cx_parse_count_list(c, v->s, v->len, d->vals, &fr->raw);
  }
  return 0;
}

static int call_scalar(dctx *d, frame *fr, const sval *v) {
  cctx *c = d->c;
  int64_t line = 0;
  int rc;
  switch (fr->idx) {
  case 0:
    if (v->t == V_STR && v->len == 0) {
      fr->cs->caller_function_id[0] = '\0';
      return 0;
    }
    return sv_uuid(c, v, fr->cs->caller_function_id);
  case 1: return sv_string(c, v, false, &fr->cs->caller_module_path);
  case 2:
    if ((rc = sv_int(c, v, 0, INT32_MAX, &line))) return rc;
    fr->cs->line = (int32_t)line;
    return 0;
  }
  return 0; /* too many elements: reported when the array ends */
}

static int map_scalar(dctx *d, frame *fr, const sval *v) {
  cctx *c = d->c;
  char *slot = grow(d, fr, c->lim.max_map_entries);
  if (fr->over) {
    fr->idx++;
    return 0;
  }
  if (!slot) return c->err->code;
  cctx_push_keyn(c, fr->mkey, fr->mklen);
  int rc;
  if (fr->f->type == FT_COUNTMAP) {
    hud_count_entry *e = (hud_count_entry *)slot;
    rc = sv_int(c, v, 0, INT64_MAX, &e->count);
    e->key = fr->mkey;
  } else if (fr->f->type == FT_STATUS) {
    hud_status_count *e = (hud_status_count *)slot;
    e->status = (int)((fr->mkey[0] - '0') * 100 + (fr->mkey[1] - '0') * 10 + (fr->mkey[2] - '0'));
    rc = sv_int(c, v, 0, INT64_MAX, &e->count);
  } else {
    hud_tag *e = (hud_tag *)slot;
    rc = sv_string(c, v, false, &e->value);
    e->key = fr->mkey;
  }
  if (rc == 0) fr->idx++;
  return rc;
}

/* Arrays name their element in the path before it is read. */
static void at_element(dctx *d, frame *fr) {
  if (fr->k == K_ARR || fr->k == K_SCALARS || fr->k == K_CALLS || fr->k == K_CALL || fr->k == K_SKETCH_C ||
      (fr->k == K_SKIP && fr->esz)) {
    cctx_pop(d->c, fr->plen0);
    cctx_push_index(d->c, fr->idx);
  }
}

static void element_done(frame *fr) {
  if (fr && fr->k != K_OBJ && fr->k != K_MAP && fr->k != K_SKETCH) fr->idx++;
}

static int on_value(dctx *d, const sval *v) {
  cctx *c = d->c;
  frame *fr = top(d);
  int rc = 0;
  if (!fr) { /* a document is an object or an array */
    d->doc_error = true;
    return cctx_fail(c, HUD_EPARSE, "malformed JSON at line 1 column 1: '[' or '{' expected, got %s", k_vnames[v->t]);
  }
  at_element(d, fr);
  switch (fr->k) {
  case K_SKIP: break;
  case K_OBJ:
    if (!fr->cur) break;
    if (v->t == V_NULL) {
      fr->nulls |= 1ull << (fr->cur - fr->t->fields);
      break;
    }
    rc = scalar_field(c, fr->cur, v, fr->base);
    break;
  case K_ARR: rc = fr->over ? 0 : want(c, "object", v->t); break;
  case K_SCALARS: {
    char *slot = grow(d, fr, max_items(c, fr->f));
    if (fr->over) break;
    if (!slot) return c->err->code;
    if (fr->f->type == FT_UUIDARR) {
      rc = sv_uuid(c, v, slot);
    } else if (fr->f->type == FT_STRARR) {
      rc = sv_string(c, v, fr->f->flags & F_NONEMPTY, (const char **)slot);
    } else {
      int64_t x = 0;
      rc = sv_int(c, v, fr->f->min, fr->f->max, &x);
      int32_t x32 = (int32_t)x;
      memcpy(slot, &x32, sizeof x32);
    }
    break;
  }
  case K_MAP: rc = map_scalar(d, fr, v); break;
  case K_CALLS:
    if (fr->idx == 0) rc = want(c, "array [caller_function_id, module_path, line]", v->t);
    break;
  case K_CALL: rc = call_scalar(d, fr, v); break;
  case K_SKETCH: rc = sketch_scalar(d, fr, v); break;
  case K_SKETCH_C:
    if (v->t != V_INT) {
      rc = cctx_fail(c, HUD_EFIELD, "expected integer (count, or -k for k empty bins), got %s", k_vnames[v->t]);
    } else if (fr->idx >= HUD_SKETCH_MAX_BINS) {
      cctx_pop(c, fr->plen0);
      rc = cctx_fail(c, HUD_ERANGE, "more than %d bins", HUD_SKETCH_MAX_BINS);
    } else {
      d->vals[fr->idx] = v->i;
    }
    break;
  }
  if (rc == 0) element_done(fr);
  return rc;
}

/* A container nobody reads; ESZ marks an array, whose elements still get paths. */
static int skip_open(dctx *d, bool obj) {
  frame *s = push(d, K_SKIP, NULL);
  if (!s) return oom(d->c);
  s->esz = !obj;
  return 0;
}

static int on_open(dctx *d, bool obj) {
  cctx *c = d->c;
  frame *fr = top(d);
  if (fr) at_element(d, fr);
  if (++d->depth > d->max_depth) {
    d->doc_error = true;
    return cctx_fail(c, HUD_EPARSE, "nesting deeper than %zu levels (at byte %zu)", d->max_depth,
                     (size_t)yajl_get_bytes_consumed(d->h));
  }
  if (!fr) {
    int rc = open_field(d, d->root, d->root_base, obj);
    if (rc) d->doc_error = true;
    return rc;
  }
  switch (fr->k) {
  case K_SKIP: return skip_open(d, obj);
  case K_OBJ:
    if (!fr->cur) return skip_open(d, obj);
    return open_field(d, fr->cur, fr->base, obj);
  case K_ARR: {
    if (!obj) return want(c, "object", V_ARR);
    char *slot = grow(d, fr, max_items(c, fr->f));
    if (fr->over) return skip_open(d, obj);
    if (!slot) return c->err->code;
    frame *o = push(d, K_OBJ, fr->f);
    if (!o) return oom(c);
    o->t = fr->f->sub;
    o->base = slot;
    return 0;
  }
  case K_SCALARS: {
    const char *w = fr->f->type == FT_UUIDARR ? "UUID string"
                    : fr->f->type == FT_STRARR ? "string"
                                               : "integer";
    return want(c, w, obj ? V_OBJ : V_ARR);
  }
  case K_MAP:
    if (fr->over) return skip_open(d, obj);
    cctx_push_keyn(c, fr->mkey, fr->mklen);
    if (fr->f->type == FT_TAGS) return want(c, "string", obj ? V_OBJ : V_ARR);
    return want(c, "non-negative integer", obj ? V_OBJ : V_ARR);
  case K_CALLS: {
    if (fr->idx > 0) return skip_open(d, obj); /* a second call site: counted, reported at the end */
    if (obj) return want(c, "array [caller_function_id, module_path, line]", V_OBJ);
    frame *k = push(d, K_CALL, fr->f);
    if (!k) return oom(c);
    k->cs = fr->cs;
    return 0;
  }
  case K_CALL: {
    static const char *const w[] = {"UUID string", "string", "integer"};
    if (fr->idx < 3) return want(c, w[fr->idx], obj ? V_OBJ : V_ARR);
    return skip_open(d, obj);
  }
  case K_SKETCH:
    if (fr->sk_cur == SK_C && !obj) {
      fr->c_array = true;
      return push(d, K_SKETCH_C, NULL) ? 0 : oom(c);
    }
    if (fr->sk_cur == SK_A) return want(c, "number", obj ? V_OBJ : V_ARR);
    if (fr->sk_cur == SK_C) return want(c, "string or array", V_OBJ);
    return want(c, fr->sk_cur == SK_Z ? "non-negative integer" : "integer", obj ? V_OBJ : V_ARR);
  case K_SKETCH_C:
    return cctx_fail(c, HUD_EFIELD, "expected integer (count, or -k for k empty bins), got %s",
                     obj ? "object" : "array");
  }
  return 0;
}

static int close_obj(dctx *d, frame *fr) {
  cctx *c = d->c;
  const htype *t = fr->t;
  for (size_t i = 0; i < t->nfields; i++) {
    const hfield *f = &t->fields[i];
    uint64_t bit = 1ull << i;
    if ((f->flags & F_REQ) && (!(fr->seen & bit) || (fr->nulls & bit)))
      return cctx_fail_at(c, f->name, HUD_EFIELD,
                          fr->seen & bit ? "required field is null" : "required field missing");
    /* An unknown tri-state is -1, not the zero of a fresh struct. */
    if (f->type == FT_TRI && (!(fr->seen & bit) || (fr->nulls & bit))) *(int8_t *)(fr->base + f->off) = -1;
  }
  return t->validate ? t->validate(c, fr->base) : 0;
}

static int close_sketch(dctx *d, frame *fr) {
  cctx *c = d->c;
  for (int i = 0; i < SK_N; i++)
    if (!(fr->sk_seen & (1u << i))) return cctx_fail_at(c, k_sketch_keys[i], HUD_EFIELD, "required field missing");
  hud_sketch_bins *b = hud_arena_alloc(c->arena, sizeof *b);
  if (!b) return oom(c);
  int rc = cx_sketch_build(c, fr->alpha, fr->zero, fr->off, d->vals, fr->raw, fr->c_array, b);
  if (rc) return rc;
  memcpy(fr->dst, &b, sizeof b);
  return 0;
}

static int on_close(dctx *d) {
  cctx *c = d->c;
  frame *fr = top(d);
  int rc = 0;
  d->depth--;
  cctx_pop(c, fr->plen0);
  switch (fr->k) {
  case K_OBJ: rc = close_obj(d, fr); break;
  case K_ARR:
  case K_SCALARS:
  case K_MAP:
    if (fr->over) {
      if (fr->k == K_MAP)
        rc = cctx_fail(c, HUD_ERANGE, "object of %zu entries exceeds the limit of %zu", fr->idx, c->lim.max_map_entries);
      else
        rc = cctx_fail(c, HUD_ERANGE, "array of %zu items exceeds the limit of %zu", fr->idx, max_items(c, fr->f));
      break;
    }
    if (fr->f->type == FT_COUNTMAP) {
      hud_count_map *m = (hud_count_map *)(fr->dst + fr->f->off);
      m->n = fr->idx;
      m->items = (hud_count_entry *)fr->items;
    } else {
      memcpy(fr->dst + fr->f->off, &fr->items, sizeof fr->items);
      memcpy(fr->dst + fr->f->count_off, &fr->idx, sizeof fr->idx);
    }
    break;
  case K_CALLS:
    if (fr->idx > 1) rc = cctx_fail(c, HUD_ERANGE, "expected at most 1 call site, got %zu", fr->idx);
    *fr->has = fr->idx == 1;
    break;
  case K_CALL:
    if (fr->idx != 3)
      rc = cctx_fail(c, HUD_EFIELD, "expected [caller_function_id, module_path, line], got %zu elements", fr->idx);
    break;
  case K_SKETCH: rc = close_sketch(d, fr); break;
  case K_SKETCH_C: {
    frame *sk = fr - 1;
    sk->raw = fr->idx;
    break;
  }
  case K_SKIP: break;
  }
  d->nfr--;
  frame *up = top(d);
  if (rc == 0 && up && up->k == K_MAP && up->over) up->idx++;
  if (rc == 0) element_done(up);
  return rc;
}

static int on_key(dctx *d, const char *k, size_t n) {
  cctx *c = d->c;
  frame *fr = top(d);
  cctx_pop(c, fr->plen0);
  if (fr->k == K_SKIP) {
    cctx_push_keyn(c, k, n);
    return 0;
  }
  if (fr->k == K_MAP && fr->over) return 0;
  if (fr->k == K_MAP) {
    cctx *cc = c;
    if (n == 0) return cctx_fail(cc, HUD_EFIELD, "empty key");
    for (size_t i = 0; i < fr->idx; i++) {
      const char *prev = fr->f->type == FT_COUNTMAP ? ((hud_count_entry *)fr->items)[i].key
                         : fr->f->type == FT_TAGS   ? ((hud_tag *)fr->items)[i].key
                                                    : NULL;
      int st = fr->f->type == FT_STATUS ? ((hud_status_count *)fr->items)[i].status : -1;
      bool dup = prev ? strlen(prev) == n && memcmp(prev, k, n) == 0
                      : n == 3 && st == (k[0] - '0') * 100 + (k[1] - '0') * 10 + (k[2] - '0');
      if (dup) {
        cctx_push_keyn(c, k, n);
        d->doc_error = true;
        return cctx_fail(c, HUD_EPARSE, "duplicate object key");
      }
    }
    cctx_push_keyn(c, k, n);
    if (n > c->lim.max_string_bytes)
      return cctx_fail(c, HUD_ERANGE, "key of %zu bytes exceeds the limit of %zu bytes", n, c->lim.max_string_bytes);
    if (fr->f->type == FT_STATUS) {
      int code = 0;
      bool ok = n == 3;
      for (size_t i = 0; ok && i < 3; i++) {
        ok = k[i] >= '0' && k[i] <= '9';
        code = code * 10 + (k[i] - '0');
      }
      if (!ok || code < 100 || code > 599)
        return cctx_fail(c, HUD_EFIELD, "expected an HTTP status code 100..599 as key");
    }
    char *key = hud_arena_strndup(c->arena, k, n);
    if (!key) return oom(c);
    fr->mkey = key;
    fr->mklen = n;
    cctx_pop(c, fr->plen0);
    return 0;
  }
  cctx_push_keyn(c, k, n);
  if (fr->k == K_SKETCH) {
    fr->sk_cur = -1;
    for (int i = 0; i < SK_N; i++)
      if (n == 1 && k[0] == k_sketch_keys[i][0]) fr->sk_cur = i;
    if (fr->sk_cur < 0) return cctx_fail(c, HUD_EFIELD, "unknown field"); /* always strict: see docs/protocol.md */
    if (fr->sk_seen & (1u << fr->sk_cur)) {
      d->doc_error = true;
      return cctx_fail(c, HUD_EPARSE, "duplicate object key");
    }
    fr->sk_seen |= 1u << fr->sk_cur;
    return 0;
  }
  /* K_OBJ */
  const htype *t = fr->t;
  const hfield *f = NULL;
  for (size_t i = 0; i < t->nfields; i++) {
    size_t j = (fr->hint + i) % t->nfields;
    const char *name = t->fields[j].name;
    if (strncmp(name, k, n) == 0 && name[n] == '\0') {
      f = &t->fields[j];
      fr->hint = j + 1;
      break;
    }
  }
  fr->cur = f;
  if (!f) {
    if (c->reject_unknown) return cctx_fail(c, HUD_EFIELD, "unknown field");
    return 0;
  }
  uint64_t bit = 1ull << ((f - t->fields) & 63); /* tables have fewer than 64 fields (codec_tables.h) */
  if (fr->seen & bit) {
    d->doc_error = true;
    return cctx_fail(c, HUD_EPARSE, "duplicate object key");
  }
  fr->seen |= bit;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* yajl callbacks: 1 goes on, 0 stops the parse (the error is already in the context). */

static int cb_null(void *ctx) {
  sval v = {.t = V_NULL};
  return on_value(ctx, &v) == 0;
}

static int cb_bool(void *ctx, int b) {
  sval v = {.t = V_BOOL, .b = b != 0};
  return on_value(ctx, &v) == 0;
}

static void position(const char *text, size_t at, int *line, int *col);

static int number_error(dctx *d) {
  int line, col;
  frame *fr = top(d);
  if (fr) at_element(d, fr);
  position(d->text, (size_t)yajl_get_bytes_consumed(d->h), &line, &col);
  d->doc_error = true;
  return cctx_fail(d->c, HUD_ERANGE,
                   "number out of range (integers must fit in int64, reals must be finite) at line %d column %d",
                   line, col);
}

/* JSON integers without '.', 'e' or 'E' are integers (as jansson and Python see them); the
 * rest are reals. Out-of-range numbers are refused wherever they are, like a syntax error. */
/* The number yajl hands over as text into *V (V_INT or V_REAL). HUD_ERANGE beyond int64 or
 * beyond a finite double, HUD_ENOMEM. Shared by both passes, so they refuse the same numbers. */
static int parse_number(const char *s, size_t n, sval *v) {
  bool integral = true;
  for (size_t i = 0; i < n && integral; i++) integral = !(s[i] == '.' || s[i] == 'e' || s[i] == 'E');
  if (integral) {
    bool neg = n && s[0] == '-';
    uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = neg; i < n; i++) {
      unsigned dig = (unsigned)(s[i] - '0');
      if (u > (lim - dig) / 10) return HUD_ERANGE;
      u = u * 10 + dig;
    }
    *v = (sval){.t = V_INT, .i = neg ? (int64_t)(0 - u) : (int64_t)u};
    return 0;
  }
  char buf[128], *big = NULL, *t = buf;
  if (n >= sizeof buf && !(t = big = malloc(n + 1))) return HUD_ENOMEM;
  memcpy(t, s, n);
  t[n] = '\0';
  *v = (sval){.t = V_REAL, .d = strtod(t, NULL)}; /* the server runs in the C locale */
  free(big);
  return isinf(v->d) ? HUD_ERANGE : 0;
}

static int cb_number(void *ctx, const char *s, size_t n) {
  dctx *d = ctx;
  sval v;
  int rc = parse_number(s, n, &v);
  if (rc == HUD_ENOMEM) return oom(d->c) == 0;
  if (rc) return number_error(d) == 0;
  return on_value(d, &v) == 0;
}

/* yajl lets overlong forms and UTF-16 surrogates through; RFC 3629 does not. */
static bool utf8_ok(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char b = s[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t k;
    uint32_t cp, min;
    if ((b & 0xE0) == 0xC0) k = 1, cp = b & 0x1F, min = 0x80;
    else if ((b & 0xF0) == 0xE0) k = 2, cp = b & 0x0F, min = 0x800;
    else if ((b & 0xF8) == 0xF0) k = 3, cp = b & 0x07, min = 0x10000;
    else return false;
    if (i + k >= n) return false;
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += k + 1;
  }
  return true;
}

static int hex4(const char *p, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (x < 0) return -1;
    *v = *v << 4 | (uint32_t)x;
  }
  return 0;
}

/* The \u escapes of the raw string token [P, END) (between its quotes) pair their UTF-16 surrogates:
 * yajl turns a lone high one into '?' and joins a high one with whatever \u follows. Returns the
 * offset of the first bad escape from P, or -1. */
static long bad_surrogate(const char *p, const char *end) {
  const char *q = p;
  while ((q = memchr(q, '\\', (size_t)(end - q))) != NULL) {
    if (end - q < 2) return -1;
    if (q[1] != 'u') {
      q += 2;
      continue;
    }
    uint32_t hi, lo;
    if (end - q < 6 || hex4(q + 2, &hi) < 0) return -1; /* the lexer reports it */
    if (hi >= 0xDC00 && hi <= 0xDFFF) return q - p;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
      if (end - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
        return q - p;
      q += 12;
    } else {
      q += 6;
    }
  }
  return -1;
}

/* Offset in the document of a lone surrogate escape in the string token that the parser has just
 * read (it ends at the bytes consumed so far), or -1. */
static long token_bad_surrogate(dctx *d) {
  size_t at = (size_t)yajl_get_bytes_consumed(d->h);
  const char *t = d->text;
  while (at > 0 && t[at - 1] != '"') at--; /* the closing quote */
  if (at < 2) return -1;
  size_t close = at - 1, open = close;
  for (;;) { /* the opening quote: one not escaped (an even run of backslashes before it) */
    while (open > 0 && t[--open] != '"') {}
    size_t bs = 0;
    while (open > bs && t[open - 1 - bs] == '\\') bs++;
    if (t[open] != '"' || bs % 2 == 0 || open == 0) break;
  }
  long off = bad_surrogate(t + open + 1, t + close);
  return off < 0 ? -1 : (long)(open + 1) + off;
}

/* Strings and member names: no NUL (C strings end there), valid UTF-8, no lone surrogate escape. */
static int text_ok(dctx *d, const unsigned char *s, size_t n) {
  /* Nearly every string is ASCII without NUL or '?': eight bytes at a time for that. */
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w, q;
    memcpy(&w, s + i, 8);
    q = w ^ (ones * '?'); /* '?' bytes become zero */
    if ((w & highs) || ((w - ones) & ~w & highs) || ((q - ones) & ~q & highs)) break;
  }
  while (i < n && s[i] && s[i] < 0x80 && s[i] != '?') i++;
  if (i == n) return 0;
  /* A lone high surrogate escape comes out of yajl as '?', a high one joined with a \u that is not
   * a low one as a four-byte character: only then is the raw token looked at. */
  long bad = -1;
  if (memchr(s + i, '?', n - i)) bad = token_bad_surrogate(d);
  for (size_t k = i; bad < 0 && k < n; k++)
    if (s[k] >= 0xF0) {
      bad = token_bad_surrogate(d);
      break;
    }
  bool nul = memchr(s, 0, n) != NULL;
  if (bad < 0 && !nul && utf8_ok(s, n)) return 0;
  if (bad < 0 && !nul) bad = token_bad_surrogate(d); /* yajl writes a lone low one as UTF-8 of it */
  d->doc_error = true;
  frame *fr = top(d);
  if (fr) at_element(d, fr);
  if (nul) return cctx_fail(d->c, HUD_EPARSE, "NUL character (\\u0000) in a string");
  int line, col;
  if (bad >= 0) {
    position(d->text, (size_t)bad, &line, &col);
    return cctx_fail(d->c, HUD_EPARSE, "unpaired UTF-16 surrogate escape at line %d column %d", line, col);
  }
  position(d->text, (size_t)yajl_get_bytes_consumed(d->h), &line, &col);
  return cctx_fail(d->c, HUD_EPARSE, "invalid UTF-8 at line %d column %d", line, col);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n) {
  dctx *d = ctx;
  if (text_ok(d, s, n)) return 0;
  sval v = {.t = V_STR, .s = (const char *)s, .len = n};
  return on_value(d, &v) == 0;
}

static int cb_start_map(void *ctx) { return on_open(ctx, true) == 0; }
static int cb_start_array(void *ctx) { return on_open(ctx, false) == 0; }
static int cb_end(void *ctx) { return on_close(ctx) == 0; }

static int cb_key(void *ctx, const unsigned char *k, size_t n) {
  return text_ok(ctx, k, n) == 0 && on_key(ctx, (const char *)k, n) == 0;
}

/* The syntax-only pass still notes the batch's schema_version. */
static void version_value(dctx *d, vtype t, int64_t i) {
  if (d->at_version && d->nfr == 1) {
    d->version_type = (int)t;
    d->version = i;
    d->at_version = false;
  }
}

static int cbs_null(void *ctx) {
  dctx *d = ctx;
  version_value(d, V_NULL, 0);
  element_done(top(d));
  return 1;
}
static int cbs_bool(void *ctx, int b) {
  dctx *d = ctx;
  (void)b;
  version_value(d, V_BOOL, 0);
  element_done(top(d));
  return 1;
}
static int cbs_number(void *ctx, const char *s, size_t n) {
  dctx *d = ctx;
  sval v;
  int rc = parse_number(s, n, &v);
  if (rc == HUD_ENOMEM) return oom(d->c) == 0;
  if (rc) return number_error(d) == 0;
  version_value(d, v.t, v.i);
  element_done(top(d));
  return 1;
}
static int cbs_string(void *ctx, const unsigned char *s, size_t n) {
  dctx *d = ctx;
  if (text_ok(d, s, n)) return 0;
  version_value(d, V_STR, 0);
  element_done(top(d));
  return 1;
}
static int cbs_open(void *ctx, bool obj) {
  dctx *d = ctx;
  frame *fr = top(d);
  if (fr) at_element(d, fr);
  version_value(d, obj ? V_OBJ : V_ARR, 0);
  if (++d->depth > d->max_depth) {
    d->doc_error = true;
    return cctx_fail(d->c, HUD_EPARSE, "nesting deeper than %zu levels (at byte %zu)", d->max_depth,
                     (size_t)yajl_get_bytes_consumed(d->h)) == 0;
  }
  return skip_open(d, obj) == 0;
}
static int cbs_start_map(void *ctx) { return cbs_open(ctx, true); }
static int cbs_start_array(void *ctx) { return cbs_open(ctx, false); }
static int cbs_end(void *ctx) {
  dctx *d = ctx;
  frame *fr = top(d);
  d->depth--;
  cctx_pop(d->c, fr->plen0);
  d->nfr--;
  element_done(top(d));
  return 1;
}
static int cbs_key(void *ctx, const unsigned char *k, size_t n) {
  dctx *d = ctx;
  frame *fr = top(d);
  if (text_ok(d, k, n)) return 0;
  /* Duplicates are syntax errors too; the pass keeps no member names, so it finds them only
   * at the top level (the one level it watches) and leaves deeper ones to the full pass. */
  d->at_version = false;
  if (d->want_version && d->nfr == 1 && n == 14 && memcmp(k, "schema_version", 14) == 0) {
    d->at_version = true;
    if (d->has_version) {
      cctx_pop(d->c, fr->plen0);
      cctx_push_keyn(d->c, (const char *)k, n);
      d->doc_error = true;
      return cctx_fail(d->c, HUD_EPARSE, "duplicate object key") == 0;
    }
    d->has_version = true;
  }
  cctx_pop(d->c, fr->plen0);
  cctx_push_keyn(d->c, (const char *)k, n);
  return 1;
}

static const yajl_callbacks k_decode_cbs = {cb_null,   cb_bool,      NULL, NULL, cb_number, cb_string,
                                            cb_start_map, cb_key, cb_end, cb_start_array, cb_end};
static const yajl_callbacks k_skip_cbs = {cbs_null,      cbs_bool, NULL,    NULL,           cbs_number, cbs_string,
                                          cbs_start_map, cbs_key,  cbs_end, cbs_start_array, cbs_end};

/* Line and column (1-based) of byte AT, for syntax errors. */
static void position(const char *text, size_t at, int *line, int *col) {
  int l = 1, cl = 1;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n') {
      l++;
      cl = 1;
    } else {
      cl++;
    }
  }
  *line = l;
  *col = cl;
}

static int run(dctx *d, const yajl_callbacks *cbs, const char *text, size_t len) {
  cctx *c = d->c;
  d->h = yajl_alloc(cbs, NULL, d);
  if (!d->h) return oom(c);
  yajl_status st = yajl_parse(d->h, (const unsigned char *)text, len);
  if (st == yajl_status_ok) st = yajl_complete_parse(d->h);
  int rc = 0;
  if (st == yajl_status_error) {
    unsigned char *msg = yajl_get_error(d->h, 0, (const unsigned char *)text, len);
    size_t at = (size_t)yajl_get_bytes_consumed(d->h);
    if (at > len) at = len;
    int line, col;
    position(text, at, &line, &col);
    char what[160];
    snprintf(what, sizeof what, "%s", msg ? (const char *)msg : "syntax error");
    what[strcspn(what, "\n")] = '\0';
    if (msg) yajl_free_error(d->h, msg);
    d->doc_error = true;
    if (strstr(what, "UTF8"))
      rc = cctx_fail(c, HUD_EPARSE, "invalid UTF-8 at line %d column %d", line, col);
    else
      rc = cctx_fail(c, HUD_EPARSE, "malformed JSON at line %d column %d: %s", line, col, what);
    c->err->line = line;
    c->err->column = col;
  } else if (st == yajl_status_client_canceled) {
    rc = c->err->code ? c->err->code : HUD_EINVAL;
  }
  yajl_free(d->h);
  d->h = NULL;
  return rc;
}

/* After a field error: a syntax error further on, or (for a batch) a schema_version we do not
 * support, is what the sender must hear first. Reruns the text through the skipping callbacks. */
static int recheck(dctx *d, bool batch, const char *text, size_t len, int rc) {
  cctx *c = d->c;
  hud_codec_error *orig = c->err, first = *orig, again;
  int64_t *vals = d->vals;
  const hfield *root = d->root;
  size_t max_depth = d->max_depth;
  memset(d, 0, sizeof *d);
  d->c = c;
  d->root = root;
  d->max_depth = max_depth;
  d->vals = vals;
  d->text = text;
  d->want_version = batch;
  d->version_type = -1;
  cctx_pop(c, 0);
  memset(&again, 0, sizeof again);
  c->err = &again;
  int rc2 = run(d, &k_skip_cbs, text, len);
  if (rc2 == 0 && batch) {
    cctx_pop(c, 0);
    if (!d->has_version)
      rc2 = cctx_fail_at(c, "schema_version", HUD_EFIELD, "required field missing");
    else if (d->version_type != V_INT)
      rc2 = cctx_fail_at(c, "schema_version", HUD_EFIELD, "expected integer, got %s", k_vnames[d->version_type]);
    else if (d->version < HUD_SCHEMA_VERSION_MIN || d->version > HUD_SCHEMA_VERSION_MAX)
      rc2 = cx_version_error(c, (long long)d->version);
  }
  c->err = orig;
  *orig = rc2 ? again : first;
  return rc2 ? rc2 : rc;
}

static int decode(cctx *c, const hfield *root, char *base, bool batch, const char *text, size_t len) {
  if (!text) return cctx_fail(c, HUD_EPARSE, "no input");
  if (len > c->lim.max_decoded_bytes)
    return cctx_fail(c, HUD_ETOOBIG, "document of %zu bytes exceeds the limit of %zu bytes", len,
                     c->lim.max_decoded_bytes);
  dctx *d = calloc(1, sizeof *d);
  if (!d) return oom(c);
  d->c = c;
  d->root = root;
  d->root_base = base;
  d->max_depth = c->lim.max_depth ? c->lim.max_depth : HUD_MAX_DEPTH;
  if (d->max_depth >= MAX_FRAMES) d->max_depth = MAX_FRAMES - 1;
  d->text = text;
  int rc = run(d, &k_decode_cbs, text, len);
  if (rc && !d->doc_error && rc != HUD_ENOMEM) rc = recheck(d, batch, text, len, rc);
  free(d->vals);
  free(d);
  cctx_pop(c, 0);
  return rc;
}

int cx_decode_text(cctx *c, const htype *t, bool batch, const char *text, size_t len, void *out) {
  hfield root = {.name = "", .type = FT_OBJ, .sub = t};
  return decode(c, &root, out, batch, text, len);
}

int cx_decode_sketch_text(cctx *c, const char *text, size_t len, hud_sketch_bins *out) {
  hfield root = {.name = "", .type = FT_SKETCH};
  hud_sketch_bins *p = NULL;
  int rc = decode(c, &root, (char *)&p, false, text, len);
  if (rc == 0 && p) *out = *p;
  return rc;
}
