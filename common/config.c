#include "hud/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hud/err.h"
#include "hud/str.h"

/* A config file is a handful of lines; anything bigger is a mistake (e.g. a path to a binary). */
#define CFG_MAX_FILE_BYTES (1 << 20)

typedef struct key_def {
  const char *name;
  hud_cfg_type type;
  const char *def;
  int64_t min, max;
  const char *env;
  const char *help;
} key_def;

static const key_def key_defs[HUD_CFG__COUNT] = {
#define HUD_CFG_DEF_(id, name, type, def, min, max, env, help) \
  {name, HUD_CFG_T_##type, def, (int64_t)(min), (int64_t)(max), env, help},
    HUD_CONFIG_KEYS(HUD_CFG_DEF_)
#undef HUD_CFG_DEF_
};

typedef struct cfg_value {
  char *text;   /* canonical text; NULL means the default */
  int64_t num;  /* INT value or BOOL 0/1 */
  hud_cfg_source src;
  int rank;     /* within the file layer: 0 top level, 1 the program's section */
  char *origin; /* NULL means "default" */
} cfg_value;

struct hud_config {
  char *program;
  cfg_value v[HUD_CFG__COUNT];
  char *path;      /* file read by the last load */
  char *flag_path; /* --config seen by hud_config_apply_args */
  char **warnings;
  size_t n_warnings;
  char err[512];
};

static void set_err(hud_config *cfg, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cfg->err, sizeof cfg->err, fmt, ap);
  va_end(ap);
}

static int add_warning(hud_config *cfg, char *msg) {
  if (!msg) return HUD_ENOMEM;
  char **w = realloc(cfg->warnings, (cfg->n_warnings + 1) * sizeof *w);
  if (!w) {
    free(msg);
    return HUD_ENOMEM;
  }
  cfg->warnings = w;
  cfg->warnings[cfg->n_warnings++] = msg;
  return 0;
}

static int parse_bool(const char *s, int64_t *out) {
  static const char *yes[] = {"true", "yes", "on", "1"};
  static const char *no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return -1;
}

/* Checks VALUE against key K. On success *NUM holds the INT/BOOL value. On failure writes a reason. */
static int check_value(int k, const char *value, int64_t *num, char *why, size_t whylen) {
  const key_def *d = &key_defs[k];
  *num = 0;
  switch (d->type) {
    case HUD_CFG_T_STR:
    case HUD_CFG_T_SECRET:
      return 0;
    case HUD_CFG_T_LIST:
      if (strchr(value, '\n')) {
        snprintf(why, whylen, "one value per line (repeat the key for more)");
        return -1;
      }
      return 0;
    case HUD_CFG_T_URL:
      if (value[0] == '\0') {
        snprintf(why, whylen, "must not be empty");
        return -1;
      }
      if (strncasecmp(value, "http://", 7) != 0 && strncasecmp(value, "https://", 8) != 0) {
        snprintf(why, whylen, "'%s' is not an http:// or https:// URL", value);
        return -1;
      }
      for (const char *p = value; *p; p++) {
        if ((unsigned char)*p <= ' ') {
          snprintf(why, whylen, "URL contains whitespace or a control character");
          return -1;
        }
      }
      return 0;
    case HUD_CFG_T_BOOL:
      if (parse_bool(value, num) != 0) {
        snprintf(why, whylen, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", value);
        return -1;
      }
      return 0;
    case HUD_CFG_T_INT: {
      const char *p = value;
      if (*p == '+' || *p == '-') p++;
      if (!isdigit((unsigned char)*p)) {
        snprintf(why, whylen, "'%s' is not an integer", value);
        return -1;
      }
      for (const char *q = p; *q; q++) {
        if (!isdigit((unsigned char)*q)) {
          snprintf(why, whylen, "'%s' is not an integer", value);
          return -1;
        }
      }
      errno = 0;
      long long v = strtoll(value, NULL, 10);
      if (errno == ERANGE || v < d->min || v > d->max) {
        snprintf(why, whylen, "%s is out of range [%" PRId64 ", %" PRId64 "]", value, d->min, d->max);
        return -1;
      }
      *num = v;
      return 0;
    }
  }
  return -1;
}

/* Stores VALUE (already checked) unless a higher layer holds the key. Takes ownership of ORIGIN. */
static int store(hud_config *cfg, int k, const char *value, int64_t num, hud_cfg_source src, int rank,
                 char *origin) {
  cfg_value *v = &cfg->v[k];
  if (v->src > src || (v->src == src && v->rank > rank)) {
    free(origin);
    return 0;
  }
  const key_def *d = &key_defs[k];
  char *text = NULL;
  if (d->type == HUD_CFG_T_BOOL) {
    text = hud_strdup(num ? "true" : "false");
  } else if (d->type == HUD_CFG_T_INT) {
    text = hud_asprintf("%" PRId64, num);
  } else if (d->type == HUD_CFG_T_LIST && v->src == src && v->rank == rank && v->text && v->text[0] && *value) {
    text = hud_asprintf("%s\n%s", v->text, value); /* the same layer: one more value */
  } else {
    text = hud_strdup(value);
  }
  if (!text || !origin) {
    free(text);
    free(origin);
    return HUD_ENOMEM;
  }
  free(v->text);
  free(v->origin);
  v->text = text;
  v->num = num;
  v->src = src;
  v->rank = rank;
  v->origin = origin;
  return 0;
}

static int set_default(hud_config *cfg, int k) {
  int64_t num = 0;
  char why[200];
  /* The table is ours; a default that fails its own check is a programming error caught by the tests. */
  if (check_value(k, key_defs[k].def, &num, why, sizeof why) != 0) return HUD_EINVAL;
  cfg->v[k].num = num;
  cfg->v[k].src = HUD_CFG_SRC_DEFAULT;
  return 0;
}

int hud_config_new(hud_config **out, const char *program) {
  if (!out) return HUD_EINVAL;
  *out = NULL;
  hud_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return HUD_ENOMEM;
  if (program && !(cfg->program = hud_strdup(program))) {
    free(cfg);
    return HUD_ENOMEM;
  }
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    int rc = set_default(cfg, k);
    if (rc != 0) {
      hud_config_free(cfg);
      return rc;
    }
  }
  *out = cfg;
  return 0;
}

void hud_config_free(hud_config *cfg) {
  if (!cfg) return;
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    free(cfg->v[k].text);
    free(cfg->v[k].origin);
  }
  for (size_t i = 0; i < cfg->n_warnings; i++) free(cfg->warnings[i]);
  free(cfg->warnings);
  free(cfg->program);
  free(cfg->path);
  free(cfg->flag_path);
  free(cfg);
}

int hud_config_key_by_name(const char *name) {
  if (!name) return -1;
  for (int k = 0; k < HUD_CFG__COUNT; k++)
    if (strcmp(key_defs[k].name, name) == 0) return k;
  return -1;
}

static int valid_key(hud_cfg_key key) { return (int)key >= 0 && key < HUD_CFG__COUNT; }

const char *hud_config_key_name(hud_cfg_key key) { return valid_key(key) ? key_defs[key].name : ""; }
const char *hud_config_key_env(hud_cfg_key key) { return valid_key(key) ? key_defs[key].env : NULL; }
const char *hud_config_key_help(hud_cfg_key key) { return valid_key(key) ? key_defs[key].help : ""; }
hud_cfg_type hud_config_key_type(hud_cfg_key key) {
  return valid_key(key) ? key_defs[key].type : HUD_CFG_T_STR;
}

const char *hud_config_source_name(hud_cfg_source src) {
  switch (src) {
    case HUD_CFG_SRC_DEFAULT: return "default";
    case HUD_CFG_SRC_FILE: return "file";
    case HUD_CFG_SRC_ENV: return "env";
    case HUD_CFG_SRC_FLAG: return "flag";
  }
  return "?";
}

const char *hud_config_str(const hud_config *cfg, hud_cfg_key key) {
  if (!cfg || !valid_key(key)) return "";
  return cfg->v[key].text ? cfg->v[key].text : key_defs[key].def;
}

int64_t hud_config_int(const hud_config *cfg, hud_cfg_key key) {
  if (!cfg || !valid_key(key) || key_defs[key].type != HUD_CFG_T_INT) return 0;
  return cfg->v[key].num;
}

bool hud_config_bool(const hud_config *cfg, hud_cfg_key key) {
  if (!cfg || !valid_key(key) || key_defs[key].type != HUD_CFG_T_BOOL) return false;
  return cfg->v[key].num != 0;
}

hud_cfg_source hud_config_source(const hud_config *cfg, hud_cfg_key key) {
  if (!cfg || !valid_key(key)) return HUD_CFG_SRC_DEFAULT;
  return cfg->v[key].src;
}

const char *hud_config_origin(const hud_config *cfg, hud_cfg_key key) {
  if (!cfg || !valid_key(key)) return "";
  return cfg->v[key].origin ? cfg->v[key].origin : "default";
}

const char *hud_config_path(const hud_config *cfg) { return cfg && cfg->path ? cfg->path : ""; }
const char *hud_config_error(const hud_config *cfg) { return cfg ? cfg->err : ""; }
size_t hud_config_warning_count(const hud_config *cfg) { return cfg ? cfg->n_warnings : 0; }
const char *hud_config_warning(const hud_config *cfg, size_t i) {
  return cfg && i < cfg->n_warnings ? cfg->warnings[i] : NULL;
}

/* Sets key K from SRC; LABEL prefixes error messages ("file:line", "HUD_URL", "--url"). */
static int set_checked(hud_config *cfg, int k, const char *value, hud_cfg_source src, int rank,
                       const char *label, char *origin) {
  char why[300];
  int64_t num;
  if (check_value(k, value, &num, why, sizeof why) != 0) {
    free(origin);
    set_err(cfg, "%s: %s: %s", label, key_defs[k].name, why);
    return HUD_ECONFIG;
  }
  return store(cfg, k, value, num, src, rank, origin);
}

int hud_config_set(hud_config *cfg, const char *key, const char *value, hud_cfg_source src) {
  if (!cfg || !key || !value || src < HUD_CFG_SRC_DEFAULT || src > HUD_CFG_SRC_FLAG) return HUD_EINVAL;
  cfg->err[0] = '\0';
  int k = hud_config_key_by_name(key);
  if (k < 0) {
    set_err(cfg, "unknown configuration key '%s'", key);
    return HUD_ENOTFOUND;
  }
  char *origin;
  if (src == HUD_CFG_SRC_FLAG) {
    origin = hud_asprintf("flag --%s", key);
    if (origin)
      for (char *p = origin + 7; *p; p++)
        if (*p == '_') *p = '-';
  } else {
    origin = hud_strdup(hud_config_source_name(src));
  }
  return set_checked(cfg, k, value, src, 0, hud_config_source_name(src), origin);
}

int hud_config_set_kv(hud_config *cfg, const char *kv, hud_cfg_source src) {
  if (!cfg || !kv) return HUD_EINVAL;
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) {
    set_err(cfg, "'%s' is not KEY=VALUE", kv);
    return HUD_ECONFIG;
  }
  size_t n = (size_t)(eq - kv);
  char *key = malloc(n + 1);
  if (!key) return HUD_ENOMEM;
  memcpy(key, kv, n);
  key[n] = '\0';
  for (char *p = key; *p; p++)
    if (*p == '-') *p = '_';
  int rc = hud_config_set(cfg, key, eq + 1, src);
  free(key);
  return rc;
}

/* ---- the file ---- */

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

static int is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

/* Parses the value part of a line in place. Unquoted: up to a '#' that follows whitespace.
 * Quoted: "..." with \" \\ \n \t escapes, then only an optional comment. */
static int parse_value(char *s, char **out, const char **why) {
  s = trim(s);
  if (*s != '"') {
    for (char *p = s; *p; p++) {
      if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
        *p = '\0';
        break;
      }
    }
    *out = trim(s);
    return 0;
  }
  char *w = s, *r = s + 1;
  for (;; r++) {
    if (*r == '\0') {
      *why = "unterminated quoted value";
      return -1;
    }
    if (*r == '"') break;
    if (*r == '\\') {
      r++;
      switch (*r) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        default:
          *why = "unknown escape in quoted value (use \\\" \\\\ \\n \\t)";
          return -1;
      }
      continue;
    }
    *w++ = *r;
  }
  char *rest = trim(r + 1);
  if (*rest != '\0' && *rest != '#') {
    *why = "text after the closing quote";
    return -1;
  }
  *w = '\0';
  *out = s;
  return 0;
}

static int parse_buffer(hud_config *cfg, const char *path, char *buf, size_t len) {
  int in_other_section = 0, rank = 0;
  size_t lineno = 0;
  char *line = buf, *end = buf + len;
  while (line < end) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl) *nl = '\0';
    lineno++;
    char *s = trim(line);
    line = nl ? nl + 1 : end;
    if (*s == '\0' || *s == '#') continue;
    if (*s == '[') {
      char *close = strchr(s, ']');
      char *rest = close ? trim(close + 1) : NULL;
      if (!close || (*rest != '\0' && *rest != '#')) {
        set_err(cfg, "%s:%zu: malformed section header (expected [name])", path, lineno);
        return HUD_ECONFIG;
      }
      *close = '\0';
      char *name = trim(s + 1);
      if (*name == '\0') {
        set_err(cfg, "%s:%zu: empty section name", path, lineno);
        return HUD_ECONFIG;
      }
      for (char *p = name; *p; p++) {
        if (!is_name_char(*p)) {
          set_err(cfg, "%s:%zu: invalid character in section name '%s'", path, lineno, name);
          return HUD_ECONFIG;
        }
      }
      in_other_section = !cfg->program || strcmp(name, cfg->program) != 0;
      rank = 1;
      continue;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
      set_err(cfg, "%s:%zu: expected 'key = value', '[section]' or '# comment'", path, lineno);
      return HUD_ECONFIG;
    }
    *eq = '\0';
    char *key = trim(s);
    if (*key == '\0') {
      set_err(cfg, "%s:%zu: missing key before '='", path, lineno);
      return HUD_ECONFIG;
    }
    for (char *p = key; *p; p++) {
      if (!is_name_char(*p)) {
        set_err(cfg, "%s:%zu: invalid key '%s' (letters, digits, '_', '-', '.')", path, lineno, key);
        return HUD_ECONFIG;
      }
    }
    char *value;
    const char *why = NULL;
    if (parse_value(eq + 1, &value, &why) != 0) {
      set_err(cfg, "%s:%zu: %s", path, lineno, why);
      return HUD_ECONFIG;
    }
    int k = hud_config_key_by_name(key);
    if (k < 0) {
      int rc = add_warning(cfg, hud_asprintf("%s:%zu: unknown key '%s' ignored", path, lineno, key));
      if (rc != 0) return rc;
      continue;
    }
    char label[600];
    snprintf(label, sizeof label, "%s:%zu", path, lineno);
    int64_t num;
    char why2[300];
    /* Values in other programs' sections are checked too, so a typo fails in every program alike. */
    if (check_value(k, value, &num, why2, sizeof why2) != 0) {
      set_err(cfg, "%s: %s: %s", label, key, why2);
      return HUD_ECONFIG;
    }
    if (in_other_section) continue;
    char *origin = hud_asprintf("file %s", label);
    int rc = store(cfg, k, value, num, HUD_CFG_SRC_FILE, rank, origin);
    if (rc != 0) return rc;
  }
  return 0;
}

int hud_config_load_file(hud_config *cfg, const char *path, bool required) {
  if (!cfg || !path) return HUD_EINVAL;
  cfg->err[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT && !required) return 0;
    set_err(cfg, "%s: %s", path, strerror(errno));
    return HUD_ECONFIG;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    set_err(cfg, "%s: not a regular file", path);
    return HUD_ECONFIG;
  }
  if (st.st_size > CFG_MAX_FILE_BYTES) {
    fclose(f);
    set_err(cfg, "%s: larger than %d bytes", path, CFG_MAX_FILE_BYTES);
    return HUD_ECONFIG;
  }
  /* One byte more than the size seen, so a file that grew meanwhile is noticed below. */
  size_t cap = (size_t)st.st_size + 1;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(f);
    return HUD_ENOMEM;
  }
  size_t len = fread(buf, 1, cap, f);
  int read_err = ferror(f);
  fclose(f);
  if (read_err) {
    free(buf);
    set_err(cfg, "%s: read error", path);
    return HUD_ECONFIG;
  }
  if (len == cap) {
    free(buf);
    set_err(cfg, "%s: changed while being read", path);
    return HUD_ECONFIG;
  }
  if (memchr(buf, '\0', len)) {
    free(buf);
    set_err(cfg, "%s: contains a NUL byte (not a text file)", path);
    return HUD_ECONFIG;
  }
  buf[len] = '\0';
  /* Editors on some systems start UTF-8 files with a byte-order mark. */
  size_t skip = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  char *p = hud_strdup(path);
  if (!p) {
    free(buf);
    return HUD_ENOMEM;
  }
  free(cfg->path);
  cfg->path = p;
  int rc = parse_buffer(cfg, path, buf + skip, len - skip);
  free(buf);
  if (rc == 0 && (st.st_mode & 0044) && cfg->v[HUD_CFG_KEY].src == HUD_CFG_SRC_FILE &&
      cfg->v[HUD_CFG_KEY].text && cfg->v[HUD_CFG_KEY].text[0])
    rc = add_warning(cfg, hud_asprintf("%s: holds the API key but is readable by other users (chmod 600)", path));
  return rc;
}

int hud_config_load_env(hud_config *cfg) {
  if (!cfg) return HUD_EINVAL;
  cfg->err[0] = '\0';
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    const char *name = key_defs[k].env;
    if (!name) continue;
    const char *val = getenv(name);
    /* An empty variable counts as unset, so `HUD_URL= cmd` falls back to the file. */
    if (!val || !*val) continue;
    int rc = set_checked(cfg, k, val, HUD_CFG_SRC_ENV, 0, name, hud_asprintf("env %s", name));
    if (rc != 0) return rc;
  }
  return 0;
}

/* The default file path, or NULL when there is no home to find it in. Caller frees. */
static char *default_path(void) {
  const char *xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && xdg[0] == '/') return hud_asprintf("%s/hud/config", xdg);
  const char *home = getenv("HOME");
  if (!home || home[0] != '/') {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  if (!home || !*home) return NULL;
  return hud_asprintf("%s/.config/hud/config", home);
}

int hud_config_load(hud_config *cfg, const char *path) {
  if (!cfg) return HUD_EINVAL;
  int rc;
  if (path) {
    rc = hud_config_load_file(cfg, path, true);
  } else if (cfg->flag_path) {
    rc = hud_config_load_file(cfg, cfg->flag_path, true);
  } else if (getenv("HUD_CONFIG") && *getenv("HUD_CONFIG")) {
    rc = hud_config_load_file(cfg, getenv("HUD_CONFIG"), true);
  } else {
    char *p = default_path();
    rc = p ? hud_config_load_file(cfg, p, false) : 0;
    free(p);
  }
  if (rc != 0) return rc;
  return hud_config_load_env(cfg);
}

/* ---- flags ---- */

/* Matches "--NAME" (dashes for underscores) against the key table. */
static int flag_key(const char *arg, size_t len) {
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    const char *n = key_defs[k].name;
    if (strlen(n) != len) continue;
    size_t i = 0;
    for (; i < len; i++) {
      char c = n[i] == '_' ? '-' : n[i];
      if (arg[i] != c) break;
    }
    if (i == len) return k;
  }
  return -1;
}

int hud_config_apply_args(hud_config *cfg, int *argc, char **argv) {
  if (!cfg || !argc || !argv) return HUD_EINVAL;
  cfg->err[0] = '\0';
  int n = *argc, out = n > 0 ? 1 : 0, i = 1;
  for (; i < n; i++) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) break;
    if (strncmp(a, "--", 2) != 0) {
      argv[out++] = a;
      continue;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int is_config = nlen == 6 && strncmp(name, "config", 6) == 0;
    int is_set = nlen == 3 && strncmp(name, "set", 3) == 0;
    int k = (is_config || is_set) ? -1 : flag_key(name, nlen);
    if (!is_config && !is_set && k < 0) {
      argv[out++] = a;
      continue;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
      if (k >= 0 && key_defs[k].type == HUD_CFG_T_BOOL &&
          (i + 1 >= n || strncmp(argv[i + 1], "--", 2) == 0 || parse_bool(argv[i + 1], &(int64_t){0}) != 0)) {
        val = "true";
      } else if (i + 1 < n) {
        val = argv[++i];
      } else {
        set_err(cfg, "--%.*s needs a value", (int)nlen, name);
        return HUD_ECONFIG;
      }
    }
    int rc;
    if (is_config) {
      char *p = hud_strdup(val);
      if (!p) return HUD_ENOMEM;
      free(cfg->flag_path);
      cfg->flag_path = p;
      rc = 0;
    } else if (is_set) {
      rc = hud_config_set_kv(cfg, val, HUD_CFG_SRC_FLAG);
      if (rc == HUD_ENOTFOUND) rc = HUD_ECONFIG;
    } else {
      rc = hud_config_set(cfg, key_defs[k].name, val, HUD_CFG_SRC_FLAG);
    }
    if (rc != 0) return rc;
  }
  for (; i < n; i++) argv[out++] = argv[i];
  if (out < n) argv[out] = NULL;
  *argc = out;
  return 0;
}

/* A list as one line per value, so the dump reads back to the same list. */
static void dump_list(const hud_config *cfg, int k, const char *v, FILE *out) {
  while (*v) {
    size_t n = strcspn(v, "\n");
    fprintf(out, "%s = \"", key_defs[k].name);
    for (size_t i = 0; i < n; i++) {
      if (v[i] == '"' || v[i] == '\\') fputc('\\', out);
      if (v[i] == '\t') fputs("\\t", out);
      else fputc(v[i], out);
    }
    fprintf(out, "\"  # %s\n", hud_config_origin(cfg, (hud_cfg_key)k));
    v += n + (v[n] == '\n');
  }
}

void hud_config_dump(const hud_config *cfg, FILE *out, bool show_secrets) {
  if (!cfg || !out) return;
  if (cfg->path) fprintf(out, "# file: %s\n", cfg->path);
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    const char *v = hud_config_str(cfg, (hud_cfg_key)k);
    if (key_defs[k].type == HUD_CFG_T_LIST && *v) {
      dump_list(cfg, k, v, out);
      continue;
    }
    if (key_defs[k].type == HUD_CFG_T_SECRET && !show_secrets && *v) v = "********";
    /* Quote values that would not read back verbatim. */
    int quote = *v == '\0' || strpbrk(v, "#\"\\\n\t") || v[0] == ' ' || v[strlen(v) - 1] == ' ';
    fprintf(out, "%s = ", key_defs[k].name);
    if (quote) {
      fputc('"', out);
      for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', out);
        if (*p == '\n') fputs("\\n", out);
        else if (*p == '\t') fputs("\\t", out);
        else fputc(*p, out);
      }
      fputc('"', out);
    } else {
      fputs(v, out);
    }
    fprintf(out, "  # %s\n", hud_config_origin(cfg, (hud_cfg_key)k));
  }
}

void hud_config_print_flags(FILE *out) {
  static const char *metavar[] = {"TEXT", "SECRET", "URL", "N", "BOOL", "VALUE"};
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    char flag[80];
    int n = snprintf(flag, sizeof flag, "--%s %s", key_defs[k].name, metavar[key_defs[k].type]);
    for (int i = 2; i < n && flag[i] != ' '; i++)
      if (flag[i] == '_') flag[i] = '-';
    fprintf(out, "  %-32s %s", flag, key_defs[k].help);
    if (key_defs[k].env) fprintf(out, " [%s]", key_defs[k].env);
    if (key_defs[k].def[0] && key_defs[k].type != HUD_CFG_T_SECRET) fprintf(out, " (default %s)", key_defs[k].def);
    fputc('\n', out);
  }
  fprintf(out, "  %-32s %s\n", "--set KEY=VALUE", "Set any configuration key (docs/config.md).");
  fprintf(out, "  %-32s %s\n", "--config PATH", "Read this file instead of ~/.config/hud/config [HUD_CONFIG].");
}
