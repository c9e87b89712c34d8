/* Write-behind ingest, backend-neutral parts (server/store_fold.c):
 *
 *  - srv_fold: an in-memory accumulator of acknowledged batches. Rows of the same key (the primary key
 *    of the time-sliced tables of store.h) merge as they would in the store: counters add, sketches
 *    merge bin-wise. A backend writes the accumulated rows in one transaction (the SQLite store: many
 *    batches whose keys recur become one upsert per key). Declarations and flow details keep the last
 *    one seen with the first/last receive times.
 *  - srv_journal_encode/decode: a compact binary form of the records of a batch, for the durable
 *    journal of acknowledged but not yet folded batches (replayed after a crash).
 *
 * Not thread-safe: the caller serialises access. */
#ifndef SRV_STORE_FOLD_H
#define SRV_STORE_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "hud/model.h"
#include "sketch_bins.h"

/* The logical time-sliced tables, in the order of store.h. */
enum {
  SRV_FOLD_CALLS,
  SRV_FOLD_FN_SLICES,
  SRV_FOLD_FN_ERRORS,
  SRV_FOLD_FLOW_SLICES,
  SRV_FOLD_FLOW_STATUS,
  SRV_FOLD_FLOW_ERRORS,
  SRV_FOLD_FLOW_FUNCTIONS,
  SRV_FOLD_EXC_FLOWS,
  SRV_FOLD_TABLES
};

/* One accumulated row. Which fields are key columns depends on the table:
 *   calls:           fn, caller, text = caller_module, num = call_line, flow
 *   fn_slices:       fn                          fn_errors:    fn, text = type
 *   flow_slices:     flow                        flow_status:  flow, num = status
 *   flow_errors:     flow, text = type           flow_functions: flow, fn
 *   exception_flows: flow, text = type, fn = origin_fn, num = origin_line, path, caller = caught_fn
 * uuids are "" for none (function id 0); PATH is the propagated_through uuids separated by spaces.
 * Sums not used by a table stay 0. Strings live as long as the accumulator (until reset). */
typedef struct srv_fold_row {
  struct srv_fold_row *chain, *next; /* hash chain; insertion order within the table */
  uint64_t hash;
  int table;
  int64_t sid, vid, slice, width;
  hud_uuid fn, caller, flow;
  const char *text, *path;
  int64_t num;
  int64_t count, sampled, sum, self, errors;
  double sumsq;
  srv_bins_acc sketch;
  void *aux;      /* the backend's scratch (e.g. the encoded sketch), NULL when set up; it frees it */
  size_t aux_len;
} srv_fold_row;

/* One per (service, version, function): the version's code hash is kept per version (fn_versions). */
typedef struct srv_fold_decl {
  struct srv_fold_decl *chain, *next;
  uint64_t hash;
  int64_t sid, vid;
  hud_function_decl d; /* strings owned by the accumulator */
  int64_t first, last; /* receive times (unix s) */
} srv_fold_decl;

typedef struct srv_fold_flow {
  struct srv_fold_flow *chain, *next;
  uint64_t hash;
  int64_t sid;
  hud_uuid flow;
  hud_flow_kind kind;
  const char *method, *route, *task_name, *queue;
  int64_t first, last;
} srv_fold_flow;

typedef struct srv_fold srv_fold;

/* NULL on out of memory. KEEP_BYTES: memory kept for reuse when it is reset (0 = 256 MiB). */
srv_fold *srv_fold_new(size_t keep_bytes);
void srv_fold_free(srv_fold *f);
/* Forgets everything (keeps the allocations it can reuse). */
void srv_fold_reset(srv_fold *f);
/* Forgets everything and gives back the memory kept for reuse (when idle). */
void srv_fold_shrink(srv_fold *f);

/* Merges the records of B, received at NOW for service SID / version VID, with journal entry JID.
 * Slices start before ROLLUP_CUTOFF go to hourly rows (width 3600), the rest to minute rows. On error
 * (HUD_ENOMEM, HUD_EINVAL for a sketch of another alpha) the accumulator may hold part of B: the
 * caller must discard it (srv_fold_reset) and rebuild from its journal. */
int srv_fold_add(srv_fold *f, int64_t jid, int64_t sid, int64_t vid, int64_t now, int64_t rollup_cutoff,
                 const hud_batch *b);

/* Derives the fn_slices rows (calls collapsed over caller, call line and flow) from the calls rows:
 * once per fold rather than once per invocation. Call before reading SRV_FOLD_FN_SLICES rows. */
int srv_fold_finish(srv_fold *f);

/* Accumulated rows of TABLE in insertion order (row->next), declarations and flow details. */
const srv_fold_row *srv_fold_rows(const srv_fold *f, int table);
const srv_fold_decl *srv_fold_decls(const srv_fold *f);
const srv_fold_flow *srv_fold_flows(const srv_fold *f);
/* Journal entries merged (their ids, in merge order), number of rows of every table. */
const int64_t *srv_fold_journal_ids(const srv_fold *f, size_t *n);
size_t srv_fold_size(const srv_fold *f);
/* Latest receive time of the merged batches (0 when empty). */
int64_t srv_fold_now(const srv_fold *f);
/* Bytes of heap the accumulator holds (rows, strings and sketch bins), roughly. */
size_t srv_fold_bytes(const srv_fold *f);

/* ---- journal blobs ---- */

/* Encodes the records of B (declarations, invocations, flows, flow functions, exception flows; not
 * the envelope) into a malloc'ed blob *OUT of *LEN bytes. */
int srv_journal_encode(const hud_batch *b, unsigned char **out, size_t *len);
/* Decodes a blob of srv_journal_encode() into OUT (records only, envelope zeroed), memory from ARENA.
 * HUD_EPARSE on a truncated or damaged blob. */
int srv_journal_decode(const void *blob, size_t len, hud_arena *arena, hud_batch *out);

#endif
