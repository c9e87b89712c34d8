/* hud-tui: `top` for a service's code. Flags, configuration, then the interactive program or --once. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hud/cli.h"
#include "hud/client.h"
#include "hud/config.h"
#include "tui.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: hud-tui [options]\n"
          "       hud-tui --once [--view functions|flows|issues|detail|paths|errors] [--sort NAME] [--limit N] [--json]\n"
          "\n"
          "Terminal UI for a service's functions: calls, latency percentiles, errors, trends, regressions.\n"
          "Press ? inside for the keys.\n"
          "\n"
          "  --view NAME        first view: functions (default), flows, issues, detail, paths (these two\n"
          "                     need --function ID), errors (the service's, or --function ID's)\n"
          "  --sort NAME        functions: calls p50 p95 p99 errors trend change; flows: calls p95 errors\n"
          "  --interval SECS    refresh period (default 5; e.g. 2, 0.5, 500ms)\n"
          "  --window DUR       query window ending now (default 24h; e.g. 15m, 6h, 7d)\n"
          "  --limit N          rows fetched (functions default 200, the others 100; 1..1000)\n"
          "  --filter TEXT      substring filter on names (case-insensitive); ~REGEX: extended regex\n"
          "  --function ID      function shown by the detail and hot-path views, and errors' scope\n"
          "  --issue ID         open the Issues view with that issue selected (alerts' hud-tui link);\n"
          "                     with --once: print that issue's detail\n"
          "  --no-color         no colours (also NO_COLOR=1 or a terminal without colours)\n"
          "  --no-unicode       ASCII only (also when the locale is not UTF-8)\n"
          "  --no-mouse         leave the mouse to the terminal (text selection)\n"
          "  --no-links         no OSC 8 hyperlinks on file:line in the detail view\n"
          "  --root DIR         source tree for e (editor), y (copy file:line) and links (default: .)\n"
          "  --once             print the view once as plain text and exit (1 on backend errors)\n"
          "  --json             with --once: the API response as JSON\n"
          "  --width N          with --once: text width (default: the terminal's, else $COLUMNS, else 120)\n"
          "  --help, --version\n"
          "\n"
          "Configuration (file section [tui], environment, flags):\n");
  hud_config_print_flags(out);
}

/* "5", "0.5", "2s", "500ms", "15m", "6h", "7d" -> ms; -1 when malformed. */
static int64_t parse_dur_ms(const char *s, const char *default_unit) {
  char *end;
  double v = strtod(s, &end);
  const char *u = *end ? end : default_unit;
  double mul = strcmp(u, "ms") == 0 ? 1 : strcmp(u, "s") == 0 ? 1e3 : strcmp(u, "m") == 0 ? 60e3
             : strcmp(u, "h") == 0 ? 3600e3 : strcmp(u, "d") == 0 ? 86400e3 : -1;
  if (end == s || mul < 0 || !isfinite(v) || v <= 0) return -1;
  return (int64_t)llround(v * mul);
}

typedef struct args {
  tui_once_opts once;
  tui_app_opts app;
  bool is_once;
  int64_t window_ms;
  int width;
} args;

static bool is_uuid(const char *s) {
  if (strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++)
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i]) return false;
  return true;
}

static const char *need(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "hud-tui: %s needs a value\n", argv[*i]);
    exit(2);
  }
  return argv[++*i];
}

static int parse(int argc, char **argv, args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "--version") == 0) {
      hud_cli_print_version(stdout, "hud-tui");
      exit(0);
    } else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(s, "--once") == 0) a->is_once = true;
    else if (strcmp(s, "--json") == 0) a->once.json = true;
    else if (strcmp(s, "--no-color") == 0) a->app.no_color = true;
    else if (strcmp(s, "--no-unicode") == 0) a->app.no_unicode = true;
    else if (strcmp(s, "--no-mouse") == 0) a->app.no_mouse = true;
    else if (strcmp(s, "--no-links") == 0) a->app.no_links = true;
    else if (strcmp(s, "--view") == 0) a->once.view = a->app.first_view = need(argc, argv, &i);
    else if (strcmp(s, "--sort") == 0) a->once.sort = a->app.sort = need(argc, argv, &i);
    else if (strcmp(s, "--filter") == 0) a->once.filter = a->app.filter = need(argc, argv, &i);
    else if (strcmp(s, "--function") == 0) a->once.function_id = need(argc, argv, &i);
    else if (strcmp(s, "--issue") == 0) {
      a->once.issue_id = a->app.issue_id = need(argc, argv, &i);
      if (!is_uuid(a->app.issue_id)) {
        fprintf(stderr, "hud-tui: --issue needs an issue id (a lowercase UUID, as in the alert's link)\n");
        return 2;
      }
    }
    else if (strcmp(s, "--limit") == 0) {
      a->once.limit = atoi(need(argc, argv, &i));
      if (a->once.limit < 1 || a->once.limit > HUD_MAX_QUERY_LIMIT) {
        fprintf(stderr, "hud-tui: --limit must be 1..%d\n", HUD_MAX_QUERY_LIMIT);
        return 2;
      }
    } else if (strcmp(s, "--width") == 0) {
      a->width = atoi(need(argc, argv, &i));
      if (a->width < 20 || a->width > 4000) {
        fprintf(stderr, "hud-tui: --width must be 20..4000\n");
        return 2;
      }
    } else if (strcmp(s, "--interval") == 0) {
      int64_t ms = parse_dur_ms(need(argc, argv, &i), "s");
      if (ms < 100 || ms > 3600000) {
        fprintf(stderr, "hud-tui: --interval must be 0.1s..1h\n");
        return 2;
      }
      a->app.interval_ms = (int)ms;
    } else if (strcmp(s, "--window") == 0) {
      a->window_ms = parse_dur_ms(need(argc, argv, &i), "h");
      if (a->window_ms < 60000) {
        fprintf(stderr, "hud-tui: --window must be at least 1m (e.g. 15m, 6h, 7d)\n");
        return 2;
      }
    } else {
      fprintf(stderr, "hud-tui: unknown option '%s' (--help lists them)\n", s);
      return 2;
    }
  }
  if (a->app.issue_id) {
    if (a->once.view && strcmp(a->once.view, "issues") != 0) {
      fprintf(stderr, "hud-tui: --issue is about the Issues view (not --view %s)\n", a->once.view);
      return 2;
    }
    a->once.view = a->app.first_view = "issues";
  }
  const tui_view *v = tui_view_by_name(a->once.view ? a->once.view : "functions");
  if (!v) {
    fprintf(stderr, "hud-tui: unknown view '%s' (functions, flows, issues, detail, paths, errors)\n", a->once.view);
    return 2;
  }
  bool sort_ok = !a->once.sort;
  for (int i = 0; !sort_ok && v->sorts && v->sorts[i]; i++) sort_ok = strcmp(v->sorts[i], a->once.sort) == 0;
  if (!sort_ok) {
    fprintf(stderr, "hud-tui: view %s cannot sort by '%s'\n", v->name, a->once.sort);
    return 2;
  }
  return 0;
}

static int text_width(int flag) {
  if (flag) return flag;
  struct winsize ws;
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  const char *c = getenv("COLUMNS");
  if (c && atoi(c) >= 20) return atoi(c);
  return 120;
}

int main(int argc, char **argv) {
  tui_timing_open();
  tui_timing_mark("start", NULL);
  hud_config *cfg = NULL;
  if (hud_config_new(&cfg, "tui") < 0) return 1;
  if (hud_config_apply_args(cfg, &argc, argv) < 0 || hud_config_load(cfg, NULL) < 0) {
    fprintf(stderr, "hud-tui: %s\n", hud_config_error(cfg));
    hud_config_free(cfg);
    return 2;
  }
  for (size_t i = 0; i < hud_config_warning_count(cfg); i++) fprintf(stderr, "hud-tui: warning: %s\n", hud_config_warning(cfg, i));
  args a = {.app.interval_ms = 5000, .window_ms = 24 * 3600000LL};
  int rc = parse(argc, argv, &a);
  if (rc) {
    hud_config_free(cfg);
    return rc;
  }
  tui_query q = {.window_ns = a.window_ms * 1000000LL, .limit = a.once.limit};
  snprintf(q.service, sizeof q.service, "%s", hud_config_str(cfg, HUD_CFG_SERVICE));
  snprintf(q.env, sizeof q.env, "%s", hud_config_str(cfg, HUD_CFG_ENV));
  char url[512], err[512], root[4096];
  snprintf(url, sizeof url, "%s", hud_config_str(cfg, HUD_CFG_URL));
  snprintf(root, sizeof root, "%s", hud_config_str(cfg, HUD_CFG_ROOT));
  hud_client *c = NULL;
  if (hud_client_new(&c, cfg, err, sizeof err) < 0) {
    fprintf(stderr, "hud-tui: %s\n", err);
    hud_config_free(cfg);
    return 2;
  }
  hud_config_free(cfg);
  tui_ctx ctx = {.url = url, .service = q.service, .env = q.env, .window_ns = q.window_ns};
  if (a.is_once) {
    setlocale(LC_CTYPE, ""); /* names: as they are in a UTF-8 locale, '?' for what the locale cannot show */
    ctx.unicode = false;     /* plain ASCII glyphs for pipes and scripts */
    ctx.cols = text_width(a.width);
    rc = tui_once(c, &q, &a.once, &ctx, stdout);
  } else {
    if (a.once.function_id)
      snprintf(q.function_id, sizeof q.function_id, "%s", a.once.function_id);
    a.app.url = url;
    a.app.root = root;
    rc = tui_app_run(c, &q, &ctx, &a.app);
  }
  hud_client_free(c);
  tui_filter_free();
  return rc;
}
