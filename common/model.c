/* Arena allocator and small helpers of the wire model (hud/model.h). */
#include "hud/model.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

/* Blocks are chained; big requests get a block of their own so that one huge string does not
 * waste the rest of a normal block. */
#define ARENA_BLOCK 16384u
#define ARENA_ALIGN 16u

typedef struct arena_block {
  struct arena_block *next;
  size_t size;
  size_t used;
  _Alignas(16) unsigned char data[];
} arena_block;

struct hud_arena {
  arena_block *head; /* current block (most recent) */
  size_t used;       /* bytes handed out */
  int (*grow)(void *arg, size_t bytes);
  void *grow_arg;
};

void hud_arena_set_grow_hook(hud_arena *a, int (*fn)(void *arg, size_t bytes), void *arg) {
  a->grow = fn;
  a->grow_arg = arg;
}

hud_arena *hud_arena_new(void) { return calloc(1, sizeof(hud_arena)); }

void hud_arena_free(hud_arena *a) {
  if (!a) return;
  arena_block *b = a->head;
  while (b) {
    arena_block *n = b->next;
    free(b);
    b = n;
  }
  free(a);
}

void hud_arena_reset(hud_arena *a) {
  if (!a) return;
  arena_block *b = a->head;
  /* Keep the oldest block (the tail) when it is a normal one, free the rest. */
  arena_block *keep = NULL;
  while (b) {
    arena_block *n = b->next;
    if (!n && b->size == ARENA_BLOCK) {
      keep = b;
      keep->used = 0;
    } else {
      free(b);
    }
    b = n;
  }
  a->head = keep;
  a->used = 0;
}

void *hud_arena_alloc(hud_arena *a, size_t size) {
  if (!a || size == 0 || size > SIZE_MAX / 2) return NULL;
  size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  arena_block *b = a->head;
  if (!b || b->size - b->used < need) {
    size_t bsize = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK;
    if (a->grow && a->grow(a->grow_arg, sizeof(arena_block) + bsize) != 0) return NULL;
    arena_block *nb = malloc(sizeof(arena_block) + bsize);
    if (!nb) return NULL;
    nb->size = bsize;
    nb->used = 0;
    if (bsize != ARENA_BLOCK && b) {
      /* A dedicated block goes behind the current one so the current keeps filling. */
      nb->next = b->next;
      b->next = nb;
      nb->used = need;
      a->used += size;
      memset(nb->data, 0, need);
      return nb->data;
    }
    nb->next = b;
    a->head = nb;
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += need;
  a->used += size;
  memset(p, 0, need);
  return p;
}

void *hud_arena_calloc(hud_arena *a, size_t n, size_t size) {
  if (n == 0 || size == 0) return NULL;
  if (n > SIZE_MAX / size) return NULL;
  return hud_arena_alloc(a, n * size);
}

char *hud_arena_strndup(hud_arena *a, const char *s, size_t len) {
  if (!s) return NULL;
  char *p = hud_arena_alloc(a, len + 1);
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *hud_arena_strdup(hud_arena *a, const char *s) {
  if (!s) return NULL;
  return hud_arena_strndup(a, s, strlen(s));
}

size_t hud_arena_used(const hud_arena *a) { return a ? a->used : 0; }

int hud_flow_id_endpoint(const char *method, const char *route, char out[HUD_UUID_STRLEN + 1]) {
  if (!method || !route || !*method) return HUD_EINVAL;
  size_t ml = strlen(method), rl = strlen(route);
  if (ml > 64 || rl > (size_t)HUD_MAX_STRING_BYTES) return HUD_EINVAL;
  char *name = malloc(9 + ml + 1 + rl + 1);
  if (!name) return HUD_ENOMEM;
  memcpy(name, "endpoint:", 9);
  for (size_t i = 0; i < ml; i++) name[9 + i] = (char)toupper((unsigned char)method[i]);
  name[9 + ml] = ' ';
  memcpy(name + 10 + ml, route, rl);
  size_t len = 10 + ml + rl;
  name[len] = '\0';
  int rc = hud_uuid5(HUD_FLOW_ID_NAMESPACE, name, len, out);
  free(name);
  return rc;
}

int hud_flow_id_queue(const char *task_name, char out[HUD_UUID_STRLEN + 1]) {
  if (!task_name || !*task_name) return HUD_EINVAL;
  size_t tl = strlen(task_name);
  if (tl > (size_t)HUD_MAX_STRING_BYTES) return HUD_EINVAL;
  char *name = malloc(6 + tl + 1);
  if (!name) return HUD_ENOMEM;
  memcpy(name, "queue:", 6);
  memcpy(name + 6, task_name, tl + 1);
  int rc = hud_uuid5(HUD_FLOW_ID_NAMESPACE, name, 6 + tl, out);
  free(name);
  return rc;
}

static const char *const sort_names[] = {
    [HUD_SORT_CALLS] = "calls",
    [HUD_SORT_P95] = "p95",
    [HUD_SORT_ERROR_RATE] = "error_rate",
    [HUD_SORT_DURATION_TREND] = "duration_trend",
    [HUD_SORT_ERROR_TREND] = "error_trend",
    [HUD_SORT_SLOWDOWN] = "slowdown",
};

const char *hud_sort_name(hud_sort s) {
  if ((int)s < HUD_SORT_CALLS || (int)s > HUD_SORT_SLOWDOWN) return NULL;
  return sort_names[s];
}

int hud_sort_parse(const char *name, hud_sort *out) {
  if (!name) return HUD_EINVAL;
  for (int i = HUD_SORT_CALLS; i <= HUD_SORT_SLOWDOWN; i++) {
    if (strcmp(name, sort_names[i]) == 0) {
      *out = (hud_sort)i;
      return 0;
    }
  }
  return HUD_EINVAL;
}
