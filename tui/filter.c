/* The one filter test every view and picker uses: a case-insensitive substring, or with a leading `~` a
 * POSIX extended regular expression (case-insensitive). */
#define _GNU_SOURCE
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* The last pattern compiled: views test every row against the same filter, so one slot is enough. Used
 * from the main thread only (indexing and --once). */
static struct {
  char pattern[256];
  bool compiled; /* PATTERN holds a pattern tried */
  int rc;        /* regcomp's answer; 0 = RE usable */
  regex_t re;
} g_re;

static int compile(const char *pattern) {
  if (g_re.compiled && strcmp(g_re.pattern, pattern) == 0) return g_re.rc;
  if (g_re.compiled && g_re.rc == 0) regfree(&g_re.re);
  snprintf(g_re.pattern, sizeof g_re.pattern, "%s", pattern);
  g_re.rc = regcomp(&g_re.re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
  g_re.compiled = true;
  return g_re.rc;
}

bool tui_contains(const char *hay, const char *needle) {
  if (!needle || !*needle) return true;
  if (needle[0] != '~') return hay && strcasestr(hay, needle) != NULL;
  if (!needle[1]) return true; /* `~` alone, while it is being typed */
  if (compile(needle + 1) != 0) return false;
  return hay && regexec(&g_re.re, hay, 0, NULL, 0) == 0;
}

bool tui_filter_error(const char *filter, char *buf, size_t cap) {
  if (!filter || filter[0] != '~' || !filter[1]) return false;
  int rc = compile(filter + 1);
  if (rc == 0) return false;
  char why[128];
  regerror(rc, &g_re.re, why, sizeof why);
  snprintf(buf, cap, "invalid regex '%s': %s", filter + 1, why);
  return true;
}

void tui_filter_free(void) {
  if (g_re.compiled && g_re.rc == 0) regfree(&g_re.re);
  g_re.compiled = false;
}
