/* The one configuration shared by every hud program.
 *
 * Layers, lowest to highest precedence: built-in default < config file < environment < command-line flag.
 * A value set from a lower layer never replaces one from a higher layer, so the layers may be loaded in any
 * order. The file is `$HUD_CONFIG`, else `$XDG_CONFIG_HOME/hud/config`, else `~/.config/hud/config`
 * (a missing default file is not an error; a missing explicit file is). Format and keys: docs/config.md.
 *
 * A handle is used by one thread at a time. */
#ifndef HUD_CONFIG_H
#define HUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every key, one line each: X(ID, name, type, default, min, max, env var or NULL, description).
 * ID gives the enum constant HUD_CFG_<ID>; name is the file key and (with '_' as '-') the flag `--name`;
 * min/max bound INT values (ignored for other types). Types: STR, SECRET (a string masked by
 * hud_config_dump), URL (http:// or https://), INT (decimal integer), BOOL (true/false, yes/no, on/off, 1/0),
 * LIST (a repeatable string: each line or flag of one layer adds a value; a higher layer replaces the whole
 * list; an empty value empties it; hud_config_str gives the values joined by '\n'). */
#define HUD_CONFIG_KEYS(X)                                                                            \
  X(URL, "url", URL, "http://127.0.0.1:7700", 0, 0, "HUD_URL",                                        \
    "Base URL of hud-server (the query and ingest API).")                                             \
  X(KEY, "key", SECRET, "", 0, 0, "HUD_KEY", "API key sent as `Authorization: Bearer <key>`.")       \
  X(SERVICE, "service", STR, "", 0, 0, "HUD_SERVICE", "Service name to show or report as.")           \
  X(ENV, "env", STR, "", 0, 0, "HUD_ENV", "Environment (e.g. production, staging); empty: all.")      \
  X(TIMEOUT_MS, "timeout_ms", INT, "10000", 1, 3600000, "HUD_TIMEOUT_MS",                            \
    "Total time limit of one backend request, in milliseconds.")                                      \
  X(CONNECT_TIMEOUT_MS, "connect_timeout_ms", INT, "3000", 1, 600000, "HUD_CONNECT_TIMEOUT_MS",      \
    "Time limit for connecting to the backend (DNS, TCP, TLS), in milliseconds.")                     \
  X(CA_FILE, "ca_file", STR, "", 0, 0, "HUD_CA_FILE",                                                 \
    "PEM file of CA certificates to trust instead of the system store.")                              \
  X(INSECURE, "insecure", BOOL, "false", 0, 0, "HUD_INSECURE",                                        \
    "Skip TLS certificate and host name verification (testing only).")                                \
  X(MAX_RESPONSE_BYTES, "max_response_bytes", INT, "67108864", 1024, INT64_C(1) << 40,                \
    "HUD_MAX_RESPONSE_BYTES", "Largest backend response body accepted, in bytes.")                 \
  X(ROOT, "root", STR, "", 0, 0, "HUD_ROOT",                                                          \
    "Source tree where hud-tui finds the files of functions (e, y, links); empty: the current directory.")   \
  X(WEBHOOK, "webhook", LIST, "", 0, 0, NULL,                                                         \
    "hud-server: a webhook for alerts, ENV=URL[,format=slack|json][,secret-file=PATH]; repeatable.")  \
  X(PUBLIC_URL, "public_url", STR, "", 0, 0, "HUD_PUBLIC_URL",                                        \
    "hud-server: its URL as users reach it, for the links in alerts; empty: the listen address.")     \
  X(RESOLVE_AFTER, "resolve_after", STR, "10m", 0, 0, NULL,                                           \
    "hud-server: an issue resolves only after no detection pass found it for this long (0: at once).") \
  X(ALERT_CONFIRM, "alert_confirm", STR, "60s", 0, 0, NULL,                                           \
    "hud-server: an issue other than a new exception is alerted once found over this long (0: at once).") \
  X(ALERT_COOLDOWN, "alert_cooldown", STR, "1h", 0, 0, NULL,                                          \
    "hud-server: a reopen this soon after the issue's last alert is not alerted again (0: always).")   \
  X(ISSUE_RETENTION, "issue_retention", STR, "90d", 0, 0, NULL,                                       \
    "hud-server: resolved issues unchanged for this long are deleted with their history (0: keep).")

typedef enum hud_cfg_key {
#define HUD_CFG_ENUM_(id, ...) HUD_CFG_##id,
  HUD_CONFIG_KEYS(HUD_CFG_ENUM_)
#undef HUD_CFG_ENUM_
  HUD_CFG__COUNT
} hud_cfg_key;

typedef enum hud_cfg_type {
  HUD_CFG_T_STR,
  HUD_CFG_T_SECRET,
  HUD_CFG_T_URL,
  HUD_CFG_T_INT,
  HUD_CFG_T_BOOL,
  HUD_CFG_T_LIST
} hud_cfg_type;

/* Where a value came from; higher wins. */
typedef enum hud_cfg_source {
  HUD_CFG_SRC_DEFAULT = 0,
  HUD_CFG_SRC_FILE = 1,
  HUD_CFG_SRC_ENV = 2,
  HUD_CFG_SRC_FLAG = 3,
} hud_cfg_source;

typedef struct hud_config hud_config;

/* Creates a configuration holding the defaults. PROGRAM (e.g. "tui", "lsp", "server"; may be NULL) selects
 * which `[section]` of the file applies on top of the top-level keys. */
int hud_config_new(hud_config **out, const char *program);
void hud_config_free(hud_config *cfg);

/* Loads the file layer then the environment layer. PATH: explicit file (must exist); NULL: the path given
 * by a `--config` flag seen by hud_config_apply_args, else `$HUD_CONFIG` (must exist), else the XDG default
 * (may be missing). On HUD_ECONFIG, hud_config_error() names the file and line, or the variable. */
int hud_config_load(hud_config *cfg, const char *path);
/* The two layers separately. REQUIRED: a missing file is an error. */
int hud_config_load_file(hud_config *cfg, const char *path, bool required);
int hud_config_load_env(hud_config *cfg);

/* Sets KEY (its file name, e.g. "timeout_ms") from SRC. Validates the value (HUD_ECONFIG, message in
 * hud_config_error) and returns HUD_ENOTFOUND for an unknown key. Ignored (returns 0) when the key already
 * holds a value from a higher source. */
int hud_config_set(hud_config *cfg, const char *key, const char *value, hud_cfg_source src);
/* Same with "key=value" (for a generic `--set key=value` flag). */
int hud_config_set_kv(hud_config *cfg, const char *kv, hud_cfg_source src);

/* Takes the configuration flags out of ARGV (shifting the rest down, updating *ARGC, argv[0] kept):
 * `--config PATH`, `--set KEY=VALUE`, and `--NAME VALUE` / `--NAME=VALUE` for every key (NAME with '-' for
 * '_', e.g. --timeout-ms; a BOOL key also accepts a bare `--insecure`). Everything after `--` and every
 * other argument stays, in order, for the program's own parser. Values are applied as HUD_CFG_SRC_FLAG. */
int hud_config_apply_args(hud_config *cfg, int *argc, char **argv);

/* Getters. Returned strings are owned by CFG and stay valid until hud_config_free or until the key is set
 * again. hud_config_str works for every type (the canonical text, e.g. "true"); hud_config_int and
 * hud_config_bool return 0/false for keys of another type. */
const char *hud_config_str(const hud_config *cfg, hud_cfg_key key);
int64_t hud_config_int(const hud_config *cfg, hud_cfg_key key);
bool hud_config_bool(const hud_config *cfg, hud_cfg_key key);
hud_cfg_source hud_config_source(const hud_config *cfg, hud_cfg_key key);
/* Where the value came from, e.g. "default", "file /home/a/.config/hud/config:3", "env HUD_URL",
 * "flag --url". Valid until free or the next set of that key. */
const char *hud_config_origin(const hud_config *cfg, hud_cfg_key key);

/* Static metadata from the key table. hud_config_key_by_name returns -1 for an unknown name. */
int hud_config_key_by_name(const char *name);
const char *hud_config_key_name(hud_cfg_key key);
const char *hud_config_key_env(hud_cfg_key key); /* NULL if none */
const char *hud_config_key_help(hud_cfg_key key);
hud_cfg_type hud_config_key_type(hud_cfg_key key);
const char *hud_config_source_name(hud_cfg_source src); /* "default", "file", "env", "flag" */

/* The file actually read by the last load ("" if none); valid until free. */
const char *hud_config_path(const hud_config *cfg);
/* Message of the last error (empty if none); valid until the next call on CFG. */
const char *hud_config_error(const hud_config *cfg);
/* Non-fatal problems (unknown keys, a world-readable file holding the key), in order; valid until free. */
size_t hud_config_warning_count(const hud_config *cfg);
const char *hud_config_warning(const hud_config *cfg, size_t i);

/* Prints the configuration flags for a program's --help: one line per key with its variable and default,
 * then --set and --config. */
void hud_config_print_flags(FILE *out);

/* Prints every key as `name = value  # origin` lines (a `--show-config` output); secrets are masked unless
 * SHOW_SECRETS. */
void hud_config_dump(const hud_config *cfg, FILE *out, bool show_secrets);

#endif
