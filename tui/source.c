/* Source files of the functions on screen: a module path resolved under the source root (bounded search),
 * the line of a definition, the editor command (`e`), the clipboard (`y`, OSC 52) and OSC 8 hyperlinks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hud/err.h"
#include "tui.h"

#define SEARCH_DEPTH 8    /* directories below the root */
#define SEARCH_DIRS 4000  /* directories looked into, at most */
#define CACHE_N 64

/* A module path that could leave the root (absolute, `..`) is not looked up. */
static bool safe_module_path(const char *m) {
  if (!m || !*m || *m == '/') return false;
  for (const char *p = m; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.') return false;
    p += n + (e ? 1 : 0);
  }
  return true;
}

static bool is_file(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Directories never searched: VCS data, dependencies, virtual environments, caches. */
static bool skipped_dir(const char *dir, const char *name) {
  if (name[0] == '.' || strcmp(name, "node_modules") == 0 || strcmp(name, "__pycache__") == 0 ||
      strcmp(name, "site-packages") == 0 || strcmp(name, "dist-packages") == 0 || strcmp(name, "venv") == 0)
    return true;
  char p[PATH_MAX];
  return snprintf(p, sizeof p, "%s/%s/pyvenv.cfg", dir, name) < (int)sizeof p && is_file(p);
}

/* Breadth first, so the shallowest match wins: DIR/MODULE for every directory DIR below ROOT. */
static int search(const char *root, const char *module, char *out, size_t cap) {
  typedef struct qent {
    char *path;
    int depth;
  } qent;
  qent *q = calloc(SEARCH_DIRS, sizeof *q);
  if (!q) return HUD_ENOMEM;
  size_t head = 0, tail = 0;
  q[tail++] = (qent){strdup(root), 0};
  int rc = HUD_ENOTFOUND;
  while (head < tail && rc == HUD_ENOTFOUND) {
    qent d = q[head++];
    char p[PATH_MAX];
    if (!d.path) continue;
    if (snprintf(p, sizeof p, "%s/%s", d.path, module) < (int)sizeof p && is_file(p)) {
      snprintf(out, cap, "%s", p);
      rc = 0;
    }
    DIR *dh = rc && d.depth < SEARCH_DEPTH ? opendir(d.path) : NULL;
    for (struct dirent *e; dh && (e = readdir(dh)) && tail < SEARCH_DIRS;) {
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || skipped_dir(d.path, e->d_name)) continue;
      if (snprintf(p, sizeof p, "%s/%s", d.path, e->d_name) >= (int)sizeof p) continue;
      struct stat sb;
      if (e->d_type == DT_UNKNOWN && (lstat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) continue;
      q[tail++] = (qent){strdup(p), d.depth + 1};
    }
    if (dh) closedir(dh);
    free(d.path);
  }
  while (head < tail) free(q[head++].path);
  free(q);
  return rc;
}

typedef struct cache_ent {
  char *key;  /* root NUL module */
  char *path; /* NULL = not found */
} cache_ent;
static cache_ent g_cache[CACHE_N];
static size_t g_cache_next;

int tui_source_resolve(const char *root, const char *module_path, char *out, size_t cap) {
  if (!safe_module_path(module_path)) return HUD_ENOTFOUND;
  const char *r = root && *root ? root : ".";
  char key[PATH_MAX * 2];
  snprintf(key, sizeof key, "%s|%s", r, module_path);
  for (size_t i = 0; i < CACHE_N; i++)
    if (g_cache[i].key && strcmp(g_cache[i].key, key) == 0) {
      if (!g_cache[i].path) return HUD_ENOTFOUND;
      snprintf(out, cap, "%s", g_cache[i].path);
      return 0;
    }
  char found[PATH_MAX], abs[PATH_MAX];
  int rc = search(r, module_path, found, sizeof found);
  if (rc == 0 && !realpath(found, abs)) rc = HUD_ENOTFOUND;
  if (rc == HUD_ENOMEM) return rc;
  cache_ent *c = &g_cache[g_cache_next++ % CACHE_N];
  free(c->key);
  free(c->path);
  c->key = strdup(key);
  c->path = rc == 0 ? strdup(abs) : NULL;
  if (rc == 0) snprintf(out, cap, "%s", abs);
  return rc;
}

static bool ident_char(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

int tui_source_def_line(const char *file, const char *name) {
  const char *dot = name ? strrchr(name, '.') : NULL, *base = dot ? dot + 1 : name;
  if (!base || !*base) return 0;
  FILE *f = fopen(file, "r");
  if (!f) return 0;
  static const char *const kw[] = {"def ", "class ", "function ", "async def ", "async function "};
  size_t bl = strlen(base);
  char l[4096];
  int found = 0;
  for (int n = 1; !found && n <= 200000 && fgets(l, sizeof l, f); n++) {
    const char *p = l + strspn(l, " \t");
    for (size_t k = 0; k < sizeof kw / sizeof kw[0] && !found; k++) {
      size_t kl = strlen(kw[k]);
      if (strncmp(p, kw[k], kl) == 0 && strncmp(p + kl, base, bl) == 0 && !ident_char(p[kl + bl])) found = n;
    }
  }
  fclose(f);
  return found;
}

int tui_source_find(const tui_ctx *ctx, const tui_fnref *fn, char *path, size_t cap, int *line) {
  int rc = tui_source_resolve(ctx->root, fn->module_path, path, cap);
  if (rc) return rc;
  *line = fn->line > 0 ? fn->line : tui_source_def_line(path, fn->name);
  return 0;
}

int tui_edit(const char *file, int line, int *status) {
  const char *ed = getenv("VISUAL");
  if (!ed || !*ed) ed = getenv("EDITOR");
  if (!ed || !*ed) ed = "vi";
  /* Through the shell, like git: EDITOR may hold arguments ("code -w"). */
  char cmd[PATH_MAX], plus[32];
  snprintf(cmd, sizeof cmd, "%s \"$@\"", ed);
  snprintf(plus, sizeof plus, "+%d", line);
  char *argv[] = {"/bin/sh", "-c", cmd, (char *)ed, plus, (char *)file, NULL};
  if (line <= 0) {
    argv[4] = (char *)file;
    argv[5] = NULL;
  }
  return tui_term_run(argv, status);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const char *s, size_t n, char *out) {
  const unsigned char *u = (const unsigned char *)s;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0) | (i + 2 < n ? u[i + 2] : 0);
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? b64[v & 63] : '=';
  }
  out[o] = '\0';
}

static int write_all(const char *s, size_t n) {
  while (n) {
    ssize_t w = write(STDOUT_FILENO, s, n);
    if (w < 0) return HUD_EIO;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

int tui_clipboard(const char *text) {
  size_t n = strlen(text);
  if (n > 4096) return HUD_EINVAL;
  char enc[4096 / 3 * 4 + 8], seq[sizeof enc + 32];
  base64(text, n, enc);
  /* tmux takes a plain OSC 52 (set-clipboard on / external); GNU screen needs it wrapped in a DCS. */
  bool screen = getenv("STY") && !getenv("TMUX");
  int len = snprintf(seq, sizeof seq, "%s\033]52;c;%s\a%s", screen ? "\033P" : "", enc, screen ? "\033\\" : "");
  return write_all(seq, (size_t)len);
}
