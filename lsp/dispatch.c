#define _GNU_SOURCE /* vasprintf */
/* Routes each client message to its method through the table of tables, enforcing the lifecycle
 * (requests before initialize, after shutdown) and answering every request exactly once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "server.h"
#include "transport.h"

/* Every method family, listed once. */
static const lsp_method_table *const families[] = {&lsp_m_lifecycle, &lsp_m_sync, &lsp_m_lens, &lsp_m_hover,
                                                   &lsp_m_hierarchy, &lsp_m_command,
                                                   &lsp_m_workspace, &lsp_m_symbol, &lsp_m_inlay,
                                                   &lsp_m_errflows, &lsp_m_panels};

const lsp_method *lsp_find_method(const char *name) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    for (size_t i = 0; i < families[f]->n; i++)
      if (strcmp(families[f]->methods[i].name, name) == 0) return &families[f]->methods[i];
  return NULL;
}

static void send_body(lsp_server *s, char *body, size_t len) {
  if (!body) {
    fprintf(stderr, "hud-lsp: could not encode a message (out of memory or invalid UTF-8)\n");
    return;
  }
  if (s->tr) lsp_transport_send(s->tr, body, len);
  free(body);
}

static void reply_error(lsp_server *s, const lsp_id *id, int code, const char *msg) {
  lsp_rpc_error e = {.code = code};
  snprintf(e.message, sizeof e.message, "%s", msg);
  size_t len = 0;
  char *body = lsp_codec_error(id, &e, &len);
  send_body(s, body, len);
}

void lsp_server_on_frame_error(lsp_server *s, const char *what) {
  lsp_id null_id = {.kind = LSP_ID_NULL};
  char msg[300];
  snprintf(msg, sizeof msg, "parse error: %s", what);
  s->frames_bad++;
  reply_error(s, &null_id, LSP_PARSE_ERROR, msg);
}

/* Whether the lifecycle lets M run now; else the error a request gets. */
static int state_error(const lsp_server *s, const lsp_method *m, const char **why) {
  if (m && (m->flags & LSP_M_ANY_STATE)) return 0;
  if (s->state == LSP_STATE_NEW) {
    *why = "server not initialized: send initialize first";
    return LSP_SERVER_NOT_INITIALIZED;
  }
  if (s->state == LSP_STATE_SHUTDOWN) {
    *why = "invalid request: the server is shut down, only exit is accepted";
    return LSP_INVALID_REQUEST;
  }
  return 0;
}

/* Answers (requests) or logs (notifications) what the handler of CALL returned. */
static void answer(lsp_call *c, int rc, const lsp_rpc_error *e) {
  lsp_server *s = c->srv;
  if (rc != 0) {
    lsp_rpc_error err = *e;
    if (!err.code) err.code = LSP_INTERNAL_ERROR;
    if (c->id) reply_error(s, c->id, err.code, err.message);
    else lsp_log(s, 2, "%s: %s", c->m->name, err.message);
    return;
  }
  if (c->id) {
    size_t len = 0;
    char *body = lsp_codec_result(c->id, c->m->encode, c->result, &len);
    if (!body) /* out of memory, or a string that is not UTF-8: the client still gets an answer */
      reply_error(s, c->id, LSP_INTERNAL_ERROR, "the result could not be encoded");
    else
      send_body(s, body, len);
  }
}

/* Runs M; true when the call was deferred (it then owns the arena and the message). */
static bool run_method(lsp_server *s, lsp_msg *msg, const lsp_method *m, hud_arena *a) {
  bool is_req = msg->kind == LSP_MSG_REQUEST;
  lsp_rpc_error err = {0};
  void *params = m->params_size ? hud_arena_alloc(a, m->params_size) : NULL;
  void *result = m->result_size ? hud_arena_alloc(a, m->result_size) : NULL;
  if ((m->params_size && !params) || (m->result_size && !result)) {
    if (is_req) reply_error(s, &msg->id, LSP_INTERNAL_ERROR, "out of memory");
    return false;
  }
  lsp_call call = {.srv = s, .id = is_req ? &msg->id : NULL, .arena = a, .m = m, .params = params,
                   .result = result, .msg_src = msg};
  int rc = m->decode ? m->decode(msg->params, a, params, &err) : 0;
  if (rc == 0) rc = m->handle(&call, params, result, &err);
  if (rc == LSP_DEFERRED) return true;
  answer(&call, rc, &err);
  return false;
}

lsp_call *lsp_call_defer(lsp_call *call) {
  if (call->heap) return call;
  lsp_call *h = malloc(sizeof *h);
  if (!h) return NULL;
  *h = *call;
  h->heap = true;
  if (call->id) { /* before the message is taken: the id may point into it */
    h->id_copy = *call->id;
    h->id = &h->id_copy;
  }
  h->msg = *call->msg_src;
  memset(call->msg_src, 0, sizeof *call->msg_src);
  h->msg_src = NULL;
  h->next = NULL;
  /* Appended: waiting calls run again in the order they came. */
  lsp_call **p = &call->srv->deferred;
  while (*p) p = &(*p)->next;
  *p = h;
  return h;
}

static void unlink_call(lsp_server *s, lsp_call *c) {
  for (lsp_call **p = &s->deferred; *p; p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      return;
    }
  }
}

static void call_free(lsp_call *c) {
  lsp_msg_clear(&c->msg);
  hud_arena_free(c->arena);
  free(c);
}

void lsp_call_finish(lsp_call *c, int rc, const lsp_rpc_error *err) {
  unlink_call(c->srv, c);
  if (!c->cancelled && !c->srv->released) answer(c, rc, err);
  call_free(c);
}

int lsp_call_wait_doc(lsp_call *call, const struct lsp_doc *doc) {
  lsp_call *h = lsp_call_defer(call);
  if (!h) return -1;
  h->wait_uri = hud_arena_strdup(h->arena, doc->uri);
  return LSP_DEFERRED;
}

void lsp_server_doc_ready(lsp_server *s, const char *uri) {
  /* Detach the waiters first: running one may defer it again (another edit came meanwhile). */
  lsp_call *ready = NULL, **tail = &ready;
  for (lsp_call **p = &s->deferred; *p;) {
    lsp_call *c = *p;
    if (c->wait_uri && strcmp(c->wait_uri, uri) == 0) {
      *p = c->next;
      c->next = NULL;
      *tail = c;
      tail = &c->next;
    } else {
      p = &c->next;
    }
  }
  while (ready) {
    lsp_call *c = ready;
    ready = c->next;
    c->next = NULL;
    c->wait_uri = NULL;
    /* Back in the list while it runs, so that a second wait appends it again in place. */
    lsp_call **p = &s->deferred;
    while (*p) p = &(*p)->next;
    *p = c;
    lsp_rpc_error err = {0};
    if (c->result) memset(c->result, 0, c->m->result_size);
    int rc = c->m->handle(c, c->params, c->result, &err);
    if (rc != LSP_DEFERRED) lsp_call_finish(c, rc, &err);
  }
}

static bool same_id(const lsp_id *a, const lsp_id *b) {
  if (a->kind != b->kind) return false;
  return a->kind == LSP_ID_INT ? a->num == b->num : a->kind == LSP_ID_STR ? strcmp(a->str, b->str) == 0 : false;
}

void lsp_server_cancel(lsp_server *s, const lsp_id *id) {
  for (lsp_call *c = s->deferred; c; c = c->next) {
    if (!c->id || c->cancelled || !same_id(c->id, id)) continue;
    reply_error(s, c->id, LSP_REQUEST_CANCELLED, "request cancelled");
    c->cancelled = true;
    if (c->wait_uri) lsp_call_finish(c, 0, NULL); /* a waiting call has nothing in flight: free it now */
    return;
  }
}

void lsp_server_drop_waiting(lsp_server *s) {
  for (lsp_call **p = &s->deferred; *p;) {
    lsp_call *c = *p;
    if (c->wait_uri) {
      *p = c->next;
      call_free(c);
    } else {
      p = &c->next; /* in flight: freed by its completion */
    }
  }
}

void lsp_server_on_frame(lsp_server *s, const char *body, size_t len) {
  hud_arena *a = hud_arena_new();
  if (!a) return;
  s->frames_in++;
  lsp_msg msg;
  lsp_rpc_error err = {0};
  lsp_id err_id;
  if (lsp_codec_parse(body, len, a, &msg, &err, &err_id) < 0) {
    s->frames_bad++;
    reply_error(s, &err_id, err.code, err.message);
    hud_arena_free(a);
    return;
  }
  if (msg.kind == LSP_MSG_RESPONSE) {
    /* Answers to our requests: workspace/configuration's is read; workspace/codeLens/refresh's needs
     * no action. */
    lsp_server_on_response(s, &msg);
  } else {
    const lsp_method *m = lsp_find_method(msg.method);
    const char *why = NULL;
    int code = state_error(s, m, &why);
    if (msg.kind == LSP_MSG_REQUEST && code) {
      reply_error(s, &msg.id, code, why);
    } else if (!m) {
      if (msg.kind == LSP_MSG_REQUEST) {
        char text[300];
        snprintf(text, sizeof text, "method not found: %s", msg.method);
        reply_error(s, &msg.id, LSP_METHOD_NOT_FOUND, text);
      }
      /* Unknown notifications ($/progress, ...) are ignored, as the specification asks. */
    } else if (!code && run_method(s, &msg, m, a)) {
      return; /* deferred: the call owns the arena and the message */
    }
    /* Other notifications are dropped before initialize and after shutdown (exit is always taken). */
  }
  lsp_msg_clear(&msg);
  hud_arena_free(a);
}

static char *vfmt(const char *fmt, va_list ap) {
  char *out = NULL;
  if (vasprintf(&out, fmt, ap) < 0) return NULL;
  return out;
}

void lsp_notify(lsp_server *s, const char *method, lsp_encode_fn enc, const void *params) {
  size_t len = 0;
  char *body = lsp_codec_outgoing(NULL, method, enc, params, &len);
  send_body(s, body, len);
}

int64_t lsp_request_out(lsp_server *s, const char *method, lsp_encode_fn enc, const void *params) {
  char id_text[32];
  snprintf(id_text, sizeof id_text, "hud-%lld", (long long)++s->next_out_id);
  lsp_id id = {.kind = LSP_ID_STR, .str = id_text};
  size_t len = 0;
  char *body = lsp_codec_outgoing(&id, method, enc, params, &len);
  send_body(s, body, len);
  return s->next_out_id;
}

static void message(lsp_server *s, const char *method, int type, const char *fmt, va_list ap) {
  char *text = vfmt(fmt, ap);
  if (!text) return;
  lsp_message_params p = {.type = type, .message = text};
  lsp_notify(s, method, lsp_encode_message, &p);
  free(text);
}

void lsp_log(lsp_server *s, int type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(s, "window/logMessage", type, fmt, ap);
  va_end(ap);
}

void lsp_show(lsp_server *s, int type, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  message(s, "window/showMessage", type, fmt, ap);
  va_end(ap);
}

void lsp_server_exit(lsp_server *s, int code) {
  s->exiting = true;
  s->exit_code = code;
  if (s->tr) lsp_transport_stop(s->tr);
}
