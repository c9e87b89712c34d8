/* initializationOptions over the shared configuration (settings.h). */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>

#include "hud/config.h"
#include "hud/err.h"

long long lsp_parse_window(const char *s) {
  if (!s || !*s) return -1;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (end == s || v <= 0 || v > 1000000000LL) return -1;
  long long mul = 1;
  switch (*end) {
  case '\0':
  case 's': break;
  case 'm': mul = 60; break;
  case 'h': mul = 3600; break;
  case 'd': mul = 86400; break;
  default: return -1;
  }
  if (*end && end[1]) return -1;
  return v * mul;
}

static int set_opt(hud_config *cfg, unsigned locked, int bit, const char *key, const char *value, char *err,
                   size_t err_len) {
  if (!value) return 0;
  /* Command-line flags of hud-lsp win over the editor's options; options win over env and file. */
  if (locked & (1u << bit)) return 0;
  int rc = hud_config_set(cfg, key, value, HUD_CFG_SRC_FLAG);
  if (rc) snprintf(err, err_len, "initializationOptions.%s: %s", key, hud_config_error(cfg));
  return rc;
}

int lsp_settings_apply(lsp_server *s, const lsp_init_options *o, char *err, size_t err_len) {
  lsp_settings *st = &s->settings;
  st->cfg = s->base_cfg;
  static const char *keys[] = {"url", "key", "service", "env"};
  if (!st->cli_known) { /* the editor's options are set as flags too: remember which were hud-lsp's own */
    for (int i = 0; i < 4; i++)
      if (hud_config_source(st->cfg, (hud_cfg_key)hud_config_key_by_name(keys[i])) == HUD_CFG_SRC_FLAG)
        st->cli_flags |= 1u << i;
    st->cli_known = true;
  }
  st->window_s = LSP_DEFAULT_WINDOW_S;
  st->refresh_s = LSP_DEFAULT_REFRESH_S;
  int rc = 0;
  const char *vals[] = {o->url, o->key, o->service, o->env};
  for (int i = 0; i < 4 && !rc; i++)
    if (set_opt(st->cfg, st->cli_flags, i, keys[i], vals[i], err, err_len)) rc = HUD_ECONFIG;
  long long w = o->window ? lsp_parse_window(o->window) : o->window_s;
  if (w != -1 || o->window) {
    if (w < 60 || w > 90LL * 86400) {
      snprintf(err, err_len, "initializationOptions.window: expected 60s..90d (e.g. \"1h\", \"15m\", 3600)");
      rc = HUD_ECONFIG;
    } else {
      st->window_s = w;
    }
  }
  if (o->refresh_s != -1) {
    if (o->refresh_s < 1 || o->refresh_s > 86400) {
      snprintf(err, err_len, "initializationOptions.refreshSeconds: expected 1..86400");
      rc = HUD_ECONFIG;
    } else {
      st->refresh_s = o->refresh_s;
    }
  }
  return rc;
}
