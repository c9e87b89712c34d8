/* Webhook bodies (generic JSON and Slack-compatible) and their HMAC signature. This is the alerts'
 * transport edge: the only place that builds their JSON. Schema: docs/alerts.md. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "hud/err.h"

/* Sets KEY to a string, or null when V is NULL (consumers see every key of the schema). */
static void set_str(json_t *o, const char *key, const char *v) {
  json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static void set_num(json_t *o, const char *key, double v) {
  json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static json_t *tristate(int v) { return v < 0 ? json_null() : json_boolean(v > 0); }

static void iso8601(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *generic_body(const srv_alert_issue *is, const char *delivery_id) {
  char event[64], seen[32];
  snprintf(event, sizeof event, "issue.%s", is->event);
  iso8601(is->first_seen_ms, seen);
  json_t *cause = json_object(), *cmp = json_object(), *eff = json_object(), *links = json_object();
  set_str(cause, "function_id", is->function_id);
  set_str(cause, "function", is->function_name);
  set_str(cause, "module", is->module_path);
  set_str(cause, "exception_type", is->exception_type);
  set_str(cmp, "kind", is->comparison);
  set_str(cmp, "baseline", is->base_label);
  set_str(cmp, "candidate", is->cand_label);
  set_num(eff, "ms_per_request", is->effect_ms_per_request);
  set_num(eff, "pct", is->effect_pct);
  json_object_set_new(eff, "from_zero", json_boolean(isinf(is->effect_pct) && is->effect_pct > 0));
  set_str(links, "vscode", is->link_vscode);
  set_str(links, "tui", is->link_tui);
  set_str(links, "api", is->link_api);
  json_t *issue = json_object();
  set_str(issue, "id", is->issue_id);
  set_str(issue, "kind", is->kind);
  set_str(issue, "headline", is->headline);
  set_str(issue, "env", is->env);
  set_str(issue, "service", is->service);
  json_object_set_new(issue, "root_cause", cause);
  json_object_set_new(issue, "comparison", cmp);
  json_object_set_new(issue, "effect", eff);
  set_str(issue, "top_flow", is->top_flow);
  json_object_set_new(issue, "code_changed", tristate(is->code_changed));
  json_object_set_new(issue, "first_seen", json_string(seen));
  json_object_set_new(issue, "first_seen_ms", json_integer(is->first_seen_ms));
  json_t *root = json_object();
  json_object_set_new(root, "schema", json_string("hud.alert.v1"));
  json_object_set_new(root, "event", json_string(event));
  set_str(root, "delivery_id", delivery_id);
  json_object_set_new(root, "issue", issue);
  json_object_set_new(root, "links", links);
  return root;
}

/* Slack mrkdwn: &, < and > are control characters; everything else is shown as is. */
static void md_escape(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '&') fputs("&amp;", f);
    else if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else fputc(*s, f);
  }
}

/* TEXT (malloc'ed, taken) as a Slack mrkdwn text object. */
static json_t *mrkdwn(char *text) {
  json_t *o = json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text ? text : "");
  free(text);
  return o;
}

static char *headline_text(const srv_alert_issue *is) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return NULL;
  const char *what = strcmp(is->event, "reopened") == 0    ? "Reopened issue"
                     : strcmp(is->event, "opened") == 0    ? "New issue"
                     : strcmp(is->event, "regressed") == 0 ? "Regressed again"
                                                           : "Test alert";
  fprintf(f, "*%s* in `", what);
  md_escape(f, is->service);
  fputs("` (", f);
  md_escape(f, is->env);
  fputs(")\n*", f);
  md_escape(f, is->headline);
  fputc('*', f);
  fclose(f);
  return buf;
}

static char *context_text(const srv_alert_issue *is) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return NULL;
  const char *sep = "";
  if (is->function_name) {
    fputs("root cause `", f);
    md_escape(f, is->function_name);
    fputc('`', f);
    if (is->module_path) fputs(" in `", f), md_escape(f, is->module_path), fputc('`', f);
    sep = " · ";
  }
  if (is->exception_type) {
    fprintf(f, "%s`", sep);
    md_escape(f, is->exception_type);
    fputc('`', f);
    sep = " · ";
  }
  if (is->base_label && is->cand_label) {
    fprintf(f, "%s", sep);
    md_escape(f, is->base_label);
    fputs(" → ", f);
    md_escape(f, is->cand_label);
    if (is->comparison) fputs(" (", f), md_escape(f, is->comparison), fputc(')', f);
    sep = " · ";
  }
  if (isfinite(is->effect_ms_per_request)) {
    fprintf(f, "%s%+.2f ms per request", sep, is->effect_ms_per_request);
    if (isfinite(is->effect_pct)) fprintf(f, " (%+.0f%%)", is->effect_pct);
    if (is->top_flow) fputs(" in ", f), md_escape(f, is->top_flow);
    sep = " · ";
  }
  if (is->code_changed >= 0) fprintf(f, "%s%s", sep, is->code_changed ? "code changed" : "code unchanged");
  fclose(f);
  return buf;
}

static json_t *link_button(const char *text, const char *url) {
  return json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "button", "text", "type", "plain_text", "text", text, "url",
                   url);
}

static json_t *slack_body(const srv_alert_issue *is) {
  char *fallback = NULL;
  if (asprintf(&fallback, "[%s] %s: %s", is->env, is->service, is->headline) < 0) return NULL;
  json_t *blocks = json_array();
  json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(headline_text(is))));
  json_t *ctx = json_array();
  json_array_append_new(ctx, mrkdwn(context_text(is)));
  json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "context", "elements", ctx));
  if (is->link_tui) {
    char *t = NULL;
    if (asprintf(&t, "```%s```", is->link_tui) >= 0)
      json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(t)));
  }
  /* Buttons open http(s) links; the vscode:// link goes in text, where the desktop client opens it. */
  if (is->link_vscode) {
    char *t = NULL;
    if (asprintf(&t, "<%s|Open in VS Code>", is->link_vscode) >= 0)
      json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(t)));
  }
  if (is->link_api && (strncmp(is->link_api, "http://", 7) == 0 || strncmp(is->link_api, "https://", 8) == 0))
    json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "actions", "elements",
                                            link_button("Issue (API)", is->link_api)));
  json_t *root = json_pack("{s:s, s:o}", "text", fallback, "blocks", blocks);
  free(fallback);
  return root;
}

int srv_alert_body(const srv_alert_issue *is, srv_alert_format format, const char *delivery_id, char **out) {
  *out = NULL;
  if (!is || !is->env || !is->service || !is->event || !is->issue_id || !is->headline) return HUD_EINVAL;
  json_t *root = format == SRV_ALERT_SLACK ? slack_body(is) : generic_body(is, delivery_id);
  if (!root) return HUD_ENOMEM;
  /* 12 significant digits: 4.13, not 4.1299999999999999. */
  *out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(12));
  json_decref(root);
  return *out ? 0 : HUD_ENOMEM;
}

int srv_alert_sign(const char *secret, int64_t timestamp, const char *body, size_t body_len, char out[72]) {
  char ts[24];
  int tl = snprintf(ts, sizeof ts, "%lld.", (long long)timestamp);
  unsigned char *msg = malloc((size_t)tl + body_len + 1);
  if (!msg) return HUD_ENOMEM;
  memcpy(msg, ts, (size_t)tl);
  memcpy(msg + tl, body, body_len);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  int ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, (size_t)tl + body_len, mac, &mac_len) != NULL;
  free(msg);
  if (!ok || mac_len != 32) return HUD_EIO;
  memcpy(out, "sha256=", 7);
  for (unsigned i = 0; i < mac_len; i++) snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
  return 0;
}
