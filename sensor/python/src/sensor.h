/* Internal interface of the Python sensor's native module (_hud_sensor): CPython over the
 * shared core (sensor/core/core.h).
 *
 * Threading: the core's tables are read and written only while holding the GIL, which is what
 * makes the hot path free of atomics: CPython 3.11-3.13 (default builds) run at most one thread
 * of Python code at a time, and every hook is called from Python code. The sender thread takes
 * the GIL (sns_rt_ops.lock) only for the snapshot. */
#ifndef HUD_SENSOR_INTERNAL_H
#define HUD_SENSOR_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "core.h"

/* Flows (flow.c enters and leaves them). GIL. */
uint32_t sns_flow_endpoint(const char *method, const char *route); /* 0 with a Python error set */
const char *sns_type_name(PyTypeObject *t); /* interned for the process */
PyObject *sns_flow_var(void);               /* borrowed */
int sns_flow_init(PyObject *module);        /* adds flow.c's functions */

/* The sender's settings from init()'s dict; starts it (py_sender.c). -1 with a Python error. */
int sns_py_sender_start(PyObject *cfg_dict);
PyObject *sns_py_sender_stats(void);
extern const sns_rt_ops sns_py_ops;

#endif
