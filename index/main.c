/* hud-index: prints every function of the given files and directories, one JSON object per
 * line, exactly as the hud tools name them (see common/include/hud/index.h). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hud/cli.h"
#include "hud/err.h"
#include "hud/index.h"

/* ---- growable string ---------------------------------------------------------------- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      fprintf(stderr, "hud-index: out of memory\n");
      exit(2);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* JSON string; invalid UTF-8 bytes become U+FFFD so that the output is always valid JSON. */
static void sb_json_str(sbuf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  sb_put(b, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_put(b, e, 2);
      i++;
    } else if (c < 0x20) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", c);
      sb_puts(b, e);
      i++;
    } else {
      size_t l = utf8_len(p + i, n - i);
      if (l == 0) {
        sb_puts(b, "\\ufffd");
        i++;
      } else {
        sb_put(b, s + i, l);
        i += l;
      }
    }
  }
  sb_put(b, "\"", 1);
}

/* ---- options ------------------------------------------------------------------------ */

typedef struct opts {
  const char *root;
  char *root_abs;
  int jobs;
  bool calls;
  bool use_gitignore;
  hud_lang force_lang;
  hud_index_opts ix;
} opts;

static void usage(FILE *out) {
  fprintf(out,
          "usage: hud-index [options] FILE|DIR...\n"
          "Prints one JSON object per function per line:\n"
          "  {\"file\", \"module_path\", \"qualname\", \"kind\", \"start_line\", \"end_line\",\n"
          "   \"is_async\", \"function_id\", \"source_code_hash\"}\n"
          "options:\n"
          "  --root DIR          module_path relative to DIR (default: for Python files,\n"
          "                      relative to the first directory up from the file without\n"
          "                      __init__.py, as the sensor does; others: the path as given)\n"
          "  -j, --jobs N        worker threads (default: number of CPUs)\n"
          "  --calls             also print call sites: {\"file\", \"module_path\", \"callee\",\n"
          "                      \"line\", \"column\", \"enclosing\"} (1-based line, byte column)\n"
          "  --lang NAME         parse every file as NAME (python, javascript, typescript,\n"
          "                      tsx, go, java) instead of by extension\n"
          "  --python-version V  3.11 (default) or 3.12+: 3.12 inlines comprehensions\n"
          "  --no-gitignore      do not honour .gitignore files while walking directories\n"
          "  --timeout-ms N      give up on a file whose parse takes longer (default %u)\n"
          "  --version, --help\n"
          "Directories are walked recursively for known extensions, skipping hidden\n"
          "directories, node_modules, __pycache__, virtualenvs and CMake build trees.\n",
          HUD_INDEX_TIMEOUT_MS);
}

/* ---- directory walk with .gitignore --------------------------------------------------- */

typedef struct ignore_rule {
  char *base;    /* directory of the .gitignore, relative to the walk root ("" = root) */
  char *pattern; /* without leading '!' and '/' and trailing '/' */
  bool negate, dir_only, anchored;
} ignore_rule;

typedef struct walk {
  const opts *o;
  struct stat *seen; /* directories walked (dev, ino): symlink loops are walked once */
  size_t nseen, capseen;
  ignore_rule *rules;
  size_t nrules, caprules;
  struct job *jobs;
  size_t njobs, capjobs;
  int errors;
} walk;

typedef struct job {
  long long size; /* for scheduling: the largest files start first */
  char *path;
  char *module_path;
  hud_lang lang;
  sbuf out;
  char *err;
  bool done;
} job;

static char *python_module_path(const char *path);

static void add_job(walk *w, const char *path, const char *module_path, hud_lang lang,
                    long long size) {
  if (w->njobs == w->capjobs) {
    size_t cap = w->capjobs ? w->capjobs * 2 : 256;
    job *n = realloc(w->jobs, cap * sizeof *n);
    if (!n) {
      fprintf(stderr, "hud-index: out of memory\n");
      exit(2);
    }
    w->jobs = n;
    w->capjobs = cap;
  }
  job *j = &w->jobs[w->njobs++];
  memset(j, 0, sizeof *j);
  j->path = strdup(path);
  j->module_path = NULL;
  if (!w->o->root && lang == HUD_LANG_PYTHON) j->module_path = python_module_path(path);
  if (!j->module_path) j->module_path = strdup(module_path);
  j->lang = lang;
  j->size = size;
}

static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *r = malloc(la + lb + 2);
  if (!r) exit(2);
  if (la == 0) {
    memcpy(r, b, lb + 1);
    return r;
  }
  memcpy(r, a, la);
  size_t k = la;
  if (a[la - 1] != '/') r[k++] = '/';
  memcpy(r + k, b, lb + 1);
  return r;
}

static void load_gitignore(walk *w, const char *dir, const char *rel) {
  char *path = join(dir, ".gitignore");
  FILE *f = fopen(path, "r");
  free(path);
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    size_t n = strcspn(line, "\r\n");
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
    char *p = line;
    if (!*p || *p == '#') continue;
    ignore_rule r = {0};
    if (*p == '!') {
      r.negate = true;
      p++;
    }
    if (*p == '\\') p++;
    n = strlen(p);
    if (n && p[n - 1] == '/') {
      r.dir_only = true;
      p[--n] = '\0';
    }
    if (strchr(p, '/')) r.anchored = true;
    if (*p == '/') p++;
    if (!*p) continue;
    r.base = strdup(rel);
    r.pattern = strdup(p);
    if (w->nrules == w->caprules) {
      size_t cap = w->caprules ? w->caprules * 2 : 32;
      ignore_rule *nr = realloc(w->rules, cap * sizeof *nr);
      if (!nr) exit(2);
      w->rules = nr;
      w->caprules = cap;
    }
    w->rules[w->nrules++] = r;
  }
  fclose(f);
}

/* REL is the entry's path relative to the walk root, NAME its last component. */
static bool ignored(const walk *w, const char *rel, const char *name, bool is_dir) {
  bool ign = false;
  for (size_t i = 0; i < w->nrules; i++) {
    const ignore_rule *r = &w->rules[i];
    if (r->dir_only && !is_dir) continue;
    size_t bl = strlen(r->base);
    const char *sub = rel;
    if (bl) {
      if (strncmp(rel, r->base, bl) != 0 || rel[bl] != '/') continue;
      sub = rel + bl + 1;
    }
    bool m;
    if (r->anchored) {
      int flags = strstr(r->pattern, "**") ? 0 : FNM_PATHNAME;
      m = fnmatch(r->pattern, sub, flags) == 0;
    } else {
      m = fnmatch(r->pattern, name, 0) == 0;
    }
    if (m) ign = !r->negate;
  }
  return ign;
}

static bool skip_dir(const char *dir, const char *name) {
  static const char *const names[] = {"node_modules", "__pycache__", "site-packages"};
  if (name[0] == '.') return true; /* .git, .venv, .tox, .mypy_cache, ... */
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) return true;
  static const char *const markers[] = {"pyvenv.cfg", "CMakeCache.txt"};
  for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
    char *p = join(dir, markers[i]);
    bool found = access(p, F_OK) == 0;
    free(p);
    if (found) return true;
  }
  return false;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR is the path to open; REL its path relative to the walk root; MOD its module path. */
static bool seen_before(walk *w, const char *dir) {
  struct stat st;
  if (stat(dir, &st) != 0) return false;
  for (size_t i = 0; i < w->nseen; i++)
    if (w->seen[i].st_dev == st.st_dev && w->seen[i].st_ino == st.st_ino) return true;
  if (w->nseen == w->capseen) {
    size_t cap = w->capseen ? w->capseen * 2 : 64;
    struct stat *n = realloc(w->seen, cap * sizeof *n);
    if (!n) exit(2);
    w->seen = n;
    w->capseen = cap;
  }
  w->seen[w->nseen++] = st;
  return false;
}

static void walk_dir(walk *w, const char *dir, const char *rel, const char *mod, int depth) {
  if (depth > 64 || seen_before(w, dir)) return; /* symlink loops, absurd trees */
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "hud-index: %s: %s\n", dir, strerror(errno));
    w->errors++;
    return;
  }
  size_t nrules_before = w->nrules;
  if (w->o->use_gitignore) load_gitignore(w, dir, rel);
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = realloc(names, cap * sizeof *names);
      if (!names) exit(2);
    }
    names[n++] = strdup(de->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, name_cmp);
  for (size_t i = 0; i < n; i++) {
    char *path = join(dir, names[i]);
    char *r = join(rel, names[i]);
    char *m = join(mod, names[i]);
    struct stat st;
    if (stat(path, &st) == 0) {
      bool is_dir = S_ISDIR(st.st_mode);
      if (!ignored(w, r, names[i], is_dir)) {
        if (is_dir) {
          if (!skip_dir(path, names[i])) walk_dir(w, path, r, m, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
          hud_lang lang = w->o->force_lang ? w->o->force_lang : hud_lang_from_path(names[i]);
          if (lang) add_job(w, path, m, lang, (long long)st.st_size);
        }
      }
    }
    free(path);
    free(r);
    free(m);
    free(names[i]);
  }
  free(names);
  /* Rules of this directory's .gitignore stop applying outside it. */
  for (size_t i = nrules_before; i < w->nrules; i++) {
    free(w->rules[i].base);
    free(w->rules[i].pattern);
  }
  w->nrules = nrules_before;
}

/* Module path of an argument: relative to --root, or the path as given, cleaned. */
static char *module_path_of(const opts *o, const char *arg) {
  if (o->root_abs) {
    char *abs = realpath(arg, NULL);
    if (abs) {
      size_t rl = strlen(o->root_abs);
      char *res = NULL;
      if (strcmp(abs, o->root_abs) == 0)
        res = strdup("");
      else if (strncmp(abs, o->root_abs, rl) == 0 && (abs[rl] == '/' || rl == 1))
        res = strdup(abs + (rl == 1 ? 1 : rl + 1));
      free(abs);
      if (res) return res;
    }
    fprintf(stderr, "hud-index: warning: %s is outside --root %s\n", arg, o->root);
  }
  const char *p = arg;
  while (p[0] == '.' && p[1] == '/') {
    p += 2;
    while (*p == '/') p++;
  }
  if (strcmp(p, ".") == 0) p = "";
  char *res = strdup(p);
  size_t l = strlen(res);
  while (l > 1 && res[l - 1] == '/') res[--l] = '\0';
  return res;
}

/* module_path of a Python file without --root (docs/protocol.md "function_id"): relative
 * to the first directory, walking up from the file, that has no __init__.py. The path is
 * made absolute lexically; symlinks are not resolved. */
static char *python_module_path(const char *path) {
  char cwd[PATH_MAX];
  sbuf abs = {0};
  if (path[0] != '/') {
    if (!getcwd(cwd, sizeof cwd)) return NULL;
    sb_puts(&abs, cwd);
    sb_puts(&abs, "/");
  }
  sb_puts(&abs, path);
  /* Components, with "." and ".." folded. */
  char **comp = NULL;
  size_t n = 0;
  for (char *save = NULL, *tok = strtok_r(abs.p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    if (strcmp(tok, ".") == 0) continue;
    if (strcmp(tok, "..") == 0) {
      if (n) n--;
      continue;
    }
    char **nc = realloc(comp, (n + 1) * sizeof *nc);
    if (!nc) exit(2);
    comp = nc;
    comp[n++] = tok;
  }
  char *res = NULL;
  if (n) {
    size_t root = n - 1; /* components [root, n) form the module path */
    sbuf dir = {0};
    while (root > 0) {
      dir.n = 0;
      for (size_t i = 0; i < root; i++) {
        sb_puts(&dir, "/");
        sb_puts(&dir, comp[i]);
      }
      sb_puts(&dir, "/__init__.py");
      if (access(dir.p, F_OK) != 0) break;
      root--;
    }
    free(dir.p);
    sbuf m = {0};
    for (size_t i = root; i < n; i++) {
      if (i > root) sb_puts(&m, "/");
      sb_puts(&m, comp[i]);
    }
    res = m.p;
  }
  free(comp);
  free(abs.p);
  return res;
}

/* ---- indexing ----------------------------------------------------------------------- */

static int read_file(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return HUD_EIO;
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    fclose(f);
    return HUD_EIO;
  }
  if ((unsigned long long)st.st_size > HUD_INDEX_MAX_BYTES) {
    fclose(f);
    return HUD_ETOOBIG;
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return HUD_ENOMEM;
  }
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    if (cap > HUD_INDEX_MAX_BYTES) { /* the file grew past the limit while we read it */
      free(buf);
      fclose(f);
      return HUD_ETOOBIG;
    }
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      fclose(f);
      return HUD_ENOMEM;
    }
    buf = nb;
    cap *= 2;
  }
  bool err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return HUD_EIO;
  }
  *out = buf;
  *len = n;
  return 0;
}

static void format_result(sbuf *b, const job *j, const hud_index_result *r, bool calls) {
  for (size_t i = 0; i < r->nfuncs; i++) {
    const hud_index_func *f = &r->funcs[i];
    sb_puts(b, "{\"file\":");
    sb_json_str(b, j->path);
    sb_puts(b, ",\"module_path\":");
    sb_json_str(b, j->module_path);
    sb_puts(b, ",\"qualname\":");
    sb_json_str(b, f->qualname);
    sb_printf(b,
              ",\"kind\":\"%s\",\"start_line\":%d,\"end_line\":%d,\"is_async\":%s,"
              "\"function_id\":\"%s\",\"source_code_hash\":\"%s\"}\n",
              hud_index_kind_name(f->kind), f->start_line, f->end_line,
              f->is_async ? "true" : "false", f->function_id, f->source_code_hash);
  }
  if (!calls) return;
  for (size_t i = 0; i < r->ncalls; i++) {
    const hud_index_call *c = &r->calls[i];
    sb_puts(b, "{\"file\":");
    sb_json_str(b, j->path);
    sb_puts(b, ",\"module_path\":");
    sb_json_str(b, j->module_path);
    sb_puts(b, ",\"callee\":");
    sb_json_str(b, c->callee);
    sb_printf(b, ",\"line\":%u,\"column\":%u,\"enclosing\":", c->start.row + 1, c->start.column);
    if (c->enclosing >= 0)
      sb_json_str(b, r->funcs[c->enclosing].qualname);
    else
      sb_puts(b, "null");
    sb_puts(b, "}\n");
  }
}

typedef struct pool {
  const opts *o;
  job *jobs;
  size_t njobs;
  size_t *order; /* job indexes, largest file first, so that no thread ends alone on a big one */
  atomic_size_t next;
  pthread_mutex_t mu;
  pthread_cond_t cv;
} pool;

static void run_job(hud_indexer *ix, const opts *o, job *j) {
  char *src = NULL;
  size_t len = 0;
  int rc = read_file(j->path, &src, &len);
  if (!rc) {
    hud_index_result *r = NULL;
    rc = hud_indexer_run(ix, j->lang, j->module_path, src, len, &o->ix, &r);
    if (!rc) {
      format_result(&j->out, j, r, o->calls);
      hud_index_result_free(r);
    }
  }
  free(src);
  if (rc) {
    sbuf e = {0};
    sb_printf(&e, "hud-index: %s: %s", j->path, hud_strerror(rc));
    if (rc == HUD_EIO) sb_printf(&e, " (%s)", strerror(errno));
    j->err = e.p;
  }
}

static void *worker(void *arg) {
  pool *p = arg;
  hud_indexer *ix = NULL;
  int rc = hud_indexer_new(&ix);
  for (;;) {
    size_t k = atomic_fetch_add(&p->next, 1);
    if (k >= p->njobs) break;
    job *j = &p->jobs[p->order ? p->order[k] : k];
    if (rc) {
      sbuf e = {0};
      sb_printf(&e, "hud-index: cannot start the indexer: %s", hud_strerror(rc));
      j->err = e.p;
    } else {
      run_job(ix, p->o, j);
    }
    pthread_mutex_lock(&p->mu);
    j->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  hud_indexer_free(ix);
  return NULL;
}

static const job *g_jobs; /* for the qsort comparator only */

static int by_size_desc(const void *a, const void *b) {
  long long x = g_jobs[*(const size_t *)a].size, y = g_jobs[*(const size_t *)b].size;
  if (x != y) return x > y ? -1 : 1;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int main(int argc, char **argv) {
  opts o = {.use_gitignore = true};
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  o.jobs = ncpu > 0 ? (int)(ncpu > 16 ? 16 : ncpu) : 1;
  enum { OPT_ROOT = 256, OPT_CALLS, OPT_LANG, OPT_PYVER, OPT_NOGI, OPT_TIMEOUT, OPT_VERSION };
  static const struct option longopts[] = {
      {"root", required_argument, 0, OPT_ROOT},
      {"jobs", required_argument, 0, 'j'},
      {"calls", no_argument, 0, OPT_CALLS},
      {"lang", required_argument, 0, OPT_LANG},
      {"python-version", required_argument, 0, OPT_PYVER},
      {"no-gitignore", no_argument, 0, OPT_NOGI},
      {"timeout-ms", required_argument, 0, OPT_TIMEOUT},
      {"version", no_argument, 0, OPT_VERSION},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  int ch;
  while ((ch = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
    switch (ch) {
    case OPT_ROOT: o.root = optarg; break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 256) {
        fprintf(stderr, "hud-index: -j wants a number from 1 to 256\n");
        return 2;
      }
      o.jobs = (int)v;
      break;
    }
    case OPT_CALLS: o.calls = true; o.ix.flags |= HUD_INDEX_CALLS; break;
    case OPT_LANG:
      o.force_lang = hud_lang_from_name(optarg);
      if (!o.force_lang) {
        fprintf(stderr, "hud-index: unknown language %s\n", optarg);
        return 2;
      }
      break;
    case OPT_PYVER: {
      int maj = 0, min = 0;
      if (sscanf(optarg, "%d.%d", &maj, &min) != 2 || maj != 3) {
        fprintf(stderr, "hud-index: --python-version wants 3.N\n");
        return 2;
      }
      if (min >= 12) o.ix.flags |= HUD_INDEX_PY_INLINE_COMPREHENSIONS;
      break;
    }
    case OPT_NOGI: o.use_gitignore = false; break;
    case OPT_TIMEOUT: {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 3600000) {
        fprintf(stderr, "hud-index: --timeout-ms wants a positive number\n");
        return 2;
      }
      o.ix.timeout_ms = (unsigned)v;
      break;
    }
    case OPT_VERSION: hud_cli_print_version(stdout, "hud-index"); return 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  if (o.root) {
    o.root_abs = realpath(o.root, NULL);
    if (!o.root_abs) {
      fprintf(stderr, "hud-index: --root %s: %s\n", o.root, strerror(errno));
      return 2;
    }
  }

  walk w = {.o = &o};
  for (int i = optind; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "hud-index: %s: %s\n", argv[i], strerror(errno));
      w.errors++;
      continue;
    }
    char *mod = module_path_of(&o, argv[i]);
    if (S_ISDIR(st.st_mode)) {
      walk_dir(&w, argv[i], "", mod, 0);
    } else {
      hud_lang lang = o.force_lang ? o.force_lang : hud_lang_from_path(argv[i]);
      if (!lang) {
        fprintf(stderr, "hud-index: %s: unknown language (use --lang)\n", argv[i]);
        w.errors++;
      } else {
        add_job(&w, argv[i], mod, lang, (long long)st.st_size);
      }
    }
    free(mod);
  }

  pool p = {.o = &o, .jobs = w.jobs, .njobs = w.njobs};
  p.order = w.njobs ? malloc(w.njobs * sizeof *p.order) : NULL;
  if (p.order) {
    for (size_t i = 0; i < w.njobs; i++) p.order[i] = i;
    g_jobs = w.jobs;
    qsort(p.order, w.njobs, sizeof *p.order, by_size_desc);
  }
  atomic_init(&p.next, 0);
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  int nthreads = o.jobs < (int)w.njobs ? o.jobs : (int)w.njobs;
  pthread_t *th = calloc((size_t)(nthreads > 0 ? nthreads : 1), sizeof *th);
  int started = 0;
  for (int i = 0; i < nthreads; i++)
    if (pthread_create(&th[i], NULL, worker, &p) == 0) started++;
  if (started == 0 && w.njobs) worker(&p);
  /* Print in walk order as the workers finish, so that the output is deterministic. */
  for (size_t i = 0; i < w.njobs; i++) {
    job *j = &w.jobs[i];
    pthread_mutex_lock(&p.mu);
    while (!j->done) pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    if (j->out.n) fwrite(j->out.p, 1, j->out.n, stdout);
    if (j->err) {
      fprintf(stderr, "%s\n", j->err);
      w.errors++;
    }
    free(j->out.p);
    free(j->err);
    free(j->path);
    free(j->module_path);
  }
  for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
  free(th);
  free(p.order);
  free(w.jobs);
  free(w.rules);
  free(w.seen);
  free(o.root_abs);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "hud-index: write error: %s\n", strerror(errno));
    return 1;
  }
  return w.errors ? 1 : 0;
}
