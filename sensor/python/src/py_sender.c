/* The Python face of the core's sender: init()'s settings dict, the GIL as the runtime lock,
 * flush/shutdown with the GIL released, and stats() as a dict. */
#include "sensor.h"

#include <string.h>

#include "hud/err.h"
#include "hud/version.h"

static char *dict_str(PyObject *d, const char *k) {
  PyObject *v = PyDict_GetItemString(d, k);
  if (!v || v == Py_None) return NULL;
  const char *s = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
  if (!s) {
    PyErr_Clear();
    return NULL;
  }
  return strdup(s);
}

static double dict_num(PyObject *d, const char *k, double dflt) {
  PyObject *v = PyDict_GetItemString(d, k);
  if (!v || v == Py_None) return dflt;
  double x = PyFloat_AsDouble(v);
  if (x == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    return dflt;
  }
  return x;
}

/* The sender thread alone takes the GIL through these (under the core's runtime mutex). */
static PyGILState_STATE gil;
static bool py_lock(void) {
  gil = PyGILState_Ensure();
  return true;
}
static void py_unlock(void) { PyGILState_Release(gil); }

void sns_py_move_running(sns_period *old, sns_period *fresh, bool final); /* hot.c */
int32_t sns_py_call_line(const sns_fn *caller, uint32_t off);          /* hot.c */

const sns_rt_ops sns_py_ops = {
    .lock = py_lock, .unlock = py_unlock, .move_running = sns_py_move_running, .call_line = sns_py_call_line};

int sns_py_sender_start(PyObject *d) {
  sns_settings s;
  memset(&s, 0, sizeof s);
  s.service = dict_str(d, "service");
  s.version = dict_str(d, "version");
  s.environment = dict_str(d, "environment");
  s.host = dict_str(d, "host");
  s.runtime = dict_str(d, "runtime");
  if (!s.runtime) s.runtime = strdup("cpython");
  s.log_file = dict_str(d, "log_file");
  s.sensor_version = "hud-python/" HUD_VERSION_STRING;
  s.interval_s = dict_num(d, "interval", 10.0);
  s.budget = dict_num(d, "budget", 0.01);
  s.backlog_max = (int)dict_num(d, "backlog", 30);
  PyObject *tags = PyDict_GetItemString(d, "tags");
  if (tags && PyDict_Check(tags) && PyDict_Size(tags) > 0) {
    s.tags = calloc((size_t)PyDict_Size(tags), sizeof *s.tags);
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (s.tags && PyDict_Next(tags, &pos, &k, &v)) {
      if (!PyUnicode_Check(k) || !PyUnicode_Check(v)) continue;
      s.tags[s.n_tags].key = strdup(PyUnicode_AsUTF8(k));
      s.tags[s.n_tags].value = strdup(PyUnicode_AsUTF8(v));
      s.n_tags++;
    }
  }
  static const char *const flag_keys[] = {"url", "key", "timeout_ms", "connect_timeout_ms", "ca_file", "insecure"};
  char *vals[6] = {0};
  for (size_t i = 0; i < 6; i++) {
    vals[i] = dict_str(d, flag_keys[i]);
    if (vals[i]) {
      s.flags[2 * s.n_flags] = flag_keys[i];
      s.flags[2 * s.n_flags + 1] = vals[i];
      s.n_flags++;
    }
  }
  char err[600] = "";
  int rc = sns_sender_start(&s, &sns_py_ops, err, sizeof err);
  for (size_t i = 0; i < 6; i++) free(vals[i]);
  if (rc == 0) return 0;
  if (rc == HUD_ENOMEM)
    PyErr_NoMemory();
  else if (rc == HUD_EIO)
    PyErr_Format(PyExc_RuntimeError, "hud: %s", err);
  else
    PyErr_Format(PyExc_ValueError, "hud: %s", err);
  return -1;
}

PyObject *sns_py_sender_stats(void) {
  sns_sender_stats st;
  sns_sender_get_stats(&st);
  return Py_BuildValue("{s:O,s:L,s:L,s:L,s:i,s:n,s:L,s:L,s:L,s:s,s:K,s:K,s:L}", "running",
                       st.running ? Py_True : Py_False, "batches_sent", (long long)st.batches_sent,
                       "batches_failed", (long long)st.batches_failed, "send_errors", (long long)st.send_errors,
                       "backlog", st.n_backlog, "backlog_bytes", (Py_ssize_t)st.backlog_bytes, "dropped_batches",
                       (long long)st.dropped_batches, "last_status", (long long)st.last_status,
                       "declarations_sent", (long long)st.declarations_sent, "last_error", st.last_error,
                       "calls_total", (unsigned long long)st.calls_total, "samples_total",
                       (unsigned long long)st.samples_total, "exception_paths_cut",
                       (long long)st.exception_paths_cut);
}
