/* Production figures for the open files (backend.h). */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/api.h"
#include "hud/client_uv.h"
#include "hud/config.h"
#include "hud/err.h"
#include "hud/str.h"
#include "diagnostics.h"
#include "pathmap.h"
#include "uri.h"

typedef struct folder_state {
  struct lsp_backend *b;
  int index;                         /* folder index, srv->n_folders for "outside every folder" */
  bool in_flight, dirty, have;
  unsigned long req_id;
  hud_arena *arena;                  /* the answer in use */
  hud_by_module_response resp;
  const hud_function_summary **by_id; /* the answer's functions with calls, sorted by function_id */
  size_t n_by_id;
  hud_arena *next_arena;             /* the answer on its way */
  hud_by_module_response next_resp;
  char *service;                     /* the folder's service, configured or discovered; NULL: none (yet) */
  /* Discovery (no service configured): one by-module request per service of the key, in turn. */
  bool discovering, discovered_none; /* discovered_none: no service of the key has data for its files */
  size_t cand;                       /* the next service of the list to ask */
  int64_t best_fns;                  /* matched functions with calls of BEST */
  int best_modules, found_modules;   /* modules with calls of BEST / of the chosen service (0: configured) */
  char *best;
} folder_state;

struct lsp_backend {
  lsp_server *srv;
  hud_client *client;
  hud_client_uv *uv;
  uv_timer_t timer;
  bool timer_on, closing;
  folder_state *folders;
  size_t n_folders;
  char *service, *url;
  const char *state;
  char message[768];                 /* the state's detail ("" when ok), for hud.explain */
  char status_service[256];          /* the services hud/status named last */
  int last_err;                      /* HUD_E* of the last failed request, 0 after a success */
  bool shown;                        /* a failure was shown since the last success */
  const char *shown_state;           /* which one (a static string) */
  int64_t modules;
  /* GET /v1/issues, refreshed with the figures; one request at a time. */
  bool issues_in_flight, issues_dirty, have_issues;
  hud_arena *issues_arena, *next_issues_arena;
  hud_issues_response issues, next_issues;
  /* GET /v1/services, with the issues: the version production runs. */
  bool services_in_flight, services_done; /* done: the first answer (or failure) came */
  hud_arena *services_arena, *next_services_arena; /* the answer kept (versions, discovery), the next one */
  hud_services_response services, next_services;
  bool have_services;
  char *prod_version;                /* newest version of the service in its environment; NULL: unknown */
  hud_time_ns last_from, last_to;    /* the window of the request started last */
  uint64_t epoch;                    /* figures answers arrived so far */
};

#define MAX_PATHS HUD_MAX_QUERY_LIMIT
#define MAX_DISCOVER 20 /* services of the key asked when a folder has none configured */

/* The service of requests that are not per folder: the configured one, else the first folder's. */
static const char *main_service(const lsp_backend *b) {
  if (b->service && *b->service) return b->service;
  for (size_t i = 0; i < b->n_folders; i++)
    if (b->folders[i].service) return b->folders[i].service;
  return NULL;
}

static bool usable(const lsp_backend *b) { return b && b->client && !b->closing && main_service(b); }

static bool is_failure(const char *state) { return state && strcmp(state, "ok") != 0 && strcmp(state, "connecting") != 0; }

static int64_t count_mapped(lsp_backend *b) {
  int64_t n = 0;
  for (size_t i = 0; i < lsp_docs_count(b->srv->docs); i++)
    if (lsp_docs_at(b->srv->docs, i)->module) n++;
  return n;
}

/* The folders' services for hud/status: "shop", "shop, stock" (distinct, in folder order). */
static void status_services(const lsp_backend *b, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  size_t last = b->n_folders > 1 ? b->n_folders - 1 : b->n_folders; /* the slot outside every folder: when alone */
  for (size_t i = 0; i < last && n < cap; i++) {
    const char *sv = b->folders[i].service;
    bool seen = !sv;
    for (size_t k = 0; k < i && !seen; k++) seen = b->folders[k].service && !strcmp(b->folders[k].service, sv);
    if (!seen) n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", sv);
  }
  if (!n && b->service) snprintf(out, cap, "%s", b->service);
}

static void set_state(lsp_backend *b, const char *state, const char *message) {
  int64_t modules = count_mapped(b);
  char services[256];
  status_services(b, services, sizeof services);
  /* A failure that goes on is not news even when its text changes (libcurl's says "after N ms"). */
  bool same_failure = b->state && is_failure(state) && strcmp(state, "unconfigured") != 0 &&
                      strcmp(b->state, state) == 0;
  bool changed = !b->state || strcmp(b->state, state) != 0 || modules != b->modules ||
                 strcmp(services, b->status_service) != 0 ||
                 (!same_failure && strcmp(message ? message : "", b->message) != 0);
  snprintf(b->status_service, sizeof b->status_service, "%s", services);
  b->state = state;
  snprintf(b->message, sizeof b->message, "%s", message ? message : "");
  b->modules = modules;
  if (changed) {
    lsp_status_params p = {.state = state, .message = message, .url = b->url, .service = b->status_service,
                           .modules = modules};
    lsp_notify(b->srv, "hud/status", lsp_encode_status, &p);
  }
  if (!is_failure(state)) {
    b->shown = false;
  } else if (!b->shown || strcmp(b->shown_state, state) != 0) {
    /* One message per failure episode and kind (no service, then a refused key, is two): the refresh keeps
     * failing quietly until a success. */
    b->shown = true;
    b->shown_state = state;
    lsp_show(b->srv, 2, "hud: %s", message);
  }
}

static hud_time_ns now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static folder_state *folder_of(lsp_backend *b, int folder) {
  size_t i = folder < 0 ? b->n_folders - 1 : (size_t)folder;
  return i < b->n_folders ? &b->folders[i] : NULL;
}

static bool in_folder(const folder_state *f, const lsp_doc *doc) {
  return (doc->folder < 0 ? f->b->n_folders - 1 : (size_t)doc->folder) == (size_t)f->index;
}

static bool has_path(const char **paths, size_t n, const char *p) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(paths[i], p) == 0) return true;
  return false;
}

static int cmp_id(const void *x, const void *y) {
  const hud_function_summary *a = *(const hud_function_summary *const *)x;
  const hud_function_summary *c = *(const hud_function_summary *const *)y;
  return strcmp(a->function_id, c->function_id);
}

/* Whether the answer holds a function with calls in module PATH. */
static bool module_has_data(const folder_state *f, const char *path) {
  for (size_t i = 0; i < f->resp.n_items; i++) {
    const hud_function_summary *s = &f->resp.items[i];
    if (s->calls > 0 && s->module_path && strcmp(s->module_path, path) == 0) return true;
  }
  return false;
}

/* Maps each document of F to the longest suffix of its path that has data. */
static void remap(folder_state *f) {
  lsp_docs *docs = f->b->srv->docs;
  for (size_t i = 0; i < lsp_docs_count(docs); i++) {
    lsp_doc *doc = lsp_docs_at(docs, i);
    if (!in_folder(f, doc)) continue;
    free(doc->module);
    doc->module = NULL;
    char mapped[1400]; /* pathMaps first: the module path production gave that directory */
    if (lsp_pathmap_module(f->b->srv, doc->path, doc->folder, mapped, sizeof mapped) == 0 &&
        module_has_data(f, mapped)) {
      doc->module = hud_strdup(mapped);
      continue;
    }
    for (const char *p = doc->rel; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL) {
      if (module_has_data(f, p)) {
        doc->module = hud_strdup(p);
        break;
      }
    }
  }
}

static void query(folder_state *f);
static void ok_note(const lsp_backend *b, char *out, size_t cap);
static void query_issues(lsp_backend *b);
static void query_services(lsp_backend *b);

static hud_query_scope scope_of(lsp_backend *b) {
  const char *env = hud_config_str(b->srv->settings.cfg, HUD_CFG_ENV);
  hud_time_ns to = now_ns();
  b->last_to = to;
  b->last_from = to - b->srv->settings.window_s * 1000000000LL;
  return (hud_query_scope){.service = main_service(b), .environment = env && *env ? env : NULL, .from = b->last_from,
                           .to = to};
}

static const hud_function_summary *find_id(const folder_state *f, const char *id);

/* The scope for a request about FUNCTION_ID: the service of the folder whose figures hold it (a workspace
 * of several services), else the main one. */
static hud_query_scope scope_fn(lsp_backend *b, const char *function_id) {
  hud_query_scope sc = scope_of(b);
  for (size_t i = 0; i < b->n_folders; i++) {
    const folder_state *f = &b->folders[i];
    if (f->service && f->have && find_id(f, function_id)) {
      sc.service = f->service;
      break;
    }
  }
  return sc;
}

static void on_issues(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  lsp_backend *b = ud;
  b->issues_in_flight = false;
  if (b->closing || err->code) {
    /* Failures show in hud/status through the figures' request; the diagnostics stay as they are. */
    hud_arena_reset(b->next_issues_arena);
  } else {
    hud_arena *old = b->issues_arena;
    b->issues_arena = b->next_issues_arena;
    b->next_issues_arena = old;
    hud_arena_reset(old);
    b->issues = b->next_issues;
    b->have_issues = true;
    lsp_diags_all(b->srv);
  }
  if (!b->closing && b->issues_dirty) query_issues(b);
}

/* The newest version of the service in the configured environment (else in the one seen last). */
static const char *version_of(const lsp_backend *b, const char *service) {
  const char *env = hud_config_str(b->srv->settings.cfg, HUD_CFG_ENV);
  const hud_environment_info *best = NULL;
  for (size_t i = 0; service && b->have_services && i < b->services.n_services; i++) {
    const hud_service_info *sv = &b->services.services[i];
    if (!sv->name || strcmp(sv->name, service) != 0) continue;
    for (size_t k = 0; k < sv->n_environments; k++) {
      const hud_environment_info *e = &sv->environments[k];
      if (env && *env ? (e->name && !strcmp(e->name, env)) : (!best || e->last_seen > best->last_seen)) best = e;
    }
  }
  return best && best->n_versions ? best->versions[0].version : NULL;
}

static void pick_version(lsp_backend *b) {
  const char *v = version_of(b, main_service(b));
  if (v == b->prod_version || (v && b->prod_version && !strcmp(v, b->prod_version))) return;
  free(b->prod_version);
  b->prod_version = v ? hud_strdup(v) : NULL;
  if (!v) return;
  lsp_log(b->srv, 4, "hud: %s runs %s in production", main_service(b), v);
  /* Lenses that say "≠ prod" name the version now. Only documents with figures have lenses: a refresh
   * before the figures came would be answered with none (and the figures' own refresh follows). */
  bool asked = false;
  for (size_t i = 0; i < lsp_docs_count(b->srv->docs); i++) {
    const lsp_doc *doc = lsp_docs_at(b->srv->docs, i);
    asked |= doc->lens_asked && doc->module;
  }
  if (asked && b->srv->lens_refresh) lsp_request_out(b->srv, "workspace/codeLens/refresh", NULL, NULL);
}

static void answer_failed(lsp_backend *b, const hud_api_error *err);

static void on_services(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  lsp_backend *b = ud;
  b->services_in_flight = false;
  b->services_done = true;
  if (!b->closing && !err->code) { /* the new list replaces the kept one */
    hud_arena *old = b->services_arena;
    b->services_arena = b->next_services_arena;
    b->next_services_arena = old;
    hud_arena_reset(old);
    b->services = b->next_services;
    b->have_services = true;
    pick_version(b);
  } else {
    hud_arena_reset(b->next_services_arena);
    /* Without a configured service the list is what discovery needs: say why it failed (a rejected key
     * reads unauthorized, not unconfigured). */
    if (!b->closing && !main_service(b) && err->code) answer_failed(b, err);
  }
  /* The figures waited for the first answer: the first lenses already name production's version. */
  for (size_t i = 0; !b->closing && i < b->n_folders; i++)
    if (b->folders[i].dirty) query(&b->folders[i]);
}

static void query_services(lsp_backend *b) {
  if (!b->client || b->closing || b->services_in_flight) return;
  hud_services_request req = {.service = NULL}; /* every service of the key: versions and discovery */
  unsigned long id;
  if (hud_api_services_start(b->client, &req, b->next_services_arena, &b->next_services, on_services, b, &id) == 0)
    b->services_in_flight = true;
  else
    b->services_done = true;
}

const char *lsp_backend_prod_version(const lsp_backend *b) { return b ? b->prod_version : NULL; }

const char *lsp_backend_prod_version_doc(const lsp_backend *b, const lsp_doc *doc) {
  const folder_state *f = b ? folder_of((lsp_backend *)b, doc->folder) : NULL;
  return f && f->service ? version_of(b, f->service) : lsp_backend_prod_version(b);
}

static void query_issues(lsp_backend *b) {
  if (!b->client || b->closing) return;
  query_services(b);
  if (!main_service(b)) return;
  if (b->issues_in_flight) {
    b->issues_dirty = true;
    return;
  }
  b->issues_dirty = false;
  hud_issues_request req = {.scope = scope_of(b), .limit = 1000}; /* active: open and acknowledged */
  unsigned long id;
  if (hud_api_issues_start(b->client, &req, b->next_issues_arena, &b->next_issues, on_issues, b, &id) == 0)
    b->issues_in_flight = true;
}

const hud_issues_response *lsp_backend_issues(lsp_backend *b) { return b && b->have_issues ? &b->issues : NULL; }

int lsp_backend_function_start(lsp_backend *b, const char *function_id, hud_arena *a, hud_function_detail *out,
                               hud_api_cb cb, void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_function_request req = {.scope = scope_fn(b, function_id)};
  snprintf(req.function_id, sizeof req.function_id, "%s", function_id);
  unsigned long id;
  return hud_api_function_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_top_start(lsp_backend *b, int32_t limit, hud_arena *a, hud_top_response *out, hud_api_cb cb,
                          void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_top_request req = {.scope = scope_of(b), .sort = HUD_SORT_CALLS, .limit = limit};
  unsigned long id;
  return hud_api_top_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_exception_flows_start(lsp_backend *b, const char *function_id, hud_arena *a,
                                      hud_exception_flows_response *out, hud_api_cb cb, void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_exception_flows_request req = {.scope = scope_fn(b, function_id), .limit = 100};
  snprintf(req.function_id, sizeof req.function_id, "%s", function_id);
  unsigned long id;
  return hud_api_exception_flows_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_callgraph_start(lsp_backend *b, const char *root, int32_t depth, int32_t max_nodes, hud_arena *a,
                                hud_callgraph_response *out, hud_api_cb cb, void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_callgraph_request req = {.scope = scope_fn(b, root), .depth = depth, .max_nodes = max_nodes};
  snprintf(req.root, sizeof req.root, "%s", root);
  unsigned long id;
  return hud_api_callgraph_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_flows_start(lsp_backend *b, int32_t limit, hud_arena *a, hud_flows_response *out, hud_api_cb cb,
                            void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_flows_request req = {.scope = scope_of(b), .limit = limit};
  unsigned long id;
  return hud_api_flows_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_issues_start(lsp_backend *b, hud_arena *a, hud_issues_response *out, hud_api_cb cb, void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_issues_request req = {.scope = scope_of(b), .limit = 1000}; /* active: open and acknowledged */
  unsigned long id;
  return hud_api_issues_start(b->client, &req, a, out, cb, ud, &id);
}

int lsp_backend_issue_status_start(lsp_backend *b, const char *issue_id, const char *status, const char *note,
                                   hud_arena *a, hud_issue *out, hud_api_cb cb, void *ud) {
  if (!usable(b)) return HUD_ECONFIG;
  hud_issue_status_request req = {.scope = scope_of(b), .status = status, .note = note};
  snprintf(req.issue_id, sizeof req.issue_id, "%s", issue_id);
  unsigned long id;
  return hud_api_issue_status_start(b->client, &req, a, out, cb, ud, &id);
}

uint64_t lsp_backend_epoch(const lsp_backend *b) { return b ? b->epoch : 0; }

void lsp_backend_last_window(const lsp_backend *b, int64_t *from_ms, int64_t *to_ms) {
  *from_ms = b ? b->last_from / 1000000 : 0;
  *to_ms = b ? b->last_to / 1000000 : 0;
}

const char *lsp_backend_error_reason(int code) {
  if (code == HUD_EAUTH || code == HUD_EFORBIDDEN) return "unauthorized";
  if (code == HUD_ECONNECT || code == HUD_ETIMEOUT) return "unreachable";
  if (code == HUD_ECONFIG) return "unconfigured";
  return "error";
}

/* A failed request: the state and, once per failure episode, a message. Figures already shown stay. */
static void answer_failed(lsp_backend *b, const hud_api_error *err) {
  b->last_err = err->code;
  bool auth = err->code == HUD_EAUTH || err->code == HUD_EFORBIDDEN;
  const char *state = auth                                                         ? "unauthorized"
                      : err->code == HUD_ECONNECT || err->code == HUD_ETIMEOUT ? "unreachable"
                                                                                : "error";
  char msg[768];
  if (auth)
    snprintf(msg, sizeof msg, "%s refused the API key (HTTP %ld: %s); set `key` in initializationOptions or the hud config",
             b->url, err->status, err->message);
  else
    snprintf(msg, sizeof msg, "backend %s: %s (%s); lenses appear once it answers", b->url, hud_strerror(err->code),
             err->message);
  set_state(b, state, msg);
}

/* The answer replaces F's figures; documents are mapped again; clients that asked for lenses of
 * this folder are told to ask again. */
static void answer_arrived(folder_state *f) {
  lsp_backend *b = f->b;
  b->epoch++;
  hud_arena *old = f->arena;
  f->arena = f->next_arena;
  f->next_arena = old;
  hud_arena_reset(old);
  f->resp = f->next_resp;
  free(f->by_id);
  f->n_by_id = 0;
  f->by_id = malloc((f->resp.n_items + 1) * sizeof *f->by_id);
  for (size_t i = 0; f->by_id && i < f->resp.n_items; i++)
    if (f->resp.items[i].calls > 0) f->by_id[f->n_by_id++] = &f->resp.items[i];
  if (f->by_id) qsort(f->by_id, f->n_by_id, sizeof *f->by_id, cmp_id);
  f->have = true;
  b->last_err = 0;
  remap(f);
  char note[512];
  ok_note(b, note, sizeof note);
  set_state(b, "ok", note);
  lsp_diags_all(b->srv); /* the documents' module paths may have changed */
  bool asked = false;
  for (size_t i = 0; i < lsp_docs_count(b->srv->docs); i++) {
    lsp_doc *doc = lsp_docs_at(b->srv->docs, i);
    if (in_folder(f, doc) && doc->lens_asked) asked = true;
  }
  if (asked && b->srv->lens_refresh) lsp_request_out(b->srv, "workspace/codeLens/refresh", NULL, NULL);
}

/* A by-module answer of F came: false when it is to be dropped (stopping, or cancelled). */
static bool settled(folder_state *f, const hud_api_error *err) {
  f->in_flight = false;
  if (f->b->closing || err->code == HUD_ECANCELED) {
    hud_arena_reset(f->next_arena);
    return false;
  }
  return true;
}

static void on_answer(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  folder_state *f = ud;
  if (!settled(f, err)) return;
  if (err->code) {
    hud_arena_reset(f->next_arena);
    answer_failed(f->b, err);
  } else {
    answer_arrived(f);
  }
  if (f->dirty) query(f);
}

/* The paths F's open documents ask for (every suffix of their path below the folder, and the pathMaps'
 * module path) in PATHS (MAX_PATHS); the mapped ones are malloc'ed in OWNED (free with free_paths). */
static size_t folder_paths(folder_state *f, const char **paths, char **owned, size_t *n_owned) {
  size_t n = 0;
  *n_owned = 0;
  lsp_docs *docs = f->b->srv->docs;
  for (size_t i = 0; i < lsp_docs_count(docs); i++) {
    lsp_doc *doc = lsp_docs_at(docs, i);
    if (!in_folder(f, doc) || doc->lang == HUD_LANG_UNKNOWN) continue;
    char mapped[1400];
    if (n < MAX_PATHS && lsp_pathmap_module(f->b->srv, doc->path, doc->folder, mapped, sizeof mapped) == 0 &&
        !has_path(paths, n, mapped) && (owned[*n_owned] = hud_strdup(mapped)))
      paths[n++] = owned[(*n_owned)++];
    for (const char *p = doc->rel; p && n < MAX_PATHS; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
      if (*p && !has_path(paths, n, p)) paths[n++] = p;
  }
  return n;
}

static void free_paths(const char **paths, char **owned, size_t n_owned) {
  for (size_t i = 0; owned && i < n_owned; i++) free(owned[i]);
  free(owned);
  free((void *)paths);
}

/* Starts F's by-module request for SERVICE with ON_DONE; 0 or the HUD_E* code. */
static int by_module(folder_state *f, const char *service, hud_api_cb on_done) {
  lsp_backend *b = f->b;
  const char **paths = calloc(MAX_PATHS, sizeof *paths);
  char **owned = calloc(lsp_docs_count(b->srv->docs) + 1, sizeof *owned);
  size_t n_owned = 0, n = paths && owned ? folder_paths(f, paths, owned, &n_owned) : 0;
  if (n == 0) {
    free_paths(paths, owned, n_owned);
    return HUD_ENOTFOUND; /* nothing to ask */
  }
  const char *env = hud_config_str(b->srv->settings.cfg, HUD_CFG_ENV);
  hud_time_ns to = now_ns();
  hud_by_module_request req = {
      .scope = {.service = service, .environment = env && *env ? env : NULL,
                .from = to - b->srv->settings.window_s * 1000000000LL, .to = to},
      .n_module_paths = n,
      .module_paths = paths,
  };
  int rc = hud_api_by_module_start(b->client, &req, f->next_arena, &f->next_resp, on_done, f, &f->req_id);
  free_paths(paths, owned, n_owned);
  if (rc == 0) f->in_flight = true;
  return rc;
}

static void discover(folder_state *f);

/* The hud/status message when a folder's service was discovered ("" otherwise). */
static void ok_note(const lsp_backend *b, char *out, size_t cap) {
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < b->n_folders && n < cap; i++) {
    const folder_state *f = &b->folders[i];
    if (f->service && f->found_modules > 0)
      n += (size_t)snprintf(out + n, cap - n, "%sservice %s (discovered from %d matching module%s)", n ? "; " : "",
                            f->service, f->found_modules, f->found_modules == 1 ? "" : "s");
  }
}

/* Starts the by-module request of F for every suffix of its open documents' paths. */
static void query(folder_state *f) {
  lsp_backend *b = f->b;
  if (!b->client || b->closing) return;
  if (f->in_flight || !b->services_done) {
    f->dirty = true;
    if (b->state == NULL) set_state(b, "connecting", "");
    if (!b->services_done) query_services(b);
    return;
  }
  f->dirty = false;
  if (!f->service) {
    if (!f->discovered_none) discover(f); /* found none: again when files open (lsp_backend_want) */
    return;
  }
  if (b->state == NULL) set_state(b, "connecting", "");
  int rc = by_module(f, f->service, on_answer);
  if (rc && rc != HUD_ENOTFOUND) {
    char msg[256];
    snprintf(msg, sizeof msg, "could not start a request to %s: %s", b->url, hud_strerror(rc));
    set_state(b, "error", msg);
  }
}

/* Matched functions with calls and their modules in F's discovery answer. */
static void count_matches(const folder_state *f, int64_t *fns, int *modules) {
  *fns = 0;
  *modules = 0;
  const hud_by_module_response *r = &f->next_resp;
  for (size_t i = 0; i < r->n_items; i++) {
    const hud_function_summary *s = &r->items[i];
    if (s->calls <= 0 || !s->module_path) continue;
    (*fns)++;
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = r->items[k].calls > 0 && r->items[k].module_path && !strcmp(r->items[k].module_path, s->module_path);
    if (!seen) (*modules)++;
  }
}

static void on_discover(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud) {
  (void)c;
  (void)id;
  (void)resp;
  folder_state *f = ud;
  if (!settled(f, err)) return;
  if (err->code && err->code != HUD_ENOTFOUND) { /* the backend is away or refuses the key: say so, try later */
    hud_arena_reset(f->next_arena);
    f->discovering = false;
    answer_failed(f->b, err);
    return;
  }
  int64_t fns = 0;
  int modules = 0;
  if (!err->code) count_matches(f, &fns, &modules);
  hud_arena_reset(f->next_arena);
  if (fns > f->best_fns) {
    const char *name = f->b->services.services[f->cand].name;
    free(f->best);
    f->best = hud_strdup(name);
    f->best_fns = fns;
    f->best_modules = modules;
  }
  f->cand++;
  discover(f);
}

/* Asks each service of the key (at most MAX_DISCOVER) for F's files, one request at a time, and takes
 * the one with the most matched functions with calls. */
static void discover(folder_state *f) {
  lsp_backend *b = f->b;
  if (!f->discovering) { /* a new round */
    if (!b->have_services) { /* the list could not be had: the failure is in the state already */
      if (!b->state) set_state(b, "unconfigured", "no service configured and the key's services are unknown");
      return;
    }
    f->discovering = true;
    f->discovered_none = false;
    f->cand = 0;
    f->best_fns = 0;
    free(f->best);
    f->best = NULL;
  }
  size_t limit = b->services.n_services < MAX_DISCOVER ? b->services.n_services : MAX_DISCOVER;
  while (f->cand < limit) {
    const char *name = b->services.services[f->cand].name;
    if (name && *name) {
      if (b->state == NULL) set_state(b, "connecting", "");
      int rc = by_module(f, name, on_discover);
      if (rc == 0) return;
      if (rc == HUD_ENOTFOUND) break; /* no open file to ask for */
    }
    f->cand++;
  }
  f->discovering = false;
  if (f->best) {
    f->service = f->best;
    f->best = NULL;
    f->found_modules = f->best_modules;
    lsp_log(b->srv, 3, "hud: service %s for the files of %s (discovered from %d matching modules)", f->service,
            f->index < (int)b->srv->n_folders ? b->srv->folders[f->index] : "files outside the folders",
            f->found_modules);
    query(f);
    query_issues(b);
    return;
  }
  f->discovered_none = f->cand > 0;
  if (f->discovered_none && !main_service(b)) {
    char msg[512];
    snprintf(msg, sizeof msg, "no service configured, and no service of the key has data for these files (%zu asked); "
             "set `service` or `services` in initializationOptions", f->cand);
    set_state(b, "unconfigured", msg);
  }
}

void lsp_backend_want(lsp_backend *b, int folder) {
  folder_state *f = b ? folder_of(b, folder) : NULL;
  if (f && f->discovered_none) f->discovered_none = false; /* new files: discovery runs again */
  if (f) query(f);
  if (b && !b->have_issues) query_issues(b);
}

static void on_tick(uv_timer_t *t) {
  lsp_backend *b = t->data;
  for (size_t i = 0; i < b->n_folders; i++) query(&b->folders[i]);
  query_issues(b);
}

void lsp_backend_refresh(lsp_backend *b) {
  if (b) on_tick(&b->timer);
}

int lsp_backend_last_error(const lsp_backend *b) { return b ? b->last_err : 0; }

const char *lsp_backend_state(const lsp_backend *b, const char **message) {
  *message = b ? b->message : "";
  return b && b->state ? b->state : "connecting";
}

/* Whether KEY of the option `services` names folder PATH: its URI, its name (the last component of its
 * path), its path, or its path relative to the first folder. */
static bool names_folder(const lsp_server *s, const char *key, const char *path) {
  if (strncmp(key, "file://", 7) == 0) {
    char *p = lsp_uri_to_path(key);
    size_t n = p ? strlen(p) : 0;
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    bool same = p && strcmp(p, path) == 0;
    free(p);
    return same;
  }
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  if (strcmp(key, base) == 0 || strcmp(key, path) == 0) return true;
  if (!s->n_folders) return false;
  char rel[2200];
  size_t kl = strlen(key);
  while (kl > 1 && key[kl - 1] == '/') kl--;
  snprintf(rel, sizeof rel, "%s/%.*s", s->folders[0], (int)kl, key);
  return strcmp(rel, path) == 0 || (strcmp(key, ".") == 0 && strcmp(s->folders[0], path) == 0);
}

/* The service configured for folder I: `services`, else `service`; NULL: none (discovered). */
static char *folder_service(const lsp_server *s, size_t i, const char *service) {
  const lsp_settings *st = &s->settings;
  for (size_t k = 0; i < s->n_folders && k < st->n_services; k++)
    if (names_folder(s, st->services[k].folder, s->folders[i])) return hud_strdup(st->services[k].service);
  return service && *service ? hud_strdup(service) : NULL;
}

static void unconfigured(lsp_backend *b, const char *why) {
  set_state(b, "unconfigured", why);
}

int lsp_backend_new(lsp_server *s, lsp_backend **out) {
  lsp_backend *b = calloc(1, sizeof *b);
  if (!b) return HUD_ENOMEM;
  b->srv = s;
  b->n_folders = s->n_folders + 1;
  b->folders = calloc(b->n_folders, sizeof *b->folders);
  if (!b->folders) {
    free(b);
    return HUD_ENOMEM;
  }
  for (size_t i = 0; i < b->n_folders; i++) {
    b->folders[i].b = b;
    b->folders[i].index = (int)i;
    b->folders[i].arena = hud_arena_new();
    b->folders[i].next_arena = hud_arena_new();
  }
  b->issues_arena = hud_arena_new();
  b->next_issues_arena = hud_arena_new();
  b->services_arena = hud_arena_new();
  b->next_services_arena = hud_arena_new();
  const hud_config *cfg = s->settings.cfg;
  b->url = hud_strdup(hud_config_str(cfg, HUD_CFG_URL));
  b->service = hud_strdup(hud_config_str(cfg, HUD_CFG_SERVICE));
  for (size_t i = 0; i < b->n_folders; i++) b->folders[i].service = folder_service(s, i, b->service);
  uv_timer_init(s->loop, &b->timer);
  b->timer.data = b;
  b->timer_on = true;
  *out = b;
  bool none = !main_service(b);
  if (none) /* until files open: then the key's services are asked for them (discover) */
    unconfigured(b, "no service configured: set `service` in initializationOptions or the hud config (section [lsp])");
  char err[512] = "";
  int rc = hud_client_new(&b->client, cfg, err, sizeof err);
  if (rc == 0) rc = hud_client_uv_new(s->loop, b->client, &b->uv);
  if (rc) {
    char msg[700];
    snprintf(msg, sizeof msg, "backend client: %s %s", hud_strerror(rc), err);
    hud_client_free(b->client);
    b->client = NULL;
    unconfigured(b, msg);
    return 0;
  }
  uint64_t period = (uint64_t)s->settings.refresh_s * 1000;
  uv_timer_start(&b->timer, on_tick, period, period);
  return 0;
}

static void on_timer_closed(uv_handle_t *h) {
  lsp_backend *b = h->data;
  for (size_t i = 0; i < b->n_folders; i++) {
    hud_arena_free(b->folders[i].arena);
    hud_arena_free(b->folders[i].next_arena);
    free(b->folders[i].by_id);
    free(b->folders[i].service);
    free(b->folders[i].best);
  }
  free(b->folders);
  hud_arena_free(b->issues_arena);
  hud_arena_free(b->next_issues_arena);
  hud_arena_free(b->services_arena);
  hud_arena_free(b->next_services_arena);
  free(b->prod_version);
  free(b->url);
  free(b->service);
  free(b);
}

void lsp_backend_free(lsp_backend *b) {
  if (!b) return;
  b->closing = true;
  hud_client_free(b->client); /* runs the pending callbacks with HUD_ECANCELED */
  b->client = NULL;
  hud_client_uv_free(b->uv);
  uv_timer_stop(&b->timer);
  uv_close((uv_handle_t *)&b->timer, on_timer_closed);
}

static const hud_function_summary *find_id(const folder_state *f, const char *id) {
  size_t lo = 0, hi = f->n_by_id;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(f->by_id[mid]->function_id, id);
    if (c == 0) return f->by_id[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

const hud_function_summary *lsp_backend_lookup(lsp_backend *b, const lsp_doc *doc, const char *qualname) {
  folder_state *f = b ? folder_of(b, doc->folder) : NULL;
  if (!f || !f->have || !doc->module) return NULL;
  char id[HUD_UUID_STRLEN + 1];
  if (lsp_doc_function_id(doc, qualname, id) == 0) {
    const hud_function_summary *s = find_id(f, id);
    if (s) return s;
  }
  /* Declared under another module path (or an older naming): match the qualified name. */
  for (size_t i = 0; i < f->n_by_id; i++) {
    const hud_function_summary *s = f->by_id[i];
    if (s->name && s->module_path && strcmp(s->name, qualname) == 0 && strcmp(s->module_path, doc->module) == 0)
      return s;
  }
  return NULL;
}

double lsp_backend_window_min(lsp_backend *b, const lsp_doc *doc) {
  folder_state *f = b ? folder_of(b, doc->folder) : NULL;
  if (!f || !f->have) return 0;
  return (double)(f->resp.to - f->resp.from) / 60e9;
}

const char *lsp_backend_service_of(lsp_backend *b, const lsp_doc *doc, int *discovered_from) {
  folder_state *f = b ? folder_of(b, doc->folder) : NULL;
  *discovered_from = f ? f->found_modules : 0;
  return f && f->service ? f->service : NULL;
}

int lsp_backend_doc_data(lsp_backend *b, const lsp_doc *doc, const char **known) {
  folder_state *f = b ? folder_of(b, doc->folder) : NULL;
  *known = NULL;
  if (f && !f->service && f->discovered_none) return -2;
  if (!f || !f->have) return -1;
  if (doc->module) return 1;
  char mapped[1400];
  if (lsp_pathmap_module(b->srv, doc->path, doc->folder, mapped, sizeof mapped) == 0)
    for (size_t i = 0; i < f->resp.n_items && !*known; i++)
      if (f->resp.items[i].module_path && strcmp(f->resp.items[i].module_path, mapped) == 0)
        *known = f->resp.items[i].module_path;
  for (const char *p = doc->rel; p && !*known; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
    for (size_t i = 0; i < f->resp.n_items && !*known; i++)
      if (f->resp.items[i].module_path && strcmp(f->resp.items[i].module_path, p) == 0) *known = p;
  return 0;
}

const hud_function_summary *lsp_backend_declared(lsp_backend *b, const lsp_doc *doc, const char *module,
                                                 const char *qualname) {
  folder_state *f = b ? folder_of(b, doc->folder) : NULL;
  if (!f || !f->have || !module) return NULL;
  for (size_t i = 0; i < f->resp.n_items; i++) {
    const hud_function_summary *s = &f->resp.items[i];
    if (s->name && s->module_path && !strcmp(s->name, qualname) && !strcmp(s->module_path, module)) return s;
  }
  return NULL;
}
