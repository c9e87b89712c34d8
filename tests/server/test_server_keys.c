/* API keys against the real hud-server on loopback: key commands on a live store (they must not
 * change the figures, block ingest or lag), one server per store, roles (every route of the real
 * route tables against every role), a store made before roles. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "batchgen.h"
#include "harness.h"
#include "http.h"
#include "hud/codec.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return strdup("");
  char *buf = calloc(1, 65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  if (buf) buf[n] = 0;
  fclose(f);
  return buf;
}

/* Runs `hud-server ARGS... --db DB` with stdout and stderr captured (malloc'ed into *OUT, *ERR, may be
 * NULL), killed by SIGALRM after TIMEOUT_S. Returns the exit status (-1 when killed); *SECS the run time. */
static int run_cli(const srvh *h, const char *const *args, int timeout_s, char **out, char **err, double *secs) {
  char fout[600], ferr[600];
  snprintf(fout, sizeof fout, "%s/cli.out", h->dir);
  snprintf(ferr, sizeof ferr, "%s/cli.err", h->dir);
  const char *argv[32];
  int n = 0;
  argv[n++] = srvh_binary();
  for (int i = 0; args[i] && n < 28; i++) argv[n++] = args[i];
  argv[n++] = "--db";
  argv[n++] = h->db;
  argv[n] = NULL;
  double t0 = now_s();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int o = open(fout, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(ferr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    alarm((unsigned)timeout_s); /* survives exec: a command that hangs is killed */
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  if (secs) *secs = now_s() - t0;
  if (out) *out = slurp(fout);
  if (err) *err = slurp(ferr);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- key commands on a live store ---- */

#define LIVE_BATCHES 200

typedef struct live_load {
  int port;
  const char *key;
  void *body[LIVE_BATCHES];
  size_t len[LIVE_BATCHES];
  int64_t calls[LIVE_BATCHES];
  int status[LIVE_BATCHES];
  atomic_int done;
} live_load;

static void *live_ingest(void *arg) {
  live_load *l = arg;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    srvh_resp r;
    struct timespec pace = {0, 5 * 1000 * 1000}; /* spread the load over the key commands */
    nanosleep(&pace, NULL);
    l->status[i] = srvh_request(l->port, "POST", "/v1/ingest", l->key, l->body[i], l->len[i], "gzip", &r) == 0
                       ? (int)r.status
                       : -1;
    if (l->status[i] != 200) fprintf(stderr, "live: batch %d answered %d: %s\n", i, l->status[i], r.body);
    srvh_resp_free(&r);
  }
  atomic_store(&l->done, 1);
  return NULL;
}

static long req_status(int port, const char *method, const char *path, const char *key) {
  srvh_resp r;
  long st = srvh_request(port, method, path, key, NULL, 0, NULL, &r) == 0 ? r.status : -1;
  srvh_resp_free(&r);
  return st;
}

/* `keys create|list|revoke` while the server ingests: every acknowledged batch is counted exactly
 * once, ingest never fails, each command is quick, a new key works and a revoked key is refused on
 * the very next request. */
static void test_key_commands_on_live_store(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  assert_int_equal(srvh_start(&s, NULL), 0);

  static live_load l;
  memset(&l, 0, sizeof l);
  l.port = s.port;
  l.key = key;
  int64_t want_calls = 0;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    hud_arena *a = hud_arena_new();
    hud_batch b;
    batchgen_opts o = {.seed = (uint64_t)(7000 + i), .n_invocations = 60};
    assert_int_equal(batchgen_make(&o, a, &b), 0);
    for (size_t k = 0; k < b.n_invocations; k++) l.calls[i] += b.invocations[k].count;
    assert_int_equal(batchgen_encode(&b, 1, &l.body[i], &l.len[i]), 0);
    hud_arena_free(a);
  }
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, live_ingest, &l), 0);

  double worst = 0;
  int rounds = 0;
  while (!atomic_load(&l.done) && rounds < 12) {
    rounds++;
    char *out, *err;
    double secs;
    const char *create[] = {"keys", "create", "--env", "prod", "--role", "read", "--label", "live", NULL};
    assert_int_equal(run_cli(&s, create, 30, &out, &err, &secs), 0);
    worst = secs > worst ? secs : worst;
    char newkey[128];
    snprintf(newkey, sizeof newkey, "%.*s", (int)strcspn(out, "\n"), out);
    assert_true(strncmp(newkey, "hud_", 4) == 0);
    free(out);
    free(err);
    /* Usable at once. */
    assert_int_equal(req_status(s.port, "GET", "/v1/services", newkey), 200);

    const char *list[] = {"keys", "list", NULL};
    assert_int_equal(run_cli(&s, list, 30, &out, &err, &secs), 0);
    worst = secs > worst ? secs : worst;
    assert_non_null(strstr(out, "live"));
    free(out);
    free(err);

    char id[32];
    snprintf(id, sizeof id, "%lld", atoll(newkey + 4));
    const char *revoke[] = {"keys", "revoke", id, NULL};
    int rc = run_cli(&s, revoke, 30, &out, &err, &secs);
    if (rc != 0) fprintf(stderr, "revoke %s exited %d: %s%s\n", id, rc, out, err);
    assert_int_equal(rc, 0);
    worst = secs > worst ? secs : worst;
    free(out);
    free(err);
    /* Refused on the very next request. */
    assert_int_equal(req_status(s.port, "GET", "/v1/services", newkey), 401);
  }
  pthread_join(th, NULL);

  int acked = 0, refused = 0;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    if (l.status[i] == 200) {
      acked++;
      want_calls += l.calls[i];
    } else {
      refused++;
    }
    free(l.body[i]);
  }
  /* What the API says (fresh: every acknowledged batch), then the file after a clean stop. */
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "GET", "/v1/services", key, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  long long stored_calls = srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM calls");
  long long stored_fn = srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM fn_slices");
  long long stored_batches = srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches");
  fprintf(stderr,
          "live keys: %d command rounds, slowest command %.2f s; %d batches acknowledged, %d refused; calls sent "
          "%lld, stored %lld (fn_slices %lld), batches stored %lld\n",
          rounds, worst, acked, refused, (long long)want_calls, stored_calls, stored_fn, stored_batches);
  assert_true(rounds >= 2);
  assert_int_equal(refused, 0);
  assert_int_equal(stored_batches, acked);
  assert_int_equal(stored_calls, want_calls);
  assert_int_equal(stored_fn, want_calls);
  assert_true(worst < 3.0);
  srvh_cleanup(&s);
}

/* Two servers folding one journal would count every batch twice: the second refuses, clearly, and
 * changes nothing. */
static void test_second_serve_refuses(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  assert_int_equal(srvh_start(&s, NULL), 0);
  const char *serve[] = {"serve", "--listen", "127.0.0.1:0", NULL};
  char *out, *err;
  double secs;
  int rc = run_cli(&s, serve, 5, &out, &err, &secs);
  fprintf(stderr, "second serve: exit %d after %.2f s: %s", rc, secs, err);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(err, "another hud-server"));
  assert_null(strstr(out, "listening"));
  free(out);
  free(err);
  /* The first one serves on. */
  assert_int_equal(req_status(s.port, "GET", "/v1/services", key), 200);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Stopped: the store is free again. */
  assert_int_equal(srvh_start(&s, NULL), 0);
  st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(&s);
}

/* ---- roles ---- */

static const srv_route *const k_tables[] = {srv_metrics_routes, srv_ingest_routes, srv_query_routes};
#define N_TABLES (sizeof k_tables / sizeof k_tables[0])

static int popcount(unsigned v) { return __builtin_popcount(v); }

/* Every route of the server's tables is public or declares one role — or several where any one
 * suffices, only triage-or-admin (issue status) today: a route added without one fails here (and
 * the server refuses it for every key). */
static void test_every_route_declares_one_role(void **state) {
  int n = 0;
  for (size_t t = 0; t < N_TABLES; t++)
    for (const srv_route *r = k_tables[t]; r->method; r++, n++) {
      unsigned roles = r->flags & SRV_ROLES_ALL;
      if (r->flags & SRV_ROUTE_PUBLIC) {
        if (roles) fail_msg("public route %s %s also declares a role", r->method, r->path);
      } else if (popcount(roles) != 1 && roles != (SRV_ROLE_TRIAGE | SRV_ROLE_ADMIN)) {
        fail_msg("route %s %s declares %d roles (one of SRV_ROLE_INGEST, _READ, _ADMIN)", r->method, r->path,
                 popcount(roles));
      }
    }
  assert_true(n >= 9);
}

static void sql_exec(const char *db, const char *sql) {
  sqlite3 *d;
  assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
  sqlite3_busy_timeout(d, 5000);
  char *err = NULL;
  if (sqlite3_exec(d, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
  sqlite3_close(d);
}

typedef struct role_key {
  const char *name;
  unsigned roles; /* what the key may do */
  char key[128];
} role_key;

/* A valid batch (gzip) for SEED. */
static void batch_body(uint64_t seed, void **body, size_t *len) {
  hud_arena *a = hud_arena_new();
  hud_batch b;
  batchgen_opts o = {.seed = seed, .n_invocations = 20};
  assert_int_equal(batchgen_make(&o, a, &b), 0);
  assert_int_equal(batchgen_encode(&b, 1, body, len), 0);
  hud_arena_free(a);
}

/* R's path with every {name} segment filled and a trailing wildcard given a rest. */
static void concrete_path(const srv_route *r, char *out, size_t cap) {
  size_t o = 0;
  for (const char *p = r->path; *p && o + 8 < cap; p++) {
    if (*p == '{') {
      const char *e = strchr(p, '}');
      o += (size_t)snprintf(out + o, cap - o, "1");
      p = e ? e : p;
    } else if (p[0] == '*' && p[1] == 0) {
      o += (size_t)snprintf(out + o, cap - o, "x");
    } else {
      out[o++] = *p;
    }
  }
  out[o] = 0;
  snprintf(out + o, cap - o, "?service=shop");
}

static long long metric(int port, const char *name) {
  srvh_resp r;
  assert_int_equal(srvh_request(port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  const char *p = strstr(r.body, name);
  long long v = p ? atoll(p + strlen(name)) : -1;
  srvh_resp_free(&r);
  return v;
}

/* Every route x every kind of key: a key outside the route's role gets 403 naming the role (before
 * the handler: nothing stored), a key with it reaches the handler; /metrics counts the refusals. */
static void test_every_route_every_role(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  role_key keys[] = {
      {"ingest", SRV_ROLE_INGEST, ""},
      {"read", SRV_ROLE_READ, ""},
      {"admin", SRV_ROLE_ADMIN, ""},
      {"triage", SRV_ROLE_TRIAGE | SRV_ROLE_READ, ""}, /* a triage key reads too */
      {"ingest,read", SRV_ROLE_INGEST | SRV_ROLE_READ, ""},
      {"ingest,read,admin", SRV_ROLES_ALL, ""},
      {NULL, SRV_ROLE_INGEST | SRV_ROLE_READ, ""}, /* legacy: made before roles */
  };
  size_t nkeys = sizeof keys / sizeof keys[0];
  for (size_t k = 0; k < nkeys; k++)
    assert_int_equal(srvh_key_roles(&s, "prod", keys[k].name ? keys[k].name : "admin", keys[k].key), 0);
  /* The legacy key: what a v1 store holds (roles NULL). */
  char sql[128];
  snprintf(sql, sizeof sql, "UPDATE api_keys SET roles = NULL WHERE id = %lld", atoll(keys[nkeys - 1].key + 4));
  sql_exec(s.db, sql);
  assert_int_equal(srvh_start(&s, NULL), 0);

  long long refused[4] = {0}; /* ingest, read, admin, triage (routes that take triage or admin) */
  int stored = 0, routes = 0;
  uint64_t seed = 1;
  for (size_t t = 0; t < N_TABLES; t++)
    for (const srv_route *r = k_tables[t]; r->method; r++) {
      if (r->flags & SRV_ROUTE_PUBLIC) continue;
      routes++;
      unsigned need = r->flags & SRV_ROLES_ALL;
      char path[512];
      concrete_path(r, path, sizeof path);
      for (size_t k = 0; k < nkeys; k++) {
        void *body = NULL;
        size_t len = 0;
        if (need == SRV_ROLE_INGEST) batch_body(seed++, &body, &len);
        else if (strcmp(r->method, "POST") == 0) body = strdup("{}"), len = 2;
        srvh_resp resp;
        assert_int_equal(srvh_request(s.port, r->method, path, keys[k].key, body, len,
                                      need == SRV_ROLE_INGEST ? "gzip" : NULL, &resp),
                         0);
        free(body);
        const char *kname = keys[k].name ? keys[k].name : "legacy";
        if (keys[k].roles & need) {
          if (resp.status == 401 || resp.status == 403 || resp.status >= 500)
            fail_msg("%s %s with a %s key: %ld %s", r->method, path, kname, resp.status, resp.body);
          if (need == SRV_ROLE_INGEST) {
            assert_int_equal(resp.status, 200);
            stored++;
          }
        } else {
          const char *role = need == SRV_ROLE_INGEST ? "ingest" : need == SRV_ROLE_READ ? "read"
                             : need == SRV_ROLE_ADMIN  ? "admin"
                                                       : "triage' or 'admin";
          char want[64];
          snprintf(want, sizeof want, "lacks the '%s' role", role);
          if (resp.status != 403 || !strstr(resp.body, "\"code\":\"forbidden\"") || !strstr(resp.body, want))
            fail_msg("%s %s with a %s key: %ld %s (want 403: %s)", r->method, path, kname, resp.status, resp.body,
                     want);
          refused[need == SRV_ROLE_INGEST ? 0 : need == SRV_ROLE_READ ? 1 : need == SRV_ROLE_ADMIN ? 2 : 3]++;
        }
        srvh_resp_free(&resp);
      }
    }
  assert_true(routes >= 8);
  /* Refused batches stored nothing: only the allowed ones are in the file (batch ids are committed
   * before the answer). */
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), stored);
  assert_true(refused[0] > 0 && refused[1] > 0);
  assert_int_equal(metric(s.port, "hud_auth_refused_total{role=\"ingest\"} "), refused[0]);
  assert_int_equal(metric(s.port, "hud_auth_refused_total{role=\"read\"} "), refused[1]);
  assert_int_equal(metric(s.port, "hud_auth_refused_total{role=\"admin\"} "), refused[2]);
  assert_int_equal(metric(s.port, "hud_auth_refused_total{role=\"triage\"} "), refused[3]);
  assert_int_equal(metric(s.port, "hud_ingest_rejected_batches_total{reason=\"auth\"} "), refused[0]);
  fprintf(stderr, "roles: %d routes x %zu keys; refused ingest %lld, read %lld, admin %lld; %d batches stored\n",
          routes, nkeys, refused[0], refused[1], refused[2], stored);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(&s);
}

/* Revoking one role's key (on the live server) leaves the other keys as they were. */
static void test_revoke_one_role_key(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char ingest[128], read[128], both[128];
  assert_int_equal(srvh_key_roles(&s, "prod", "ingest", ingest), 0);
  assert_int_equal(srvh_key_roles(&s, "prod", "read", read), 0);
  /* --role repeats and takes commas alike. */
  const char *args[] = {"keys", "create", "--env", "prod", "--role", "read", "--role", "ingest", NULL};
  char *out, *err;
  assert_int_equal(run_cli(&s, args, 30, &out, &err, NULL), 0);
  snprintf(both, sizeof both, "%.*s", (int)strcspn(out, "\n"), out);
  free(out);
  free(err);
  assert_int_equal(srvh_start(&s, NULL), 0);
  void *body;
  size_t len;
  batch_body(900, &body, &len);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", ingest, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);

  char id[32];
  snprintf(id, sizeof id, "%lld", atoll(read + 4));
  const char *revoke[] = {"keys", "revoke", id, NULL};
  assert_int_equal(run_cli(&s, revoke, 30, NULL, NULL, NULL), 0);
  assert_int_equal(req_status(s.port, "GET", "/v1/services", read), 401);
  assert_int_equal(req_status(s.port, "GET", "/v1/services", both), 200);
  assert_int_equal(req_status(s.port, "GET", "/v1/services", ingest), 403);
  batch_body(901, &body, &len);
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", ingest, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);
  batch_body(902, &body, &len);
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", both, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);

  const char *list[] = {"keys", "list", NULL};
  assert_int_equal(run_cli(&s, list, 30, &out, &err, NULL), 0);
  fprintf(stderr, "%s", out);
  assert_non_null(strstr(out, "ROLES"));
  assert_non_null(strstr(out, "ingest,read "));
  assert_non_null(strstr(out, "revoked"));
  free(out);
  free(err);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches"), 3);
  srvh_cleanup(&s);
}

/* `keys create` needs one or more known roles. */
static void test_create_needs_roles(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  const char *none[] = {"keys", "create", "--env", "prod", NULL};
  const char *bad[] = {"keys", "create", "--env", "prod", "--role", "write", NULL};
  const char *empty[] = {"keys", "create", "--env", "prod", "--role", "read,", NULL};
  char *out, *err;
  assert_int_equal(run_cli(&s, none, 30, &out, &err, NULL), 2);
  assert_non_null(strstr(err, "--role"));
  free(out);
  free(err);
  assert_int_equal(run_cli(&s, bad, 30, NULL, NULL, NULL), 2);
  assert_int_equal(run_cli(&s, empty, 30, NULL, NULL, NULL), 2);
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM api_keys"), -1); /* nothing created, not even the file */
  srvh_cleanup(&s);
}

/* A store written before roles (schema 1: api_keys without the column) opens, is upgraded, and its
 * keys keep their powers (ingest and read), listed as legacy. */
static void test_store_before_roles(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key_roles(&s, "prod", "admin", key), 0);
  sql_exec(s.db, "ALTER TABLE api_keys DROP COLUMN roles; UPDATE meta SET value = '1' WHERE key = 'schema_version'");
  assert_int_equal(srvh_sql_int(s.db, "SELECT COUNT(*) FROM pragma_table_info('api_keys') WHERE name = 'roles'"), 0);
  const char *list[] = {"keys", "list", NULL};
  char *out, *err;
  assert_int_equal(run_cli(&s, list, 30, &out, &err, NULL), 0);
  assert_non_null(strstr(out, "ingest,read (legacy)"));
  free(out);
  free(err);
  assert_int_equal(srvh_sql_int(s.db, "SELECT value FROM meta WHERE key = 'schema_version'"), SRV_STORE_SCHEMA_VERSION);
  assert_int_equal(srvh_start(&s, NULL), 0);
  void *body;
  size_t len;
  batch_body(77, &body, &len);
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "POST", "/v1/ingest", key, body, len, "gzip", &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  free(body);
  assert_int_equal(req_status(s.port, "GET", "/v1/services", key), 200);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_commands_on_live_store),
      cmocka_unit_test(test_second_serve_refuses),
      cmocka_unit_test(test_every_route_declares_one_role),
      cmocka_unit_test(test_every_route_every_role),
      cmocka_unit_test(test_revoke_one_role_key),
      cmocka_unit_test(test_create_needs_roles),
      cmocka_unit_test(test_store_before_roles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
