/* Call graph and flows. */
#include "hud/err.h"
#include "query_internal.h"

int q_h_callgraph(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_callgraph_request r;
  hud_codec_error e;
  rc = hud_callgraph_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  int64_t root;
  rc = sq_fn_id(&q, r.root, &root);
  if (rc == HUD_ENOTFOUND) return q_end(&q, q_fail(&q, rc, "root: function %s is unknown", r.root));
  hud_callgraph_response out;
  if (rc == 0) rc = sq_callgraph(&q, root, r.depth > 0 ? r.depth : 4, r.max_nodes > 0 ? r.max_nodes : 200, &out);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_callgraph_response_encode, &out));
}

int q_h_flows(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_flows_request r;
  hud_codec_error e;
  rc = hud_flows_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  hud_flows_response out;
  rc = sq_flows(&q, r.limit > 0 ? r.limit : 100, &out);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_flows_response_encode, &out));
}
