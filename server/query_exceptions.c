/* Exception flows: where exceptions were raised, which functions they passed, who caught them. */
#include "hud/err.h"
#include "query_internal.h"

int q_h_exception_flows(const srv_request *req, srv_response *resp) {
  q_ctx q;
  int rc = q_begin(req, resp, &q);
  if (rc < 0) return rc;
  hud_exception_flows_request r;
  hud_codec_error e;
  rc = hud_exception_flows_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  int64_t fn = 0, flow = 0;
  if (r.function_id[0]) {
    rc = sq_fn_id(&q, r.function_id, &fn);
    if (rc == HUD_ENOTFOUND) return q_end(&q, q_fail(&q, rc, "function_id: unknown function %s", r.function_id));
  }
  if (rc == 0 && r.flow_id[0]) {
    rc = sq_flow_id(&q, r.flow_id, &flow);
    if (rc == HUD_ENOTFOUND) return q_end(&q, q_fail(&q, rc, "flow_id: unknown flow %s", r.flow_id));
  }
  hud_exception_flows_response out;
  if (rc == 0) rc = sq_exception_flows(&q, fn, flow, r.limit > 0 ? r.limit : 100, &out);
  out.from = q.from;
  out.to = q.to;
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "store: %s", hud_strerror(rc)));
  return q_end(&q, Q_REPLY(&q, hud_exception_flows_response_encode, &out));
}
