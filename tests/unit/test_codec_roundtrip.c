/* Round trips of every record, the batch and every query type: encode -> decode -> the same
 * values, and encode(decode(x)) == encode(x) byte for byte. Values are chosen away from
 * defaults (non-zero numbers, true booleans, present optionals) so a field the decoder drops
 * shows up as a difference. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "hud/identity.h"

#define FN_CART_ADD "7c974e7c-105c-500a-b205-89c23deafc8e"  /* shop/orders.py:Cart.add */
#define FN_CHECKOUT "41fe11d7-9fd1-58ea-a155-3ca0ac583a3a"  /* shop/orders.py:checkout */
#define FLOW_GET "05fc0d6e-f176-524c-b2ef-1981f240c4bf"     /* endpoint:GET /orders/<id> */
#define FLOW_MAIL "b6756516-086d-54d0-8796-eb2e259bf0b7"    /* queue:shop.tasks.send_mail */
#define T0 1724058878042113000LL                            /* 2024-08-19T09:14:38.042113Z */

/* Encodes X with ENC, decodes into Y with DEC, re-encodes Y, and checks both texts match. */
#define ROUND_TRIP(T, x, y, arena)                                                         \
  do {                                                                                     \
    char *j1 = NULL, *j2 = NULL;                                                           \
    size_t l1 = 0, l2 = 0;                                                                 \
    hud_codec_error e_;                                                                    \
    int rc_ = T##_encode(&(x), &j1, &l1, &e_);                                             \
    if (rc_) fail_msg("encode %s: %s", #T, e_.message);                                    \
    assert_int_equal(l1, strlen(j1));                                                      \
    rc_ = T##_decode(j1, l1, NULL, (arena), &(y), &e_);                                    \
    if (rc_) fail_msg("decode %s: %s\n%s", #T, e_.message, j1);                            \
    rc_ = T##_encode(&(y), &j2, &l2, &e_);                                                 \
    if (rc_) fail_msg("re-encode %s: %s", #T, e_.message);                                 \
    assert_string_equal(j1, j2);                                                           \
    free(j1);                                                                              \
    free(j2);                                                                              \
  } while (0)

static uint64_t sketch_counts[] = {3, 0, 0, 0, 5, 0, 7, 1};

static hud_sketch_bins make_sketch(void) {
  return (hud_sketch_bins){.alpha = 0.005, .zero_count = 2, .offset = 1500, .n = 8,
                           .counts = sketch_counts};
}

static hud_function_decl make_decl(void) {
  hud_function_decl d = {.name = "Cart.add", .file = "/srv/app/shop/orders.py",
                         .module_path = "shop/orders.py", .start_line = 12, .end_line = 30,
                         .is_async = true, .is_generator = true};
  strcpy(d.function_id, FN_CART_ADD);
  strcpy(d.source_code_hash, "2801f83f4a058501b9c7bdadee5b36ba93cf0521");
  return d;
}

static void function_id_constants_match_python(void **state) {
  (void)state;
  char id[HUD_UUID_STRLEN + 1];
  assert_int_equal(hud_function_id("shop/orders.py", "Cart.add", id), 0);
  assert_string_equal(id, FN_CART_ADD);
  /* Flow ids computed with Python: uuid5(UUID(HUD_FLOW_ID_NAMESPACE), "endpoint:GET ..."). */
  assert_int_equal(hud_flow_id_endpoint("get", "/orders/<id>", id), 0);
  assert_string_equal(id, FLOW_GET);
  assert_int_equal(hud_flow_id_queue("shop.tasks.send_mail", id), 0);
  assert_string_equal(id, FLOW_MAIL);
  assert_int_equal(hud_flow_id_queue("", id), HUD_EINVAL);
  assert_int_equal(hud_flow_id_endpoint("", "/", id), HUD_EINVAL);
}

static void decl_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_function_decl x = make_decl(), y;
  ROUND_TRIP(hud_function_decl, x, y, a);
  assert_string_equal(y.function_id, FN_CART_ADD);
  assert_string_equal(y.name, "Cart.add");
  assert_string_equal(y.file, "/srv/app/shop/orders.py");
  assert_string_equal(y.module_path, "shop/orders.py");
  assert_int_equal(y.start_line, 12);
  assert_int_equal(y.end_line, 30);
  assert_true(y.is_async);
  assert_true(y.is_generator);
  assert_string_equal(y.source_code_hash, x.source_code_hash);
  hud_arena_free(a);
}

static hud_invocation make_invocation(hud_sketch_bins *sk, hud_count_entry *exc, size_t nexc) {
  hud_invocation v = {.has_caller = true,
                      .caller = {.caller_module_path = "shop/views.py", .line = 102},
                      .timestamp = T0, .timeslice = 60000000000LL, .count = 54,
                      .sampled_count = 20, .sum_duration = 184462368,
                      .sum_squared_duration = 34026365544.0, .self_duration = 100000000,
                      .sketch = sk, .exceptions = {.n = nexc, .items = exc}};
  strcpy(v.function_id, FN_CART_ADD);
  strcpy(v.caller.caller_function_id, FN_CHECKOUT);
  strcpy(v.flow_id, FLOW_GET);
  return v;
}

static void invocation_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_sketch_bins sk = make_sketch();
  hud_count_entry exc[] = {{"ValueError", 3}, {"KeyError", 1}};
  hud_invocation x = make_invocation(&sk, exc, 2), y;
  ROUND_TRIP(hud_invocation, x, y, a);
  assert_string_equal(y.function_id, FN_CART_ADD);
  assert_true(y.has_caller);
  assert_string_equal(y.caller.caller_function_id, FN_CHECKOUT);
  assert_string_equal(y.caller.caller_module_path, "shop/views.py");
  assert_int_equal(y.caller.line, 102);
  assert_string_equal(y.flow_id, FLOW_GET);
  assert_int_equal(y.timestamp, T0);
  assert_int_equal(y.timeslice, 60000000000LL);
  assert_int_equal(y.count, 54);
  assert_int_equal(y.sampled_count, 20);
  assert_int_equal(y.sum_duration, 184462368);
  assert_true(y.sum_squared_duration == 34026365544.0);
  assert_int_equal(y.self_duration, 100000000);
  assert_non_null(y.sketch);
  assert_true(y.sketch->alpha == 0.005);
  assert_int_equal(y.sketch->zero_count, 2);
  assert_int_equal(y.sketch->offset, 1500);
  assert_int_equal(y.sketch->n, 8);
  assert_memory_equal(y.sketch->counts, sketch_counts, sizeof sketch_counts);
  assert_int_equal(y.exceptions.n, 2);
  assert_string_equal(y.exceptions.items[0].key, "ValueError");
  assert_int_equal(y.exceptions.items[0].count, 3);
  assert_string_equal(y.exceptions.items[1].key, "KeyError");

  /* No caller, no flow, no sketch; a sum of squares beyond int64 travels as a real. */
  hud_invocation x2 = make_invocation(NULL, NULL, 0);
  x2.has_caller = false;
  x2.flow_id[0] = '\0';
  x2.exceptions.n = 0;
  x2.sum_squared_duration = 3.5e25;
  char *j = NULL;
  assert_int_equal(hud_invocation_encode(&x2, &j, NULL, NULL), 0);
  assert_non_null(strstr(j, "\"caller_function_id\":[]"));
  assert_null(strstr(j, "flow_id"));
  /* Beyond int64: written as a JSON real (jansson prints 17 significant digits). */
  assert_non_null(strstr(j, "\"sum_squared_duration\":3.") );
  assert_non_null(strstr(j, "e25"));
  free(j);
  ROUND_TRIP(hud_invocation, x2, y, a);
  assert_false(y.has_caller);
  assert_string_equal(y.flow_id, "");
  assert_null(y.sketch);
  assert_true(y.sum_squared_duration == 3.5e25);
  hud_arena_free(a);
}

static void sketch_round_trip_uses_zero_runs_in_a_string(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_sketch_bins x = make_sketch(), y;
  char *j = NULL;
  assert_int_equal(hud_sketch_bins_encode(&x, &j, NULL, NULL), 0);
  /* 3 zeros in a row collapse to -3. */
  assert_string_equal(j, "{\"a\":0.0050000000000000001,\"z\":2,\"o\":1500,\"c\":\"3,-3,5,0,7,1\"}");
  free(j);
  ROUND_TRIP(hud_sketch_bins, x, y, a);
  assert_int_equal(y.n, 8);
  assert_memory_equal(y.counts, sketch_counts, sizeof sketch_counts);
  /* A real sketch survives export -> encode -> decode -> import with its quantiles. */
  hud_sketch *s = hud_sketch_new(HUD_SKETCH_DEFAULT_ALPHA);
  assert_non_null(s);
  for (int i = 1; i <= 1000; i++) assert_int_equal(hud_sketch_add(s, 1000.0 * i), 0);
  hud_sketch_bins ex;
  assert_int_equal(hud_sketch_export(s, &ex), 0);
  assert_int_equal(hud_sketch_bins_encode(&ex, &j, NULL, NULL), 0);
  hud_sketch_bins back;
  assert_int_equal(hud_sketch_bins_decode(j, strlen(j), NULL, a, &back, NULL), 0);
  hud_sketch *s2 = NULL;
  assert_int_equal(hud_sketch_import(&back, &s2), 0);
  double q1, q2;
  assert_int_equal(hud_sketch_quantile(s, 0.95, &q1), 0);
  assert_int_equal(hud_sketch_quantile(s2, 0.95, &q2), 0);
  assert_true(q1 == q2);
  assert_int_equal(hud_sketch_count(s2), 1000);
  free(j);
  hud_sketch_bins_free(&ex);
  hud_sketch_free(s);
  hud_sketch_free(s2);
  hud_arena_free(a);
}

static hud_uuid prop[2] = {FN_CHECKOUT, "6952473c-2a18-5ca2-8ffb-4532d214af71"};

static void exception_flow_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_exception_flow x = {.exception_type = "ValueError", .origin_line = 17, .n_propagated = 2,
                          .propagated_through = prop, .timestamp = T0, .timeslice = 60000000000LL,
                          .count = 4};
  strcpy(x.origin_function_id, FN_CART_ADD);
  strcpy(x.caught_in_function_id, FN_CHECKOUT);
  strcpy(x.flow_id, FLOW_GET);
  hud_exception_flow y;
  ROUND_TRIP(hud_exception_flow, x, y, a);
  assert_string_equal(y.exception_type, "ValueError");
  assert_int_equal(y.n_propagated, 2);
  assert_string_equal(y.propagated_through[1], prop[1]);
  assert_string_equal(y.caught_in_function_id, FN_CHECKOUT);
  assert_false(y.escaped);
  assert_int_equal(y.origin_line, 17);
  assert_int_equal(y.count, 4);
  /* Escaped: no catcher. */
  x.caught_in_function_id[0] = '\0';
  x.n_propagated = 0;
  x.propagated_through = NULL;
  ROUND_TRIP(hud_exception_flow, x, y, a);
  assert_true(y.escaped);
  assert_int_equal(y.n_propagated, 0);
  hud_arena_free(a);
}

static void flow_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_sketch_bins sk = make_sketch();
  hud_status_count st[] = {{200, 90}, {404, 5}, {500, 3}};
  hud_count_entry exc[] = {{"RuntimeError", 3}};
  hud_flow x = {.kind = HUD_FLOW_ENDPOINT, .method = "GET", .route = "/orders/<id>",
                .timestamp = T0, .timeslice = 60000000000LL, .count = 100, .error_count = 3,
                .sampled_count = 18, .sum_duration = 5000000, .sum_squared_duration = 1e12,
                .sketch = &sk, .n_status_codes = 3, .status_codes = st,
                .exceptions = {1, exc}};
  strcpy(x.flow_id, FLOW_GET);
  hud_flow y;
  ROUND_TRIP(hud_flow, x, y, a);
  assert_int_equal(y.kind, HUD_FLOW_ENDPOINT);
  assert_string_equal(y.method, "GET");
  assert_string_equal(y.route, "/orders/<id>");
  assert_null(y.task_name);
  assert_int_equal(y.n_status_codes, 3);
  assert_int_equal(y.status_codes[1].status, 404);
  assert_int_equal(y.status_codes[1].count, 5);
  assert_int_equal(y.error_count, 3);
  assert_int_equal(y.exceptions.n, 1);

  hud_flow q = {.kind = HUD_FLOW_QUEUE_CONSUMER, .task_name = "shop.tasks.send_mail",
                .queue = "mail", .timestamp = T0, .timeslice = 1, .count = 7, .error_count = 1};
  strcpy(q.flow_id, FLOW_MAIL);
  ROUND_TRIP(hud_flow, q, y, a);
  assert_int_equal(y.kind, HUD_FLOW_QUEUE_CONSUMER);
  assert_string_equal(y.task_name, "shop.tasks.send_mail");
  assert_string_equal(y.queue, "mail");
  assert_null(y.method);
  hud_arena_free(a);
}

static void flow_function_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_flow_function x = {.timestamp = T0, .timeslice = 60000000000LL, .count = 9,
                         .error_count = 2, .sampled_count = 4, .sum_duration = 900,
                         .self_duration = 300};
  strcpy(x.flow_id, FLOW_GET);
  strcpy(x.function_id, FN_CART_ADD);
  hud_flow_function y;
  ROUND_TRIP(hud_flow_function, x, y, a);
  assert_int_equal(y.error_count, 2);
  assert_int_equal(y.self_duration, 300);
  assert_string_equal(y.flow_id, FLOW_GET);
  hud_arena_free(a);
}

static void batch_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_sketch_bins sk = make_sketch();
  hud_count_entry exc[] = {{"ValueError", 3}};
  hud_function_decl decls[2] = {make_decl(), make_decl()};
  decls[1].name = "checkout";
  strcpy(decls[1].function_id, FN_CHECKOUT);
  hud_invocation invs[3] = {make_invocation(&sk, exc, 1), make_invocation(NULL, NULL, 0),
                            make_invocation(&sk, NULL, 0)};
  invs[1].has_caller = false;
  hud_exception_flow ef = {.exception_type = "ValueError", .timestamp = T0, .timeslice = 5,
                           .count = 3};
  strcpy(ef.origin_function_id, FN_CART_ADD);
  hud_status_count st[] = {{200, 1}};
  hud_flow fl = {.kind = HUD_FLOW_ENDPOINT, .method = "GET", .route = "/orders/<id>",
                 .timestamp = T0, .timeslice = 5, .count = 1, .n_status_codes = 1,
                 .status_codes = st};
  strcpy(fl.flow_id, FLOW_GET);
  hud_flow_function ff = {.timestamp = T0, .timeslice = 5, .count = 1};
  strcpy(ff.flow_id, FLOW_GET);
  strcpy(ff.function_id, FN_CART_ADD);
  hud_tag tags[] = {{"team", "orders"}, {"region", "eu-west-1"}};
  hud_batch x = {.schema_version = 1, .service = "orders", .environment = "prod",
                 .service_version = "v1.2.3", .host = "web-1", .pid = 4242,
                 .runtime = "cpython 3.11.2", .sensor_version = "0.1.0",
                 .sent_at = T0 + 10, .n_tags = 2, .tags = tags,
                 .overhead = {.interval_ns = 10000000000LL, .cpu_ns = 12345678,
                              .cpu_fraction = 0.0042, .memory_bytes = 1 << 20,
                              .sample_rate = 0.25},
                 .dropped = {1, 2, 3, 4, 5, 6, 7},
                 .n_declarations = 2, .declarations = decls,
                 .n_invocations = 3, .invocations = invs,
                 .n_exception_flows = 1, .exception_flows = &ef,
                 .n_flows = 1, .flows = &fl,
                 .n_flow_functions = 1, .flow_functions = &ff};
  strcpy(x.batch_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  hud_batch y;
  ROUND_TRIP(hud_batch, x, y, a);
  assert_int_equal(y.schema_version, 1);
  assert_string_equal(y.batch_id, x.batch_id);
  assert_string_equal(y.service, "orders");
  assert_string_equal(y.environment, "prod");
  assert_string_equal(y.service_version, "v1.2.3");
  assert_int_equal(y.pid, 4242);
  assert_int_equal(y.sent_at, T0 + 10);
  assert_int_equal(y.n_tags, 2);
  assert_string_equal(y.tags[1].value, "eu-west-1");
  assert_int_equal(y.overhead.cpu_ns, 12345678);
  assert_true(y.overhead.cpu_fraction == 0.0042);
  assert_int_equal(y.dropped.bytes, 7);
  assert_int_equal(y.n_declarations, 2);
  assert_string_equal(y.declarations[1].name, "checkout");
  assert_int_equal(y.n_invocations, 3);
  assert_false(y.invocations[1].has_caller);
  assert_int_equal(y.n_exception_flows, 1);
  assert_true(y.exception_flows[0].escaped);
  assert_int_equal(y.n_flows, 1);
  assert_int_equal(y.n_flow_functions, 1);

  /* The same batch through gzip and the body decoder. */
  char *j = NULL;
  size_t jl = 0;
  assert_int_equal(hud_batch_encode(&x, &j, &jl, NULL), 0);
  void *gz = NULL;
  size_t gzl = 0;
  assert_int_equal(hud_gzip_encode(j, jl, 6, &gz, &gzl), 0);
  assert_true(gzl < jl);
  hud_batch z;
  hud_codec_error e;
  assert_int_equal(hud_batch_decode_body(gz, gzl, true, NULL, a, &z, &e), 0);
  assert_int_equal(z.n_invocations, 3);
  /* Plain body, gzip flag off. */
  assert_int_equal(hud_batch_decode_body(j, jl, false, NULL, a, &z, &e), 0);
  assert_string_equal(z.service, "orders");
  free(gz);
  free(j);

  /* environment is optional (it comes from the API key). */
  x.environment = NULL;
  ROUND_TRIP(hud_batch, x, y, a);
  assert_null(y.environment);
  hud_arena_free(a);
}

static void ingest_response_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_ingest_response x = {.duplicate = true, .records = 12}, y;
  strcpy(x.batch_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  ROUND_TRIP(hud_ingest_response, x, y, a);
  assert_true(y.duplicate);
  assert_int_equal(y.records, 12);
  hud_arena_free(a);
}

/* ---------------------------------------------------------------------------------------- */
/* Query API. */

static hud_function_summary make_summary(void) {
  hud_function_summary s = {.name = "Cart.add", .module_path = "shop/orders.py",
                            .file = "/srv/app/shop/orders.py", .start_line = 12, .end_line = 30,
                            .is_async = true, .calls = 1000, .errors = 12, .error_rate = 0.012,
                            .sampled_count = 100, .mean_duration = 1234.5, .p50 = 1000,
                            .p90 = 2000, .p95 = 2500.25, .p99 = 9000, .self_duration_mean = 300,
                            .duration_trend = -12.5, .error_trend = 0.001, .slowdown = 37.5,
                            .previous_version = "v1.2.2"};
  strcpy(s.function_id, FN_CART_ADD);
  strcpy(s.source_code_hash, "2801f83f4a058501b9c7bdadee5b36ba93cf0521");
  return s;
}

static void services_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_version_info vs[] = {{"v2", T0 + 1000, T0 + 5000}, {"v1", T0, T0 + 999}};
  hud_environment_info envs[] = {{"prod", T0, T0 + 5000, 2, vs}, {"staging", T0, T0, 0, NULL}};
  hud_service_info svc = {"orders", T0, T0 + 5000, 2, envs};
  hud_services_response x = {1, &svc}, y;
  ROUND_TRIP(hud_services_response, x, y, a);
  assert_int_equal(y.n_services, 1);
  assert_string_equal(y.services[0].name, "orders");
  assert_int_equal(y.services[0].n_environments, 2);
  assert_string_equal(y.services[0].environments[0].versions[1].version, "v1");
  assert_int_equal(y.services[0].environments[0].versions[0].last_seen, T0 + 5000);
  hud_arena_free(a);
}

static void top_and_by_module_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_function_summary items[2] = {make_summary(), make_summary()};
  items[1].name = NULL; /* never declared */
  items[1].module_path = NULL;
  items[1].file = NULL;
  items[1].start_line = items[1].end_line = 0;
  items[1].source_code_hash[0] = '\0';
  items[1].previous_version = NULL;
  hud_top_response x = {.from = T0, .to = T0 + 3600000000000LL, .sort = HUD_SORT_SLOWDOWN,
                        .n_items = 2, .items = items};
  hud_top_response y;
  ROUND_TRIP(hud_top_response, x, y, a);
  assert_int_equal(y.sort, HUD_SORT_SLOWDOWN);
  assert_int_equal(y.n_items, 2);
  assert_true(y.items[0].p95 == 2500.25);
  assert_true(y.items[0].slowdown == 37.5);
  assert_string_equal(y.items[0].previous_version, "v1.2.2");
  assert_null(y.items[1].name);
  assert_string_equal(y.items[1].source_code_hash, "");

  const char *mods[] = {"shop/orders.py", "shop/cart.py"};
  hud_by_module_request r = {.scope = {.service = "orders", .environment = "prod",
                                       .version = "v2", .from = T0, .to = T0 + 1},
                             .n_module_paths = 2, .module_paths = mods};
  hud_by_module_request r2;
  ROUND_TRIP(hud_by_module_request, r, r2, a);
  assert_string_equal(r2.scope.service, "orders");
  assert_string_equal(r2.scope.environment, "prod");
  assert_int_equal(r2.scope.to, T0 + 1);
  assert_int_equal(r2.n_module_paths, 2);
  assert_string_equal(r2.module_paths[1], "shop/cart.py");

  hud_by_module_response m = {.from = T0, .to = T0 + 1, .n_items = 1, .items = items}, m2;
  ROUND_TRIP(hud_by_module_response, m, m2, a);
  assert_int_equal(m2.n_items, 1);
  hud_arena_free(a);
}

static void function_detail_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_time_point series[] = {{T0, 10, 1, 100.5, 90, 200}, {T0 + 60000000000LL, 12, 0, 110, 95, 210}};
  hud_call_peer callers[] = {{.name = "checkout", .module_path = "shop/orders.py", .line = 88,
                              .calls = 10, .errors = 1, .mean_duration = 100, .sum_duration = 1000},
                             {.line = 3, .calls = 2}};
  strcpy(callers[0].function_id, FN_CHECKOUT);
  hud_call_peer callees[] = {{.name = "Cart.total", .line = 20, .calls = 30, .mean_duration = 5,
                              .sum_duration = 150}};
  strcpy(callees[0].function_id, "6952473c-2a18-5ca2-8ffb-4532d214af71");
  hud_count_entry errs[] = {{"ValueError", 1}};
  hud_version_stats vers[] = {{"v2", T0, T0 + 5, 100, 2, 0.02, 50, 120, 30, 100, 200, 300},
                              {"v1", T0 - 5, T0, 80, 0, 0, 40, 100, 20, 90, 150, 250}};
  hud_function_decl decl = make_decl();
  hud_function_detail x = {.declaration = &decl, .summary = make_summary(),
                           .n_series = 2, .series = series, .n_callers = 2, .callers = callers,
                           .n_callees = 1, .callees = callees, .errors_by_type = {1, errs},
                           .n_versions = 2, .versions = vers};
  hud_function_detail y;
  ROUND_TRIP(hud_function_detail, x, y, a);
  assert_non_null(y.declaration);
  assert_string_equal(y.declaration->name, "Cart.add");
  assert_true(y.summary.p90 == 2000);
  assert_int_equal(y.n_series, 2);
  assert_true(y.series[0].mean_duration == 100.5);
  assert_int_equal(y.n_callers, 2);
  assert_int_equal(y.callers[0].line, 88);
  assert_string_equal(y.callers[1].function_id, "");
  assert_null(y.callers[1].name);
  assert_string_equal(y.callees[0].name, "Cart.total");
  assert_int_equal(y.errors_by_type.n, 1);
  assert_int_equal(y.n_versions, 2);
  assert_true(y.versions[0].stddev_duration == 30);
  /* Calls seen, never declared: no declaration, the summary without name (absent both ways). */
  x.declaration = NULL;
  x.summary.name = x.summary.module_path = x.summary.file = NULL;
  ROUND_TRIP(hud_function_detail, x, y, a);
  assert_null(y.declaration);
  assert_null(y.summary.name);
  hud_arena_free(a);
}

static void callgraph_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_graph_node nodes[2] = {{.name = "checkout", .calls = 10, .sum_duration = 1000, .self_duration = 100},
                             {.name = "Cart.add", .module_path = "shop/orders.py", .calls = 30,
                              .errors = 3, .sum_duration = 900, .self_duration = 900}};
  strcpy(nodes[0].function_id, FN_CHECKOUT);
  strcpy(nodes[1].function_id, FN_CART_ADD);
  hud_graph_edge edges[2] = {{.kind = HUD_EDGE_CALL, .line = 88, .calls = 30, .sum_duration = 900},
                             {.kind = HUD_EDGE_EXCEPTION, .calls = 3, .exception_type = "ValueError"}};
  strcpy(edges[0].from, FN_CHECKOUT);
  strcpy(edges[0].to, FN_CART_ADD);
  strcpy(edges[1].from, FN_CART_ADD);
  strcpy(edges[1].to, FN_CHECKOUT);
  hud_callgraph_response x = {.truncated = true, .n_nodes = 2, .nodes = nodes, .n_edges = 2,
                              .edges = edges};
  strcpy(x.root, FN_CHECKOUT);
  hud_callgraph_response y;
  ROUND_TRIP(hud_callgraph_response, x, y, a);
  assert_true(y.truncated);
  assert_int_equal(y.n_edges, 2);
  assert_int_equal(y.edges[1].kind, HUD_EDGE_EXCEPTION);
  assert_string_equal(y.edges[1].exception_type, "ValueError");
  assert_null(y.edges[0].exception_type);
  assert_null(y.nodes[0].module_path);
  hud_arena_free(a);
}

static void flows_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_status_count st[] = {{200, 95}, {500, 5}};
  hud_flow_function_stats fns[] = {{.name = "checkout", .calls = 100, .errors = 5,
                                    .sum_duration = 10000, .self_duration = 4000}};
  strcpy(fns[0].function_id, FN_CHECKOUT);
  hud_flow_summary flows[2] = {
      {.kind = HUD_FLOW_ENDPOINT, .method = "GET", .route = "/orders/<id>", .calls = 100,
       .errors = 5, .error_rate = 0.05, .mean_duration = 100, .p50 = 90, .p95 = 300, .p99 = 900,
       .n_status_codes = 2, .status_codes = st, .n_functions = 1, .functions = fns},
      {.kind = HUD_FLOW_QUEUE_CONSUMER, .task_name = "shop.tasks.send_mail", .queue = "mail",
       .calls = 3}};
  strcpy(flows[0].flow_id, FLOW_GET);
  strcpy(flows[1].flow_id, FLOW_MAIL);
  hud_flows_response x = {.from = T0, .to = T0 + 1, .n_flows = 2, .flows = flows}, y;
  ROUND_TRIP(hud_flows_response, x, y, a);
  assert_int_equal(y.n_flows, 2);
  assert_int_equal(y.flows[0].status_codes[1].status, 500);
  assert_string_equal(y.flows[0].functions[0].name, "checkout");
  assert_string_equal(y.flows[1].task_name, "shop.tasks.send_mail");
  hud_arena_free(a);
}

static void exception_flows_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_function_ref through[2] = {{.name = "checkout", .module_path = "shop/orders.py"}, {.name = NULL}};
  strcpy(through[0].function_id, FN_CHECKOUT);
  strcpy(through[1].function_id, FN_CART_ADD);
  hud_function_ref catcher = {.name = "checkout"};
  strcpy(catcher.function_id, FN_CHECKOUT);
  hud_exception_flow_summary flows[2] = {
      {.exception_type = "KeyError", .count = 14, .n_propagated = 2, .propagated_through = through,
       .caught_in = &catcher},
      {.exception_type = "ValueError", .count = INT64_MAX, .escaped = true}};
  strcpy(flows[0].origin.function_id, FN_CART_ADD);
  flows[0].origin.name = "Cart.add";
  strcpy(flows[1].origin.function_id, FN_CHECKOUT);
  hud_exception_flows_response x = {.from = T0, .to = T0 + 1, .n_flows = 2, .flows = flows}, y;
  ROUND_TRIP(hud_exception_flows_response, x, y, a);
  assert_int_equal(y.n_flows, 2);
  assert_int_equal(y.flows[0].n_propagated, 2);
  assert_string_equal(y.flows[0].propagated_through[0].module_path, "shop/orders.py");
  assert_null(y.flows[0].propagated_through[1].name);
  assert_string_equal(y.flows[0].caught_in->name, "checkout");
  assert_false(y.flows[0].escaped);
  assert_true(y.flows[1].escaped);
  assert_null(y.flows[1].caught_in);
  assert_true(y.flows[1].count == INT64_MAX);
  assert_null(y.flows[1].origin.name);
  /* The encoder refuses what the decoder would: escaped and caught. */
  flows[1].caught_in = &catcher;
  char *j = NULL;
  assert_int_equal(hud_exception_flows_response_encode(&x, &j, NULL, NULL), HUD_EFIELD);
  free(j);
  hud_arena_free(a);
}

static void issues_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_root_cause rc[] = {{.name = "Cart.add", .module_path = "shop/orders.py",
                          .metric = "self_duration", .baseline_value = 1000,
                          .current_value = 3000, .share = 0.9, .p_value = 1e-9,
                          .evidence = "self time 1.0 us -> 3.0 us (+200%), 90% of the flow's change"}};
  strcpy(rc[0].function_id, FN_CART_ADD);
  hud_issue is = {.kind = HUD_ISSUE_DURATION_REGRESSION, .subject_kind = HUD_SUBJECT_FLOW,
                  .subject_name = "GET /orders/<id>", .comparison = HUD_COMPARE_VERSIONS,
                  .baseline = {.version = "v1", .from = T0 - 10, .to = T0, .count = 1000,
                               .sampled_count = 400, .errors = 1, .mean_duration = 2000,
                               .stddev_duration = 200, .error_rate = 0.001},
                  .current = {.version = "v2", .from = T0, .to = T0 + 10, .count = 900,
                              .sampled_count = 350, .errors = 0, .mean_duration = 4000,
                              .stddev_duration = 400, .error_rate = 0},
                  .metric = "mean_duration", .effect = 2000, .effect_pct = 100, .ci_low = 1900,
                  .ci_high = 2100, .confidence = 0.95, .p_value = 1e-12, .detected_at = T0 + 20,
                  .status = "open", .n_root_causes = 1, .root_causes = rc};
  strcpy(is.issue_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  strcpy(is.subject_id, FLOW_GET);
  hud_issues_response x = {1, &is}, y;
  ROUND_TRIP(hud_issues_response, x, y, a);
  assert_int_equal(y.n_issues, 1);
  const hud_issue *g = &y.issues[0];
  assert_int_equal(g->kind, HUD_ISSUE_DURATION_REGRESSION);
  assert_int_equal(g->subject_kind, HUD_SUBJECT_FLOW);
  assert_int_equal(g->comparison, HUD_COMPARE_VERSIONS);
  assert_string_equal(g->baseline.version, "v1");
  assert_int_equal(g->current.sampled_count, 350);
  assert_true(g->ci_high == 2100);
  assert_true(g->p_value == 1e-12);
  assert_string_equal(g->root_causes[0].metric, "self_duration");
  assert_true(g->root_causes[0].share == 0.9);
  hud_arena_free(a);
}

/* The issue of stored issues: one root cause, its affected flows, path, links and history. */
static void issue_new_shape_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_root_cause rc[] = {{.name = "apply_discounts", .metric = "self_duration", .baseline_value = 1500,
                          .current_value = 4130000, .share = 1, .p_value = 2.2250738585072014e-308}};
  strcpy(rc[0].function_id, FN_CART_ADD);
  hud_affected_flow fl[] = {{.name = "GET /orders/<id>", .baseline_mean = 2e6, .current_mean = 6.13e6,
                             .effect = 4.13e6, .effect_pct = 206.5, .count = 900},
                            {.name = "shop.tasks.send_mail", .baseline_mean = 1e7, .current_mean = 1.04e7,
                             .effect = 4e5, .effect_pct = 4, .baseline_error_rate = 0.001,
                             .current_error_rate = 0.002, .count = 50}};
  strcpy(fl[0].flow_id, FLOW_GET);
  strcpy(fl[1].flow_id, FLOW_MAIL);
  hud_path_step path[] = {{.name = "checkout"}, {.name = NULL}};
  strcpy(path[0].function_id, FN_CHECKOUT);
  strcpy(path[1].function_id, FN_CART_ADD);
  hud_issue_event hist[] = {{.at = T0, .event = "opened"},
                            {.at = T0 + 5, .event = "acknowledged", .note = "on it"}};
  hud_issue is = {.kind = HUD_ISSUE_DURATION_REGRESSION, .subject_kind = HUD_SUBJECT_FUNCTION,
                  .subject_name = "apply_discounts", .comparison = HUD_COMPARE_CANARY,
                  .baseline = {.version = "v1", .from = T0 - 10, .to = T0, .count = 1000},
                  .current = {.version = "v2", .from = T0, .to = T0 + 10, .count = 900},
                  .metric = "self_duration", .effect = 4128500, .effect_pct = 10000, .ci_low = 4e6,
                  .ci_high = 4.2e6, .confidence = 0.999, .p_value = 2.2250738585072014e-308,
                  .detected_at = T0, .status = "acknowledged", .n_root_causes = 1, .root_causes = rc,
                  .headline = "apply_discounts self time +4.13 ms per call (v1 → v2)",
                  .module_path = "shop/pricing.py", .q_value = 1e-300, .statistic = 41.5,
                  .statistic_name = "z", .df = 0, .p_text = "< 1e-16", .effect_pct_capped = true,
                  .drift_pct = 10.5, .host_shift_pct = -12.5, .code_changed = 1, .self_includes_uninstrumented = true,
                  .first_seen = T0, .last_seen = T0 + 60, .status_changed_at = T0 + 5, .times_reopened = 2,
                  .n_affected_flows = 2, .affected_flows = fl, .n_call_path = 2, .call_path = path,
                  .links = {.vscode = "vscode://hud-dev.hud/function?id=" FN_CART_ADD "&issue=x",
                            .api = "https://hud.example/v1/issues/x?env=prod&service=shop"},
                  .n_history = 2, .history = hist};
  strcpy(is.issue_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  strcpy(is.subject_id, FN_CART_ADD);
  hud_issue y;
  ROUND_TRIP(hud_issue, is, y, a);
  assert_int_equal(y.comparison, HUD_COMPARE_CANARY);
  assert_string_equal(y.headline, is.headline);
  assert_string_equal(y.module_path, "shop/pricing.py");
  assert_true(y.q_value == 1e-300 && y.statistic == 41.5 && y.df == 0);
  assert_true(y.p_value > 0);
  assert_string_equal(y.statistic_name, "z");
  assert_string_equal(y.p_text, "< 1e-16");
  assert_true(y.effect_pct_capped);
  assert_true(y.drift_pct == 10.5);
  assert_true(y.host_shift_pct == -12.5);
  assert_int_equal(y.code_changed, 1);
  assert_true(y.self_includes_uninstrumented);
  assert_true(y.first_seen == T0 && y.last_seen == T0 + 60 && y.status_changed_at == T0 + 5);
  assert_int_equal(y.times_reopened, 2);
  assert_int_equal(y.n_affected_flows, 2);
  assert_string_equal(y.affected_flows[0].flow_id, FLOW_GET);
  assert_true(y.affected_flows[0].effect == 4.13e6 && y.affected_flows[0].effect_pct == 206.5);
  assert_true(y.affected_flows[1].current_error_rate == 0.002);
  assert_int_equal(y.affected_flows[1].count, 50);
  assert_int_equal(y.n_call_path, 2);
  assert_string_equal(y.call_path[0].name, "checkout");
  assert_null(y.call_path[1].name);
  assert_string_equal(y.call_path[1].function_id, FN_CART_ADD);
  assert_non_null(y.links.vscode);
  assert_null(y.links.tui);
  assert_int_equal(y.n_history, 2);
  assert_string_equal(y.history[1].event, "acknowledged");
  assert_string_equal(y.history[1].note, "on it");
  assert_null(y.history[0].note);

  /* Unknown code change, no links and no history are left out, and come back as such. */
  is.code_changed = -1;
  is.links = (hud_issue_links){0};
  is.n_history = 0;
  is.history = NULL;
  char *j = NULL;
  assert_int_equal(hud_issue_encode(&is, &j, NULL, NULL), 0);
  assert_null(strstr(j, "code_changed"));
  assert_null(strstr(j, "\"links\""));
  assert_null(strstr(j, "\"history\""));
  assert_non_null(strstr(j, "\"affected_flows\""));
  hud_issue z;
  assert_int_equal(hud_issue_decode(j, strlen(j), NULL, a, &z, NULL), 0);
  assert_int_equal(z.code_changed, -1);
  assert_null(z.links.vscode);
  assert_int_equal(z.n_history, 0);
  free(j);
  /* code_changed false is said on the wire. */
  is.code_changed = 0;
  assert_int_equal(hud_issue_encode(&is, &j, NULL, NULL), 0);
  assert_non_null(strstr(j, "\"code_changed\":false"));
  free(j);
  hud_arena_free(a);
}

/* A document of the first issue shape (no headline, flows, ...) still decodes for clients. */
static void issue_old_shape_decodes(void **state) {
  (void)state;
  static const char old[] =
      "{\"issue_id\":\"1b4e28ba-2fa1-41d2-883f-0016d3cca427\",\"kind\":\"duration_regression\","
      "\"subject_kind\":\"flow\",\"subject_id\":\"" FLOW_GET "\",\"comparison\":\"versions\","
      "\"baseline\":{\"from\":\"2024-08-19T09:14:38Z\",\"to\":\"2024-08-19T10:14:38Z\",\"count\":10,"
      "\"sampled_count\":10,\"errors\":0,\"mean_duration\":2,\"stddev_duration\":1,\"error_rate\":0},"
      "\"current\":{\"from\":\"2024-08-19T09:14:38Z\",\"to\":\"2024-08-19T10:14:38Z\",\"count\":10,"
      "\"sampled_count\":10,\"errors\":0,\"mean_duration\":4,\"stddev_duration\":1,\"error_rate\":0},"
      "\"metric\":\"mean_duration\",\"effect\":2,\"effect_pct\":100,\"ci_low\":1,\"ci_high\":3,"
      "\"confidence\":0.95,\"p_value\":0.0,\"detected_at\":\"2024-08-19T10:14:38Z\",\"status\":\"open\","
      "\"root_causes\":[]}";
  hud_arena *a = hud_arena_new();
  hud_issue y;
  hud_codec_error e;
  assert_int_equal(hud_issue_decode(old, strlen(old), NULL, a, &y, &e), 0);
  assert_null(y.headline);
  assert_null(y.p_text);
  assert_int_equal(y.code_changed, -1);
  assert_int_equal(y.n_affected_flows, 0);
  assert_null(y.affected_flows);
  assert_int_equal(y.n_call_path, 0);
  assert_true(y.first_seen == 0);
  hud_arena_free(a);
}

/* POST /v1/issues/{id}/status: target, body, and what the server reads back. */
static void issue_status_request_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_issue_status_request r = {.scope = {.service = "shop", .environment = "prod", .version = "v9"},
                                .status = "muted", .note = "known: the new pricing rules"};
  strcpy(r.issue_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  char *t = NULL, *body = NULL;
  assert_int_equal(hud_issue_status_request_to_target(&r, &t), 0);
  assert_string_equal(t, "/v1/issues/1b4e28ba-2fa1-41d2-883f-0016d3cca427/status?service=shop&env=prod");
  assert_int_equal(hud_issue_status_request_encode(&r, &body, NULL, NULL), 0);
  assert_string_equal(body, "{\"status\":\"muted\",\"note\":\"known: the new pricing rules\"}");
  hud_issue_status_request g;
  hud_codec_error e;
  assert_int_equal(hud_issue_status_request_decode(body, strlen(body), NULL, a, &g, &e), 0);
  hud_query_param *p;
  size_t n;
  assert_int_equal(hud_query_parse(strchr(t, '?'), a, &p, &n), 0);
  assert_int_equal(hud_issue_status_request_from_query(r.issue_id, p, n, NULL, a, &g, &e), 0);
  assert_string_equal(g.status, "muted");
  assert_string_equal(g.note, r.note);
  assert_string_equal(g.scope.service, "shop");
  assert_string_equal(g.scope.environment, "prod");
  assert_string_equal(g.issue_id, r.issue_id);
  free(t);
  free(body);
  /* Only acknowledged, muted and open may be set; resolving is the server's. */
  r.status = "resolved";
  assert_int_equal(hud_issue_status_request_encode(&r, &body, NULL, NULL), HUD_EFIELD);
  static const char bad[] = "{\"status\":\"resolved\"}";
  assert_int_equal(hud_issue_status_request_decode(bad, strlen(bad), NULL, a, &g, &e), HUD_EFIELD);
  assert_string_equal(e.path, "status");
  static const char extra[] = "{\"status\":\"open\",\"who\":\"me\"}";
  assert_int_equal(hud_issue_status_request_decode(extra, strlen(extra), NULL, a, &g, &e), HUD_EFIELD);
  assert_int_equal(hud_issue_status_request_from_query("not-a-uuid", p, n, NULL, a, &g, &e), HUD_EFIELD);
  assert_string_equal(e.path, "issue_id");
  r.issue_id[0] = '\0';
  assert_int_equal(hud_issue_status_request_to_target(&r, &t), HUD_EFIELD);

  /* GET /v1/issues/{id}. */
  hud_issue_request ir = {.scope = {.service = "shop", .from = T0}};
  strcpy(ir.issue_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  assert_int_equal(hud_issue_request_to_target(&ir, &t), 0);
  assert_string_equal(t, "/v1/issues/1b4e28ba-2fa1-41d2-883f-0016d3cca427?service=shop");
  assert_int_equal(hud_query_parse(strchr(t, '?'), a, &p, &n), 0);
  hud_issue_request ig;
  assert_int_equal(hud_issue_request_from_query(ir.issue_id, p, n, NULL, a, &ig, &e), 0);
  assert_string_equal(ig.issue_id, ir.issue_id);
  assert_string_equal(ig.scope.service, "shop");
  free(t);
  hud_arena_free(a);
}

static void error_response_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  int32_t vers[] = {1};
  hud_error_response x = {.code = "unsupported_version",
                          .message = "schema_version: unsupported schema version 7 (supported: 1)",
                          .field = "schema_version", .n_supported_versions = 1,
                          .supported_versions = vers},
                     y;
  ROUND_TRIP(hud_error_response, x, y, a);
  assert_string_equal(y.code, "unsupported_version");
  assert_string_equal(y.field, "schema_version");
  assert_int_equal(y.n_supported_versions, 1);
  assert_int_equal(y.supported_versions[0], 1);
  char *j = NULL;
  assert_int_equal(hud_error_response_encode(&x, &j, NULL, NULL), 0);
  assert_true(strncmp(j, "{\"error\":{\"code\":\"unsupported_version\"", 38) == 0);
  free(j);
  hud_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(function_id_constants_match_python),
      cmocka_unit_test(decl_round_trip),
      cmocka_unit_test(invocation_round_trip),
      cmocka_unit_test(sketch_round_trip_uses_zero_runs_in_a_string),
      cmocka_unit_test(exception_flow_round_trip),
      cmocka_unit_test(flow_round_trip),
      cmocka_unit_test(flow_function_round_trip),
      cmocka_unit_test(batch_round_trip),
      cmocka_unit_test(ingest_response_round_trip),
      cmocka_unit_test(services_round_trip),
      cmocka_unit_test(top_and_by_module_round_trip),
      cmocka_unit_test(function_detail_round_trip),
      cmocka_unit_test(callgraph_round_trip),
      cmocka_unit_test(flows_round_trip),
      cmocka_unit_test(exception_flows_round_trip),
      cmocka_unit_test(issues_round_trip),
      cmocka_unit_test(issue_new_shape_round_trip),
      cmocka_unit_test(issue_old_shape_decodes),
      cmocka_unit_test(issue_status_request_round_trip),
      cmocka_unit_test(error_response_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
