/* Small string helpers shared by common/ modules. */
#ifndef HUD_STR_H
#define HUD_STR_H

/* malloc'ed copy of S; NULL on out of memory. The caller frees it. */
char *hud_strdup(const char *s);
/* malloc'ed printf-style string; NULL on out of memory or a bad format. The caller frees it. */
char *hud_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
