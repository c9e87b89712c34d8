/* The sensors' shared core (sensor/core) under ASan/UBSan: exact counts through table growth,
 * exceptions per type, exception paths (continued, closed, cut, escaped when reported unhandled),
 * flows, the sampling quota and its adaptation before the first batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "hud/err.h"
#include "hud/identity.h"

static const char SRC[] = "def a():\n    pass\ndef b():\n    pass\ndef c():\n    pass\n";

static int setup(void **state) {
  static bool done;
  if (!done) {
    assert_int_equal(sns_core_init(0, 0), 0);
    static const char *const names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
      uint32_t idx;
      assert_int_equal(sns_fn_declare("/m.py", "m.py", names[i], SRC, strlen(SRC), 2 * i + 1, 2 * i + 2, false,
                                      false, NULL, &idx),
                       0);
      assert_int_equal(idx, (uint32_t)i);
    }
    done = true;
  }
  sns_period_clear(sns_cur);
  return 0;
}

static void declarations_carry_identity(void **state) {
  char id[HUD_UUID_STRLEN + 1], hash[HUD_SHA1_HEXLEN + 1];
  assert_int_equal(hud_function_id("m.py", "b", id), 0);
  assert_string_equal(sns_fn_at(1)->function_id, id);
  assert_int_equal(hud_source_hash(SRC, strlen(SRC), 3, 4, hash), 0);
  assert_string_equal(sns_fn_at(1)->source_hash, hash);
  assert_string_equal(sns_fn_at(2)->qualname, "c");
}

/* 20,000 edges: the table doubles many times and every count stays exact; after a quiet period
 * it shrinks. */
static void counts_stay_exact_through_growth(void **state) {
  sns_period *p = sns_cur;
  for (uint32_t k = 0; k < 20000; k++)
    for (uint32_t r = 0; r <= k % 3; r++) sns_count(p, k % 3, k, k % 7, 0);
  assert_true(p->ecap >= 2 * p->en);
  assert_int_equal(p->en, 20000);
  for (uint32_t k = 0; k < 20000; k++) {
    sns_edge *e = sns_edge_find(p, k % 3, k, k % 7, 0);
    assert_non_null(e);
    assert_int_equal(e->count, (int64_t)(k % 3) + 1);
  }
  assert_null(sns_edge_find(p, 0, 20001, 0, 0));
  assert_int_equal(p->dropped_invocations, 0);
  uint32_t big = p->ecap;
  sns_period_clear(p); /* the table keeps the size of the load it saw */
  assert_int_equal(p->en, 0);
  assert_int_equal(p->ecap, big);
  assert_null(sns_edge_find(p, 0, 0, 0, 0));
  sns_period_clear(p); /* a quiet period: back to the initial size */
  assert_int_equal(p->ecap, 1024);
}

static void timed_calls_add_up(void **state) {
  sns_record_timed(sns_cur, 0, SNS_NONE, 0, 0, 1000, 400);
  sns_record_timed(sns_cur, 0, SNS_NONE, 0, 0, 3000, -5); /* clock skew: self time never negative */
  sns_edge *e = sns_edge_find(sns_cur, 0, SNS_NONE, 0, 0);
  assert_non_null(e);
  assert_int_equal(e->sampled, 2);
  assert_int_equal(e->sum_ns, 4000);
  assert_int_equal(e->self_ns, 400);
  assert_true(e->sumsq == 1e6 + 9e6);
  assert_non_null(e->sketch);
  assert_int_equal((int64_t)hud_sketch_count(e->sketch), 2);
}

static void exceptions_by_interned_type(void **state) {
  const char *t1 = sns_intern(sns_dupstr("ValueError"));
  const char *t2 = sns_intern(sns_dupstr("ValueError"));
  const char *t3 = sns_intern(sns_dupstr("KeyError"));
  assert_ptr_equal(t1, t2);
  for (int i = 0; i < 3; i++) sns_exc_get(sns_cur, 1, 0, 0, 0, t1)->count++;
  sns_exc_get(sns_cur, 1, 0, 0, 0, t3)->count++;
  assert_int_equal(sns_exc_get(sns_cur, 1, 0, 0, 0, t2)->count, 3);
  assert_int_equal(sns_exc_get(sns_cur, 1, 0, 0, 0, t3)->count, 1);
  assert_int_equal(sns_cur->xn, 2);
}

static const sns_xflow *only_xflow(const sns_period *p) {
  const sns_xflow *x = NULL;
  for (uint32_t i = 0; i < p->fcap; i++)
    if (p->xflows[i].hash) {
      assert_null(x);
      x = &p->xflows[i];
    }
  return x;
}

/* c raises into b, b into a, a catches; then another error closes that path. */
static void exception_paths_follow_the_error(void **state) {
  int t1, e1, e2;
  const char *ty = sns_intern(sns_dupstr("ValueError"));
  sns_xrec *r = sns_xpath_escape(&t1, &e1, ty, 0, 2, 1);
  assert_non_null(r);
  r->origin_line = 7;
  assert_null(sns_xpath_escape(&t1, &e1, ty, 0, 1, 0)); /* the same error, from the expected caller */
  assert_int_equal(sns_cur->fn, 0);
  assert_non_null(sns_xpath_escape(&t1, &e2, ty, 0, 2, 1)); /* a new error: the first path ends */
  const sns_xflow *x = only_xflow(sns_cur);
  assert_non_null(x);
  assert_int_equal(x->n, 2);
  assert_int_equal(x->path[0], 2);
  assert_int_equal(x->path[1], 1);
  assert_int_equal(x->catcher, 0);
  assert_int_equal(x->origin_line, 7);
  /* The same error escaping a function that is not the last escape's caller (a reused address,
   * or an error stored and raised elsewhere) starts a path of its own. */
  assert_non_null(sns_xpath_escape(&t1, &e2, ty, 0, 0, SNS_NONE));
  assert_int_equal(sns_cur->fn, 2);
  sns_xpaths_close();
  assert_int_equal(sns_cur->fn, 3);
  sns_xpaths_close(); /* nothing open: nothing added */
  assert_int_equal(sns_cur->fn, 3);
}

/* Count of the records of P with path [FN] and CATCHER. */
static int64_t xcount(const sns_period *p, uint32_t fn, uint32_t catcher) {
  int64_t n = 0;
  for (uint32_t i = 0; i < p->fcap; i++) {
    const sns_xflow *x = &p->xflows[i];
    if (x->hash && x->n == 1 && x->path[0] == fn && x->catcher == catcher) n += x->count;
  }
  return n;
}

/* Unhandled rejections (Node): the open path closes escaped; one closed by a later escape in the
 * same period moves one count from its catcher to escaped, once; after a snapshot nothing moves. */
static void unhandled_paths_escape(void **state) {
  int t, e1, e2, e3, e4;
  const char *ty = sns_intern(sns_dupstr("Lost"));
  sns_xpaths_close();
  sns_period_clear(sns_cur);
  assert_non_null(sns_xpath_escape(&t, &e1, ty, 0, 2, 1));
  assert_non_null(sns_xpath_escape(&t, &e2, ty, 0, 2, 1)); /* e1's path: caught in 1 */
  assert_non_null(sns_xpath_escape(&t, &e3, ty, 0, 2, 1)); /* e2's too */
  assert_int_equal(xcount(sns_cur, 2, 1), 2);
  assert_true(sns_xpath_escaped(&t, &e3)); /* open */
  assert_true(sns_xpath_escaped(&t, &e1)); /* closed, moved */
  assert_false(sns_xpath_escaped(&t, &e1)); /* once */
  assert_false(sns_xpath_escaped(&t, &e4)); /* never escaped */
  assert_int_equal(xcount(sns_cur, 2, 1), 1);
  assert_int_equal(xcount(sns_cur, 2, SNS_NONE), 2);
  assert_true(sns_xpath_escaped(&t, &e2));
  assert_int_equal(xcount(sns_cur, 2, 1), 0); /* a record left at 0 (not sent) */
  assert_int_equal(xcount(sns_cur, 2, SNS_NONE), 3);
  assert_non_null(sns_xpath_escape(&t, &e4, ty, 0, 2, 1));
  sns_xpaths_close(); /* the snapshot: e4's path belongs to the retired period */
  assert_false(sns_xpath_escaped(&t, &e4));
  assert_int_equal(xcount(sns_cur, 2, 1), 1);
}

static void long_paths_are_cut_and_counted(void **state) {
  int t, e;
  const char *ty = sns_intern(sns_dupstr("RecursionError"));
  assert_non_null(sns_xpath_escape(&t, &e, ty, 0, 0, 0));
  for (int i = 0; i < SNS_XF_MAX_PATH + 10; i++) assert_null(sns_xpath_escape(&t, &e, ty, 0, 0, 0));
  sns_xpaths_close();
  const sns_xflow *x = only_xflow(sns_cur);
  assert_int_equal(x->n, SNS_XF_MAX_PATH);
  assert_int_equal(sns_cur->cut_xflows, 1);
}

static void flows_register_once(void **state) {
  uint32_t a, b, q;
  assert_int_equal(sns_flow_register(HUD_FLOW_ENDPOINT, "get", "/orders/<id>", NULL, NULL, &a), 0);
  assert_int_equal(sns_flow_register(HUD_FLOW_ENDPOINT, "GET", "/orders/<id>", NULL, NULL, &b), 0);
  assert_int_equal(a, b);
  assert_string_equal(sns_flowdefs[a].method, "GET");
  assert_int_equal(sns_flow_register(HUD_FLOW_QUEUE_CONSUMER, NULL, NULL, "send_mail", "mail", &q), 0);
  assert_int_not_equal(q, a);
  const char *boom = sns_intern(sns_dupstr("RuntimeError"));
  sns_flow_add(a, 200, 1000, NULL);
  sns_flow_add(a, 500, 3000, NULL);
  sns_flow_add(a, 0, 2000, boom);
  sns_flow_add(99, 200, 1, NULL); /* unknown: ignored */
  const sns_flow_stat *fs = &sns_cur->flows[a];
  assert_int_equal(fs->count, 3);
  assert_int_equal(fs->errors, 2);
  assert_int_equal(fs->sum_ns, 6000);
  assert_int_equal(fs->status[0], 200);
  assert_int_equal(fs->status[1], 500);
  assert_ptr_equal(fs->exc[0], boom);
}

/* Within one window, every call is timed until the quota, then the interval doubles. */
static void sampling_keeps_to_the_quota(void **state) {
  sns_fn *fn = sns_fn_at(2);
  uint32_t timed = 0;
  for (uint32_t i = 0; i < sns_quota + 1000; i++) timed += sns_sample_due(sns_cur, fn);
  assert_true(timed >= sns_quota && timed < sns_quota + 20);
  assert_true(fn->interval > 1);
  assert_int_equal(sns_cur->samples, timed);
  sns_adapt_sampling(sns_cur, 0.01); /* one active edge-less period: the quota stays in range */
  assert_true(sns_quota >= 20 && sns_quota <= 100000);
}

/* Before the first batch the quota follows the running period's edges, but only downwards:
 * many active edges lower it, few leave it where it was. */
static void early_adaptation_only_lowers_the_quota(void **state) {
  double cal = sns_cal_sample_ns;
  sns_cal_sample_ns = 100; /* a budget of 0.01 then allows 100,000 timed calls a second */
  sns_quota = 2000;
  for (uint32_t k = 0; k < 3; k++) sns_count(sns_cur, k, SNS_NONE, 0, 0);
  sns_adapt_sampling_early(sns_cur, 0.01); /* 3 edges would allow 33,333 each */
  assert_int_equal(sns_quota, 2000);
  for (uint32_t k = 0; k < 1000; k++) sns_count(sns_cur, k % 3, k, 1, 0);
  sns_adapt_sampling_early(sns_cur, 0.01); /* 1003 edges: 100,000 / 1003 each */
  assert_int_equal(sns_quota, 99);
  sns_period_clear(sns_cur);
  sns_count(sns_cur, 0, SNS_NONE, 0, 0);
  sns_adapt_sampling_early(sns_cur, 0.01); /* a new period with one edge does not raise it */
  assert_int_equal(sns_quota, 99);
  sns_adapt_sampling(sns_cur, 0.01); /* a retired period does */
  assert_int_equal(sns_quota, 100000);
  sns_cal_sample_ns = cal;
  sns_quota = 2000;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(declarations_carry_identity, setup),
      cmocka_unit_test_setup(counts_stay_exact_through_growth, setup),
      cmocka_unit_test_setup(timed_calls_add_up, setup),
      cmocka_unit_test_setup(exceptions_by_interned_type, setup),
      cmocka_unit_test_setup(exception_paths_follow_the_error, setup),
      cmocka_unit_test_setup(unhandled_paths_escape, setup),
      cmocka_unit_test_setup(long_paths_are_cut_and_counted, setup),
      cmocka_unit_test_setup(flows_register_once, setup),
      cmocka_unit_test_setup(sampling_keeps_to_the_quota, setup),
      cmocka_unit_test_setup(early_adaptation_only_lowers_the_quota, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
