/* API keys: "hud_<id>_<64 hex>"; only SHA-256(secret) is stored, compared in constant time.
 * A key has environments and roles (SRV_ROLE_* of routes.h): ingest, read, triage, admin. A triage key
 * may also do what a read key does (it acknowledges what it reads). */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "routes.h"
#include "store.h"

#define SRV_KEY_MAX 96
/* What a key made before roles existed (roles column NULL) may do: what every key could then. */
#define SRV_ROLES_LEGACY (SRV_ROLE_INGEST | SRV_ROLE_READ)

/* Creates a key for ENVS (comma-separated environment names, each [A-Za-z0-9_.-]{1,64}) with ROLES
 * (SRV_ROLE_* bits, at least one). KEY receives the full key text (shown once); *ID its id.
 * HUD_EINVAL for bad ENVS or ROLES. */
int srv_auth_key_create(srv_store *st, const char *envs, unsigned roles, const char *label, int64_t now,
                        char key[SRV_KEY_MAX], int64_t *id);

/* Checks TOKEN (the key text). On success fills *KEY_ID, ENVS (comma-separated copy) and *ROLES
 * (SRV_ROLES_LEGACY for a key without recorded roles). HUD_EAUTH for malformed, unknown, wrong or
 * revoked keys. Reads the store every time: a revocation applies to the next request. */
int srv_auth_check(srv_store *st, const char *token, int64_t *key_id, char envs[256], unsigned *roles);

/* 1 when NAME is a valid environment name. */
int srv_auth_env_valid(const char *name, size_t len);

/* Parses comma-separated role names ("ingest,read"; repeats allowed) into SRV_ROLE_* bits.
 * HUD_EINVAL for an empty list or an unknown name. */
int srv_auth_roles_parse(const char *text, unsigned *roles);
/* ROLES as comma-separated names in a fixed order ("ingest,read,triage,admin"); "" for none. */
void srv_auth_roles_format(unsigned roles, char out[64]);
/* The name of one role bit ("ingest", "read", "triage", "admin"), or NULL. */
const char *srv_auth_role_name(unsigned role);

#endif
