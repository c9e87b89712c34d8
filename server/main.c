/* hud-server: serve (ingest + query API) and API key management. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alerts.h"
#include "auth.h"
#include "http.h"
#include "hud/cli.h"
#include "hud/config.h"
#include "issues_runner.h"
#include "hud/err.h"
#include "store.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: hud-server [serve] [--db PATH] [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
          "                  [--rollup-after DUR] [--retention DUR] [--threads N] [--maintain-every DUR]\n"
          "                  [--fold-every DUR] [--fold-memory MB] [--ingest-workers N] [--body-memory MB]\n"
          "                  [--header-timeout DUR] [--max-connections N] [--max-per-ip N]\n"
          "                  [--detect-interval DUR] [--detect-window DUR] [--resolve-after DUR]\n"
          "                  [--alert-confirm DUR] [--alert-cooldown DUR] [--issue-retention DUR]\n"
          "                  [--webhook ENV=URL[,format=slack|json][,secret-file=PATH]]... [--public-url URL]\n"
          "                  [--config PATH]\n"
          "       hud-server webhook-test [--webhook SPEC]... [--config PATH] [--public-url URL]\n"
          "       hud-server keys create --env ENV[,ENV...] --role ROLE[,ROLE...] [--label TEXT] [--db PATH]\n"
          "       hud-server keys list [--db PATH]\n"
          "       hud-server keys revoke ID [--db PATH]\n"
          "       hud-server --help | --version\n"
          "\n"
          "Backend: ingest from sensors, storage, query API, regression detection.\n"
          "  --db PATH          SQLite file (default $XDG_STATE_HOME/hud/hud.db, ~/.local/state/hud/hud.db)\n"
          "  --store LOCATION   the store: a SQLite file (as --db) or clickhouse://HOST:PORT/DATABASE\n"
          "  --listen ADDR      IPv4 address and port (default 127.0.0.1:7700; port 0 = any free port)\n"
          "  --rollup-after DUR per-minute slices older than this become hourly (default 24h)\n"
          "  --retention DUR    data older than this is deleted (default 30d; 0 = keep forever)\n"
          "  --threads N        query worker threads, 1..29 (default 4; each gets a read connection, and\n"
          "                     three more serve key checks, /healthz and maintenance)\n"
          "  --maintain-every DUR  how often rollup and retention run (default 5m)\n"
          "  --fold-every DUR   acknowledged batches are merged in memory and written to the tables this\n"
          "                     often (default 5s); queries read the tables, so they are at most this far\n"
          "                     behind, unless they send 'Cache-Control: no-cache' (then they wait for it)\n"
          "  --fold-memory MB   ... or as soon as the merged batches take half this memory (default 256;\n"
          "                     ingest waits beyond it); batches being decoded get half as much more, the\n"
          "                     writer's page cache a quarter (at most 64). Less memory, fewer merges: more\n"
          "                     disk work. docs/architecture.md (Memory) has the whole account\n"
          "  --ingest-workers N ingest batches decoded at once (default 2; more wait, or get 429)\n"
          "  --body-memory MB   request bodies held at once, all connections together (default 64, at least\n"
          "                     8); a body beyond it is answered 429 before it is read\n"
          "  --header-timeout DUR  a request's headers must arrive within this (default 30s); counted from\n"
          "                     the connection's start or its previous request's end (idle connections close)\n"
          "  --max-connections N  open connections at most (default 1000)\n"
          "  --max-per-ip N     open connections from one address at most (default 128; 0 = no limit)\n"
          "  --detect-interval DUR  detection runs after the data of a service is folded, at most this\n"
          "                     often per service (default 5s; a bare number is milliseconds)\n"
          "  --detect-window DUR  each side of a comparison reads at most its newest DUR of data (default 24h)\n"
          "  --resolve-after DUR  an issue whose metric returned resolves only once no pass found it for\n"
          "                     this long (default 10m; 0 = at once)\n"
          "  --alert-confirm DUR  an issue other than a new exception is alerted once passes found it over\n"
          "                     this long (default 60s; 0 = at first detection)\n"
          "  --alert-cooldown DUR  a reopen this soon after the issue's last alert is stored, not alerted\n"
          "                     (default 1h; 0 = always alerted)\n"
          "  --issue-retention DUR  resolved issues unchanged for this long are deleted with their history\n"
          "                     (default 90d; 0 = keep forever); open, acknowledged and muted ones are kept\n"
          "  --webhook SPEC     send alerts (new, reopened and regressed issues) of environment ENV ('*':\n"
          "                     all) to URL;\n"
          "                     repeatable; format json (default) or slack; requests are signed with the\n"
          "                     secret read from secret-file=PATH (or secret-env=VAR); docs/alerts.md.\n"
          "                     Replaces the config file's `webhook` lines ([server] section)\n"
          "  --public-url URL   this server as users reach it, for links in alerts (default: the listen\n"
          "                     address) [HUD_PUBLIC_URL]; also the links of issues (API, hud-tui)\n"
          "  --config PATH      configuration file (default $HUD_CONFIG, ~/.config/hud/config); its [server]\n"
          "                     section may set webhook, public_url, resolve_after, alert_confirm,\n"
          "                     alert_cooldown and issue_retention (flags win)\n"
          "webhook-test sends one sample alert to each webhook and says whether it was delivered.\n"
          "DUR is a number with a unit s, m, h or d (e.g. 90s, 24h, 30d).\n"
          "On start it prints \"listening on HOST:PORT\"; SIGTERM/SIGINT stop it gracefully. One server\n"
          "per database (it holds PATH.lock); key commands work while it runs and apply at once.\n"
          "Key roles: ingest (sensors: POST /v1/ingest), read (the query API: editors, hud-tui),\n"
          "triage (read, and acknowledge or mute issues), admin (API routes that change the server).\n"
          "--env and --role repeat or take commas.\n");
}

static int parse_duration(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || v < 0) return HUD_EINVAL;
  int64_t mul = 1;
  if (*end == 's' || *end == 0) mul = 1;
  else if (*end == 'm') mul = 60;
  else if (*end == 'h') mul = 3600;
  else if (*end == 'd') mul = 86400;
  else return HUD_EINVAL;
  if (*end && end[1]) return HUD_EINVAL;
  if (v > INT64_MAX / mul) return HUD_ERANGE;
  *out = v * mul;
  return 0;
}

/* A duration in milliseconds: "500ms", "5s", "2m"; a bare number is milliseconds. */
static int parse_ms(const char *s, int64_t *out) {
  size_t n = strlen(s);
  if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
    char buf[32];
    if (n - 2 >= sizeof buf) return HUD_EINVAL;
    snprintf(buf, sizeof buf, "%.*s", (int)(n - 2), s);
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end == buf || *end || v < 0) return HUD_EINVAL;
    *out = v;
    return 0;
  }
  if (n && s[n - 1] >= '0' && s[n - 1] <= '9') {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0) return HUD_EINVAL;
    *out = v;
    return 0;
  }
  int64_t sec;
  int rc = parse_duration(s, &sec);
  if (rc < 0) return rc;
  if (sec > INT64_MAX / 1000) return HUD_ERANGE;
  *out = sec * 1000;
  return 0;
}

static int mkdirs(const char *dir) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0700) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* The default database path; creates its directory. */
static char *default_db(void) {
  const char *state = getenv("XDG_STATE_HOME");
  char dir[4096];
  if (state && *state) {
    snprintf(dir, sizeof dir, "%s/hud", state);
  } else {
    const char *home = getenv("HOME");
    snprintf(dir, sizeof dir, "%s/.local/state/hud", home ? home : ".");
  }
  if (mkdirs(dir) < 0) {
    fprintf(stderr, "hud-server: cannot create %s: %s\n", dir, strerror(errno));
    return NULL;
  }
  char *path;
  return asprintf(&path, "%s/hud.db", dir) < 0 ? NULL : path;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *nb = realloc(buf, cap);
      if (!nb) break;
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0) break;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

typedef struct opts {
  const char *db, *listen, *tls_cert, *tls_key, *label;
  int64_t detect_interval_ms, detect_window;
  char envs[256], roles[64];
  int64_t rollup_after, retention, maintain_every;
  size_t fold_memory_mb;
  int64_t fold_every;
  int threads;
  char *owned_db;
  srv_http_options http; /* the HTTP layer's limits (--ingest-workers ... --max-per-ip) */
  const char *config, *public_url;
  const char *webhooks[64]; /* --webhook specs, in order */
  const char *lifecycle[4]; /* --resolve-after, --alert-confirm, --alert-cooldown, --issue-retention */
  int n_webhooks;
} opts;

/* --NAME N for an integer flag within LO..HI; 0 or 2 (usage error, reported). */
static int int_flag(const char *name, const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < lo || n > hi) {
    fprintf(stderr, "hud-server: %s must be %ld..%ld\n", name, lo, hi);
    return 2;
  }
  *out = n;
  return 0;
}

/* The issue lifecycle's durations: flags, and their config keys in the same order. */
static const char *const k_lifecycle_flags[4] = {"--resolve-after", "--alert-confirm", "--alert-cooldown",
                                                 "--issue-retention"};
static const hud_cfg_key k_lifecycle_keys[4] = {HUD_CFG_RESOLVE_AFTER, HUD_CFG_ALERT_CONFIRM, HUD_CFG_ALERT_COOLDOWN,
                                                HUD_CFG_ISSUE_RETENTION};

static int lifecycle_flag(const char *a) {
  for (int k = 0; k < 4; k++)
    if (strcmp(a, k_lifecycle_flags[k]) == 0) return k;
  return -1;
}

/* Parses the flags from ARGV[I]; positional arguments go to POS. */
static int parse_flags(int argc, char **argv, int i, opts *o, const char **pos, int *npos, int maxpos) {
  for (; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                 \
  do {                                                                          \
    if (!v) {                                                                   \
      fprintf(stderr, "hud-server: %s needs a value\n", a);                     \
      return 2;                                                                 \
    }                                                                           \
    i++;                                                                        \
  } while (0)
    if (strcmp(a, "--db") == 0 || strcmp(a, "--store") == 0) {
      NEEDV();
      o->db = v;
    } else if (strcmp(a, "--listen") == 0) {
      NEEDV();
      o->listen = v;
    } else if (strcmp(a, "--tls-cert") == 0) {
      NEEDV();
      o->tls_cert = v;
    } else if (strcmp(a, "--tls-key") == 0) {
      NEEDV();
      o->tls_key = v;
    } else if (strcmp(a, "--webhook") == 0) {
      NEEDV();
      if (o->n_webhooks == (int)(sizeof o->webhooks / sizeof o->webhooks[0])) {
        fprintf(stderr, "hud-server: --webhook: at most 64\n");
        return 2;
      }
      o->webhooks[o->n_webhooks++] = v;
    } else if (lifecycle_flag(a) >= 0) {
      NEEDV();
      o->lifecycle[lifecycle_flag(a)] = v;
    } else if (strcmp(a, "--public-url") == 0) {
      NEEDV();
      o->public_url = v;
    } else if (strcmp(a, "--config") == 0) {
      NEEDV();
      o->config = v;
    } else if (strcmp(a, "--label") == 0) {
      NEEDV();
      o->label = v;
    } else if (strcmp(a, "--env") == 0) {
      NEEDV();
      size_t l = strlen(o->envs);
      snprintf(o->envs + l, sizeof o->envs - l, "%s%s", l ? "," : "", v);
    } else if (strcmp(a, "--role") == 0) {
      NEEDV();
      size_t l = strlen(o->roles);
      if (l + strlen(v) + 2 > sizeof o->roles) {
        fprintf(stderr, "hud-server: --role: too many roles\n");
        return 2;
      }
      snprintf(o->roles + l, sizeof o->roles - l, "%s%s", l ? "," : "", v);
    } else if (strcmp(a, "--fold-memory") == 0) {
      NEEDV();
      char *end;
      long mb = strtol(v, &end, 10);
      if (*end || mb < 8 || mb > 65536) {
        fprintf(stderr, "hud-server: --fold-memory must be 8..65536 (MB)\n");
        return 2;
      }
      o->fold_memory_mb = (size_t)mb;
    } else if (strcmp(a, "--threads") == 0) {
      NEEDV();
      o->threads = atoi(v);
      if (o->threads < 1 || o->threads > 29) {
        fprintf(stderr, "hud-server: --threads must be 1..29\n");
        return 2;
      }
    } else if (strcmp(a, "--ingest-workers") == 0) {
      NEEDV();
      long n;
      if (int_flag(a, v, 1, 64, &n)) return 2;
      o->http.ingest_workers = (int)n;
    } else if (strcmp(a, "--body-memory") == 0) {
      NEEDV();
      long n;
      if (int_flag(a, v, 8, 65536, &n)) return 2;
      o->http.body_memory = (size_t)n << 20;
    } else if (strcmp(a, "--max-connections") == 0) {
      NEEDV();
      long n;
      if (int_flag(a, v, 16, 1000000, &n)) return 2;
      o->http.max_connections = (int)n;
    } else if (strcmp(a, "--max-per-ip") == 0) {
      NEEDV();
      long n;
      if (int_flag(a, v, 0, 1000000, &n)) return 2;
      o->http.max_per_ip = n ? (int)n : -1; /* 0: no limit */
    } else if (strcmp(a, "--header-timeout") == 0) {
      NEEDV();
      int64_t d;
      if (parse_duration(v, &d) < 0 || d < 1 || d > 3600) {
        fprintf(stderr, "hud-server: --header-timeout: expected 1s..1h, got '%s'\n", v);
        return 2;
      }
      o->http.header_timeout_ms = (int)d * 1000;
    } else if (strcmp(a, "--rollup-after") == 0 || strcmp(a, "--retention") == 0 ||
               strcmp(a, "--maintain-every") == 0 || strcmp(a, "--fold-every") == 0) {
      NEEDV();
      int64_t d;
      if (parse_duration(v, &d) < 0) {
        fprintf(stderr, "hud-server: %s: bad duration '%s' (e.g. 90s, 15m, 24h, 30d)\n", a, v);
        return 2;
      }
      if (a[2] == 'r' && a[3] == 'o') o->rollup_after = d;
      else if (a[2] == 'r') o->retention = d;
      else if (a[2] == 'f') o->fold_every = d;
      else o->maintain_every = d;
    } else if (strcmp(a, "--detect-interval") == 0) {
      NEEDV();
      int64_t d;
      if (parse_ms(v, &d) < 0 || d < 1 || d > 86400000) {
        fprintf(stderr, "hud-server: --detect-interval: expected 1ms..24h (e.g. 500ms, 5s), got '%s'\n", v);
        return 2;
      }
      o->detect_interval_ms = d;
    } else if (strcmp(a, "--detect-window") == 0) {
      NEEDV();
      int64_t d;
      if (parse_duration(v, &d) < 0 || d < 60 || d > 90 * 86400) {
        fprintf(stderr, "hud-server: --detect-window: expected 1m..90d, got '%s'\n", v);
        return 2;
      }
      o->detect_window = d;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      hud_cli_print_version(stdout, "hud-server");
      exit(0);
    } else if (a[0] == '-') {
      fprintf(stderr, "hud-server: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    } else {
      if (*npos >= maxpos) {
        fprintf(stderr, "hud-server: unexpected argument '%s'\n", a);
        return 2;
      }
      pos[(*npos)++] = a;
    }
#undef NEEDV
  }
  return 0;
}

static int resolve_db(opts *o) {
  if (o->db) return 0;
  o->owned_db = default_db();
  if (!o->owned_db) return 1;
  o->db = o->owned_db;
  return 0;
}

/* For serving: replays the journal, folds, maintains. Refuses while another server has the file. */
static int open_store(opts *o, int64_t issue_retention_s, srv_store **st) {
  if (resolve_db(o)) return 1;
  if (o->fold_every > 86400) o->fold_every = 86400;
  srv_store_options so = {o->db, o->rollup_after, o->retention, o->threads > 0 ? o->threads + 3 : 7,
                          (int)(o->fold_every * 1000), o->fold_memory_mb << 20, issue_retention_s};
  int rc = srv_store_open(&so, st);
  if (rc == HUD_EBUSY) {
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", o->db);
    char *pid = read_file(lock);
    if (pid) pid[strcspn(pid, "\n")] = 0;
    fprintf(stderr,
            "hud-server: another hud-server%s%s%s is serving %s (it holds %s); stop it first "
            "(`hud-server keys` works while it runs)\n",
            pid && *pid ? " (pid " : "", pid && *pid ? pid : "", pid && *pid ? ")" : "", o->db, lock);
    free(pid);
    return 1;
  }
  if (rc < 0) {
    fprintf(stderr, "hud-server: cannot open store %s: %s\n", o->db, hud_strerror(rc));
    return 1;
  }
  return 0;
}

/* For `keys`: only api_keys, in short transactions; safe while a server runs on the file. */
static int open_keys(opts *o, srv_store **st) {
  if (resolve_db(o)) return 1;
  int rc = srv_store_open_keys(o->db, st);
  if (rc < 0) {
    fprintf(stderr, "hud-server: cannot open store %s: %s\n", o->db, hud_strerror(rc));
    return 1;
  }
  return 0;
}

static int print_key(const srv_key_info *k, void *arg) {
  char when[32];
  time_t t = (time_t)k->created_at;
  struct tm tm;
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
  /* A key made before roles keeps what every key could do then. */
  char roles[80], legacy[64];
  srv_auth_roles_format(SRV_ROLES_LEGACY, legacy);
  snprintf(roles, sizeof roles, "%s%s", k->roles[0] ? k->roles : legacy, k->roles[0] ? "" : " (legacy)");
  printf("%-6lld %-24s %-22s %-20s %-8s %s\n", (long long)k->id, k->envs, roles, when,
         k->revoked_at ? "revoked" : "active", k->label);
  return 0;
}

static int cmd_keys(int argc, char **argv, int i) {
  opts o = {0};
  const char *pos[2];
  int npos = 0;
  int rc = parse_flags(argc, argv, i, &o, pos, &npos, 2);
  if (rc) return rc;
  if (npos == 0) {
    fprintf(stderr, "hud-server keys: expected create, list or revoke\n");
    return 2;
  }
  srv_store *st;
  const char *sub = pos[0];
  if (strcmp(sub, "create") == 0) {
    if (!o.envs[0] || npos != 1) {
      fprintf(stderr, "hud-server keys create: --env ENV is required\n");
      return 2;
    }
    unsigned roles;
    if (!o.roles[0] || srv_auth_roles_parse(o.roles, &roles) < 0) {
      fprintf(stderr, "hud-server keys create: %s: --role ROLE is required, ROLE one or more of ingest (sensors),"
                      " read (queries: editors, hud-tui), triage (read, acknowledge and mute issues), admin\n",
              o.roles[0] ? "bad role" : "no role");
      return 2;
    }
    if (open_keys(&o, &st)) return 1;
    char key[SRV_KEY_MAX];
    int64_t id;
    rc = srv_auth_key_create(st, o.envs, roles, o.label, (int64_t)time(NULL), key, &id);
    srv_store_free(st);
    free(o.owned_db);
    if (rc < 0) {
      fprintf(stderr, "hud-server keys create: %s%s\n", hud_strerror(rc),
              rc == HUD_EINVAL ? " (environment names: letters, digits, '_', '-', '.', at most 64)" : "");
      return 1;
    }
    printf("%s\n", key);
    char role_text[64];
    srv_auth_roles_format(roles, role_text);
    fprintf(stderr, "key %lld for environment(s) %s, role(s) %s: shown once, only its hash is stored\n",
            (long long)id, o.envs, role_text);
    return 0;
  }
  if (strcmp(sub, "list") == 0) {
    if (open_keys(&o, &st)) return 1;
    printf("%-6s %-24s %-22s %-20s %-8s %s\n", "ID", "ENVIRONMENTS", "ROLES", "CREATED", "STATE", "LABEL");
    rc = srv_store_key_list(st, print_key, NULL);
    srv_store_free(st);
    free(o.owned_db);
    return rc < 0 ? 1 : 0;
  }
  if (strcmp(sub, "revoke") == 0) {
    char *end;
    long long id = npos == 2 ? strtoll(pos[1], &end, 10) : 0;
    if (npos != 2 || *end || id <= 0) {
      fprintf(stderr, "hud-server keys revoke: expected a key ID (see keys list)\n");
      return 2;
    }
    if (open_keys(&o, &st)) return 1;
    rc = srv_store_key_revoke(st, id, (int64_t)time(NULL));
    srv_store_free(st);
    free(o.owned_db);
    if (rc < 0) {
      fprintf(stderr, "hud-server keys revoke: key %lld: %s\n", id,
              rc == HUD_ENOTFOUND ? "no such active key" : hud_strerror(rc));
      return 1;
    }
    printf("revoked key %lld\n", id);
    return 0;
  }
  fprintf(stderr, "hud-server keys: unknown subcommand '%s'\n", sub);
  return 2;
}

/* Alerts' settings: the webhooks of the --webhook flags, else of the config file's `webhook` lines; the URL
 * users reach the server at, for links. */
typedef struct alert_setup {
  srv_alert_target *targets;
  size_t n;
  char public_url[1024]; /* "" when not set */
  int64_t lifecycle_s[4]; /* resolve_after, alert_confirm, alert_cooldown, issue_retention */
} alert_setup;

static void alert_setup_clear(alert_setup *s) {
  for (size_t i = 0; i < s->n; i++) srv_alert_target_clear(&s->targets[i]);
  free(s->targets);
  s->targets = NULL;
  s->n = 0;
}

/* Parses the newline-separated LIST of webhook specs into S; 0 or 2 (reported). */
static int parse_webhooks(const char *list, const char *origin, alert_setup *s) {
  for (size_t idx = 1; *list; idx++) {
    size_t len = strcspn(list, "\n");
    char *spec = strndup(list, len);
    list += len + (list[len] == '\n');
    srv_alert_target *t = spec ? realloc(s->targets, (s->n + 1) * sizeof *t) : NULL;
    if (!t) {
      free(spec);
      return 2;
    }
    s->targets = t;
    char why[300];
    int rc = srv_alert_target_parse(spec, &s->targets[s->n], why, sizeof why);
    free(spec);
    if (rc < 0) {
      /* The origin names the list's last line; the file is what helps. No URL: it may be a secret. */
      int olen = (int)strlen(origin);
      const char *colon = strncmp(origin, "file ", 5) == 0 ? strrchr(origin, ':') : NULL;
      if (colon) olen = (int)(colon - origin);
      fprintf(stderr, "hud-server: webhook %zu (%.*s): %s\n", idx, olen, origin,
              rc == HUD_EINVAL ? why : hud_strerror(rc));
      return 2;
    }
    s->n++;
  }
  return 0;
}

static int load_alert_setup(const opts *o, alert_setup *s) {
  memset(s, 0, sizeof *s);
  hud_config *cfg;
  if (hud_config_new(&cfg, "server") < 0) return 1;
  int rc = hud_config_load(cfg, o->config);
  for (int i = 0; rc == 0 && i < o->n_webhooks; i++)
    rc = hud_config_set(cfg, "webhook", o->webhooks[i], HUD_CFG_SRC_FLAG);
  if (rc == 0 && o->public_url) rc = hud_config_set(cfg, "public_url", o->public_url, HUD_CFG_SRC_FLAG);
  for (int k = 0; rc == 0 && k < 4; k++)
    if (o->lifecycle[k]) rc = hud_config_set(cfg, hud_config_key_name(k_lifecycle_keys[k]), o->lifecycle[k],
                                             HUD_CFG_SRC_FLAG);
  if (rc != 0) {
    fprintf(stderr, "hud-server: %s\n", rc == HUD_ECONFIG ? hud_config_error(cfg) : hud_strerror(rc));
    hud_config_free(cfg);
    return 2;
  }
  for (size_t i = 0; i < hud_config_warning_count(cfg); i++)
    fprintf(stderr, "hud-server: %s\n", hud_config_warning(cfg, i));
  const char *pub = hud_config_str(cfg, HUD_CFG_PUBLIC_URL);
  if (*pub && strncmp(pub, "http://", 7) != 0 && strncmp(pub, "https://", 8) != 0) {
    fprintf(stderr, "hud-server: public_url (%s): '%s' is not an http:// or https:// URL\n",
            hud_config_origin(cfg, HUD_CFG_PUBLIC_URL), pub);
    hud_config_free(cfg);
    return 2;
  }
  for (int k = 0; k < 4; k++) {
    const char *v = hud_config_str(cfg, k_lifecycle_keys[k]);
    if (parse_duration(v, &s->lifecycle_s[k]) < 0 || s->lifecycle_s[k] > 3650 * 86400LL) {
      fprintf(stderr, "hud-server: %s (%s): bad duration '%s' (e.g. 0, 90s, 10m, 1h, 90d; at most 3650d)\n",
              hud_config_key_name(k_lifecycle_keys[k]), hud_config_origin(cfg, k_lifecycle_keys[k]), v);
      hud_config_free(cfg);
      return 2;
    }
  }
  snprintf(s->public_url, sizeof s->public_url, "%s", pub);
  size_t pl = strlen(s->public_url);
  while (pl && s->public_url[pl - 1] == '/') s->public_url[--pl] = 0;
  rc = parse_webhooks(hud_config_str(cfg, HUD_CFG_WEBHOOK), hud_config_origin(cfg, HUD_CFG_WEBHOOK), s);
  hud_config_free(cfg);
  if (rc) alert_setup_clear(s);
  return rc;
}

/* One sample alert to each webhook, each on its own so the answer says which one failed. */
static int cmd_webhook_test(int argc, char **argv, int i) {
  opts o = {0};
  const char *pos[1];
  int npos = 0;
  int rc = parse_flags(argc, argv, i, &o, pos, &npos, 0);
  if (rc) return rc;
  alert_setup s;
  if ((rc = load_alert_setup(&o, &s))) return rc;
  if (s.n == 0) {
    fprintf(stderr, "hud-server webhook-test: no webhook (--webhook ENV=URL, or `webhook =` in [server])\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const char *base = s.public_url[0] ? s.public_url : "http://127.0.0.1:7700";
  int failed = 0;
  for (size_t k = 0; k < s.n; k++) {
    const char *env = strcmp(s.targets[k].env, "*") == 0 ? "production" : s.targets[k].env;
    char tui[1400], api[1400];
    snprintf(tui, sizeof tui, "hud-tui --url %s --env %s --service shop --issue 00000000-0000-4000-8000-000000000000",
             base, env);
    snprintf(api, sizeof api, "%s/v1/issues/00000000-0000-4000-8000-000000000000?env=%s&service=shop", base, env);
    srv_alert_issue is = {.env = env, .service = "shop", .event = "test",
                          .issue_id = "00000000-0000-4000-8000-000000000000", .kind = "duration_regression",
                          .headline = "apply_discounts self time +4.13 ms per call (v1 → v2) — a sample alert",
                          .function_id = "00000000-0000-4000-8000-000000000001", .function_name = "apply_discounts",
                          .module_path = "shop/pricing.py", .comparison = "versions", .base_label = "v1",
                          .cand_label = "v2",
                          .link_vscode = "vscode://hud-dev.hud/function?id=00000000-0000-4000-8000-000000000001",
                          .link_tui = tui, .link_api = api, .effect_ms_per_request = 4.13, .effect_pct = 23.0,
                          .top_flow = "POST /orders", .code_changed = 1,
                          .first_seen_ms = (int64_t)time(NULL) * 1000};
    srv_alerts_limits lim = {.max_attempts = 1, .drain_ms = 1000};
    srv_alerts *a;
    srv_alerts_stats st = {0};
    if (srv_alerts_new_limits(&s.targets[k], 1, &lim, &a) == 0) {
      srv_alerts_enqueue(a, &is);
      srv_alerts_flush(a, 15000);
      srv_alerts_stats_get(a, &st);
      srv_alerts_free(a);
    }
    char origin[256];
    srv_alert_target_origin(&s.targets[k], origin, sizeof origin);
    printf("%s  %s  %s (%s%s)\n", st.delivered ? "delivered" : "FAILED   ", s.targets[k].env, origin,
           s.targets[k].format == SRV_ALERT_SLACK ? "slack" : "json", s.targets[k].secret ? ", signed" : "");
    failed += !st.delivered;
  }
  alert_setup_clear(&s);
  return failed ? 1 : 0;
}

/* Rollup and retention; says what the issue retention deleted (people look for a vanished issue). */
static void maintain(srv_store *st) {
  srv_maintain_result mr;
  if (srv_store_maintain(st, (int64_t)time(NULL), &mr) < 0) fprintf(stderr, "hud-server: maintenance failed\n");
  else if (mr.issues_deleted)
    fprintf(stderr, "hud-server: maintenance: %llu resolved issue(s) older than --issue-retention deleted\n",
            (unsigned long long)mr.issues_deleted);
}

static int cmd_serve(int argc, char **argv, int i) {
  opts o = {.retention = -1};
  const char *pos[1];
  int npos = 0;
  int rc = parse_flags(argc, argv, i, &o, pos, &npos, 0);
  if (rc) return rc;
  if (!o.listen) o.listen = "127.0.0.1:7700";
  if (!o.maintain_every) o.maintain_every = 300;
  if (o.retention < 0) o.retention = 30 * 86400;
  if (!!o.tls_cert != !!o.tls_key) {
    fprintf(stderr, "hud-server: --tls-cert and --tls-key go together\n");
    return 2;
  }
  alert_setup as;
  if ((rc = load_alert_setup(&o, &as))) return rc;
  char *cert = NULL, *key = NULL;
  if (o.tls_cert) {
    cert = read_file(o.tls_cert);
    key = read_file(o.tls_key);
    if (!cert || !key) {
      fprintf(stderr, "hud-server: cannot read %s\n", !cert ? o.tls_cert : o.tls_key);
      free(cert);
      free(key);
      alert_setup_clear(&as);
      return 1;
    }
  }
  /* Two malloc arenas for all threads, set before any starts. With glibc's default (8 per core)
   * each thread that decoded a batch kept that memory in its own arena, where the next decode,
   * on another thread, could not reuse it: the peak grew past the --fold-memory bound by the
   * arenas' count (tests/server/test_server_ingest_cost.c, release build: 255-294 MiB against
   * 186 MiB with two arenas). */
  mallopt(M_ARENA_MAX, 2);
  /* Signals are taken synchronously by this thread: block them before any worker thread starts. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  srv_store *st;
  if (open_store(&o, as.lifecycle_s[3], &st)) {
    free(cert);
    free(key);
    alert_setup_clear(&as);
    return 1;
  }
  /* Webhook deliveries: their own thread; NULL without webhooks (srv_alerts_enqueue(NULL, ...) does nothing). */
  curl_global_init(CURL_GLOBAL_DEFAULT);
  srv_alerts *alerts = NULL;
  if (as.n && srv_alerts_new(as.targets, as.n, &alerts) < 0) {
    fprintf(stderr, "hud-server: cannot start the alerts thread\n");
    srv_store_free(st);
    free(cert);
    free(key);
    alert_setup_clear(&as);
    return 1;
  }
  maintain(st);
  srv_http_options ho = o.http;
  ho.listen = o.listen;
  ho.tls_cert_pem = cert;
  ho.tls_key_pem = key;
  ho.threads = o.threads;
  ho.store = st;
  ho.alerts = alerts;
  ho.public_url = as.public_url[0] ? as.public_url : NULL;
  srv_http *h;
  rc = srv_http_start(&ho, &h);
  if (rc < 0) {
    fprintf(stderr, "hud-server: cannot listen on %s: %s\n", o.listen,
            rc == HUD_EINVAL ? "expected IPv4-ADDRESS:PORT" : "address in use or not available");
    srv_alerts_free(alerts);
    alert_setup_clear(&as);
    srv_store_free(st);
    free(o.owned_db);
    free(cert);
    free(key);
    return 1;
  }
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(strrchr(o.listen, ':') - o.listen), o.listen);
  printf("listening on %s:%u%s (db %s)\n", host, srv_http_port(h), cert ? " (TLS)" : "", o.db);
  fflush(stdout);
  /* The base of the links in alerts. */
  if (!as.public_url[0])
    snprintf(as.public_url, sizeof as.public_url, "%s://%s:%u", cert ? "https" : "http", host, srv_http_port(h));
  if (as.n) fprintf(stderr, "hud-server: alerts to %zu webhook(s); links to %s\n", as.n, as.public_url);
  srv_issues_runner_options ro = {st, (int)o.detect_interval_ms, o.detect_window, as.public_url, alerts,
                                  as.lifecycle_s[0], as.lifecycle_s[1], as.lifecycle_s[2]};
  srv_issues_runner *runner = NULL;
  if (srv_issues_runner_new(&ro, &runner) < 0) fprintf(stderr, "hud-server: detection runner not started\n");

  time_t next = time(NULL) + o.maintain_every;
  for (;;) {
    struct timespec wait = {1, 0};
    int sig = sigtimedwait(&set, NULL, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (time(NULL) >= next) {
      maintain(st);
      next = time(NULL) + o.maintain_every;
    }
  }
  fprintf(stderr, "hud-server: stopping: finishing requests in flight\n");
  int left = srv_http_shutdown(h, 10000);
  if (left) fprintf(stderr, "hud-server: %d request(s) still running at stop\n", left);
  srv_http_free(h);
  srv_issues_runner_free(runner); /* before the store and the alerts: it uses both */
  srv_alerts_free(alerts); /* after the server: deliveries due now get a few seconds */
  alert_setup_clear(&as);
  srv_store_free(st);
  free(o.owned_db);
  free(cert);
  free(key);
  fprintf(stderr, "hud-server: stopped\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "keys") == 0) return cmd_keys(argc, argv, 2);
  if (argc > 1 && strcmp(argv[1], "serve") == 0) return cmd_serve(argc, argv, 2);
  if (argc > 1 && strcmp(argv[1], "webhook-test") == 0) return cmd_webhook_test(argc, argv, 2);
  return cmd_serve(argc, argv, 1);
}
