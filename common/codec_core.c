/* The codec's engine: field paths and errors, parsing with limits, the table-driven
 * encoder/decoder, RFC 3339 times, API error codes and gzip. The type tables live in
 * codec_records.c and codec_query.c. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Context, path, errors. */

void hud_codec_limits_default(hud_codec_limits *out) {
  out->max_string_bytes = HUD_MAX_STRING_BYTES;
  out->max_array_items = HUD_MAX_ARRAY_ITEMS;
  out->max_batch_records = HUD_MAX_BATCH_RECORDS;
  out->max_depth = HUD_MAX_DEPTH;
  out->max_map_entries = HUD_MAX_MAP_ENTRIES;
  out->max_decoded_bytes = HUD_MAX_DECODED_BYTES;
  out->max_body_bytes = HUD_MAX_BODY_BYTES;
}

void cctx_init(cctx *c, const hud_decode_opts *opts, bool default_reject, hud_arena *arena,
               hud_codec_error *err) {
  memset(c, 0, sizeof *c);
  c->arena = arena;
  if (opts && opts->limits)
    c->lim = *opts->limits;
  else
    hud_codec_limits_default(&c->lim);
  hud_unknown_policy p = opts ? opts->unknown_fields : HUD_UNKNOWN_DEFAULT;
  c->reject_unknown = p == HUD_UNKNOWN_REJECT || (p == HUD_UNKNOWN_DEFAULT && default_reject);
  c->err = err;
  memset(err, 0, sizeof *err);
}

static size_t path_append(cctx *c, const char *s, size_t n) {
  size_t old = c->plen;
  size_t room = sizeof c->path - 1 - c->plen;
  if (n > room) n = room;
  memcpy(c->path + c->plen, s, n);
  c->plen += n;
  c->path[c->plen] = '\0';
  return old;
}

size_t cctx_push_keyn(cctx *c, const char *key, size_t n) {
  size_t old = c->plen;
  if (!n) {
    path_append(c, "[\"\"]", 4); /* an empty member name stays visible in the path */
    return old;
  }
  if (c->plen) path_append(c, ".", 1);
  path_append(c, key, n);
  return old;
}

size_t cctx_push_key(cctx *c, const char *key) { return cctx_push_keyn(c, key, strlen(key)); }

size_t cctx_push_index(cctx *c, size_t i) {
  /* Called for every array element of every document: no snprintf here. */
  char b[32];
  size_t n = sizeof b;
  b[--n] = ']';
  do {
    b[--n] = (char)('0' + i % 10);
    i /= 10;
  } while (i);
  b[--n] = '[';
  return path_append(c, b + n, sizeof b - n);
}

static int vfail(cctx *c, int code, const char *fmt, va_list ap) {
  hud_codec_error *e = c->err;
  if (e->code) return code; /* the first error is the one reported */
  e->code = code;
  snprintf(e->path, sizeof e->path, "%s", c->path);
  char msg[240];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (c->plen)
    snprintf(e->message, sizeof e->message, "%s: %s", c->path, msg);
  else
    snprintf(e->message, sizeof e->message, "%s", msg);
  return code;
}

int cctx_fail(cctx *c, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(c, code, fmt, ap);
  va_end(ap);
  return rc;
}

int cctx_fail_at(cctx *c, const char *key, int code, const char *fmt, ...) {
  size_t old = cctx_push_key(c, key);
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(c, code, fmt, ap);
  va_end(ap);
  cctx_pop(c, old);
  return rc;
}

static int oom(cctx *c) { return cctx_fail(c, HUD_ENOMEM, "out of memory"); }

/* ---------------------------------------------------------------------------------------- */
/* Small validators. */

bool cx_is_uuid(const char *s) {
  for (int i = 0; i < 36; i++) {
    char ch = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ch != '-') return false;
    } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
      return false;
    }
  }
  return s[36] == '\0';
}

bool cx_is_sha1(const char *s) {
  for (int i = 0; i < 40; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return s[40] == '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Writing. */

int cx_dump(cctx *c, json_t *j, char **json, size_t *len) {
  char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
  if (!s) return oom(c);
  *json = s;
  if (len) *len = strlen(s);
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Times. */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = (int64_t)yoe + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yy + (*m <= 2));
}

int hud_time_format(hud_time_ns t, char out[HUD_TIME_STRLEN + 1]) {
  if (t < 0) return HUD_ERANGE;
  int64_t secs = t / 1000000000, ns = t % 1000000000;
  int64_t days = secs / 86400, rem = secs % 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
  char tmp[64]; /* roomier than needed, so the compiler can see nothing is cut */
  int n;
  if (ns % 1000 == 0)
    n = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%06d+00:00", y, m, d, hh, mm, ss,
                 (int)(ns / 1000));
  else
    n = snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02d.%09d+00:00", y, m, d, hh, mm, ss,
                 (int)ns);
  if (n < 0 || n > HUD_TIME_STRLEN) return HUD_ERANGE;
  memcpy(out, tmp, (size_t)n + 1);
  return 0;
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

int hud_time_parse(const char *s, hud_time_ns *out) {
  if (!s) return HUD_EINVAL;
  int y, mo, d, h, mi, se;
  if (strlen(s) < 20) return HUD_EINVAL;
  if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
      digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
      s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
    return HUD_EINVAL;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return HUD_EINVAL;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap)) return HUD_EINVAL;
  const char *p = s + 19;
  int64_t frac = 0;
  if (*p == '.') {
    p++;
    int nd = 0;
    while (*p >= '0' && *p <= '9') {
      if (nd >= 9) return HUD_EINVAL;
      frac = frac * 10 + (*p - '0');
      nd++;
      p++;
    }
    if (nd == 0) return HUD_EINVAL;
    for (; nd < 9; nd++) frac *= 10;
  }
  int64_t off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return HUD_EINVAL;
    off = (int64_t)(oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return HUD_EINVAL;
  }
  if (*p) return HUD_EINVAL;
  int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
                 off;
  if (y < 1970 || secs < 0) return HUD_ERANGE;
  /* int64 nanoseconds end in April 2262. */
  if (secs > (INT64_MAX - frac) / 1000000000) return HUD_ERANGE;
  *out = secs * 1000000000 + frac;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Table-driven encoder. Checks the same constraints as the decoder. */

static size_t max_items(const cctx *c, const hfield *f) {
  return f->max_items ? f->max_items : c->lim.max_array_items;
}

static int enc_set(cctx *c, json_t *obj, const char *key, json_t *v) {
  if (!v) return oom(c);
  if (json_object_set_new(obj, key, v)) return oom(c);
  return 0;
}

static int enc_string(cctx *c, const char *s, bool nonempty, json_t **out) {
  size_t n = strlen(s);
  if (n > c->lim.max_string_bytes)
    return cctx_fail(c, HUD_ERANGE, "string of %zu bytes exceeds the limit of %zu bytes", n,
                     c->lim.max_string_bytes);
  if (nonempty && n == 0) return cctx_fail(c, HUD_EFIELD, "must not be empty");
  json_t *j = json_stringn(s, n);
  if (!j) return cctx_fail(c, HUD_EFIELD, "string is not valid UTF-8");
  *out = j;
  return 0;
}

static int enc_int(cctx *c, int64_t v, int64_t min, int64_t max, json_t **out) {
  if (v < min || v > max) {
    if (min == 0 && max == INT64_MAX)
      return cctx_fail(c, HUD_ERANGE, "expected non-negative integer, got %lld", (long long)v);
    return cctx_fail(c, HUD_ERANGE, "expected integer in %lld..%lld, got %lld", (long long)min,
                     (long long)max, (long long)v);
  }
  *out = json_integer(v);
  return *out ? 0 : oom(c);
}

static int enc_caller(cctx *c, bool has, const hud_call_site *cs, json_t **out) {
  json_t *a = json_array();
  if (!a) return oom(c);
  *out = a;
  if (!has) return 0;
  if (cs->caller_function_id[0] && !cx_is_uuid(cs->caller_function_id))
    return cctx_fail(c, HUD_EFIELD, "caller_function_id: expected lowercase canonical UUID or \"\"");
  if (cs->line < 0) return cctx_fail(c, HUD_ERANGE, "call-site line must be >= 0");
  json_t *mp = NULL;
  int rc = enc_string(c, cs->caller_module_path ? cs->caller_module_path : "", false, &mp);
  if (rc) return rc;
  json_t *t = json_pack("[s,o,i]", cs->caller_function_id, mp, (json_int_t)cs->line);
  if (!t || json_array_append_new(a, t)) return oom(c);
  return 0;
}

/* Returns 1 when an optional field is absent (to be omitted). */
static int field_absent(const hfield *f, const void *base) {
  const char *p = (const char *)base + f->off;
  if ((f->flags & F_OMIT0) && !(f->flags & F_REQ)) {
    if (f->type == FT_ARR) {
      size_t n;
      memcpy(&n, (const char *)base + f->count_off, sizeof n);
      return n == 0;
    }
    if (f->type == FT_OBJ) {
      for (size_t i = 0; i < f->sub->size; i++)
        if (p[i]) return 0;
      return 1;
    }
  }
  switch (f->type) {
  case FT_TRI:
    return *(const int8_t *)p < 0;
  case FT_STR: {
    const char *s;
    memcpy(&s, p, sizeof s);
    return s == NULL;
  }
  case FT_UUID:
  case FT_SHA1:
    return p[0] == '\0';
  case FT_TIME: {
    /* Optional times use 0 for "not given" (query windows). */
    hud_time_ns t;
    memcpy(&t, p, sizeof t);
    return !(f->flags & F_REQ) && t == 0;
  }
  case FT_OBJ_PTR:
  case FT_SKETCH: {
    const void *q;
    memcpy(&q, p, sizeof q);
    return q == NULL;
  }
  case FT_I32ARR: {
    /* An optional list of numbers is left out when empty (error bodies: supported_versions). */
    size_t n;
    memcpy(&n, (const char *)base + f->count_off, sizeof n);
    return !(f->flags & F_REQ) && n == 0;
  }
  default:
    return 0;
  }
}

static int enc_field(cctx *c, const hfield *f, const void *base, json_t **out) {
  const char *p = (const char *)base + f->off;
  switch (f->type) {
  case FT_STR: {
    const char *s;
    memcpy(&s, p, sizeof s);
    return enc_string(c, s, f->flags & F_NONEMPTY, out);
  }
  case FT_UUID:
    if (!cx_is_uuid(p))
      return cctx_fail(c, HUD_EFIELD, "expected lowercase canonical UUID (8-4-4-4-12 hex)");
    *out = json_string(p);
    return *out ? 0 : oom(c);
  case FT_SHA1:
    if (!cx_is_sha1(p))
      return cctx_fail(c, HUD_EFIELD, "expected 40 lowercase hex characters (SHA-1)");
    *out = json_string(p);
    return *out ? 0 : oom(c);
  case FT_I64: {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return enc_int(c, v, f->min, f->max, out);
  }
  case FT_I32: {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return enc_int(c, v, f->min, f->max, out);
  }
  case FT_F64:
  case FT_F64_INT: {
    double v;
    memcpy(&v, p, sizeof v);
    if (!isfinite(v)) return cctx_fail(c, HUD_ERANGE, "expected finite number");
    if (v < f->fmin || v > f->fmax)
      return cctx_fail(c, HUD_ERANGE, "expected number in %.17g..%.17g, got %.17g", f->fmin,
                       f->fmax, v);
    /* Integral values are written as integers where Hud's format has integers. */
    if (f->type == FT_F64_INT && v == floor(v) && fabs(v) < 9.2e18)
      *out = json_integer((json_int_t)v);
    else
      *out = json_real(v);
    return *out ? 0 : oom(c);
  }
  case FT_BOOL:
    *out = json_boolean(*(const bool *)p);
    return *out ? 0 : oom(c);
  case FT_TRI:
    if (*(const int8_t *)p > 1) return cctx_fail(c, HUD_ERANGE, "expected -1, 0 or 1");
    *out = json_boolean(*(const int8_t *)p == 1);
    return *out ? 0 : oom(c);
  case FT_TIME: {
    hud_time_ns t;
    memcpy(&t, p, sizeof t);
    char buf[HUD_TIME_STRLEN + 1];
    if (hud_time_format(t, buf))
      return cctx_fail(c, HUD_ERANGE, "timestamp %lld ns outside 1970..9999", (long long)t);
    *out = json_string(buf);
    return *out ? 0 : oom(c);
  }
  case FT_ENUM: {
    int v;
    memcpy(&v, p, sizeof v);
    if (v < 1 || v >= f->nnames || !f->names[v])
      return cctx_fail(c, HUD_EFIELD, "invalid enum value %d", v);
    *out = json_string(f->names[v]);
    return *out ? 0 : oom(c);
  }
  case FT_OBJ:
    return cx_encode_obj(c, f->sub, p, out);
  case FT_OBJ_PTR: {
    const void *o;
    memcpy(&o, p, sizeof o);
    return cx_encode_obj(c, f->sub, o, out);
  }
  case FT_SKETCH: {
    const hud_sketch_bins *b;
    memcpy(&b, p, sizeof b);
    return cx_encode_sketch(c, b, out);
  }
  case FT_CALLER:
    return enc_caller(c, *(const bool *)((const char *)base + f->count_off),
                      (const hud_call_site *)p, out);
  case FT_ARR:
  case FT_UUIDARR:
  case FT_STRARR:
  case FT_I32ARR: {
    const char *items;
    size_t n;
    memcpy(&items, p, sizeof items);
    memcpy(&n, (const char *)base + f->count_off, sizeof n);
    if (n > max_items(c, f))
      return cctx_fail(c, HUD_ERANGE, "array of %zu items exceeds the limit of %zu", n,
                       max_items(c, f));
    if (n && !items) return cctx_fail(c, HUD_EFIELD, "%zu items but no array", n);
    size_t esz = f->type == FT_ARR      ? f->sub->size
                 : f->type == FT_UUIDARR ? sizeof(hud_uuid)
                 : f->type == FT_STRARR  ? sizeof(char *)
                                         : sizeof(int32_t);
    json_t *a = json_array();
    if (!a) return oom(c);
    *out = a;
    for (size_t i = 0; i < n; i++) {
      size_t o = cctx_push_index(c, i);
      const char *src = items + i * esz;
      json_t *e = NULL;
      int rc;
      if (f->type == FT_ARR) {
        rc = cx_encode_obj(c, f->sub, src, &e);
      } else if (f->type == FT_UUIDARR) {
        rc = cx_is_uuid(src) ? 0
                             : cctx_fail(c, HUD_EFIELD,
                                         "expected lowercase canonical UUID (8-4-4-4-12 hex)");
        if (!rc && !(e = json_string(src))) rc = oom(c);
      } else if (f->type == FT_STRARR) {
        const char *s;
        memcpy(&s, src, sizeof s);
        rc = s ? enc_string(c, s, f->flags & F_NONEMPTY, &e)
               : cctx_fail(c, HUD_EFIELD, "NULL string");
      } else {
        int32_t v;
        memcpy(&v, src, sizeof v);
        rc = enc_int(c, v, f->min, f->max, &e);
      }
      cctx_pop(c, o);
      if (!rc && json_array_append_new(a, e)) rc = oom(c);
      else if (rc) json_decref(e);
      if (rc) return rc;
    }
    return 0;
  }
  case FT_COUNTMAP:
  case FT_STATUS:
  case FT_TAGS: {
    const char *items;
    size_t n;
    if (f->type == FT_COUNTMAP) {
      const hud_count_map *m = (const hud_count_map *)p;
      items = (const char *)m->items;
      n = m->n;
    } else {
      memcpy(&items, p, sizeof items);
      memcpy(&n, (const char *)base + f->count_off, sizeof n);
    }
    if (n > c->lim.max_map_entries)
      return cctx_fail(c, HUD_ERANGE, "object of %zu entries exceeds the limit of %zu", n,
                       c->lim.max_map_entries);
    if (n && !items) return cctx_fail(c, HUD_EFIELD, "%zu entries but no array", n);
    json_t *o = json_object();
    if (!o) return oom(c);
    *out = o;
    for (size_t i = 0; i < n; i++) {
      char kbuf[8];
      const char *key;
      json_t *v = NULL;
      int rc = 0;
      if (f->type == FT_COUNTMAP) {
        const hud_count_entry *e = (const hud_count_entry *)items + i;
        key = e->key;
        if (key) {
          size_t ox = cctx_push_key(c, key);
          rc = enc_int(c, e->count, 0, INT64_MAX, &v);
          cctx_pop(c, ox);
        }
      } else if (f->type == FT_STATUS) {
        const hud_status_count *e = (const hud_status_count *)items + i;
        if (e->status < 100 || e->status > 599) {
          size_t ox = cctx_push_index(c, i);
          rc = cctx_fail(c, HUD_EFIELD, "HTTP status %d outside 100..599", (int)e->status);
          cctx_pop(c, ox);
          return rc;
        }
        snprintf(kbuf, sizeof kbuf, "%d", (int)e->status);
        key = kbuf;
        rc = enc_int(c, e->count, 0, INT64_MAX, &v);
      } else {
        const hud_tag *e = (const hud_tag *)items + i;
        key = e->key;
        if (key && e->value) rc = enc_string(c, e->value, false, &v);
        else if (key) rc = cctx_fail_at(c, key, HUD_EFIELD, "NULL value");
      }
      if (rc) {
        json_decref(v);
        return rc;
      }
      if (!key || !*key || strlen(key) > c->lim.max_string_bytes) {
        json_decref(v);
        size_t ox = cctx_push_index(c, i);
        rc = cctx_fail(c, key && *key ? HUD_ERANGE : HUD_EFIELD, "invalid key");
        cctx_pop(c, ox);
        return rc;
      }
      if (json_object_get(o, key)) {
        json_decref(v);
        return cctx_fail_at(c, key, HUD_EFIELD, "duplicate key");
      }
      if (json_object_set_new(o, key, v)) return cctx_fail_at(c, key, HUD_EFIELD, "key is not valid UTF-8");
    }
    return 0;
  }
  }
  return cctx_fail(c, HUD_EINVAL, "internal: unknown field type");
}

int cx_encode_obj(cctx *c, const htype *t, const void *v, json_t **out) {
  *out = NULL;
  if (!v) return cctx_fail(c, HUD_EINVAL, "NULL %s", t->name);
  int rc;
  json_t *o = json_object();
  if (!o) return oom(c);
  for (size_t i = 0; i < t->nfields; i++) {
    const hfield *f = &t->fields[i];
    if (field_absent(f, v)) {
      if (f->flags & F_REQ) {
        json_decref(o);
        return cctx_fail_at(c, f->name, HUD_EFIELD, "required field missing");
      }
      continue;
    }
    size_t old = cctx_push_key(c, f->name);
    json_t *fv = NULL;
    rc = enc_field(c, f, v, &fv);
    cctx_pop(c, old);
    if (!rc) rc = enc_set(c, o, f->name, fv);
    else json_decref(fv);
    if (rc) {
      json_decref(o);
      return rc;
    }
  }
  /* Cross-field rules last, as in the decoder: a field's own range error wins. */
  rc = t->validate ? t->validate(c, v) : 0;
  if (rc) {
    json_decref(o);
    return rc;
  }
  *out = o;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Documents. */

int cx_decode_doc(const htype *t, bool default_reject, const char *json, size_t len,
                  const hud_decode_opts *opts, hud_arena *arena, void *out,
                  hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, opts, default_reject, arena, err ? err : &scratch);
  if (!out || !arena) return cctx_fail(&c, HUD_EINVAL, "NULL output or arena");
  memset(out, 0, t->size);
  int rc = cx_decode_text(&c, t, false, json, len, out);
  if (rc) memset(out, 0, t->size);
  return rc;
}

int cx_encode_doc(const htype *t, const void *v, char **json, size_t *len,
                  hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, NULL, true, NULL, err ? err : &scratch);
  c.encoding = true;
  if (!json) return cctx_fail(&c, HUD_EINVAL, "NULL output");
  *json = NULL;
  if (len) *len = 0;
  json_t *j = NULL;
  int rc = cx_encode_obj(&c, t, v, &j);
  if (!rc) rc = cx_dump(&c, j, json, len);
  json_decref(j);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* API error codes. */

static const struct {
  int err;
  const char *code;
  int http;
} api_errors[] = {
    {HUD_EPARSE, "parse_error", 400},
    {HUD_EFIELD, "invalid_field", 400},
    {HUD_ERANGE, "out_of_range", 400},
    {HUD_EINVAL, "bad_request", 400},
    {HUD_EVERSION, "unsupported_version", 400},
    {HUD_EAUTH, "unauthorized", 401},
    {HUD_EFORBIDDEN, "forbidden", 403},
    {HUD_ENOTFOUND, "not_found", 404},
    {HUD_ETOOBIG, "too_large", 413},
    {HUD_EUNSUPPORTED, "unsupported_media_type", 415},
    {HUD_EBUSY, "rate_limited", 429},
    {HUD_ESERVER, "internal", 500},
    {HUD_ESTORE, "unavailable", 503},
};

const char *hud_api_error_code(int err) {
  for (size_t i = 0; i < sizeof api_errors / sizeof api_errors[0]; i++)
    if (api_errors[i].err == err) return api_errors[i].code;
  return "internal";
}

int hud_api_http_status(int err) {
  for (size_t i = 0; i < sizeof api_errors / sizeof api_errors[0]; i++)
    if (api_errors[i].err == err) return api_errors[i].http;
  return 500;
}

int hud_api_error_from_code(const char *code) {
  if (!code) return HUD_EHTTP;
  for (size_t i = 0; i < sizeof api_errors / sizeof api_errors[0]; i++)
    if (strcmp(api_errors[i].code, code) == 0) return api_errors[i].err;
  return HUD_EHTTP;
}

int hud_error_body_from_codec(const hud_codec_error *e, char **json, size_t *len) {
  if (!e || !json) return HUD_EINVAL;
  int32_t versions[HUD_SCHEMA_VERSION_MAX - HUD_SCHEMA_VERSION_MIN + 1];
  for (int v = HUD_SCHEMA_VERSION_MIN; v <= HUD_SCHEMA_VERSION_MAX; v++)
    versions[v - HUD_SCHEMA_VERSION_MIN] = v;
  hud_error_response r = {
      .code = hud_api_error_code(e->code),
      .message = e->message[0] ? e->message : hud_strerror(e->code),
      .field = e->path[0] ? e->path : NULL,
  };
  if (e->code == HUD_EVERSION) {
    r.n_supported_versions = sizeof versions / sizeof versions[0];
    r.supported_versions = versions;
  }
  return hud_error_response_encode(&r, json, len, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* gzip. */

bool hud_is_gzip(const void *data, size_t len) {
  const unsigned char *p = data;
  return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int hud_gzip_encode(const void *in, size_t len, int level, void **out, size_t *out_len) {
  if (!out || !out_len || (!in && len)) return HUD_EINVAL;
  if (level < -1 || level > 9) return HUD_EINVAL;
  if (len > UINT32_MAX) return HUD_ETOOBIG;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return HUD_ENOMEM;
  uLong cap = deflateBound(&zs, (uLong)len);
  unsigned char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    deflateEnd(&zs);
    return HUD_ENOMEM;
  }
  zs.next_in = (Bytef *)in;
  zs.avail_in = (uInt)len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  int zr = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(buf);
    return HUD_EIO;
  }
  *out = buf;
  *out_len = n;
  return 0;
}

int hud_gzip_decode(const void *in, size_t len, size_t max_out, void **out, size_t *out_len) {
  if (!out || !out_len || (!in && len)) return HUD_EINVAL;
  *out = NULL;
  *out_len = 0;
  if (!hud_is_gzip(in, len)) return HUD_EPARSE;
  if (len > UINT32_MAX) return HUD_ETOOBIG;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return HUD_ENOMEM;
  size_t cap = len * 4 < 65536 ? 65536 : len * 4;
  if (cap > max_out + 1) cap = max_out + 1;
  unsigned char *buf = malloc(cap + 1);
  if (!buf) {
    inflateEnd(&zs);
    return HUD_ENOMEM;
  }
  const unsigned char *src = in;
  size_t used_in = 0, n = 0;
  int rc = 0;
  for (;;) {
    zs.next_in = (Bytef *)(src + used_in);
    zs.avail_in = (uInt)(len - used_in);
    zs.next_out = buf + n;
    zs.avail_out = (uInt)(cap - n);
    int zr = inflate(&zs, Z_NO_FLUSH);
    used_in = len - zs.avail_in;
    n = cap - zs.avail_out;
    if (n > max_out) {
      rc = HUD_ETOOBIG;
      break;
    }
    if (zr == Z_STREAM_END) {
      if (used_in == len) break;
      /* Another gzip member follows (concatenated streams are valid gzip). */
      if (!hud_is_gzip(src + used_in, len - used_in)) {
        rc = HUD_EPARSE;
        break;
      }
      if (inflateReset(&zs) != Z_OK) {
        rc = HUD_EPARSE;
        break;
      }
      continue;
    }
    if (zr == Z_OK || zr == Z_BUF_ERROR) {
      if (zs.avail_out == 0) {
        /* Grow, never past max_out + 1 (one byte more proves the limit is exceeded). */
        if (cap >= max_out + 1) {
          rc = HUD_ETOOBIG;
          break;
        }
        size_t ncap = cap * 2 > max_out + 1 ? max_out + 1 : cap * 2;
        unsigned char *nb = realloc(buf, ncap + 1);
        if (!nb) {
          rc = HUD_ENOMEM;
          break;
        }
        buf = nb;
        cap = ncap;
        continue;
      }
      if (used_in == len) { /* input ended before the stream did */
        rc = HUD_EPARSE;
        break;
      }
      if (zr == Z_BUF_ERROR) {
        rc = HUD_EPARSE;
        break;
      }
      continue;
    }
    rc = zr == Z_MEM_ERROR ? HUD_ENOMEM : HUD_EPARSE;
    break;
  }
  inflateEnd(&zs);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  return 0;
}
