/* srv_detect_still: has an issue's metric returned? (see detect.h). Re-tests the one metric of a
 * stored issue on newer data, with the issue's drift allowance; no comparison run is needed. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "detect.h"
#include "hud/err.h"
#include "hud/stats.h"
#include "sat.h"

static void det_stats_add(srv_det_stats *d, const srv_det_stats *s) {
  d->count = srv_sat_addu(d->count, s->count);
  d->sampled_count = srv_sat_addu(d->sampled_count, s->sampled_count);
  d->sum_ns += s->sum_ns;
  d->sumsq_ns = srv_sat_addf(d->sumsq_ns, s->sumsq_ns);
  d->self_sum_ns += s->self_sum_ns;
  d->errors = srv_sat_addu(d->errors, s->errors);
}

static double det_mean(const srv_det_stats *s) {
  return s->sampled_count ? s->sum_ns / (double)s->sampled_count : 0.0;
}

static double det_self_mean(const srv_det_stats *s) {
  return s->sampled_count ? s->self_sum_ns / (double)s->sampled_count : 0.0;
}

/* Squared coefficient of variation of the duration per call (0 when unknown). */
static double det_cv2(const srv_det_stats *s) {
  hud_summary m;
  if (s->sampled_count < 2 || hud_summary_from_sums(s->sampled_count, s->sum_ns, s->sumsq_ns, &m) < 0) return 0.0;
  return m.mean > 0 ? m.var / (m.mean * m.mean) : 0.0;
}

static bool det_snapshot_ok(const srv_det_snapshot *s) {
  return !((s->n_calls && !s->calls) || (s->n_flows && !s->flows) || (s->n_excs && !s->excs) ||
           (s->n_fns && !s->fns));
}

static bool det_same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Invocations of FLOW in S: its flow records, else its root calls. */
static srv_det_stats det_flow_stats(const srv_det_snapshot *s, const char *flow) {
  srv_det_stats st = {0};
  bool found = false;
  for (size_t i = 0; i < s->n_flows; i++)
    if (det_same(s->flows[i].flow_id, flow)) det_stats_add(&st, &s->flows[i].st), found = true;
  for (size_t i = 0; i < s->n_calls && !found; i++)
    if (det_same(s->calls[i].flow_id, flow) && !(s->calls[i].caller_id && *s->calls[i].caller_id))
      det_stats_add(&st, &s->calls[i].st);
  return st;
}

static bool det_still_floor(const srv_issue *is, const srv_det_config *cfg, double effect_ns) {
  if (!is->n_flows) return effect_ns >= cfg->min_abs_increase_ns && effect_ns >= cfg->min_rel_increase * is->base_value;
  return effect_ns >= cfg->min_abs_increase_ns && effect_ns >= cfg->min_flow_share * is->flows[0].base_mean_ns;
}

int srv_detect_still(const srv_issue *is, const srv_det_snapshot *cand, const srv_det_config *cfg, int *returned) {
  if (!is || !cand || !returned || !is->metric || !det_snapshot_ok(cand)) return HUD_EINVAL;
  srv_det_config defcfg;
  if (!cfg) {
    srv_det_config_default(&defcfg);
    cfg = &defcfg;
  }
  const char *flow = is->n_flows ? is->flows[0].flow_id : NULL;
  const char *fn = is->function_id;
  srv_det_stats fst = flow ? det_flow_stats(cand, flow) : (srv_det_stats){0};
  double crit = hud_normal_quantile(1.0 - cfg->alpha), tau = is->drift_sd > 0 ? is->drift_sd : cfg->min_drift;
  bool still;
  if (strcmp(is->metric, "exceptions") == 0 || strcmp(is->metric, "error_rate") == 0) {
    bool fresh = strcmp(is->metric, "exceptions") == 0;
    if (!flow || !fn || !is->exception_type) return HUD_EINVAL;
    if (fst.count < (fresh ? cfg->min_new_baseline : cfg->min_calls)) return HUD_ENOTFOUND;
    uint64_t xc = 0;
    for (size_t i = 0; i < cand->n_excs; i++) {
      const srv_det_exc *e = &cand->excs[i];
      if (det_same(e->origin_id, fn) && det_same(e->type, is->exception_type) && !(e->caught_in && *e->caught_in) &&
          (fresh || det_same(e->flow_id, flow)))
        xc = srv_sat_addu(xc, e->count);
    }
    if (fresh) {
      still = xc > 0;
    } else {
      double nb = (double)is->flows[0].base_calls, nc = (double)fst.count, pb = is->flows[0].base_rate;
      double pc = (double)xc / nc, pooled = (pb * nb + (double)xc) / (nb + nc);
      double se = nb > 0 ? sqrt(cfg->error_dispersion * pooled * (1 - pooled) * (1 / nb + 1 / nc)) : 0.0;
      still = se > 0 && (pc - pb) / se >= crit && xc >= cfg->min_errors && pc - pb >= cfg->min_rate_increase &&
              (pb <= 0 || (pc - pb) / pb >= cfg->min_rel_rate_increase);
    }
  } else if (strcmp(is->metric, "mean_duration") == 0) {
    if (!flow) return HUD_EINVAL;
    if (fst.sampled_count < cfg->min_samples) return HUD_ENOTFOUND;
    double mc = det_mean(&fst), mb = is->base_value;
    double cvb = mb > 0 ? is->base_sd_ns / mb : 0.0;
    double v = det_cv2(&fst) / (double)fst.sampled_count + (is->base_n ? cvb * cvb / (double)is->base_n : 0.0);
    still = mb > 0 && mc > 0 && log(mc / mb) / sqrt(tau * tau + v) >= crit && det_still_floor(is, cfg, mc - mb);
  } else {
    if (!fn) return HUD_EINVAL;
    srv_det_stats all = {0};
    uint64_t in_flow = 0;
    for (size_t i = 0; i < cand->n_calls; i++) {
      if (!det_same(cand->calls[i].function_id, fn)) continue;
      det_stats_add(&all, &cand->calls[i].st);
      if (flow && det_same(cand->calls[i].flow_id, flow)) in_flow = srv_sat_addu(in_flow, cand->calls[i].st.count);
    }
    double mb = is->base_value;
    if (strcmp(is->metric, "calls_per_invocation") == 0) {
      if (!flow) return HUD_EINVAL;
      if (fst.count < cfg->min_samples) return HUD_ENOTFOUND;
      double mc = (double)in_flow / (double)fst.count, nb = is->flows[0].base_calls * mb;
      double v = (in_flow ? 1.0 / (double)in_flow : 0.0) + (nb > 0 ? 1.0 / nb : 0.0);
      double s = is->n_causes ? is->causes[0].base_self_mean_ns : 0.0;
      still = in_flow && mb > 0 && log(mc / mb) / sqrt(tau * tau + v) >= crit && det_still_floor(is, cfg, (mc - mb) * s);
    } else { /* self_duration: the floors hold in any of the issue's flows */
      if (all.sampled_count < cfg->min_samples) return HUD_ENOTFOUND;
      double sc = det_self_mean(&all), cvb = mb > 0 ? is->base_sd_ns / mb : 0.0;
      double v = det_cv2(&all) / (double)all.sampled_count + (is->base_n ? cvb * cvb / (double)is->base_n : 0.0);
      still = mb > 0 && sc > 0 && log(sc / mb) / sqrt(tau * tau + v) >= crit;
      bool floor = !is->n_flows && det_still_floor(is, cfg, sc - mb);
      for (size_t k = 0; k < is->n_flows && still && !floor; k++) {
        srv_det_stats st = det_flow_stats(cand, is->flows[k].flow_id);
        uint64_t calls = 0;
        for (size_t i = 0; i < cand->n_calls; i++)
          if (det_same(cand->calls[i].function_id, fn) && det_same(cand->calls[i].flow_id, is->flows[k].flow_id))
            calls = srv_sat_addu(calls, cand->calls[i].st.count);
        double eff = st.count ? (double)calls / (double)st.count * (sc - mb) : 0.0;
        floor = eff >= cfg->min_abs_increase_ns && eff >= cfg->min_flow_share * is->flows[k].base_mean_ns;
      }
      still = still && floor;
    }
  }
  *returned = !still;
  return 0;
}
