#include "hud/err.h"

const char *hud_strerror(int err) {
  switch (err) {
  case HUD_OK:
    return "success";
#define HUD_ERR_MSG_(name, val, msg) \
  case HUD_##name:                   \
    return msg;
    HUD_ERRNO_MAP(HUD_ERR_MSG_)
#undef HUD_ERR_MSG_
  }
  return "unknown error";
}

const char *hud_err_name(int err) {
  switch (err) {
  case HUD_OK:
    return "OK";
#define HUD_ERR_NAME_(name, val, msg) \
  case HUD_##name:                    \
    return #name;
    HUD_ERRNO_MAP(HUD_ERR_NAME_)
#undef HUD_ERR_NAME_
  }
  return "EUNKNOWN";
}
