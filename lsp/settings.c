/* initializationOptions over the shared configuration (settings.h). */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

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

static bool toggle(int v) { return v != 0; } /* absent (-1) is on */

/* Copies the pairs of an option into fixed slots; -1 when there are more than MAX or one is too long. */
static int copy_pairs(const lsp_str_pair *in, size_t n, size_t max, char *a, size_t a_cap, char *b, size_t b_cap,
                      size_t stride, size_t *out_n) {
  *out_n = 0;
  for (size_t i = 0; i < n; i++) {
    if (i >= max || strlen(in[i].a) >= a_cap || strlen(in[i].b) >= b_cap || !*in[i].a) return -1;
    memcpy(a + i * stride, in[i].a, strlen(in[i].a) + 1);
    memcpy(b + i * stride, in[i].b, strlen(in[i].b) + 1);
    (*out_n)++;
  }
  return 0;
}

/* The lens layout, toggles, thresholds, path maps and services (docs/lsp.md "Settings"). */
static int apply_view(lsp_settings *st, const lsp_init_options *o, char *err, size_t err_len) {
  int rc = 0;
  st->lens_on = toggle(o->lens);
  st->hover_on = toggle(o->hover);
  st->inlay_on = toggle(o->inlay);
  st->diags_on = toggle(o->diags);
  st->min_cpm = o->min_cpm > 0 ? o->min_cpm : 0;
  st->p95_warn_ms = o->p95_warn_ms;
  st->err_rate_warn = o->err_rate_warn;
  snprintf(st->lens_layout, sizeof st->lens_layout, "%s", LSP_LENS_LAYOUT_DEFAULT);
  char bad[64];
  if (o->lens_layout && strlen(o->lens_layout) >= sizeof st->lens_layout) {
    snprintf(err, err_len, "initializationOptions.lensLayout: longer than %zu bytes; the default layout is used",
             sizeof st->lens_layout - 1);
    rc = -1;
  } else if (o->lens_layout && lsp_fmt_layout_check(o->lens_layout, bad, sizeof bad) != 0) {
    snprintf(err, err_len,
             "initializationOptions.lensLayout: unknown placeholder %s (known: {rate} {calls} {p50} {p95} {p99} "
             "{mean} {errors} {trend}); the default layout is used",
             bad);
    rc = -1;
  } else if (o->lens_layout) {
    snprintf(st->lens_layout, sizeof st->lens_layout, "%s", o->lens_layout);
  }
  if (copy_pairs(o->path_maps, o->n_path_maps, 16, st->path_maps[0].from, sizeof st->path_maps[0].from,
                 st->path_maps[0].to, sizeof st->path_maps[0].to, sizeof st->path_maps[0], &st->n_path_maps)) {
    snprintf(err, err_len, "initializationOptions.pathMaps: at most 16 maps with a non-empty \"from\"");
    rc = -1;
  }
  if (copy_pairs(o->services, o->n_services, 32, st->services[0].folder, sizeof st->services[0].folder,
                 st->services[0].service, sizeof st->services[0].service, sizeof st->services[0],
                 &st->n_services)) {
    snprintf(err, err_len, "initializationOptions.services: at most 32 folders, service names under 128 bytes");
    rc = -1;
  }
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
  if (apply_view(st, o, err, err_len)) rc = HUD_ECONFIG;
  return rc;
}
