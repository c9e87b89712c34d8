/* Descriptor macros for the codec's type tables (codec_records.c, codec_query.c). */
#ifndef HUD_CODEC_TABLES_H
#define HUD_CODEC_TABLES_H

#include <stddef.h>

#include "codec_internal.h"

#define F_BASE_(T, f, wire, ty, fl) .name = (wire), .type = (ty), .flags = (fl), .off = offsetof(T, f)
#define F_STR_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_STR, fl)}
#define F_UUID_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_UUID, fl)}
#define F_SHA1_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_SHA1, fl)}
#define F_I64_(T, f, wire, fl, mn, mx) {F_BASE_(T, f, wire, FT_I64, fl), .min = (mn), .max = (mx)}
#define F_COUNT_(T, f, wire, fl) F_I64_(T, f, wire, fl, 0, INT64_MAX)
#define F_I32_(T, f, wire, fl, mn, mx) {F_BASE_(T, f, wire, FT_I32, fl), .min = (mn), .max = (mx)}
/* Variadic so that range macros like NONNEG ("0, DBL_MAX") expand into two arguments. */
#define F_F64_(T, f, wire, fl, ...) F_F64B_(T, f, wire, fl, __VA_ARGS__)
#define F_F64B_(T, f, wire, fl, mn, mx) {F_BASE_(T, f, wire, FT_F64, fl), .fmin = (mn), .fmax = (mx)}
#define F_F64I_(T, f, wire, fl, mn, mx) {F_BASE_(T, f, wire, FT_F64_INT, fl), .fmin = (mn), .fmax = (mx)}
#define F_BOOL_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_BOOL, fl)}
#define F_TRI_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_TRI, fl)}
#define F_TIME_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_TIME, fl)}
#define F_ENUM_(T, f, wire, fl, nm, nn) {F_BASE_(T, f, wire, FT_ENUM, fl), .names = (nm), .nnames = (nn)}
#define F_OBJ_(T, f, wire, fl, st) {F_BASE_(T, f, wire, FT_OBJ, fl), .sub = (st)}
/* A pointer to the object: NULL is absent (optional), decoded into the arena. */
#define F_OBJP_(T, f, wire, fl, st) {F_BASE_(T, f, wire, FT_OBJ_PTR, fl), .sub = (st)}
#define F_ARR_(T, f, n, wire, fl, st) {F_BASE_(T, f, wire, FT_ARR, fl), .count_off = offsetof(T, n), .sub = (st)}
#define F_SKETCH_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_SKETCH, fl)}
#define F_MAP_(T, f, wire, fl) {F_BASE_(T, f, wire, FT_COUNTMAP, fl)}
#define F_STATUS_(T, f, n, wire, fl) {F_BASE_(T, f, wire, FT_STATUS, fl), .count_off = offsetof(T, n)}
#define F_TAGS_(T, f, n, wire, fl) {F_BASE_(T, f, wire, FT_TAGS, fl), .count_off = offsetof(T, n)}
#define F_UUIDARR_(T, f, n, wire, fl, mx) {F_BASE_(T, f, wire, FT_UUIDARR, fl), .count_off = offsetof(T, n), .max_items = (mx)}
#define F_STRARR_(T, f, n, wire, fl, mx) {F_BASE_(T, f, wire, FT_STRARR, fl), .count_off = offsetof(T, n), .max_items = (mx)}
#define F_I32ARR_(T, f, n, wire, fl, mn, mx) {F_BASE_(T, f, wire, FT_I32ARR, fl), .count_off = offsetof(T, n), .min = (mn), .max = (mx)}
#define F_CALLER_(T, f, has, wire, fl) {F_BASE_(T, f, wire, FT_CALLER, fl), .count_off = offsetof(T, has)}

/* At most 64 fields: the decoder keeps one bit per field (codec_decode.c). */
#define HTYPE(T, fields, validate)                                                                         \
  {#T, sizeof(T), fields,                                                                                   \
   sizeof(fields) / sizeof((fields)[0]) + 0 * sizeof(char[sizeof(fields) / sizeof((fields)[0]) <= 64 ? 1 : -1]), \
   validate}

/* Public entry points of one type; DEFAULT_REJECT: unknown fields rejected by default. */
#define CX_DEFINE(T, table, default_reject)                                                     \
  int T##_encode(const T *v, char **json, size_t *len, hud_codec_error *err) {                  \
    return cx_encode_doc(&(table), v, json, len, err);                                          \
  }                                                                                             \
  int T##_decode(const char *json, size_t len, const hud_decode_opts *opts, hud_arena *arena,   \
                 T *out, hud_codec_error *err) {                                                \
    return cx_decode_doc(&(table), default_reject, json, len, opts, arena, out, err);           \
  }

extern const htype cx_t_function_decl, cx_t_invocation, cx_t_exception_flow, cx_t_flow,
    cx_t_flow_function, cx_t_batch, cx_t_ingest_response;
extern const char *const cx_flow_kind_names[];
uint64_t cx_sketch_total(const hud_sketch_bins *b);

#endif
