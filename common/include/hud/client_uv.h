/* Drives the backend client's non-blocking requests (hud/client.h) from a libuv loop: one uv_poll_t per
 * socket libcurl asks to watch, one uv_timer_t for its timeouts. What hud-lsp runs on. Library
 * hud_client_uv (links libuv); the loop thread is the only one to touch the adapter and its client. */
#ifndef HUD_CLIENT_UV_H
#define HUD_CLIENT_UV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hud/client.h"

typedef struct hud_client_uv hud_client_uv;

/* Creates an adapter on LOOP and attaches it to C (may be NULL: attach later). *OUT is released with
 * hud_client_uv_free. */
int hud_client_uv_new(uv_loop_t *loop, hud_client *c, hud_client_uv **out);
/* Points the adapter at C (it may serve clients one after another; free the previous client first, or
 * detach with C = NULL). Installs the client's loop hooks. */
int hud_client_uv_attach(hud_client_uv *d, hud_client *c);
/* Stops every watcher and frees the adapter. Its handles close asynchronously: the memory is released
 * by the loop's close callbacks, so run the loop (uv_run) before uv_loop_close. Free the client first
 * (hud_client_free cancels what is pending and removes its sockets through the hooks). NULL is a no-op. */
void hud_client_uv_free(hud_client_uv *d);

/* The longest time spent inside one client call made from the loop, and how many calls: a loop that
 * never blocks keeps the first small. */
void hud_client_uv_stats(const hud_client_uv *d, uint64_t *max_call_ns, size_t *calls);

#endif
