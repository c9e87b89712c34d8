/* The JSON edge of hud-lsp (jansson): client frames become typed messages, typed results and
 * notifications become frames. Nothing else in lsp/ includes jansson.h: method files name the
 * decoders and encoders below in their tables and work on the structs of types.h. */
#ifndef LSP_CODEC_H
#define LSP_CODEC_H

#include <stddef.h>

#include "hud/model.h"
#include "types.h"

struct json_t; /* opaque outside codec.c */

typedef enum lsp_msg_kind { LSP_MSG_REQUEST = 1, LSP_MSG_NOTIFICATION, LSP_MSG_RESPONSE } lsp_msg_kind;

/* One client message. METHOD lives in the arena given to lsp_codec_parse; PARAMS belongs to the
 * message (lsp_msg_clear). */
typedef struct lsp_msg {
  lsp_msg_kind kind;
  lsp_id id;                 /* requests and responses */
  const char *method;        /* requests and notifications */
  struct json_t *params;     /* NULL when absent */
  struct json_t *root;
} lsp_msg;

/* Parses one frame body. 0, or -1 with ERR set: LSP_PARSE_ERROR (not JSON) or LSP_INVALID_REQUEST
 * (JSON but not a JSON-RPC 2.0 message; ERR_ID gets the id when one could be read, else null). */
int lsp_codec_parse(const char *buf, size_t len, hud_arena *a, lsp_msg *out, lsp_rpc_error *err,
                    lsp_id *err_id);
void lsp_msg_clear(lsp_msg *m);

/* Params decoder: PARAMS (NULL when absent) into *OUT (a zeroed struct of the method's type);
 * 0, or -1 with ERR = LSP_INVALID_PARAMS naming the field. */
typedef int (*lsp_decode_fn)(const struct json_t *params, hud_arena *a, void *out, lsp_rpc_error *err);
/* Result encoder: a new JSON value for RESULT (NULL result pointer: JSON null). */
typedef struct json_t *(*lsp_encode_fn)(const void *result);

int lsp_decode_initialize(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_cancel(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_set_trace(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_did_open(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_did_change(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_doc(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_doc_pos(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_config(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_folders(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
/* The answer to our workspace/configuration request: its first item as initializationOptions. */
int lsp_codec_config_result(const lsp_msg *m, hud_arena *a, lsp_init_options *opts, lsp_rpc_error *err);
struct json_t *lsp_encode_config_request(const void *params);
int lsp_decode_symbol(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
struct json_t *lsp_encode_symbols(const void *result);
int lsp_decode_code_action(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
struct json_t *lsp_encode_commands(const void *result);
int lsp_decode_inlay(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
struct json_t *lsp_encode_inlays(const void *result);
int lsp_decode_exec(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_hier(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
int lsp_decode_errflows(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
struct json_t *lsp_encode_errflows(const void *result);

struct json_t *lsp_encode_null(const void *result);
struct json_t *lsp_encode_initialize(const void *result);
struct json_t *lsp_encode_lenses(const void *result);
struct json_t *lsp_encode_hover(const void *result);
struct json_t *lsp_encode_exec(const void *result);
struct json_t *lsp_encode_message(const void *params);
struct json_t *lsp_encode_status(const void *params);
struct json_t *lsp_encode_hier_items(const void *result);
struct json_t *lsp_encode_hier_calls(const void *result);
struct json_t *lsp_encode_diagnostics(const void *params);

/* Requests for editor panels (m_panels.c): one params decoder, one encoder per answer. */
int lsp_decode_panel(const struct json_t *p, hud_arena *a, void *out, lsp_rpc_error *err);
struct json_t *lsp_encode_fn_detail(const void *result);
struct json_t *lsp_encode_call_graph(const void *result);
struct json_t *lsp_encode_hot_paths(const void *result);
struct json_t *lsp_encode_issue_list(const void *result);
struct json_t *lsp_encode_flow_list(const void *result);

/* Whole frames' bodies, malloc'ed, *LEN set; NULL on out of memory. ENC NULL: result null. */
char *lsp_codec_result(const lsp_id *id, lsp_encode_fn enc, const void *result, size_t *len);
char *lsp_codec_error(const lsp_id *id, const lsp_rpc_error *err, size_t *len);
/* A notification (ID NULL) or a server-to-client request. ENC NULL: no params. */
char *lsp_codec_outgoing(const lsp_id *id, const char *method, lsp_encode_fn enc, const void *params,
                         size_t *len);

#endif
