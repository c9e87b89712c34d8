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

static void hash_secret(const char *secret, unsigned char out[32]) {
  SHA256((const unsigned char *)secret, strlen(secret), out);
}

int srv_auth_key_create(srv_store *st, const char *envs, const char *label, int64_t now, char key[SRV_KEY_MAX],
                        int64_t *id) {
  if (!envs_valid(envs)) return HUD_EINVAL;
  unsigned char raw[SECRET_HEX / 2];
  if (RAND_bytes(raw, sizeof raw) != 1) return HUD_EIO;
  char secret[SECRET_HEX + 1];
  for (size_t i = 0; i < sizeof raw; i++) snprintf(secret + 2 * i, 3, "%02x", raw[i]);
  unsigned char hash[32];
  hash_secret(secret, hash);
  OPENSSL_cleanse(raw, sizeof raw);
  int rc = srv_store_key_insert(st, hash, envs, label ? label : "", now, id);
  if (rc < 0) return rc;
  snprintf(key, SRV_KEY_MAX, "hud_%lld_%s", (long long)*id, secret);
  OPENSSL_cleanse(secret, sizeof secret);
  return 0;
}

int srv_auth_check(srv_store *st, const char *token, int64_t *key_id, char envs[256]) {
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
  *key_id = id;
  snprintf(envs, 256, "%s", info.envs);
  return 0;
}
