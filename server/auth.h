/* API keys: "hud_<id>_<64 hex>"; only SHA-256(secret) is stored, compared in constant time. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SRV_KEY_MAX 96

/* Creates a key for ENVS (comma-separated environment names, each [A-Za-z0-9_.-]{1,64}).
 * KEY receives the full key text (shown once); *ID its id. HUD_EINVAL for bad ENVS. */
int srv_auth_key_create(srv_store *st, const char *envs, const char *label, int64_t now,
                        char key[SRV_KEY_MAX], int64_t *id);

/* Checks TOKEN (the key text). On success fills *KEY_ID and ENVS (comma-separated copy).
 * HUD_EAUTH for malformed, unknown, wrong or revoked keys. */
int srv_auth_check(srv_store *st, const char *token, int64_t *key_id, char envs[256]);

/* 1 when NAME is a valid environment name. */
int srv_auth_env_valid(const char *name, size_t len);

#endif
