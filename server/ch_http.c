/* ClickHouse over HTTP (ch_http.h). */
#define _GNU_SOURCE
#include "ch_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

struct srv_ch {
  char *base;     /* http://host:port/ */
  char *database;
  char *cluster;  /* ?cluster=NAME, or NULL */
  char *user, *password;
  long timeout_ms;
  CURL *easy;
  pthread_mutex_t mu;
};

static void ch_err(char *err, size_t len, const char *fmt, const char *arg) {
  if (err && len) snprintf(err, len, fmt, arg);
}

static int ch_name_ok(const char *p, const char *end) {
  if (p == end) return 0;
  for (; p < end; p++)
    if (!isalnum((unsigned char)*p) && *p != '_') return 0;
  return 1;
}

/* "host:port", "database" and the cluster's name out of clickhouse://host:port/database[?cluster=NAME]. */
static int ch_parse(const char *url, char **base, char **db, char **cluster, char *err, size_t errlen) {
  static const char scheme[] = "clickhouse://", copt[] = "?cluster=";
  if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0) {
    ch_err(err, errlen, "store: '%s' is not clickhouse://host:port/database", url ? url : "");
    return HUD_ECONFIG;
  }
  const char *hp = url + sizeof scheme - 1, *slash = strchr(hp, '/');
  const char *colon = slash ? memchr(hp, ':', (size_t)(slash - hp)) : NULL;
  if (!slash || !colon || colon == hp || slash - colon < 2 || !slash[1]) {
    ch_err(err, errlen, "store: '%s' needs a host, a port and a database (clickhouse://host:port/database)", url);
    return HUD_ECONFIG;
  }
  for (const char *p = colon + 1; p < slash; p++)
    if (!isdigit((unsigned char)*p)) {
      ch_err(err, errlen, "store: the port in '%s' is not a number", url);
      return HUD_ECONFIG;
    }
  const char *q = strchr(slash + 1, '?'), *dbend = q ? q : slash + 1 + strlen(slash + 1);
  if (!ch_name_ok(slash + 1, dbend)) {
    ch_err(err, errlen, "store: the database in '%s' may hold letters, digits and '_' only", url);
    return HUD_ECONFIG;
  }
  const char *name = q && strncmp(q, copt, sizeof copt - 1) == 0 ? q + sizeof copt - 1 : NULL;
  if (q && (!name || !ch_name_ok(name, name + strlen(name)))) {
    ch_err(err, errlen, "store: '%s': the only option is ?cluster=NAME (letters, digits and '_')", url);
    return HUD_ECONFIG;
  }
  if (asprintf(base, "http://%.*s/", (int)(slash - hp), hp) < 0) return HUD_ENOMEM;
  *db = strndup(slash + 1, (size_t)(dbend - slash - 1));
  *cluster = name ? strdup(name) : NULL;
  if (!*db || (name && !*cluster)) {
    free(*base);
    free(*db);
    free(*cluster);
    return HUD_ENOMEM;
  }
  return 0;
}

int srv_ch_new(const srv_ch_options *o, srv_ch **out, char *err, size_t errlen) {
  if (!o || !out) return HUD_EINVAL;
  *out = NULL;
  srv_ch *c = calloc(1, sizeof *c);
  if (!c) return HUD_ENOMEM;
  int rc = ch_parse(o->url, &c->base, &c->database, &c->cluster, err, errlen);
  if (rc == 0 && ((o->user && !(c->user = strdup(o->user))) || (o->password && !(c->password = strdup(o->password)))))
    rc = HUD_ENOMEM;
  if (rc == 0 && !(c->easy = curl_easy_init())) rc = HUD_ENOMEM;
  if (rc < 0) {
    srv_ch_free(c);
    return rc;
  }
  c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
  pthread_mutex_init(&c->mu, NULL);
  *out = c;
  return 0;
}

void srv_ch_free(srv_ch *c) {
  if (!c) return;
  if (c->easy) {
    curl_easy_cleanup(c->easy);
    pthread_mutex_destroy(&c->mu);
  }
  free(c->base);
  free(c->database);
  free(c->cluster);
  free(c->user);
  free(c->password);
  free(c);
}

const char *srv_ch_database(const srv_ch *c) { return c ? c->database : NULL; }

const char *srv_ch_cluster(const srv_ch *c) { return c ? c->cluster : NULL; }

static size_t ch_write(char *p, size_t size, size_t n, void *arg) {
  return fwrite(p, size, n, arg) * size;
}

/* The statement and the settings as the request's query string. With a cluster, an INSERT into a
 * Distributed table answers only once every shard it wrote to has stored its rows. */
static char *ch_url(srv_ch *c, int no_database, const char *sql) {
  char *q = curl_easy_escape(c->easy, sql, 0), *url = NULL;
  if (!q) return NULL;
  if (asprintf(&url, "%s?output_format_json_quote_64bit_integers=0&input_format_skip_unknown_fields=1%s%s%s&query=%s",
               c->base, c->cluster ? "&insert_distributed_sync=1" : "", no_database ? "" : "&database=",
               no_database ? "" : c->database, q) < 0)
    url = NULL;
  curl_free(q);
  return url;
}

/* ClickHouse's own words for a refused statement: its first line, without the stack. */
static void ch_refusal(long status, const char *body, char *err, size_t errlen) {
  if (!err || !errlen) return;
  size_t n = body ? strcspn(body, "\n") : 0;
  snprintf(err, errlen, "clickhouse: HTTP %ld: %.*s", status, (int)(n > 600 ? 600 : n), body ? body : "");
}

static int ch_perform(srv_ch *c, const char *url, const char *body, size_t len, FILE *sink, long *status,
                      char *err, size_t errlen) {
  CURL *e = c->easy;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ch_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 5000 ? c->timeout_ms : 5000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (c->user) curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
  if (c->password) curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
  CURLcode cc = curl_easy_perform(e);
  if (cc == CURLE_OPERATION_TIMEDOUT) {
    ch_err(err, errlen, "clickhouse: %s", curl_easy_strerror(cc));
    return HUD_ETIMEOUT;
  }
  if (cc != CURLE_OK) {
    ch_err(err, errlen, "clickhouse: %s", curl_easy_strerror(cc));
    return cc == CURLE_OUT_OF_MEMORY ? HUD_ENOMEM : HUD_ECONNECT;
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
  return 0;
}

int srv_ch_query(srv_ch *c, int no_database, const char *sql, const char *body, size_t len, char **out,
                 size_t *out_len, char *err, size_t errlen) {
  if (out) *out = NULL;
  if (out_len) *out_len = 0;
  if (!c || !sql || (len && !body)) return HUD_EINVAL;
  char *url = ch_url(c, no_database, sql), *buf = NULL;
  size_t n = 0;
  FILE *sink = url ? open_memstream(&buf, &n) : NULL;
  if (!sink) {
    free(url);
    return HUD_ENOMEM;
  }
  long status = 0;
  pthread_mutex_lock(&c->mu);
  int rc = ch_perform(c, url, body, len, sink, &status, err, errlen);
  pthread_mutex_unlock(&c->mu);
  free(url);
  if (fclose(sink) != 0 && rc == 0) rc = HUD_ENOMEM;
  /* curl succeeds on any status: a refused statement is a 500 (or 400, 404) with the exception text. */
  if (rc == 0 && status != 200) {
    ch_refusal(status, buf, err, errlen);
    rc = HUD_ESTORE;
  }
  if (rc == 0 && out) {
    *out = buf;
    if (out_len) *out_len = n;
    buf = NULL;
  }
  free(buf);
  return rc;
}
