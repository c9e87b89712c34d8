/* Configuration layers against real files in a temporary XDG_CONFIG_HOME and the real environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hud/config.h"
#include "hud/err.h"

static char tmpdir[256];
static char cfgpath[512];

static const char *all_env[] = {"HUD_URL", "HUD_KEY", "HUD_SERVICE", "HUD_ENV", "HUD_TIMEOUT_MS",
                                "HUD_CONNECT_TIMEOUT_MS", "HUD_CA_FILE", "HUD_INSECURE",
                                "HUD_MAX_RESPONSE_BYTES", "HUD_CONFIG", "HUD_PUBLIC_URL"};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  chmod(path, 0600);
}

static void write_config(const char *text) { write_file(cfgpath, text); }

static int setup(void **state) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hud-test-config-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  char dir[400];
  snprintf(dir, sizeof dir, "%s/hud", tmpdir);
  if (mkdir(dir, 0700) != 0) return -1;
  snprintf(cfgpath, sizeof cfgpath, "%s/hud/config", tmpdir);
  setenv("XDG_CONFIG_HOME", tmpdir, 1);
  for (size_t i = 0; i < sizeof all_env / sizeof *all_env; i++) unsetenv(all_env[i]);
  return 0;
}

static int teardown(void **state) {
  unlink(cfgpath);
  char p[600];
  snprintf(p, sizeof p, "%s/other.conf", tmpdir);
  unlink(p);
  snprintf(p, sizeof p, "%s/hud", tmpdir);
  rmdir(p);
  rmdir(tmpdir);
  for (size_t i = 0; i < sizeof all_env / sizeof *all_env; i++) unsetenv(all_env[i]);
  return 0;
}

static void defaults_when_no_file(void **state) {
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, "tui"), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0); /* default file missing: fine */
  assert_string_equal(hud_config_path(cfg), "");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_URL), "http://127.0.0.1:7700");
  assert_int_equal(hud_config_int(cfg, HUD_CFG_TIMEOUT_MS), 10000);
  assert_false(hud_config_bool(cfg, HUD_CFG_INSECURE));
  assert_string_equal(hud_config_str(cfg, HUD_CFG_INSECURE), "false");
  assert_int_equal(hud_config_source(cfg, HUD_CFG_URL), HUD_CFG_SRC_DEFAULT);
  assert_string_equal(hud_config_origin(cfg, HUD_CFG_URL), "default");
  assert_int_equal(hud_config_warning_count(cfg), 0);
  hud_config_free(cfg);
}

static void table_metadata(void **state) {
  assert_int_equal(hud_config_key_by_name("timeout_ms"), HUD_CFG_TIMEOUT_MS);
  assert_int_equal(hud_config_key_by_name("nope"), -1);
  assert_string_equal(hud_config_key_env(HUD_CFG_KEY), "HUD_KEY");
  assert_int_equal(hud_config_key_type(HUD_CFG_KEY), HUD_CFG_T_SECRET);
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    assert_true(strlen(hud_config_key_help((hud_cfg_key)k)) > 10);
    assert_true(strlen(hud_config_key_name((hud_cfg_key)k)) > 0);
  }
}

/* default < file < env < flag, whatever the order the layers are applied in. */
static void precedence(void **state) {
  write_config("# hud config\n"
               "url = http://file:1\n"
               "service = file-svc\n"
               "env = file-env\n"
               "timeout_ms = 2000\n");
  setenv("HUD_SERVICE", "env-svc", 1);
  setenv("HUD_ENV", "env-env", 1);
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, "tui"), 0);
  char a0[] = "hud-tui", a1[] = "--env", a2[] = "flag-env", a3[] = "--other", a4[] = "x";
  char *argv[] = {a0, a1, a2, a3, a4, NULL};
  int argc = 5;
  /* Flags first: the file and the environment loaded afterwards must not override them. */
  assert_int_equal(hud_config_apply_args(cfg, &argc, argv), 0);
  assert_int_equal(argc, 3);
  assert_string_equal(argv[1], "--other");
  assert_string_equal(argv[2], "x");
  assert_null(argv[3]);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_string_equal(hud_config_path(cfg), cfgpath);

  assert_string_equal(hud_config_str(cfg, HUD_CFG_URL), "http://file:1");
  assert_int_equal(hud_config_source(cfg, HUD_CFG_URL), HUD_CFG_SRC_FILE);
  char origin[600];
  snprintf(origin, sizeof origin, "file %s:2", cfgpath);
  assert_string_equal(hud_config_origin(cfg, HUD_CFG_URL), origin);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "env-svc");
  assert_string_equal(hud_config_origin(cfg, HUD_CFG_SERVICE), "env HUD_SERVICE");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_ENV), "flag-env");
  assert_string_equal(hud_config_origin(cfg, HUD_CFG_ENV), "flag --env");
  assert_int_equal(hud_config_int(cfg, HUD_CFG_TIMEOUT_MS), 2000);
  assert_int_equal(hud_config_source(cfg, HUD_CFG_KEY), HUD_CFG_SRC_DEFAULT);

  /* A file value set later cannot beat env; a flag set later beats everything. */
  assert_int_equal(hud_config_set(cfg, "service", "late-file", HUD_CFG_SRC_FILE), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "env-svc");
  assert_int_equal(hud_config_set(cfg, "service", "late-flag", HUD_CFG_SRC_FLAG), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "late-flag");
  assert_int_equal(hud_config_set(cfg, "service", "env-again", HUD_CFG_SRC_ENV), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "late-flag");
  hud_config_free(cfg);
}

static void sections_apply_to_their_program(void **state) {
  write_config("service = top\n"
               "[tui]\n"
               "service = tui-svc   # the TUI's own\n"
               "[lsp]\n"
               "service = lsp-svc\n"
               "timeout_ms = 1500\n"
               "[tui]\n"
               "env = staging\n");
  hud_config *tui, *lsp, *none;
  assert_int_equal(hud_config_new(&tui, "tui"), 0);
  assert_int_equal(hud_config_new(&lsp, "lsp"), 0);
  assert_int_equal(hud_config_new(&none, NULL), 0);
  assert_int_equal(hud_config_load(tui, NULL), 0);
  assert_int_equal(hud_config_load(lsp, NULL), 0);
  assert_int_equal(hud_config_load(none, NULL), 0);
  assert_string_equal(hud_config_str(tui, HUD_CFG_SERVICE), "tui-svc");
  assert_string_equal(hud_config_str(tui, HUD_CFG_ENV), "staging");
  assert_int_equal(hud_config_int(tui, HUD_CFG_TIMEOUT_MS), 10000);
  assert_string_equal(hud_config_str(lsp, HUD_CFG_SERVICE), "lsp-svc");
  assert_int_equal(hud_config_int(lsp, HUD_CFG_TIMEOUT_MS), 1500);
  assert_string_equal(hud_config_str(lsp, HUD_CFG_ENV), "");
  assert_string_equal(hud_config_str(none, HUD_CFG_SERVICE), "top");
  hud_config_free(tui);
  hud_config_free(lsp);
  hud_config_free(none);

  /* A section value beats the top-level one even when the top-level line comes later in a second load. */
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, "tui"), 0);
  assert_int_equal(hud_config_load_file(cfg, cfgpath, true), 0);
  assert_int_equal(hud_config_set(cfg, "service", "plain-file", HUD_CFG_SRC_FILE), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "tui-svc");
  hud_config_free(cfg);
}

static void values_quotes_and_comments(void **state) {
  write_config("\xEF\xBB\xBF  key = \"a#b \\\"q\\\" \\\\ \"  # quoted keeps # and spaces\n"
               "url=https://h.example/x#frag\n"
               "\tinsecure = YES\r\n"
               "service = svc # trailing comment\n"
               "env =\n"
               "max_response_bytes = +2048\n");
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, "tui"), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_KEY), "a#b \"q\" \\ ");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_URL), "https://h.example/x#frag");
  assert_true(hud_config_bool(cfg, HUD_CFG_INSECURE));
  assert_string_equal(hud_config_str(cfg, HUD_CFG_INSECURE), "true");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "svc");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_ENV), "");
  assert_int_equal(hud_config_source(cfg, HUD_CFG_ENV), HUD_CFG_SRC_FILE);
  assert_int_equal(hud_config_int(cfg, HUD_CFG_MAX_RESPONSE_BYTES), 2048);

  /* The dump masks the key, and a dump with secrets reads back to the same values. */
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  hud_config_dump(cfg, m, false);
  fclose(m);
  assert_non_null(strstr(text, "key = ********"));
  assert_non_null(strstr(text, "insecure = true  # file "));
  free(text);
  m = open_memstream(&text, &len);
  hud_config_dump(cfg, m, true);
  fclose(m);
  char other[600];
  snprintf(other, sizeof other, "%s/other.conf", tmpdir);
  write_file(other, text);
  free(text);
  hud_config *again;
  assert_int_equal(hud_config_new(&again, "tui"), 0);
  assert_int_equal(hud_config_load(again, other), 0);
  for (int k = 0; k < HUD_CFG__COUNT; k++)
    assert_string_equal(hud_config_str(again, (hud_cfg_key)k), hud_config_str(cfg, (hud_cfg_key)k));
  hud_config_free(again);
  hud_config_free(cfg);
}

static void expect_error(const char *text, const char *program, const char *needle) {
  write_config(text);
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, program), 0);
  int rc = hud_config_load(cfg, NULL);
  if (rc != HUD_ECONFIG || !strstr(hud_config_error(cfg), needle))
    fail_msg("config %s: rc=%d error='%s', expected ECONFIG with '%s'", text, rc, hud_config_error(cfg),
             needle);
  hud_config_free(cfg);
}

static void parse_errors_name_file_and_line(void **state) {
  char where[600];
  snprintf(where, sizeof where, "%s:3: expected 'key = value'", cfgpath);
  expect_error("# ok\nurl = http://a\njust words\n", "tui", where);
  snprintf(where, sizeof where, "%s:2: timeout_ms: 'soon' is not an integer", cfgpath);
  expect_error("\ntimeout_ms = soon\n", "tui", where);
  snprintf(where, sizeof where, "%s:1: timeout_ms: 0 is out of range", cfgpath);
  expect_error("timeout_ms = 0\n", "tui", where);
  expect_error("timeout_ms = 99999999999999999999999\n", "tui", ":1: timeout_ms:");
  expect_error("insecure = maybe\n", "tui", ":1: insecure: 'maybe' is not a boolean");
  expect_error("url = ftp://x\n", "tui", ":1: url: 'ftp://x' is not an http:// or https:// URL");
  expect_error("[tui\n", "tui", ":1: malformed section header");
  expect_error("[]\n", "tui", ":1: empty section name");
  expect_error("[a b]\n", "tui", ":1: invalid character in section name");
  expect_error("a b = c\n", "tui", ":1: invalid key 'a b'");
  expect_error(" = c\n", "tui", ":1: missing key");
  expect_error("key = \"abc\n", "tui", ":1: unterminated quoted value");
  expect_error("key = \"abc\" def\n", "tui", ":1: text after the closing quote");
  expect_error("key = \"a\\qb\"\n", "tui", ":1: unknown escape");
  /* Bad values in another program's section fail too: the file is wrong for everyone. */
  expect_error("[lsp]\ntimeout_ms = -5\n", "tui", ":2: timeout_ms: -5 is out of range");
}

static void unknown_keys_warn(void **state) {
  write_config("colour = blue\nurl = http://x:1\n[tui]\nfancy.thing = 1\n");
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, "tui"), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_URL), "http://x:1");
  assert_int_equal(hud_config_warning_count(cfg), 2);
  char w[600];
  snprintf(w, sizeof w, "%s:1: unknown key 'colour' ignored", cfgpath);
  assert_string_equal(hud_config_warning(cfg, 0), w);
  assert_non_null(strstr(hud_config_warning(cfg, 1), ":4: unknown key 'fancy.thing'"));
  assert_null(hud_config_warning(cfg, 2));
  hud_config_free(cfg);
}

static void readable_file_with_key_warns(void **state) {
  write_config("key = sekrit\n");
  chmod(cfgpath, 0644);
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_int_equal(hud_config_warning_count(cfg), 1);
  assert_non_null(strstr(hud_config_warning(cfg, 0), "readable by other users"));
  hud_config_free(cfg);
}

static void explicit_paths(void **state) {
  hud_config *cfg;
  char other[600];
  snprintf(other, sizeof other, "%s/other.conf", tmpdir);
  /* HUD_CONFIG names a file that must exist. */
  setenv("HUD_CONFIG", other, 1);
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), HUD_ECONFIG);
  assert_non_null(strstr(hud_config_error(cfg), other));
  assert_non_null(strstr(hud_config_error(cfg), "No such file"));
  hud_config_free(cfg);

  write_file(other, "service = from-other\n");
  write_config("service = from-default\n");
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "from-other");
  hud_config_free(cfg);

  /* --config beats HUD_CONFIG. */
  unsetenv("HUD_CONFIG");
  setenv("HUD_CONFIG", cfgpath, 1);
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  char a0[] = "p", a1[] = "--config";
  char *argv[] = {a0, a1, other, NULL};
  int argc = 3;
  assert_int_equal(hud_config_apply_args(cfg, &argc, argv), 0);
  assert_int_equal(argc, 1);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_string_equal(hud_config_str(cfg, HUD_CFG_SERVICE), "from-other");
  assert_string_equal(hud_config_path(cfg), other);
  hud_config_free(cfg);

  /* A directory is not a config file. */
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, tmpdir), HUD_ECONFIG);
  assert_non_null(strstr(hud_config_error(cfg), "not a regular file"));
  hud_config_free(cfg);
}

static void env_values_are_checked(void **state) {
  hud_config *cfg;
  setenv("HUD_TIMEOUT_MS", "fast", 1);
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), HUD_ECONFIG);
  assert_string_equal(hud_config_error(cfg), "HUD_TIMEOUT_MS: timeout_ms: 'fast' is not an integer");
  hud_config_free(cfg);
  /* An empty variable counts as unset. */
  setenv("HUD_TIMEOUT_MS", "", 1);
  setenv("HUD_INSECURE", "1", 1);
  setenv("HUD_KEY", "k-env", 1);
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), 0);
  assert_int_equal(hud_config_int(cfg, HUD_CFG_TIMEOUT_MS), 10000);
  assert_true(hud_config_bool(cfg, HUD_CFG_INSECURE));
  assert_string_equal(hud_config_str(cfg, HUD_CFG_KEY), "k-env");
  hud_config_free(cfg);
}

static void flags(void **state) {
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  char a0[] = "prog", a1[] = "--timeout-ms=250", a2[] = "--insecure", a3[] = "file.py", a4[] = "--set",
       a5[] = "connect-timeout-ms=77", a6[] = "--url", a7[] = "https://x", a8[] = "--", a9[] = "--key",
       a10[] = "z";
  char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, NULL};
  int argc = 11;
  assert_int_equal(hud_config_apply_args(cfg, &argc, argv), 0);
  assert_int_equal(argc, 5);
  assert_string_equal(argv[0], "prog");
  assert_string_equal(argv[1], "file.py");
  assert_string_equal(argv[2], "--");
  assert_string_equal(argv[3], "--key");
  assert_string_equal(argv[4], "z");
  assert_int_equal(hud_config_int(cfg, HUD_CFG_TIMEOUT_MS), 250);
  assert_string_equal(hud_config_origin(cfg, HUD_CFG_TIMEOUT_MS), "flag --timeout-ms");
  assert_int_equal(hud_config_int(cfg, HUD_CFG_CONNECT_TIMEOUT_MS), 77);
  assert_true(hud_config_bool(cfg, HUD_CFG_INSECURE));
  assert_string_equal(hud_config_str(cfg, HUD_CFG_URL), "https://x");
  assert_string_equal(hud_config_str(cfg, HUD_CFG_KEY), "");

  char b0[] = "prog", b1[] = "--insecure", b2[] = "off";
  char *bv[] = {b0, b1, b2, NULL};
  argc = 3;
  assert_int_equal(hud_config_apply_args(cfg, &argc, bv), 0);
  assert_int_equal(argc, 1);
  assert_false(hud_config_bool(cfg, HUD_CFG_INSECURE));

  char c0[] = "prog", c1[] = "--timeout-ms";
  char *cv[] = {c0, c1, NULL};
  argc = 2;
  assert_int_equal(hud_config_apply_args(cfg, &argc, cv), HUD_ECONFIG);
  assert_string_equal(hud_config_error(cfg), "--timeout-ms needs a value");

  char d0[] = "prog", d1[] = "--set", d2[] = "bogus=1";
  char *dv[] = {d0, d1, d2, NULL};
  argc = 3;
  assert_int_equal(hud_config_apply_args(cfg, &argc, dv), HUD_ECONFIG);
  assert_string_equal(hud_config_error(cfg), "unknown configuration key 'bogus'");

  assert_int_equal(hud_config_set(cfg, "bogus", "1", HUD_CFG_SRC_FLAG), HUD_ENOTFOUND);
  assert_int_equal(hud_config_set(cfg, "timeout_ms", "x", HUD_CFG_SRC_FLAG), HUD_ECONFIG);
  assert_string_equal(hud_config_error(cfg), "flag: timeout_ms: 'x' is not an integer");
  assert_int_equal(hud_config_int(cfg, HUD_CFG_TIMEOUT_MS), 250); /* a failed set changes nothing */
  assert_int_equal(hud_config_set_kv(cfg, "novalue", HUD_CFG_SRC_FLAG), HUD_ECONFIG);
  hud_config_free(cfg);
}

static void binary_and_huge_files_rejected(void **state) {
  FILE *f = fopen(cfgpath, "wb");
  assert_non_null(f);
  fwrite("url = x\0y\n", 1, 10, f);
  fclose(f);
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), HUD_ECONFIG);
  assert_non_null(strstr(hud_config_error(cfg), "NUL byte"));
  hud_config_free(cfg);

  f = fopen(cfgpath, "wb");
  assert_non_null(f);
  for (int i = 0; i < 70000; i++) fputs("# padding line\n", f);
  fclose(f);
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_load(cfg, NULL), HUD_ECONFIG);
  assert_non_null(strstr(hud_config_error(cfg), "larger than"));
  hud_config_free(cfg);
}

static void flag_help_lists_every_key(void **state) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  hud_config_print_flags(m);
  fclose(m);
  assert_non_null(strstr(text, "--connect-timeout-ms N"));
  assert_non_null(strstr(text, "[HUD_CONNECT_TIMEOUT_MS] (default 3000)"));
  assert_non_null(strstr(text, "--insecure BOOL"));
  assert_non_null(strstr(text, "--set KEY=VALUE"));
  size_t lines = 0;
  for (char *p = text; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, HUD_CFG__COUNT + 2);
  free(text);
}

/* Random files built from config-like fragments: loading returns 0 or HUD_ECONFIG with a located message,
 * never anything else (ASan/UBSan watch for the rest). */
static void random_files_never_crash(void **state) {
  static const char *parts[] = {"url", "key", "timeout_ms", "insecure", "[tui]", "[", "]", "=", " = ", "\"",
                                "\\", "#", " #", "\n", "\r\n", "\t", "http://x", "yes", "-1", "99999999999",
                                "\xEF\xBB\xBF", "\xff", "é", "a b", "\\q", "[lsp]\n", "env", "  "};
  uint32_t seed = 12345;
  int ok = 0, bad = 0;
  for (int iter = 0; iter < 3000; iter++) {
    char text[512];
    size_t len = 0;
    int n = 1 + (int)(seed % 24);
    for (int i = 0; i < n; i++) {
      seed = seed * 1664525u + 1013904223u;
      const char *p = parts[(seed >> 8) % (sizeof parts / sizeof *parts)];
      size_t pl = strlen(p);
      if (len + pl >= sizeof text) break;
      memcpy(text + len, p, pl);
      len += pl;
    }
    text[len] = '\0';
    /* A fresh file each time: rewriting one (truncate) makes ext4 flush it on close, 4 ms a file here. */
    char path[600];
    snprintf(path, sizeof path, "%s/hud/r%d", tmpdir, iter);
    write_file(path, text);
    hud_config *cfg;
    assert_int_equal(hud_config_new(&cfg, "tui"), 0);
    int rc = hud_config_load(cfg, path);
    unlink(path);
    if (rc == 0) {
      ok++;
      for (int k = 0; k < HUD_CFG__COUNT; k++) assert_non_null(hud_config_str(cfg, (hud_cfg_key)k));
    } else {
      bad++;
      assert_int_equal(rc, HUD_ECONFIG);
      assert_non_null(strstr(hud_config_error(cfg), path));
    }
    hud_config_free(cfg);
  }
  print_message("random files: %d loaded, %d rejected\n", ok, bad);
  assert_true(ok > 100 && bad > 100);
}

/* A LIST key: lines of one layer add up; the program's section and higher layers replace; empty empties. */
static void lists_repeat_and_layers(void **state) {
  write_config("webhook = all=http://top\n[server]\nwebhook = prod=http://a,format=slack\n"
               "webhook = \"staging=http://b # not a comment\"\n[tui]\nwebhook = x=http://t\n");
  hud_config *srv, *tui;
  assert_int_equal(hud_config_new(&srv, "server"), 0);
  assert_int_equal(hud_config_load(srv, NULL), 0);
  assert_string_equal(hud_config_str(srv, HUD_CFG_WEBHOOK),
                      "prod=http://a,format=slack\nstaging=http://b # not a comment");
  assert_int_equal(hud_config_new(&tui, "lsp"), 0);
  assert_int_equal(hud_config_load(tui, NULL), 0);
  assert_string_equal(hud_config_str(tui, HUD_CFG_WEBHOOK), "all=http://top");
  hud_config_free(tui);

  /* The dump reads back to the same list. */
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  hud_config_dump(srv, m, false);
  fclose(m);
  char other[600];
  snprintf(other, sizeof other, "%s/other.conf", tmpdir);
  write_file(other, text);
  free(text);
  hud_config *again;
  assert_int_equal(hud_config_new(&again, "server"), 0);
  assert_int_equal(hud_config_load(again, other), 0);
  assert_string_equal(hud_config_str(again, HUD_CFG_WEBHOOK), hud_config_str(srv, HUD_CFG_WEBHOOK));
  hud_config_free(again);

  /* Flags replace the file's list and add up among themselves. */
  assert_int_equal(hud_config_set(srv, "webhook", "f=http://1", HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_config_set(srv, "webhook", "g=http://2", HUD_CFG_SRC_FLAG), 0);
  assert_string_equal(hud_config_str(srv, HUD_CFG_WEBHOOK), "f=http://1\ng=http://2");
  assert_int_equal(hud_config_set(srv, "webhook", "", HUD_CFG_SRC_FLAG), 0);
  assert_string_equal(hud_config_str(srv, HUD_CFG_WEBHOOK), "");
  assert_int_equal(hud_config_set(srv, "webhook", "a\nb", HUD_CFG_SRC_FLAG), HUD_ECONFIG);
  hud_config_free(srv);
}

/* docs/config.md documents every key and variable of the table. */
static void reference_page_lists_every_key(void **state) {
  const char *src = getenv("HUD_SOURCE_DIR");
  if (!src) skip();
  char path[600];
  snprintf(path, sizeof path, "%s/docs/config.md", src);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char doc[1 << 16];
  size_t n = fread(doc, 1, sizeof doc - 1, f);
  fclose(f);
  doc[n] = '\0';
  for (int k = 0; k < HUD_CFG__COUNT; k++) {
    char row[200];
    snprintf(row, sizeof row, "| `%s` |", hud_config_key_name((hud_cfg_key)k));
    if (!strstr(doc, row)) fail_msg("docs/config.md has no row for key %s", hud_config_key_name((hud_cfg_key)k));
    const char *env = hud_config_key_env((hud_cfg_key)k);
    if (env) {
      snprintf(row, sizeof row, "`%s`", env);
      if (!strstr(doc, row)) fail_msg("docs/config.md does not mention %s", env);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(defaults_when_no_file, setup, teardown),
      cmocka_unit_test_setup_teardown(table_metadata, setup, teardown),
      cmocka_unit_test_setup_teardown(precedence, setup, teardown),
      cmocka_unit_test_setup_teardown(sections_apply_to_their_program, setup, teardown),
      cmocka_unit_test_setup_teardown(values_quotes_and_comments, setup, teardown),
      cmocka_unit_test_setup_teardown(parse_errors_name_file_and_line, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_keys_warn, setup, teardown),
      cmocka_unit_test_setup_teardown(readable_file_with_key_warns, setup, teardown),
      cmocka_unit_test_setup_teardown(explicit_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(env_values_are_checked, setup, teardown),
      cmocka_unit_test_setup_teardown(flags, setup, teardown),
      cmocka_unit_test_setup_teardown(binary_and_huge_files_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(random_files_never_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(lists_repeat_and_layers, setup, teardown),
      cmocka_unit_test(reference_page_lists_every_key),
      cmocka_unit_test(flag_help_lists_every_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
