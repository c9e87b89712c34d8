/* Detection in the server: a thread woken by the store's folds (srv_store_on_fold) runs one pass per
 * service whose data changed, at most once per interval per service, and keeps the issues table up to
 * date (docs/detection.md, "Issues"). Queries only read what it stored.
 *
 * One pass over a service (reads through one read connection, then one short write transaction):
 *  - versions: the newest version against the one deployed before it, each over its own span of data
 *    bounded to its last WINDOW; when both have data in the last 15 minutes (a canary beside the
 *    stable version) they are compared over the minutes both served ("canary");
 *  - windows: the newest version's last hour against its 24 hours before;
 *  - every finding is stored under its issue id (same root cause, same issue): new → open, found
 *    again → updated (last_seen), resolved and found again → reopened, found by a versions or canary
 *    comparison of a newer candidate version than the one it was raised for → regressed; an open or
 *    acknowledged issue whose metric returned on the newest data (srv_detect_still) and that no pass
 *    found for resolve_after_s → resolved; muted issues are updated and never resolved nor alerted;
 *  - opened, reopened and regressed issues that are not muted are alerted (the alerts module) once
 *    confirmed: a new exception at once, another kind once found in passes spanning alert_confirm_s;
 *    a reopen within alert_cooldown_s of the issue's last alert is not alerted (nor a regression
 *    naming the version of that alert). docs/detection.md, "Lifecycle". */
#ifndef SRV_ISSUES_RUNNER_H
#define SRV_ISSUES_RUNNER_H

#include <stdint.h>

#include "alerts.h"
#include "store.h"

typedef struct srv_issues_runner srv_issues_runner;

typedef struct srv_issues_runner_options {
  srv_store *store;
  int interval_ms;        /* at most one pass per service this often [5000] */
  int64_t window_s;       /* each side reads at most this much of its newest data [24 h] */
  const char *public_url; /* base of the tui/api links (e.g. "https://hud.example.com"); NULL: none */
  srv_alerts *alerts;     /* NULL: no alerts */
  /* The lifecycle's settle times, in seconds; 0 turns each off (hud-server passes 10 min, 60 s, 1 h). */
  int64_t resolve_after_s;  /* resolved only when not found for this long */
  int64_t alert_confirm_s;  /* an issue that is not a new exception is alerted once found this long */
  int64_t alert_cooldown_s; /* no second alert this soon after the last one (reopens) */
} srv_issues_runner_options;

/* Starts the thread and hooks it to the store's folds. *OUT: free with srv_issues_runner_free
 * before the store. */
int srv_issues_runner_new(const srv_issues_runner_options *o, srv_issues_runner **out);
/* Unhooks, finishes the pass in progress (if any) and stops. NULL is a no-op. */
void srv_issues_runner_free(srv_issues_runner *r);

/* One pass over service SERVICE_ID now, on the caller's thread (tests, benches). */
int srv_issues_runner_pass(srv_issues_runner *r, int64_t service_id);

#endif
