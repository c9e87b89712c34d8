/* `ENV=URL[,format=slack|json][,secret-file=PATH][,secret-env=VAR]`: a webhook as written in a flag or the
 * config file. Secrets are never written in the spec itself, so they stay out of `ps` and shell history. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts.h"
#include "hud/err.h"

#define SECRET_MAX 4096

static int fail(char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return HUD_EINVAL;
}

static int env_name_ok(const char *s, size_t n) {
  if (n == 1 && s[0] == '*') return 1;
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.'))
      return 0;
  }
  return 1;
}

/* The first line of PATH, without its line end. */
static int read_secret_file(const char *path, char **out, char *why, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(why, len, "secret-file %s: cannot be read", path);
  char buf[SECRET_MAX + 2];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  buf[strcspn(buf, "\r\n")] = 0;
  if (!buf[0]) return fail(why, len, "secret-file %s: empty", path);
  if (strlen(buf) > SECRET_MAX) return fail(why, len, "secret-file %s: longer than %d bytes", path, SECRET_MAX);
  *out = strdup(buf);
  return *out ? 0 : HUD_ENOMEM;
}

static int read_secret_env(const char *var, char **out, char *why, size_t len) {
  const char *v = getenv(var);
  if (!v || !*v) return fail(why, len, "secret-env %s: not set", var);
  *out = strdup(v);
  return *out ? 0 : HUD_ENOMEM;
}

/* One `key=value` option after the URL. */
static int parse_option(char *opt, srv_alert_target *t, char *why, size_t len) {
  char *eq = strchr(opt, '=');
  if (!eq) return fail(why, len, "'%s': expected format=..., secret-file=... or secret-env=...", opt);
  *eq = 0;
  const char *v = eq + 1;
  if (strcmp(opt, "format") == 0) {
    if (strcasecmp(v, "json") == 0) t->format = SRV_ALERT_JSON;
    else if (strcasecmp(v, "slack") == 0) t->format = SRV_ALERT_SLACK;
    else return fail(why, len, "format '%s': expected json or slack", v);
    return 0;
  }
  int is_file = strcmp(opt, "secret-file") == 0;
  if (is_file || strcmp(opt, "secret-env") == 0) {
    if (t->secret) return fail(why, len, "more than one secret");
    return is_file ? read_secret_file(v, &t->secret, why, len) : read_secret_env(v, &t->secret, why, len);
  }
  return fail(why, len, "unknown option '%s' (format, secret-file, secret-env)", opt);
}

/* The URL ends at the first ",format=", ",secret-file=" or ",secret-env=". */
static char *options_start(char *url) {
  static const char *const keys[] = {",format=", ",secret-file=", ",secret-env="};
  char *first = NULL;
  for (size_t i = 0; i < 3; i++) {
    char *p = strstr(url, keys[i]);
    if (p && (!first || p < first)) first = p;
  }
  return first;
}

static int parse_into(char *s, srv_alert_target *t, char *why, size_t len) {
  char *eq = strchr(s, '=');
  if (!eq || !env_name_ok(s, (size_t)(eq - s)))
    return fail(why, len, "expected ENV=URL (ENV: letters, digits, '_', '-', '.', or '*' for every environment)");
  *eq = 0;
  char *url = eq + 1, *opts = options_start(url);
  if (opts) *opts++ = 0;
  if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
    return fail(why, len, "'%s' is not an http:// or https:// URL", url);
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ') return fail(why, len, "URL contains a blank or a control character");
  if (!(t->env = strdup(s)) || !(t->url = strdup(url))) return HUD_ENOMEM;
  while (opts && *opts) {
    char *comma = strchr(opts, ',');
    if (comma) *comma = 0;
    int rc = parse_option(opts, t, why, len);
    if (rc < 0) return rc;
    opts = comma ? comma + 1 : NULL;
  }
  return 0;
}

int srv_alert_target_parse(const char *spec, srv_alert_target *out, char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  if (why && whylen) why[0] = 0;
  char *s = spec ? strdup(spec) : NULL;
  if (!s) return spec ? HUD_ENOMEM : HUD_EINVAL;
  int rc = parse_into(s, out, why, whylen);
  free(s);
  if (rc < 0) srv_alert_target_clear(out);
  return rc;
}

void srv_alert_target_clear(srv_alert_target *t) {
  if (!t) return;
  free(t->env);
  free(t->url);
  if (t->secret) explicit_bzero(t->secret, strlen(t->secret));
  free(t->secret);
  memset(t, 0, sizeof *t);
}

void srv_alert_target_origin(const srv_alert_target *t, char *out, size_t len) {
  const char *url = t->url ? t->url : "", *p = strstr(url, "://");
  p = p ? p + 3 : url;
  snprintf(out, len, "%.*s", (int)((p - url) + (ptrdiff_t)strcspn(p, "/?#")), url);
}
