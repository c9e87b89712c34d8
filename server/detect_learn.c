/* How each unit follows the host, learned from a service's own past comparisons (detect.h,
 * srv_det_learn). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "hud/err.h"

#define LEARN_CLIP 1.3862943611198906 /* log 4 */
#define LEARN_PRIOR 0.02              /* two comparisons with a 10% shift, showing beta = 1 */
#define LEARN_BETA_MAX 6.0
#define LEARN_MIN_SHIFT 0.1 /* a pair where the host's shift was smaller says nothing about beta */
#define LEARN_TAU_PAIRS 3   /* a spread needs this many comparisons */

typedef struct ln_ref {
  const srv_det_residual *r;
} ln_ref;

static int ln_cmp_ref(const void *a, const void *b) {
  return strcmp(((const ln_ref *)a)->r->key, ((const ln_ref *)b)->r->key);
}

/* Least squares of r on delta through the origin, shrunk towards 1, over the pairs where the host
 * moved: where it did not, a step in r is a change (a release, a backend), and its leverage on the
 * slope would be huge. */
static double ln_clip(double x) { return x > LEARN_CLIP ? LEARN_CLIP : x < -LEARN_CLIP ? -LEARN_CLIP : x; }

static double ln_beta(const ln_ref *v, size_t n) {
  double rd = LEARN_PRIOR, dd = LEARN_PRIOR;
  for (size_t i = 0; i < n; i++) {
    double r = v[i].r->r, d = v[i].r->delta;
    if (!isfinite(r) || !isfinite(d) || fabs(d) < LEARN_MIN_SHIFT) continue;
    rd += ln_clip(r) * d;
    dd += d * d;
  }
  double b = rd / dd;
  return b < 0 ? 0.0 : b > LEARN_BETA_MAX ? LEARN_BETA_MAX : b;
}

/* What r does beyond beta * delta and sampling: a function that waits on a busy host strays more than
 * the host's median shift says (its wake-up waits on the run queue, not on the CPU share). */
static double ln_tau(const ln_ref *v, size_t n, double beta) {
  double e2 = 0, var = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    double r = v[i].r->r, d = v[i].r->delta;
    if (!isfinite(r) || !isfinite(d)) continue;
    double e = ln_clip(r - beta * d);
    e2 += e * e;
    var += isfinite(v[i].r->v) ? v[i].r->v : 0.0;
    k++;
  }
  if (k < LEARN_TAU_PAIRS) return 0.0;
  double t2 = (e2 - var) / (double)k;
  return t2 > 0 ? sqrt(t2) : 0.0;
}

int srv_det_learn(const srv_det_result *const *hist, size_t n, unsigned min_pairs, srv_det_learned **out,
                  size_t *n_out) {
  if (!out || !n_out || (n && !hist)) return HUD_EINVAL;
  *out = NULL;
  *n_out = 0;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += hist[i] ? hist[i]->n_residuals : 0;
  ln_ref *refs = calloc(total ? total : 1, sizeof *refs);
  srv_det_learned *l = calloc(total ? total : 1, sizeof *l);
  if (!refs || !l) {
    free(refs), free(l);
    return HUD_ENOMEM;
  }
  size_t k = 0, m = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; hist[i] && j < hist[i]->n_residuals; j++) refs[k++].r = &hist[i]->residuals[j];
  qsort(refs, k, sizeof *refs, ln_cmp_ref);
  int rc = 0;
  for (size_t i = 0; i < k && rc == 0;) {
    size_t j = i;
    while (j < k && strcmp(refs[j].r->key, refs[i].r->key) == 0) j++;
    if (j - i >= (min_pairs ? min_pairs : 1)) {
      l[m].beta = ln_beta(&refs[i], j - i);
      l[m].tau = ln_tau(&refs[i], j - i, l[m].beta);
      l[m].n = (unsigned)(j - i);
      if (!(l[m++].key = strdup(refs[i].r->key))) rc = HUD_ENOMEM;
    }
    i = j;
  }
  free(refs);
  if (rc < 0) {
    srv_det_learned_free(l, m);
    return rc;
  }
  *out = l; /* in key order: made from the sorted residuals */
  *n_out = m;
  return 0;
}

void srv_det_learned_free(srv_det_learned *l, size_t n) {
  if (!l) return;
  for (size_t i = 0; i < n; i++) free(l[i].key);
  free(l);
}
