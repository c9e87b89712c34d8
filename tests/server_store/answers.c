/* Query answers compared (answers.h). */
#include "answers.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* Keys whose values are receive or detection times, or name the server (links). */
static int volatile_key(const char *k) {
  static const char *const keys[] = {"first_seen", "last_seen", "status_changed_at", "at", "found_since",
                                     "alerted_at", "detected_at", "links", NULL};
  for (int i = 0; keys[i]; i++)
    if (strcmp(k, keys[i]) == 0) return 1;
  return 0;
}

typedef struct cmp {
  const char *name_a, *name_b;
  char *why;
  size_t wcap;
} cmp;

/* Where A and B differ (PATH: where we are), into C->why; 1 when equal. */
static int same(const cmp *c, json_t *a, json_t *b, char *path, size_t cap) {
  if (json_is_number(a) && json_is_number(b)) {
    double x = json_number_value(a), y = json_number_value(b);
    if (x == y || fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y))) return 1;
    snprintf(c->why, c->wcap, "%s: %.17g vs %.17g", path, x, y);
    return 0;
  }
  if (json_typeof(a) != json_typeof(b)) {
    snprintf(c->why, c->wcap, "%s: types differ", path);
    return 0;
  }
  size_t len = strlen(path);
  if (json_is_object(a)) {
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
      if (volatile_key(k)) continue;
      snprintf(path + len, cap - len, ".%s", k);
      json_t *w = json_object_get(b, k);
      if (!w) {
        snprintf(c->why, c->wcap, "%s: missing in %s", path, c->name_b);
        return 0;
      }
      if (!same(c, v, w, path, cap)) return 0;
    }
    json_object_foreach(b, k, v) {
      if (!json_object_get(a, k)) {
        snprintf(c->why, c->wcap, "%s.%s: missing in %s", path, k, c->name_a);
        return 0;
      }
    }
    path[len] = 0;
    return 1;
  }
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b)) {
      snprintf(c->why, c->wcap, "%s: %zu vs %zu items", path, json_array_size(a), json_array_size(b));
      return 0;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
      snprintf(path + len, cap - len, "[%zu]", i);
      if (!same(c, json_array_get(a, i), json_array_get(b, i), path, cap)) return 0;
    }
    path[len] = 0;
    return 1;
  }
  if (json_equal(a, b)) return 1;
  snprintf(c->why, c->wcap, "%s: values differ", path);
  return 0;
}

int answers_same(json_t *a, json_t *b, const char *name_a, const char *name_b, char *why, size_t wcap) {
  cmp c = {name_a, name_b, why, wcap};
  char path[512] = "";
  return same(&c, a, b, path, sizeof path);
}

json_t *answers_request(int port, const char *key, const char *method, const char *path, const char *body,
                        long *status) {
  srvh_resp r;
  assert_int_equal(srvh_request(port, method, path, key, body, body ? strlen(body) : 0, NULL, &r), 0);
  *status = r.status;
  json_error_t e;
  json_t *j = r.body ? json_loads(r.body, 0, &e) : NULL;
  if (!j) fail_msg("%s: not JSON (%ld): %s", path, r.status, r.body ? r.body : "");
  srvh_resp_free(&r);
  return j;
}

json_t *answers_alike(const answers_server *ref, const answers_server *others, int n, const char *method,
                      const char *path, const char *body) {
  long s0;
  json_t *a = answers_request(ref->port, ref->key, method, path, body, &s0);
  if (s0 != 200) fail_msg("%s: %s answered %ld", path, ref->name, s0);
  for (int i = 0; i < n; i++) {
    long s;
    json_t *b = answers_request(others[i].port, others[i].key, method, path, body, &s);
    char why[700] = "";
    if (s != 200 || !answers_same(a, b, ref->name, others[i].name, why, sizeof why)) {
      char *ta = json_dumps(a, JSON_COMPACT), *tb = json_dumps(b, JSON_COMPACT);
      fprintf(stderr, "%s: %.3000s\n%s: %.3000s\n", ref->name, ta, others[i].name, tb);
      free(ta);
      free(tb);
      fail_msg("%s: %s: %s (status %ld)", path, others[i].name, s == 200 ? why : "not 200", s);
    }
    json_decref(b);
  }
  return a;
}
