/* What hud-tui remembers between runs: the last view and each view's sort, in a small `key = value` file
 * under $XDG_STATE_HOME/hud/. Anything odd in it is skipped: the state is a convenience, never a reason to
 * stop. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hud/err.h"
#include "tui.h"

#define STATE_MAX_BYTES 65536

bool tui_state_path(char *out, size_t cap) {
  const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  int n;
  if (x && *x == '/') n = snprintf(out, cap, "%s/hud/tui.state", x);
  else if (home && *home) n = snprintf(out, cap, "%s/.local/state/hud/tui.state", home);
  else return false;
  return n > 0 && (size_t)n < cap;
}

/* View and sort names: lower-case letters, digits, '_' and '-'. */
static bool name_ok(const char *s) {
  if (!*s || strlen(s) >= 32) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')) return false;
  return true;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

static void parse_line(tui_state *st, char *l) {
  char *eq = strchr(l, '=');
  if (!eq || *trim(l) == '#') return;
  *eq = '\0';
  char *k = trim(l), *v = trim(eq + 1);
  if (!name_ok(v)) return;
  if (strcmp(k, "view") == 0) {
    snprintf(st->view, sizeof st->view, "%s", v);
  } else if (strncmp(k, "sort.", 5) == 0 && name_ok(k + 5) && st->n_sorts < TUI_STATE_VIEWS) {
    snprintf(st->sort_view[st->n_sorts], sizeof st->sort_view[0], "%s", k + 5);
    snprintf(st->sort[st->n_sorts++], sizeof st->sort[0], "%s", v);
  }
}

int tui_state_load(tui_state *st) {
  memset(st, 0, sizeof *st);
  char path[4096];
  if (!tui_state_path(path, sizeof path)) return HUD_ENOTFOUND;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? HUD_ENOTFOUND : HUD_EIO;
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > STATE_MAX_BYTES) {
    close(fd);
    return S_ISREG(sb.st_mode) ? HUD_ETOOBIG : HUD_EIO;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
    return HUD_EIO;
  }
  char l[256];
  while (fgets(l, sizeof l, f)) {
    if (!strchr(l, '\n') && !feof(f)) { /* longer than any good line: skip the rest of it */
      int c;
      while ((c = fgetc(f)) != EOF && c != '\n') {}
      continue;
    }
    parse_line(st, l);
  }
  fclose(f);
  return 0;
}

/* mkdir -p of PATH's directory, 0700 for what it creates. */
static int make_dirs(const char *path) {
  char d[4096];
  snprintf(d, sizeof d, "%s", path);
  char *slash = strrchr(d, '/');
  if (!slash) return 0;
  *slash = '\0';
  for (char *p = d + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(d, 0700) != 0 && errno != EEXIST) return HUD_EIO;
    *p = '/';
  }
  return mkdir(d, 0700) != 0 && errno != EEXIST ? HUD_EIO : 0;
}

int tui_state_save(const tui_state *st) {
  char path[4096], tmp[4200];
  if (!tui_state_path(path, sizeof path)) return HUD_ENOTFOUND;
  if (make_dirs(path) < 0) return HUD_EIO;
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return HUD_EIO;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
    return HUD_EIO;
  }
  fprintf(f, "# hud-tui: the last view and each view's sort (written on exit)\n");
  if (st->view[0]) fprintf(f, "view = %s\n", st->view);
  for (size_t i = 0; i < st->n_sorts; i++) fprintf(f, "sort.%s = %s\n", st->sort_view[i], st->sort[i]);
  bool ok = fflush(f) == 0 && fsync(fd) == 0;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return HUD_EIO;
  }
  return 0;
}
