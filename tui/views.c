/* The table of views: each listed once, in key order. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "tui.h"

const tui_view *const tui_views[] = {&tui_view_functions, &tui_view_flows, &tui_view_issues, &tui_view_detail,
                                     &tui_view_paths,     &tui_view_errors};
const size_t tui_nviews = sizeof tui_views / sizeof tui_views[0];

const tui_view *tui_view_by_name(const char *name) {
  for (size_t i = 0; name && i < tui_nviews; i++)
    if (strcmp(tui_views[i]->name, name) == 0) return tui_views[i];
  return NULL;
}

void tui_fnref_set(tui_fnref *out, const char *name, const char *module_path, int line) {
  snprintf(out->name, sizeof out->name, "%s", name ? name : "");
  snprintf(out->module_path, sizeof out->module_path, "%s", module_path ? module_path : "");
  out->line = line;
}

void tui_scope(const tui_query *q, hud_query_scope *s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  hud_time_ns now = (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  memset(s, 0, sizeof *s);
  s->service = q->service;
  s->environment = q->env[0] ? q->env : NULL;
  s->version = q->version[0] ? q->version : NULL;
  s->from = now - q->window_ns;
  s->to = now;
}

int tui_resolve_service(hud_client *c, tui_query *q, hud_api_error *err) {
  if (q->service[0]) return 0;
  hud_arena *a = hud_arena_new();
  if (!a) return HUD_ENOMEM;
  hud_services_response r = {0};
  hud_services_request req = {.service = NULL};
  int rc = hud_api_services(c, &req, a, &r, err);
  if (rc == 0 && r.n_services == 1) {
    snprintf(q->service, sizeof q->service, "%s", r.services[0].name);
  } else if (rc == 0) {
    rc = err->code = HUD_ECONFIG;
    err->status = 0;
    size_t len = (size_t)snprintf(err->message, sizeof err->message,
                                  r.n_services ? "this key sees %zu services, choose one with --service:"
                                               : "no service has sent data yet (--service NAME)",
                                  r.n_services);
    for (size_t i = 0; i < r.n_services && len < sizeof err->message; i++)
      len += (size_t)snprintf(err->message + len, sizeof err->message - len, " %s", r.services[i].name);
  }
  hud_arena_free(a);
  return rc;
}
