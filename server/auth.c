/* API keys. The key text is "hud_<id>_<64 hex>"; the id finds the row, SHA-256 of the secret part is
 * compared in constant time, so the database never holds anything that grants access. */
#include "auth.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"

#define SECRET_HEX 64

int srv_auth_env_valid(const char *name, size_t len) {
  if (len == 0 || len > 64) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (!isalnum(c) && c != '_' && c != '-' && c != '.') return 0;
  }
  return 1;
}

static int envs_valid(const char *envs) {
  if (!envs || !*envs || strlen(envs) >= 256) return 0;
  const char *p = envs;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (!srv_auth_env_valid(p, n)) return 0;
    if (!e) return 1;
    p = e + 1;
  }
}

static const struct {
  unsigned bit;
  const char *name;
} k_roles[] = {{SRV_ROLE_INGEST, "ingest"}, {SRV_ROLE_READ, "read"}, {SRV_ROLE_TRIAGE, "triage"},
               {SRV_ROLE_ADMIN, "admin"}};
#define N_ROLES (sizeof k_roles / sizeof k_roles[0])

const char *srv_auth_role_name(unsigned role) {
  for (size_t i = 0; i < N_ROLES; i++)
    if (k_roles[i].bit == role) return k_roles[i].name;
  return NULL;
}

int srv_auth_roles_parse(const char *text, unsigned *roles) {
  unsigned bits = 0;
  const char *p = text ? text : "";
  for (;;) {
    size_t n = strcspn(p, ",");
    size_t i = 0;
    while (i < N_ROLES && !(strlen(k_roles[i].name) == n && strncmp(k_roles[i].name, p, n) == 0)) i++;
    if (i == N_ROLES) return HUD_EINVAL;
    bits |= k_roles[i].bit;
    if (!p[n]) break;
    p += n + 1;
  }
  *roles = bits;
  return 0;
}

void srv_auth_roles_format(unsigned roles, char out[64]) {
  size_t o = 0;
  out[0] = 0;
  for (size_t i = 0; i < N_ROLES; i++)
    if (roles & k_roles[i].bit) o += (size_t)snprintf(out + o, 64 - o, "%s%s", o ? "," : "", k_roles[i].name);
}

static void hash_secret(const char *secret, unsigned char out[32]) {
  SHA256((const unsigned char *)secret, strlen(secret), out);
}

int srv_auth_key_create(srv_store *st, const char *envs, unsigned roles, const char *label, int64_t now,
                        char key[SRV_KEY_MAX], int64_t *id) {
  if (!envs_valid(envs) || roles == 0 || (roles & ~(unsigned)SRV_ROLES_ALL)) return HUD_EINVAL;
  char role_text[64];
  srv_auth_roles_format(roles, role_text);
  unsigned char raw[SECRET_HEX / 2];
  if (RAND_bytes(raw, sizeof raw) != 1) return HUD_EIO;
  char secret[SECRET_HEX + 1];
  for (size_t i = 0; i < sizeof raw; i++) snprintf(secret + 2 * i, 3, "%02x", raw[i]);
  unsigned char hash[32];
  hash_secret(secret, hash);
  OPENSSL_cleanse(raw, sizeof raw);
  int rc = srv_store_key_insert(st, hash, envs, role_text, label ? label : "", now, id);
  if (rc < 0) return rc;
  snprintf(key, SRV_KEY_MAX, "hud_%lld_%s", (long long)*id, secret);
  OPENSSL_cleanse(secret, sizeof secret);
  return 0;
}

int srv_auth_check(srv_store *st, const char *token, int64_t *key_id, char envs[256], unsigned *roles) {
  if (!token || strncmp(token, "hud_", 4) != 0) return HUD_EAUTH;
  const char *p = token + 4;
  int64_t id = 0;
  int digits = 0;
  while (isdigit((unsigned char)*p) && digits < 18) id = id * 10 + (*p++ - '0'), digits++;
  if (digits == 0 || *p != '_') return HUD_EAUTH;
  const char *secret = p + 1;
  if (strlen(secret) != SECRET_HEX) return HUD_EAUTH;
  srv_key_info info;
  unsigned char want[32], got[32];
  int rc = srv_store_key_get(st, id, &info, want);
  if (rc == HUD_ENOTFOUND) return HUD_EAUTH;
  if (rc < 0) return rc;
  hash_secret(secret, got);
  if (CRYPTO_memcmp(want, got, sizeof got) != 0 || info.revoked_at != 0) return HUD_EAUTH;
  unsigned bits = SRV_ROLES_LEGACY;
  if (info.roles[0] && srv_auth_roles_parse(info.roles, &bits) < 0) return HUD_EAUTH; /* fail closed */
  *key_id = id;
  *roles = bits;
  snprintf(envs, 256, "%s", info.envs);
  return 0;
}
