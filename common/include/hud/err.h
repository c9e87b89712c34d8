/* Error codes shared by every hud module.
 *
 * Functions return 0 on success and a negative HUD_E* code on failure.
 * The table below is the single source of the enum, the names and the messages. */
#ifndef HUD_ERR_H
#define HUD_ERR_H

#define HUD_ERRNO_MAP(X)                                                     \
  X(EINVAL, -1, "invalid argument")                                          \
  X(ENOMEM, -2, "out of memory")                                             \
  X(EIO, -3, "input/output error")                                           \
  X(EPARSE, -4, "malformed input")                                           \
  X(EFIELD, -5, "missing or invalid field")                                  \
  X(ERANGE, -6, "value out of range")                                        \
  X(ENOTFOUND, -7, "not found")                                              \
  X(EEXIST, -8, "already exists")                                            \
  X(ETOOBIG, -9, "input too large")                                          \
  X(EVERSION, -10, "unsupported schema version")                             \
  X(ECONNECT, -11, "backend unreachable")                                    \
  X(ETIMEOUT, -12, "operation timed out")                                    \
  X(ETLS, -13, "TLS error")                                                  \
  X(EAUTH, -14, "authentication failed (missing or wrong API key)")         \
  X(EFORBIDDEN, -15, "forbidden for this API key")                           \
  X(EHTTP, -16, "unexpected HTTP status")                                    \
  X(ESERVER, -17, "backend server error")                                    \
  X(ECONFIG, -18, "invalid configuration")                                   \
  X(EUNSUPPORTED, -19, "not supported")                                      \
  X(ESTORE, -20, "storage error")                                            \
  X(EBUSY, -21, "resource busy")                                             \
  X(ECANCELED, -22, "operation canceled")

typedef enum hud_err {
  HUD_OK = 0,
#define HUD_ERR_ENUM_(name, val, msg) HUD_##name = (val),
  HUD_ERRNO_MAP(HUD_ERR_ENUM_)
#undef HUD_ERR_ENUM_
} hud_err;

/* Human-readable message for a code; never NULL, static storage. */
const char *hud_strerror(int err);
/* Symbolic name ("EPARSE") for a code; never NULL, static storage. */
const char *hud_err_name(int err);

#endif
