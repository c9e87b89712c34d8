/* The JSON edge: frames to typed messages and back (codec.h). */
#include "codec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(lsp_rpc_error *err, int code, const char *fmt, const char *what) {
  err->code = code;
  snprintf(err->message, sizeof err->message, fmt, what);
  return -1;
}

static int bad_param(lsp_rpc_error *err, const char *field) {
  return fail(err, LSP_INVALID_PARAMS, "invalid params: missing or invalid '%s'", field);
}

static int read_id(const json_t *v, hud_arena *a, lsp_id *id) {
  if (json_is_integer(v)) {
    id->kind = LSP_ID_INT;
    id->num = json_integer_value(v);
    return 0;
  }
  if (json_is_string(v)) {
    id->kind = LSP_ID_STR;
    id->str = hud_arena_strndup(a, json_string_value(v), json_string_length(v));
    return id->str ? 0 : -1;
  }
  return -1;
}

int lsp_codec_parse(const char *buf, size_t len, hud_arena *a, lsp_msg *out, lsp_rpc_error *err,
                    lsp_id *err_id) {
  memset(out, 0, sizeof *out);
  err_id->kind = LSP_ID_NULL;
  json_error_t je;
  json_t *root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!root) {
    err->code = LSP_PARSE_ERROR;
    snprintf(err->message, sizeof err->message, "parse error: %s (byte %d)", je.text, je.position);
    return -1;
  }
  out->root = root;
  if (!json_is_object(root)) {
    fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "a message must be a JSON object (batches are not used by LSP)");
    goto bad;
  }
  json_t *id = json_object_get(root, "id");
  json_t *method = json_object_get(root, "method");
  json_t *ver = json_object_get(root, "jsonrpc");
  if (id && !json_is_null(id) && read_id(id, a, err_id) < 0) err_id->kind = LSP_ID_NULL;
  if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
    fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "\"jsonrpc\" must be \"2.0\"");
    goto bad;
  }
  if (id && !json_is_null(id) && err_id->kind == LSP_ID_NULL) {
    fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "\"id\" must be an integer or a string");
    goto bad;
  }
  if (!method) {
    if (!id || (!json_object_get(root, "result") && !json_object_get(root, "error"))) {
      fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "no \"method\"");
      goto bad;
    }
    out->kind = LSP_MSG_RESPONSE;
    out->id = *err_id;
    return 0;
  }
  if (!json_is_string(method)) {
    fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "\"method\" must be a string");
    goto bad;
  }
  json_t *params = json_object_get(root, "params");
  if (json_is_null(params)) params = NULL; /* Emacs's jsonrpc.el sends shutdown and exit with "params": null */
  if (params && !json_is_object(params) && !json_is_array(params)) {
    fail(err, LSP_INVALID_REQUEST, "invalid request: %s", "\"params\" must be an object or an array");
    goto bad;
  }
  out->method = hud_arena_strdup(a, json_string_value(method));
  if (!out->method) {
    fail(err, LSP_INTERNAL_ERROR, "%s", "out of memory");
    goto bad;
  }
  out->params = params;
  out->kind = id ? LSP_MSG_REQUEST : LSP_MSG_NOTIFICATION;
  if (id) out->id = *err_id;
  return 0;
bad:
  json_decref(root);
  out->root = NULL;
  return -1;
}

void lsp_msg_clear(lsp_msg *m) {
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}

/* ---- field helpers ---- */

static const json_t *path_get(const json_t *o, const char *a, const char *b, const char *c) {
  const json_t *v = json_object_get(o, a);
  if (v && b) v = json_object_get(v, b);
  if (v && c) v = json_object_get(v, c);
  return v;
}

/* A string member: 0 with *OUT (NULL when absent or null and not REQUIRED), -1 when wrong. */
static int get_str(const json_t *v, hud_arena *a, bool required, const char **out, size_t *len) {
  *out = NULL;
  if (!v || json_is_null(v)) return required ? -1 : 0;
  if (!json_is_string(v)) return -1;
  size_t n = json_string_length(v);
  *out = hud_arena_strndup(a, json_string_value(v), n);
  if (len) *len = n;
  return *out ? 0 : -1;
}

static int get_int(const json_t *v, bool required, int64_t *out) {
  if (!v || json_is_null(v)) return required ? -1 : 0;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 0;
  }
  if (json_is_real(v)) { /* some clients send whole numbers as reals */
    double d = json_real_value(v);
    if (d != (double)(int64_t)d) return -1;
    *out = (int64_t)d;
    return 0;
  }
  return -1;
}

static int get_pos(const json_t *v, lsp_pos *p) {
  if (!json_is_object(v)) return -1;
  if (get_int(json_object_get(v, "line"), true, &p->line) < 0) return -1;
  return get_int(json_object_get(v, "character"), true, &p->character);
}

static int get_range(const json_t *v, lsp_range *r) {
  if (!json_is_object(v)) return -1;
  if (get_pos(json_object_get(v, "start"), &r->start) < 0) return -1;
  return get_pos(json_object_get(v, "end"), &r->end);
}

static int get_text_doc_uri(const json_t *p, hud_arena *a, const char **uri) {
  if (!json_is_object(p)) return -1;
  return get_str(path_get(p, "textDocument", "uri", NULL), a, true, uri, NULL);
}

/* ---- decoders ---- */

/* A boolean option: 1, 0, or -1 when absent or null. */
static int get_toggle(const json_t *v, int *out) {
  *out = -1;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_boolean(v)) return -1;
  *out = json_is_true(v);
  return 0;
}

/* A number option >= 0: -1 when absent or null. */
static int get_num(const json_t *v, double *out) {
  *out = -1;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_number(v) || json_number_value(v) < 0) return -1;
  *out = json_number_value(v);
  return 0;
}

/* {"k": "v", ...}, or (ARRAY_KEYS) [{"A": "k", "B": "v"}, ...]: string pairs. */
static int get_pairs(const json_t *v, hud_arena *a, const char *ka, const char *kb, bool *has, size_t *n,
                     lsp_str_pair **out) {
  *has = false;
  *n = 0;
  if (!v || json_is_null(v)) return 0;
  size_t cap = json_is_object(v) ? json_object_size(v) : json_is_array(v) && ka ? json_array_size(v) : 0;
  if (!json_is_object(v) && !(json_is_array(v) && ka)) return -1;
  *has = true;
  if (!(*out = hud_arena_calloc(a, cap + 1, sizeof **out))) return -1;
  if (json_is_object(v)) {
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
      if (!json_is_string(val)) return -1;
      (*out)[*n].a = hud_arena_strdup(a, k);
      (*out)[(*n)++].b = hud_arena_strdup(a, json_string_value(val));
    }
    return 0;
  }
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    lsp_str_pair *p = &(*out)[*n];
    if (get_str(json_object_get(e, ka), a, true, &p->a, NULL) < 0 ||
        get_str(json_object_get(e, kb), a, true, &p->b, NULL) < 0)
      return -1;
    (*n)++;
  }
  return 0;
}

/* The options of docs/lsp.md "Settings" beyond the connection and the window. */
static int decode_view_options(const json_t *o, hud_arena *a, lsp_init_options *opts, lsp_rpc_error *err) {
  static const char *tnames[] = {"lens", "hover", "inlayHints", "diagnostics"};
  int *tdst[] = {&opts->lens, &opts->hover, &opts->inlay, &opts->diags};
  for (size_t i = 0; i < 4; i++)
    if (get_toggle(json_object_get(o, tnames[i]), tdst[i]) < 0) return bad_param(err, tnames[i]);
  if (get_str(json_object_get(o, "lensLayout"), a, false, &opts->lens_layout, NULL) < 0)
    return bad_param(err, "lensLayout");
  static const char *nnames[] = {"minCallsPerMinute", "p95WarnMs", "errorRateWarn"};
  double *ndst[] = {&opts->min_cpm, &opts->p95_warn_ms, &opts->err_rate_warn};
  for (size_t i = 0; i < 3; i++)
    if (get_num(json_object_get(o, nnames[i]), ndst[i]) < 0) return bad_param(err, nnames[i]);
  if (get_pairs(json_object_get(o, "pathMaps"), a, "from", "to", &opts->has_path_maps, &opts->n_path_maps,
                &opts->path_maps) < 0)
    return bad_param(err, "pathMaps");
  if (get_pairs(json_object_get(o, "services"), a, NULL, NULL, &opts->has_services, &opts->n_services,
                &opts->services) < 0)
    return bad_param(err, "services");
  return 0;
}

static int decode_options(const json_t *o, hud_arena *a, lsp_init_options *opts, lsp_rpc_error *err) {
  /* Cleared first: callers may pass a struct from the stack, and null settings leave it as is. */
  *opts = (lsp_init_options){.window_s = -1, .refresh_s = -1, .lens = -1, .hover = -1, .inlay = -1, .diags = -1,
                             .min_cpm = -1, .p95_warn_ms = -1, .err_rate_warn = -1};
  if (!o || json_is_null(o)) return 0;
  if (!json_is_object(o)) return bad_param(err, "initializationOptions");
  static const char *names[] = {"url", "key", "service", "env"};
  const char **dst[] = {&opts->url, &opts->key, &opts->service, &opts->env};
  for (size_t i = 0; i < 4; i++)
    if (get_str(json_object_get(o, names[i]), a, false, dst[i], NULL) < 0) return bad_param(err, names[i]);
  const json_t *w = json_object_get(o, "window");
  if (json_is_number(w)) {
    if (get_int(w, true, &opts->window_s) < 0) return bad_param(err, "window");
  } else if (get_str(w, a, false, &opts->window, NULL) < 0) {
    return bad_param(err, "window");
  }
  if (get_int(json_object_get(o, "refreshSeconds"), false, &opts->refresh_s) < 0)
    return bad_param(err, "refreshSeconds");
  return decode_view_options(o, a, opts, err);
}

int lsp_decode_initialize(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_initialize_params *ip = out;
  if (!json_is_object(p)) return bad_param(err, "params");
  if (get_str(json_object_get(p, "rootUri"), a, false, &ip->root_uri, NULL) < 0) return bad_param(err, "rootUri");
  if (get_str(json_object_get(p, "rootPath"), a, false, &ip->root_path, NULL) < 0) return bad_param(err, "rootPath");
  if (get_str(json_object_get(p, "trace"), a, false, &ip->trace, NULL) < 0) return bad_param(err, "trace");
  get_str(path_get(p, "clientInfo", "name", NULL), a, false, &ip->client_name, NULL);
  const json_t *wf = json_object_get(p, "workspaceFolders");
  if (json_is_array(wf)) {
    ip->folders = hud_arena_calloc(a, json_array_size(wf) + 1, sizeof *ip->folders);
    if (!ip->folders) return fail(err, LSP_INTERNAL_ERROR, "%s", "out of memory");
    size_t i;
    json_t *f;
    json_array_foreach(wf, i, f) {
      lsp_folder *d = &ip->folders[ip->n_folders];
      if (!json_is_object(f) || get_str(json_object_get(f, "uri"), a, true, &d->uri, NULL) < 0)
        return bad_param(err, "workspaceFolders[].uri");
      get_str(json_object_get(f, "name"), a, false, &d->name, NULL);
      ip->n_folders++;
    }
  } else if (wf && !json_is_null(wf)) {
    return bad_param(err, "workspaceFolders");
  }
  const json_t *caps = json_object_get(p, "capabilities");
  const json_t *encs = path_get(caps, "general", "positionEncodings", NULL);
  if (json_is_array(encs)) {
    size_t i;
    json_t *e;
    json_array_foreach(encs, i, e) {
      if (json_is_string(e) && strcmp(json_string_value(e), "utf-8") == 0) ip->offers_utf8 = true;
    }
  }
  ip->lens_refresh = json_is_true(path_get(caps, "workspace", "codeLens", "refreshSupport"));
  ip->config_pull = json_is_true(path_get(caps, "workspace", "configuration", NULL));
  ip->inlay_hints = json_is_object(path_get(caps, "textDocument", "inlayHint", NULL));
  return decode_options(json_object_get(p, "initializationOptions"), a, &ip->opts, err);
}

int lsp_decode_cancel(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_cancel_params *cp = out;
  if (!json_is_object(p) || read_id(json_object_get(p, "id"), a, &cp->id) < 0) return bad_param(err, "id");
  return 0;
}

int lsp_decode_set_trace(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_set_trace_params *tp = out;
  if (!json_is_object(p) || get_str(json_object_get(p, "value"), a, true, &tp->value, NULL) < 0)
    return bad_param(err, "value");
  return 0;
}

int lsp_decode_did_open(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_did_open_params *op = out;
  if (get_text_doc_uri(p, a, &op->uri) < 0) return bad_param(err, "textDocument.uri");
  const json_t *td = json_object_get(p, "textDocument");
  if (get_str(json_object_get(td, "languageId"), a, false, &op->language_id, NULL) < 0)
    return bad_param(err, "textDocument.languageId");
  if (get_int(json_object_get(td, "version"), false, &op->version) < 0) return bad_param(err, "textDocument.version");
  if (get_str(json_object_get(td, "text"), a, true, &op->text, &op->text_len) < 0)
    return bad_param(err, "textDocument.text");
  return 0;
}

int lsp_decode_did_change(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_did_change_params *cp = out;
  if (get_text_doc_uri(p, a, &cp->uri) < 0) return bad_param(err, "textDocument.uri");
  if (get_int(path_get(p, "textDocument", "version", NULL), false, &cp->version) < 0)
    return bad_param(err, "textDocument.version");
  const json_t *ch = json_object_get(p, "contentChanges");
  if (!json_is_array(ch)) return bad_param(err, "contentChanges");
  cp->changes = hud_arena_calloc(a, json_array_size(ch) + 1, sizeof *cp->changes);
  if (!cp->changes) return fail(err, LSP_INTERNAL_ERROR, "%s", "out of memory");
  size_t i;
  json_t *c;
  json_array_foreach(ch, i, c) {
    lsp_text_change *d = &cp->changes[cp->n_changes++];
    if (!json_is_object(c) || get_str(json_object_get(c, "text"), a, true, &d->text, &d->text_len) < 0)
      return bad_param(err, "contentChanges[].text");
    const json_t *r = json_object_get(c, "range");
    if (r && !json_is_null(r)) {
      if (get_range(r, &d->range) < 0) return bad_param(err, "contentChanges[].range");
      d->has_range = true;
    }
  }
  return 0;
}

int lsp_decode_doc(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_doc_params *dp = out;
  if (get_text_doc_uri(p, a, &dp->uri) < 0) return bad_param(err, "textDocument.uri");
  return 0;
}

int lsp_decode_doc_pos(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_doc_pos_params *dp = out;
  if (get_text_doc_uri(p, a, &dp->uri) < 0) return bad_param(err, "textDocument.uri");
  if (get_pos(json_object_get(p, "position"), &dp->position) < 0) return bad_param(err, "position");
  return 0;
}

/* hud/errorFlows: a function id, or a document and a position (either, never neither). */
int lsp_decode_errflows(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_errflows_params *e = out;
  if (!json_is_object(p)) return bad_param(err, "params");
  if (get_str(json_object_get(p, "functionId"), a, false, &e->function_id, NULL) < 0) return bad_param(err, "functionId");
  if (e->function_id) return 0;
  if (get_text_doc_uri(p, a, &e->uri) < 0) return bad_param(err, "functionId or textDocument.uri");
  if (get_pos(json_object_get(p, "position"), &e->position) < 0) return bad_param(err, "position");
  return 0;
}

/* Settings as the editor sends them: {"hud": {...}} or the options themselves. */
static int decode_settings(const json_t *v, hud_arena *a, lsp_init_options *opts, lsp_rpc_error *err) {
  const json_t *hud = json_is_object(v) ? json_object_get(v, "hud") : NULL;
  return decode_options(json_is_object(hud) ? hud : v, a, opts, err);
}

int lsp_decode_config(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_config_params *c = out;
  return decode_settings(json_object_get(p, "settings"), a, &c->opts, err);
}

int lsp_codec_config_result(const lsp_msg *m, hud_arena *a, lsp_init_options *opts, lsp_rpc_error *err) {
  const json_t *r = json_object_get(m->root, "result");
  if (!json_is_array(r)) return fail(err, LSP_INVALID_PARAMS, "%s", "workspace/configuration: no result array");
  return decode_settings(json_array_get(r, 0), a, opts, err);
}

static int decode_folders(const json_t *arr, hud_arena *a, lsp_folder **out, size_t *n, lsp_rpc_error *err) {
  if (!json_is_array(arr)) return bad_param(err, "event");
  *out = hud_arena_calloc(a, json_array_size(arr) + 1, sizeof **out);
  if (!*out) return fail(err, LSP_INTERNAL_ERROR, "%s", "out of memory");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    const json_t *f = json_array_get(arr, i);
    if (!json_is_object(f) || get_str(json_object_get(f, "uri"), a, true, &(*out)[*n].uri, NULL) < 0)
      return bad_param(err, "event.added[].uri");
    (*n)++;
  }
  return 0;
}

int lsp_decode_folders(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_folders_params *f = out;
  const json_t *ev = json_object_get(p, "event");
  if (decode_folders(json_object_get(ev, "added"), a, &f->added, &f->n_added, err) < 0) return -1;
  return decode_folders(json_object_get(ev, "removed"), a, &f->removed, &f->n_removed, err);
}

json_t *lsp_encode_config_request(const void *params) {
  (void)params;
  return json_pack("{s:[{s:s}]}", "items", "section", "hud");
}

int lsp_decode_symbol(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_symbol_params *q = out;
  if (get_str(json_object_get(p, "query"), a, true, &q->query, NULL) < 0) return bad_param(err, "query");
  return 0;
}

int lsp_decode_exec(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_exec_params *e = out;
  if (get_str(json_object_get(p, "command"), a, true, &e->command, NULL) < 0) return bad_param(err, "command");
  const json_t *args = json_object_get(p, "arguments");
  if (args && !json_is_array(args) && !json_is_null(args)) return bad_param(err, "arguments");
  for (size_t i = 0; i < json_array_size(args) && e->n_args < 4; i++) {
    const json_t *v = json_array_get(args, i);
    if (json_is_object(v)) v = json_object_get(v, "uri");
    if (!json_is_string(v)) break;
    if (get_str(v, a, true, &e->args[e->n_args++], NULL) < 0) return bad_param(err, "arguments");
  }
  return 0;
}

int lsp_decode_hier(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_hier_params *hp = out;
  lsp_hier_item *it = &hp->item;
  const json_t *item = json_is_object(p) ? json_object_get(p, "item") : NULL;
  if (!json_is_object(item)) return bad_param(err, "item");
  if (get_str(json_object_get(item, "name"), a, true, &it->name, NULL) < 0) return bad_param(err, "item.name");
  if (get_str(json_object_get(item, "uri"), a, true, &it->uri, NULL) < 0) return bad_param(err, "item.uri");
  int64_t kind = 0;
  if (get_int(json_object_get(item, "kind"), false, &kind) < 0) return bad_param(err, "item.kind");
  it->kind = (int)kind;
  const json_t *r = json_object_get(item, "range");
  if (r && get_range(r, &it->range) < 0) return bad_param(err, "item.range");
  r = json_object_get(item, "selectionRange");
  if (r && get_range(r, &it->selection) < 0) return bad_param(err, "item.selectionRange");
  const json_t *data = json_object_get(item, "data");
  if (get_str(json_object_get(data, "function_id"), a, true, &it->function_id, NULL) < 0)
    return bad_param(err, "item.data.function_id");
  if (get_str(json_object_get(data, "module"), a, false, &it->module, NULL) < 0) return bad_param(err, "item.data.module");
  return 0;
}

/* ---- encoders ---- */

/* A JSON string of S; bytes that are not UTF-8 (a message cut mid-character, a name from a broken
 * file) become '?', so that an answer is never lost to an encoding error. */
static json_t *text(const char *s) {
  json_t *v = json_string(s ? s : "");
  if (v) return v;
  size_t n = strlen(s);
  char *c = malloc(n + 1);
  if (!c) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3 : (p[i] >> 3) == 30 ? 4 : 0;
    bool ok = k > 0 && i + k <= n;
    for (size_t j = 1; ok && j < k; j++) ok = (p[i + j] & 0xC0) == 0x80;
    if (ok) {
      memcpy(c + i, s + i, k);
      i += k;
    } else {
      c[i++] = '?';
    }
  }
  c[n] = '\0';
  v = json_string(c);
  free(c);
  return v;
}

static json_t *enc_pos(lsp_pos p) {
  return json_pack("{s:I,s:I}", "line", (json_int_t)p.line, "character", (json_int_t)p.character);
}

static json_t *enc_range(lsp_range r) {
  return json_pack("{s:o,s:o}", "start", enc_pos(r.start), "end", enc_pos(r.end));
}

json_t *lsp_encode_null(const void *result) {
  (void)result;
  return json_null();
}

json_t *lsp_encode_initialize(const void *result) {
  const lsp_initialize_result *r = result;
  json_t *out = json_pack("{s:{s:s,s:{s:b,s:i,s:{s:b}},s:{s:b},s:b,s:b,s:{s:[sssssss]},s:b,s:b,s:{s:{s:b,s:b}}},s:{s:s,s:s}}",
                   "capabilities",
                   "positionEncoding", r->encoding == LSP_ENC_UTF8 ? "utf-8" : "utf-16",
                   "textDocumentSync", "openClose", 1, "change", 2, "save", "includeText", 0,
                   "codeLensProvider", "resolveProvider", 0,
                   "hoverProvider", 1, "callHierarchyProvider", 1,
                   "executeCommandProvider", "commands", "hud.explain", "hud.refresh", "hud.copyDeepLink", "hud.showDetail",
                   "hud.showCallers", "hud.showCallees", "hud.issueStatus", "codeActionProvider", 1,
                   "workspaceSymbolProvider", 1,
                   "workspace", "workspaceFolders", "supported", 1, "changeNotifications", 1,
                   "serverInfo", "name", "hud-lsp", "version", r->version);
  if (out && r->inlay_hints) json_object_set_new(json_object_get(out, "capabilities"), "inlayHintProvider", json_true());
  return out;
}

json_t *lsp_encode_lenses(const void *result) {
  const lsp_lens_list *l = result;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++) {
    const lsp_lens *x = &l->items[i];
    json_t *cmd = json_pack("{s:o,s:s}", "title", text(x->title), "command", "");
    if (cmd && x->function_id) json_object_set_new(cmd, "arguments", json_pack("[s]", x->function_id));
    json_array_append_new(arr, json_pack("{s:o,s:o}", "range", enc_range(x->range), "command", cmd));
  }
  return arr;
}

json_t *lsp_encode_hover(const void *result) {
  const lsp_hover *h = result;
  if (!h->found) return json_null();
  return json_pack("{s:{s:s,s:o},s:o}", "contents", "kind", "markdown", "value", text(h->markdown), "range",
                   enc_range(h->range));
}

json_t *lsp_encode_symbols(const void *result) {
  const lsp_symbols *l = result;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++) {
    const lsp_symbol *x = &l->items[i];
    json_array_append_new(arr, json_pack("{s:o,s:i,s:o,s:{s:o,s:o}}", "name", text(x->name), "kind", x->kind,
                                         "containerName", text(x->container), "location", "uri", text(x->uri),
                                         "range", enc_range(x->range)));
  }
  return arr;
}

int lsp_decode_inlay(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_inlay_params *q = out;
  if (get_text_doc_uri(p, a, &q->uri) < 0) return bad_param(err, "textDocument.uri");
  if (get_range(json_object_get(p, "range"), &q->range) < 0) return bad_param(err, "range");
  return 0;
}

json_t *lsp_encode_inlays(const void *result) {
  const lsp_inlays *l = result;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++)
    json_array_append_new(arr, json_pack("{s:o,s:o,s:b}", "position", enc_pos(l->items[i].position), "label",
                                         text(l->items[i].label), "paddingLeft", 1));
  return arr;
}

json_t *lsp_encode_commands(const void *result) {
  const lsp_commands *l = result;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++) {
    json_t *args = json_pack("[o]", text(l->items[i].argument));
    if (args && l->items[i].argument2) json_array_append_new(args, text(l->items[i].argument2));
    json_array_append_new(arr, json_pack("{s:o,s:s,s:o}", "title", text(l->items[i].title), "command",
                                         l->items[i].command, "arguments", args));
  }
  return arr;
}

int lsp_decode_code_action(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_doc_pos_params *q = out;
  if (get_text_doc_uri(p, a, &q->uri) < 0) return bad_param(err, "textDocument.uri");
  if (get_pos(path_get(p, "range", "start", NULL), &q->position) < 0) return bad_param(err, "range.start");
  return 0;
}

json_t *lsp_encode_exec(const void *result) {
  const lsp_exec_result *r = result;
  if (r->kind == 1) return json_pack("{s:s,s:o}", "reason", r->reason, "message", text(r->message));
  if (r->kind == 2) return json_pack("{s:o}", "url", text(r->url));
  if (r->kind == 3) return json_pack("{s:o}", "message", text(r->message));
  return json_null();
}

static json_t *enc_ef_node(const lsp_ef_node *n) {
  json_t *o = json_pack("{s:o}", "functionId", text(n->function_id));
  if (!o) return NULL;
  json_object_set_new(o, "name", n->name ? text(n->name) : json_null());
  json_object_set_new(o, "modulePath", n->module_path ? text(n->module_path) : json_null());
  if (n->uri) json_object_set_new(o, "location", json_pack("{s:o,s:o}", "uri", text(n->uri), "range", enc_range(n->range)));
  return o;
}

json_t *lsp_encode_errflows(const void *result) {
  const lsp_errflows_result *r = result;
  if (r->reason)
    return json_pack("{s:{s:s,s:o}}", "error", "reason", r->reason, "message", text(r->message));
  json_t *flows = json_array();
  for (size_t i = 0; flows && i < r->n_flows; i++) {
    const lsp_ef_flow *f = &r->flows[i];
    json_t *through = json_array();
    for (size_t k = 0; through && k < f->n_through; k++) json_array_append_new(through, enc_ef_node(&f->through[k]));
    json_array_append_new(flows, json_pack("{s:o,s:I,s:o,s:o,s:o,s:b}", "exceptionType", text(f->type), "count",
                                           (json_int_t)f->count, "origin", enc_ef_node(&f->origin), "through", through,
                                           "caughtIn", f->caught ? enc_ef_node(f->caught) : json_null(), "escaped",
                                           !f->caught));
  }
  return json_pack("{s:{s:I,s:I},s:o,s:o}", "window", "from", (json_int_t)r->from_ms, "to", (json_int_t)r->to_ms,
                   "function", enc_ef_node(&r->function), "flows", flows);
}

json_t *lsp_encode_message(const void *params) {
  const lsp_message_params *m = params;
  return json_pack("{s:i,s:o}", "type", m->type, "message", text(m->message));
}

json_t *lsp_encode_status(const void *params) {
  const lsp_status_params *s = params;
  return json_pack("{s:s,s:o,s:s,s:s,s:I}", "state", s->state, "message", text(s->message),
                   "url", s->url ? s->url : "", "service", s->service ? s->service : "", "modules",
                   (json_int_t)s->modules);
}

static json_t *enc_hier_item(const lsp_hier_item *it) {
  json_t *data = json_pack("{s:s}", "function_id", it->function_id ? it->function_id : "");
  if (data && it->module) json_object_set_new(data, "module", text(it->module));
  return json_pack("{s:o,s:i,s:o,s:o,s:o,s:o,s:o}", "name", text(it->name), "kind", it->kind, "detail",
                   text(it->detail), "uri", text(it->uri), "range", enc_range(it->range), "selectionRange",
                   enc_range(it->selection), "data", data);
}

json_t *lsp_encode_hier_items(const void *result) {
  const lsp_hier_items *l = result;
  if (!l->found) return json_null();
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++) json_array_append_new(arr, enc_hier_item(&l->items[i]));
  return arr;
}

json_t *lsp_encode_hier_calls(const void *result) {
  const lsp_hier_calls *l = result;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < l->n; i++) {
    const lsp_hier_call *c = &l->items[i];
    json_t *ranges = json_array();
    for (size_t k = 0; ranges && k < c->n_ranges; k++) json_array_append_new(ranges, enc_range(c->ranges[k]));
    json_array_append_new(arr, json_pack("{s:o,s:o}", l->outgoing ? "to" : "from", enc_hier_item(&c->item),
                                         "fromRanges", ranges));
  }
  return arr;
}

json_t *lsp_encode_diagnostics(const void *params) {
  const lsp_diag_params *p = params;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < p->n; i++) {
    const lsp_diag *d = &p->items[i];
    json_t *o = json_pack("{s:o,s:i,s:s,s:o}", "range", enc_range(d->range), "severity", d->severity, "source", "hud",
                          "message", text(d->message));
    if (o && d->related_uri)
      json_object_set_new(o, "relatedInformation",
                          json_pack("[{s:{s:o,s:o},s:o}]", "location", "uri", text(d->related_uri), "range",
                                    enc_range(d->related_range), "message", text(d->related_message)));
    json_array_append_new(arr, o);
  }
  json_t *out = json_pack("{s:o,s:o}", "uri", text(p->uri), "diagnostics", arr);
  if (out && p->version >= 0) json_object_set_new(out, "version", json_integer(p->version));
  return out;
}

/* ---- frames ---- */

static json_t *enc_id(const lsp_id *id) {
  if (!id || id->kind == LSP_ID_NULL || id->kind == LSP_ID_NONE) return json_null();
  if (id->kind == LSP_ID_INT) return json_integer(id->num);
  return json_string(id->str);
}

static char *dump(json_t *msg, size_t *len) {
  if (!msg) return NULL;
  char *s = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (s) *len = strlen(s);
  return s;
}

char *lsp_codec_result(const lsp_id *id, lsp_encode_fn enc, const void *result, size_t *len) {
  json_t *r = enc ? enc(result) : json_null();
  if (!r) return NULL;
  return dump(json_pack("{s:s,s:o,s:o}", "jsonrpc", "2.0", "id", enc_id(id), "result", r), len);
}

char *lsp_codec_error(const lsp_id *id, const lsp_rpc_error *err, size_t *len) {
  return dump(json_pack("{s:s,s:o,s:{s:i,s:o}}", "jsonrpc", "2.0", "id", enc_id(id), "error", "code", err->code,
                        "message", text(err->message)),
              len);
}

char *lsp_codec_outgoing(const lsp_id *id, const char *method, lsp_encode_fn enc, const void *params,
                         size_t *len) {
  json_t *m = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
  if (!m) return NULL;
  if (id) json_object_set_new(m, "id", enc_id(id));
  if (enc) {
    json_t *p = enc(params);
    if (!p) {
      json_decref(m);
      return NULL;
    }
    json_object_set_new(m, "params", p);
  }
  return dump(m, len);
}

/* ---- requests for editor panels ---- */

/* An optional integer member NAME within [LO, HI] into *OUT (left 0 when absent). */
static int get_bounded(const json_t *p, const char *name, int64_t lo, int64_t hi, int64_t *out, lsp_rpc_error *err) {
  if (get_int(json_object_get(p, name), false, out) < 0 || (*out && (*out < lo || *out > hi)) ||
      (json_object_get(p, name) && !json_is_null(json_object_get(p, name)) && *out == 0 && lo > 0)) {
    err->code = LSP_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "invalid params: '%s' must be an integer from %lld to %lld", name,
             (long long)lo, (long long)hi);
    return -1;
  }
  return 0;
}

int lsp_decode_panel(const json_t *p, hud_arena *a, void *out, lsp_rpc_error *err) {
  lsp_panel_params *q = out;
  if (!p || json_is_null(p)) return 0;
  if (!json_is_object(p)) return bad_param(err, "params");
  if (get_str(json_object_get(p, "functionId"), a, false, &q->function_id, NULL) < 0 ||
      (q->function_id && !*q->function_id))
    return bad_param(err, "functionId");
  if (get_str(json_object_get(p, "flowId"), a, false, &q->flow_id, NULL) < 0 || (q->flow_id && !*q->flow_id))
    return bad_param(err, "flowId");
  const json_t *td = json_object_get(p, "textDocument");
  if (td && !json_is_null(td)) {
    if (get_text_doc_uri(p, a, &q->uri) < 0) return bad_param(err, "textDocument.uri");
    if (get_pos(json_object_get(p, "position"), &q->position) < 0) return bad_param(err, "position");
  }
  if (get_bounded(p, "depth", 1, 16, &q->depth, err) < 0 || get_bounded(p, "maxNodes", 1, 500, &q->max_nodes, err) < 0 ||
      get_bounded(p, "limit", 1, 1000, &q->limit, err) < 0)
    return -1;
  const char *by = NULL;
  if (get_str(json_object_get(p, "by"), a, false, &by, NULL) < 0 || (by && strcmp(by, "time") && strcmp(by, "calls")))
    return fail(err, LSP_INVALID_PARAMS, "invalid params: %s", "'by' must be \"time\" or \"calls\"");
  q->by_calls = by && !strcmp(by, "calls");
  return 0;
}

static json_t *opt_text(const char *s) { return s ? text(s) : json_null(); }

/* {"error": {...}} when HEAD has a reason, else a new object with the window. */
static json_t *panel_head(const lsp_panel_head *h, bool *failed) {
  *failed = h->reason != NULL;
  if (*failed) return json_pack("{s:{s:s,s:o}}", "error", "reason", h->reason, "message", text(h->message));
  return json_pack("{s:{s:I,s:I}}", "window", "from", (json_int_t)h->from_ms, "to", (json_int_t)h->to_ms);
}

static json_t *enc_node(const lsp_node *n) {
  json_t *o = json_pack("{s:o,s:o,s:o}", "functionId", text(n->function_id), "name", text(n->name), "modulePath",
                        opt_text(n->module_path));
  if (o && n->uri)
    json_object_set_new(o, "location", json_pack("{s:o,s:o}", "uri", text(n->uri), "range", enc_range(n->range)));
  return o;
}

/* Sets the members of the JSON object SPEC on O (json_pack of figures next to a node's). */
static json_t *with(json_t *o, json_t *spec) {
  if (o && spec) json_object_update(o, spec);
  json_decref(spec);
  return o;
}

static double ms(double ns) { return ns / 1e6; }

static json_t *enc_peers(const lsp_peer *p, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    json_array_append_new(arr, with(enc_node(&p[i].node),
                                    json_pack("{s:I,s:f,s:I,s:f,s:I}", "calls", (json_int_t)p[i].calls,
                                              "callsPerMinute", p[i].per_min, "errors", (json_int_t)p[i].errors,
                                              "meanMs", p[i].mean_ms, "line", (json_int_t)p[i].line)));
  return arr;
}

json_t *lsp_encode_fn_detail(const void *result) {
  const lsp_fn_detail *r = result;
  bool failed;
  json_t *o = panel_head(&r->head, &failed);
  if (failed || !o) return o;
  const hud_function_detail *d = r->d;
  const hud_function_summary *s = &d->summary;
  json_t *errs = json_array(), *series = json_array(), *versions = json_array();
  for (size_t i = 0; errs && i < d->errors_by_type.n; i++)
    json_array_append_new(errs, json_pack("{s:o,s:I}", "type", text(d->errors_by_type.items[i].key), "count",
                                          (json_int_t)d->errors_by_type.items[i].count));
  for (size_t i = 0; series && i < d->n_series; i++)
    json_array_append_new(series, json_pack("{s:I,s:I,s:f}", "t", (json_int_t)(d->series[i].timestamp / 1000000),
                                            "calls", (json_int_t)d->series[i].calls, "p95Ms", ms(d->series[i].p95)));
  for (size_t i = 0; versions && i < d->n_versions; i++) {
    const hud_version_stats *v = &d->versions[i];
    json_array_append_new(versions, json_pack("{s:o,s:I,s:f,s:f,s:f}", "version", text(v->version), "calls",
                                              (json_int_t)v->calls, "errorRate", v->error_rate, "meanMs",
                                              ms(v->mean_duration), "p95Ms", ms(v->p95)));
  }
  double per_min = r->window_min > 0 ? (double)s->calls / r->window_min : 0;
  json_t *fig = json_pack("{s:I,s:f,s:I,s:f,s:f,s:f,s:f,s:f}", "calls", (json_int_t)s->calls, "callsPerMinute",
                          per_min, "errors", (json_int_t)s->errors, "errorRate", s->error_rate, "meanMs",
                          ms(s->mean_duration), "p50Ms", ms(s->p50), "p95Ms", ms(s->p95), "p99Ms", ms(s->p99));
  return with(o, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "function", enc_node(&r->function), "figures", fig,
                           "errorsByType", errs, "series", series, "versions", versions, "callers",
                           enc_peers(r->callers, d->n_callers), "callees", enc_peers(r->callees, d->n_callees)));
}

json_t *lsp_encode_call_graph(const void *result) {
  const lsp_call_graph *r = result;
  bool failed;
  json_t *o = panel_head(&r->head, &failed);
  if (failed || !o) return o;
  json_t *nodes = json_array(), *edges = json_array();
  for (size_t i = 0; nodes && i < r->n_nodes; i++) {
    const lsp_graph_node *n = &r->nodes[i];
    json_array_append_new(nodes, with(enc_node(&n->node), json_pack("{s:I,s:I,s:f,s:f}", "calls", (json_int_t)n->calls,
                                                                    "errors", (json_int_t)n->errors, "totalMs",
                                                                    n->total_ms, "selfMs", n->self_ms)));
  }
  for (size_t i = 0; edges && i < r->n_edges; i++) {
    const lsp_graph_edge *e = &r->edges[i];
    json_t *x = json_pack("{s:o,s:o,s:s,s:I,s:f}", "from", text(e->from), "to", text(e->to), "kind",
                          e->exception ? "exception" : "call", "calls", (json_int_t)e->calls, "totalMs", e->total_ms);
    if (x && e->exception) json_object_set_new(x, "exceptionType", text(e->exception_type));
    json_array_append_new(edges, x);
  }
  return with(o, json_pack("{s:o,s:b,s:o,s:o}", "root", text(r->root), "truncated", r->truncated, "nodes", nodes,
                           "edges", edges));
}

static json_t *enc_path(const lsp_path_node *p) {
  json_t *kids = json_array();
  for (size_t i = 0; kids && i < p->n_children; i++) json_array_append_new(kids, enc_path(&p->children[i]));
  return with(enc_node(&p->node), json_pack("{s:I,s:f,s:f,s:I,s:b,s:o}", "calls", (json_int_t)p->calls, "totalMs",
                                            p->total_ms, "share", p->share, "errors", (json_int_t)p->errors,
                                            "exception", p->exception, "children", kids));
}

json_t *lsp_encode_hot_paths(const void *result) {
  const lsp_hot_paths *r = result;
  bool failed;
  json_t *o = panel_head(&r->head, &failed);
  if (failed || !o) return o;
  return with(o, json_pack("{s:s,s:b,s:o}", "by", r->by_calls ? "calls" : "time", "truncated", r->truncated, "root",
                           r->root ? enc_path(r->root) : json_null()));
}

/* The members of the issue shape with headlines (docs/lsp.md, hud/issues). */
static json_t *enc_issue_more(const lsp_issue_item *it) {
  json_t *flows = json_array(), *path = json_array();
  for (size_t k = 0; flows && k < it->n_flows; k++) {
    const lsp_issue_flow *f = &it->flows[k];
    json_array_append_new(flows, json_pack("{s:o,s:o,s:o,s:f,s:f,s:f,s:f,s:f,s:f,s:I}", "flowId", text(f->flow_id),
                                           "name", text(f->name), "text", text(f->text), "msPerRequest",
                                           f->ms_per_request, "effectPct", f->effect_pct, "baselineMs",
                                           f->baseline_ms, "currentMs", f->current_ms, "baselineErrorRate",
                                           f->baseline_error_rate, "currentErrorRate", f->current_error_rate,
                                           "requests", (json_int_t)f->requests));
  }
  for (size_t k = 0; path && k < it->n_path; k++) json_array_append_new(path, enc_node(&it->path[k]));
  json_t *changed = it->code_changed < 0 ? json_null() : json_boolean(it->code_changed > 0);
  return json_pack("{s:o,s:o,s:o,s:o,s:f,s:f,s:f,s:o,s:b,s:b,s:o,s:o,s:i,s:o,s:o}", "status", opt_text(it->status),
                   "headline", opt_text(it->headline), "pText", opt_text(it->p_text), "codeChanged", changed,
                   "qValue", it->q_value, "driftPct", it->drift_pct, "hostShiftPct", it->host_shift_pct, "vscodeLink", opt_text(it->vscode_link),
                   "effectPctCapped", it->effect_pct_capped, "selfIncludesUninstrumented",
                   it->self_includes_uninstrumented, "firstSeen", opt_text(it->first_seen), "lastSeen",
                   opt_text(it->last_seen), "timesReopened", (int)it->times_reopened, "affectedFlows", flows,
                   "callPath", path);
}

json_t *lsp_encode_issue_list(const void *result) {
  const lsp_issue_list *r = result;
  bool failed;
  json_t *o = panel_head(&r->head, &failed);
  if (failed || !o) return o;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < r->n; i++) {
    const lsp_issue_item *it = &r->items[i];
    json_t *subject = json_pack("{s:o}", "name", text(it->subject_name));
    if (subject && it->subject_function_id) json_object_set_new(subject, "functionId", text(it->subject_function_id));
    if (subject && it->subject_flow_id) json_object_set_new(subject, "flowId", text(it->subject_flow_id));
    json_t *causes = json_array();
    for (size_t k = 0; causes && k < it->n_causes; k++)
      json_array_append_new(causes, with(enc_node(&it->causes[k].node),
                                         json_pack("{s:f,s:o}", "share", it->causes[k].share, "evidence",
                                                   opt_text(it->causes[k].evidence))));
    json_t *x = json_pack("{s:o,s:s,s:o,s:o,s:f,s:f,s:o,s:o,s:o}", "issueId", text(it->issue_id), "kind", it->kind,
                          "subject", subject, "message", text(it->message), "effectPct", it->effect_pct,
                          "confidence", it->confidence, "baselineVersion", opt_text(it->baseline_version),
                          "currentVersion", opt_text(it->current_version), "rootCauses", causes);
    json_array_append_new(arr, with(x, enc_issue_more(it)));
  }
  return with(o, json_pack("{s:o}", "issues", arr));
}

json_t *lsp_encode_flow_list(const void *result) {
  const lsp_flow_list *r = result;
  bool failed;
  json_t *o = panel_head(&r->head, &failed);
  if (failed || !o) return o;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < r->n; i++) {
    const lsp_flow_item *f = &r->items[i];
    json_array_append_new(arr, json_pack("{s:o,s:s,s:o,s:I,s:f,s:f,s:f,s:o}", "flowId", text(f->flow_id), "kind",
                                         f->kind, "name", text(f->name), "calls", (json_int_t)f->calls,
                                         "callsPerMinute", f->per_min, "errorRate", f->error_rate, "p95Ms", f->p95_ms,
                                         "topFunction", f->has_top ? enc_node(&f->top) : json_null()));
  }
  return with(o, json_pack("{s:o}", "flows", arr));
}
