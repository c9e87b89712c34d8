/* Internals shared by codec_*.c: the context that carries the field path, the table-driven
 * field descriptors, and the generic encoder/decoder over them. Not a public header. */
#ifndef HUD_CODEC_INTERNAL_H
#define HUD_CODEC_INTERNAL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/codec.h"
#include "hud/err.h"

typedef struct cctx {
  hud_arena *arena;      /* decode only */
  hud_codec_limits lim;
  bool reject_unknown;
  bool encoding;
  hud_codec_error *err;  /* never NULL inside the codec (points to a scratch one) */
  char path[256];
  size_t plen;
} cctx;

void cctx_init(cctx *c, const hud_decode_opts *opts, bool default_reject, hud_arena *arena,
               hud_codec_error *err);

/* Path stack: push returns the old length to hand back to pop. */
size_t cctx_push_key(cctx *c, const char *key);
size_t cctx_push_keyn(cctx *c, const char *key, size_t n);
size_t cctx_push_index(cctx *c, size_t i);
static inline void cctx_pop(cctx *c, size_t old) {
  c->plen = old;
  c->path[old] = '\0';
}

/* Records CODE and "<path>: <message>" (first error wins); returns CODE. */
int cctx_fail(cctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same with KEY appended to the path for this message only. */
int cctx_fail_at(cctx *c, const char *key, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Field descriptors. */
typedef enum ftype {
  FT_STR,      /* const char * */
  FT_UUID,     /* hud_uuid; optional: "" <-> absent/null */
  FT_SHA1,     /* char[41]; optional: "" <-> absent/null */
  FT_I64,      /* int64_t in [min, max] */
  FT_I32,      /* int32_t in [min, max] */
  FT_F64,      /* double in [fmin, fmax], finite */
  FT_F64_INT,  /* double, written as an integer when integral and within int64 */
  FT_BOOL,     /* bool */
  FT_TRI,      /* int8_t -1/0/1: absent/null <-> -1, false <-> 0, true <-> 1 */
  FT_TIME,     /* hud_time_ns as RFC 3339 */
  FT_ENUM,     /* C enum (int), names[value] */
  FT_OBJ,      /* nested struct in place */
  FT_OBJ_PTR,  /* pointer to struct, NULL = absent */
  FT_ARR,      /* T *items at off, size_t n at count_off */
  FT_SKETCH,   /* hud_sketch_bins *, NULL = absent */
  FT_COUNTMAP, /* hud_count_map in place, JSON object name -> count */
  FT_STATUS,   /* hud_status_count *, n at count_off; JSON object "200" -> count */
  FT_TAGS,     /* hud_tag *, n at count_off; JSON object name -> string */
  FT_UUIDARR,  /* hud_uuid *, n at count_off */
  FT_STRARR,   /* const char **, n at count_off */
  FT_I32ARR,   /* int32_t *, n at count_off */
  FT_CALLER,   /* Hud's caller_function_id: bool has_caller at count_off, hud_call_site at off */
} ftype;

enum {
  F_REQ = 1,      /* must be present (and not null) */
  F_NONEMPTY = 2, /* strings: at least one byte */
  F_OMIT0 = 4,    /* optional arrays and objects: left out when empty / all zero */
};

typedef struct htype htype;

typedef struct hfield {
  const char *name;
  ftype type;
  unsigned flags;
  size_t off;
  size_t count_off;
  int64_t min, max;
  double fmin, fmax;
  const htype *sub;
  const char *const *names; /* FT_ENUM: names[v] for v in 1..nnames-1 */
  int nnames;
  size_t max_items;         /* arrays: 0 = lim.max_array_items */
} hfield;

struct htype {
  const char *name;
  size_t size;
  const hfield *fields;
  size_t nfields;
  /* Cross-field rules, run after decoding and before encoding; path = the object. */
  int (*validate)(cctx *c, const void *v);
};

/* Encoder walker (codec_core.c). */
int cx_encode_obj(cctx *c, const htype *t, const void *v, json_t **out);

/* Streaming decoder (codec_decode.c): TEXT into *OUT of type T, enforcing the limits, field
 * path in errors. BATCH: judge the top-level schema_version before field errors. */
int cx_decode_text(cctx *c, const htype *t, bool batch, const char *text, size_t len, void *out);
/* The same for a sketch document. */
int cx_decode_sketch_text(cctx *c, const char *text, size_t len, hud_sketch_bins *out);
/* Compact dump; *JSON malloc'ed. */
int cx_dump(cctx *c, json_t *j, char **json, size_t *len);

/* Whole document helpers used by the *_encode/_decode entry points. */
int cx_decode_doc(const htype *t, bool default_reject, const char *json, size_t len,
                  const hud_decode_opts *opts, hud_arena *arena, void *out,
                  hud_codec_error *err);
int cx_encode_doc(const htype *t, const void *v, char **json, size_t *len,
                  hud_codec_error *err);

/* Validation helpers. */
bool cx_is_uuid(const char *s);
bool cx_is_sha1(const char *s);

/* Sketch codec (codec_records.c). */
#define CX_SKETCH_MAX_OFFSET (1 << 30)
int cx_encode_sketch(cctx *c, const hud_sketch_bins *s, json_t **out);
/* "3,-3,5" into VALS (room for HUD_SKETCH_MAX_BINS); *N entries. */
int cx_parse_count_list(cctx *c, const char *s, size_t len, int64_t *vals, size_t *n);
/* Checks and builds the sketch from its members as read; counts in the arena. */
int cx_sketch_build(cctx *c, double alpha, int64_t zero, int64_t off, const int64_t *vals, size_t raw,
                    bool c_array, hud_sketch_bins *out);
/* "unsupported schema version V (supported: ...)" at schema_version. */
int cx_version_error(cctx *c, long long v);

#define HFOFF(T, f) offsetof(T, f)

#endif
