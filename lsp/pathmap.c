/* Production module paths onto workspace directories (pathmap.h). */
#include "pathmap.h"

#include <stdio.h>
#include <string.h>

/* LEN of S without trailing '/' (a lone "/" stays). */
static size_t trim_len(const char *s) {
  size_t n = strlen(s);
  while (n > 1 && s[n - 1] == '/') n--;
  return n;
}

/* The map's directory for FOLDER in OUT: TO when absolute, else FOLDER/TO. */
static int map_dir(const lsp_server *s, const struct lsp_path_map *m, size_t folder, char *out, size_t cap) {
  size_t tl = trim_len(m->to);
  int n;
  if (m->to[0] == '/') n = snprintf(out, cap, "%.*s", (int)tl, m->to);
  else if (folder < s->n_folders) n = snprintf(out, cap, "%s/%.*s", s->folders[folder], (int)tl, m->to);
  else return -1;
  if (n < 0 || (size_t)n >= cap) return -1;
  if (n > 2 && out[n - 2] == '/' && out[n - 1] == '.') out[n - 2] = '\0'; /* "to": "." is the folder */
  return 0;
}

/* FROM as module paths have it: relative, without its leading and trailing '/' ("/app/" -> "app"). */
static const char *from_of(const struct lsp_path_map *m, size_t *len) {
  const char *f = m->from;
  while (*f == '/') f++;
  *len = strlen(f);
  while (*len > 0 && f[*len - 1] == '/') (*len)--;
  return f;
}

int lsp_pathmap_module(const lsp_server *s, const char *path, int folder, char *out, size_t cap) {
  const lsp_settings *st = &s->settings;
  for (size_t i = 0; path && i < st->n_path_maps; i++) {
    char dir[1400];
    if (map_dir(s, &st->path_maps[i], folder < 0 ? (size_t)-1 : (size_t)folder, dir, sizeof dir)) continue;
    size_t dl = strlen(dir);
    if (strncmp(path, dir, dl) != 0 || path[dl] != '/') continue;
    size_t fl;
    const char *from = from_of(&st->path_maps[i], &fl);
    int n = snprintf(out, cap, "%.*s%s%s", (int)fl, from, fl ? "/" : "", path + dl + 1);
    if (n > 0 && (size_t)n < cap) return 0;
  }
  return -1;
}

int lsp_pathmap_file(const lsp_server *s, size_t i, size_t folder, const char *module, char *out, size_t cap) {
  const struct lsp_path_map *m = &s->settings.path_maps[i];
  size_t fl;
  const char *from = from_of(m, &fl);
  while (*module == '/') module++;
  if (strncmp(module, from, fl) != 0 || (fl > 0 && module[fl] != '/')) return -1;
  const char *rest = module + fl + (fl > 0);
  char dir[1400];
  if (map_dir(s, m, folder, dir, sizeof dir)) return -1;
  int n = snprintf(out, cap, "%s/%s", dir, rest);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}
