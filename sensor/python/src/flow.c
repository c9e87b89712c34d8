/* Entering and leaving flows in C: a request's flow is set, timed and recorded without Python
 * code around the handler (hud_sensor/_frameworks.py installs these).
 *
 *   flask_dispatch(orig, cv)    a replacement for Flask.full_dispatch_request: reads the route
 *                               template from Flask's request ContextVar CV, enters the flow,
 *                               calls ORIG and records status, duration and exception;
 *   flow_enter(idx) -> token    starts a flow (idx 0: only the clock; the flow comes later);
 *   flow_set(token, idx)        enters flow IDX for a token started without one;
 *   flow_leave(token, status, exc[, idx])   resets the flow and records the request.
 * The flow is the ContextVar read by the hot path, so threads and asyncio tasks each keep their
 * own. Durations come from the hot path's clock (rdtsc where invariant). */
#include "sensor.h"

#include <string.h>

static PyObject *s_request, *s_method, *s_url_rule, *s_rule, *s_status_code, *s__status_code;

/* OBJ.NAME, or NULL without an exception when it has none. */
static PyObject *optional_attr(PyObject *obj, PyObject *name) {
  PyObject *v = NULL;
#if PY_VERSION_HEX >= 0x030D0000
  if (PyObject_GetOptionalAttr(obj, name, &v) < 0) PyErr_Clear();
#else
  if (_PyObject_LookupAttr(obj, name, &v) < 0) PyErr_Clear();
#endif
  return v;
}

/* Records a request that ended with the exception being raised now (or none). */
static void leave(uint32_t idx, uint64_t t0, int status) {
  int64_t d = (int64_t)((double)(sns_ticks() - t0) * sns_ns_per_tick());
  const char *tn = NULL;
  PyObject *t = PyErr_Occurred();
  if (t) tn = sns_type_name(PyType_Check(t) ? (PyTypeObject *)t : Py_TYPE(t));
  sns_flow_add(idx, tn ? 500 : status, d, tn);
}

/* Resets the flow variable, keeping any exception in flight; a token from another context
 * (a sync middleware's thread) is left alone. */
static void reset_var(PyObject *tok) {
  if (!PyErr_Occurred()) {
    if (PyContextVar_Reset(sns_flow_var(), tok) < 0) PyErr_Clear();
    return;
  }
#if PY_VERSION_HEX >= 0x030C0000
  PyObject *exc = PyErr_GetRaisedException();
  if (PyContextVar_Reset(sns_flow_var(), tok) < 0) PyErr_Clear();
  PyErr_SetRaisedException(exc);
#else
  PyObject *t, *v, *tb;
  PyErr_Fetch(&t, &v, &tb);
  if (PyContextVar_Reset(sns_flow_var(), tok) < 0) PyErr_Clear();
  PyErr_Restore(t, v, tb);
#endif
}

static PyObject *set_var(uint32_t idx) {
  PyObject *v = PyLong_FromUnsignedLong(idx);
  if (!v) return NULL;
  PyObject *tok = PyContextVar_Set(sns_flow_var(), v);
  Py_DECREF(v);
  return tok;
}

/* ---- Flask ---- */

/* Flow by (url_rule object, method): the rule objects of an app live as long as it, so a rule
 * seen again is the same object; a held reference keeps its address from being reused. */
#define RCACHE 64
static struct {
  PyObject *rule; /* strong; NULL = empty */
  char method[16];
  uint32_t idx;
} rcache[RCACHE];

static uint32_t flask_flow_of(PyObject *req) {
  PyObject *method = PyObject_GetAttr(req, s_method);
  if (!method) return 0;
  PyObject *rule = PyObject_GetAttr(req, s_url_rule);
  if (!rule) {
    Py_DECREF(method);
    return 0;
  }
  uint32_t idx = 0;
  Py_ssize_t ml;
  const char *m = PyUnicode_Check(method) ? PyUnicode_AsUTF8AndSize(method, &ml) : NULL;
  if (m && ml < 16) {
    uint32_t h = ((uint32_t)((uintptr_t)rule >> 4) * 2654435761u + (uint32_t)m[0]) % RCACHE;
    if (rcache[h].rule == rule && !strcmp(rcache[h].method, m)) {
      idx = rcache[h].idx;
    } else {
      PyObject *route = rule == Py_None ? PyUnicode_FromString("<unmatched>") : PyObject_GetAttr(rule, s_rule);
      const char *r = route && PyUnicode_Check(route) ? PyUnicode_AsUTF8(route) : NULL;
      if (r) idx = sns_flow_endpoint(m, r);
      Py_XDECREF(route);
      if (idx) {
        Py_INCREF(rule);
        Py_XSETREF(rcache[h].rule, rule);
        memcpy(rcache[h].method, m, (size_t)ml + 1);
        rcache[h].idx = idx;
      }
    }
  }
  Py_DECREF(method);
  Py_DECREF(rule);
  return idx;
}

typedef struct {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject *orig; /* the original full_dispatch_request */
  PyObject *cv;   /* flask.globals._cv_request */
} flask_dispatch;

static PyObject *flask_call(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  flask_dispatch *w = (flask_dispatch *)op;
  uint32_t idx = 0;
  PyObject *ctx = NULL;
  if (PyContextVar_Get(w->cv, NULL, &ctx) == 0 && ctx) {
    /* Routing already happened (RequestContext.push): the rule is the template. */
    PyObject *req = PyObject_GetAttr(ctx, s_request);
    Py_DECREF(ctx);
    if (req) {
      idx = flask_flow_of(req);
      Py_DECREF(req);
    }
  }
  PyObject *tok = idx ? set_var(idx) : NULL;
  if (!tok) {
    PyErr_Clear(); /* the sensor never makes a request fail */
    return PyObject_Vectorcall(w->orig, args, nargsf, kwnames);
  }
  uint64_t t0 = sns_ticks();
  PyObject *rv = PyObject_Vectorcall(w->orig, args, nargsf, kwnames);
  int status = 200;
  if (rv) {
    /* werkzeug's Response keeps the code in `_status_code` (`status_code` is a Python property:
     * a second Python call per request); anything else is asked for `status_code`. */
    PyObject *sc = optional_attr(rv, s__status_code);
    if (!sc || !PyLong_CheckExact(sc)) {
      Py_XDECREF(sc);
      sc = optional_attr(rv, s_status_code);
    }
    if (sc) {
      long v = PyLong_AsLong(sc);
      if (v >= 0 && v <= 999) status = (int)v;
      if (v == -1 && PyErr_Occurred()) PyErr_Clear();
      Py_DECREF(sc);
    }
  }
  leave(idx, t0, status);
  reset_var(tok);
  Py_DECREF(tok);
  return rv;
}

/* As a class attribute it binds like a function (and, being a method descriptor, `app.f()` calls
 * it with the app as first argument without a bound-method object). */
static PyObject *flask_get(PyObject *self, PyObject *obj, PyObject *type) {
  if (!obj || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

static int flask_traverse(PyObject *op, visitproc visit, void *arg) {
  flask_dispatch *w = (flask_dispatch *)op;
  Py_VISIT(w->orig);
  Py_VISIT(w->cv);
  return 0;
}

static void flask_dealloc(PyObject *op) {
  flask_dispatch *w = (flask_dispatch *)op;
  PyObject_GC_UnTrack(op);
  Py_XDECREF(w->orig);
  Py_XDECREF(w->cv);
  PyObject_GC_Del(op);
}

static PyObject *flask_wrapped(PyObject *op, void *closure) { return Py_NewRef(((flask_dispatch *)op)->orig); }

static PyObject *flask_attr(PyObject *op, void *name) {
  return PyObject_GetAttrString(((flask_dispatch *)op)->orig, (const char *)name);
}

static PyGetSetDef flask_getset[] = {{"__wrapped__", flask_wrapped, NULL, "the original method", NULL},
                                     {"__name__", flask_attr, NULL, NULL, "__name__"},
                                     {"__qualname__", flask_attr, NULL, NULL, "__qualname__"},
                                     {NULL}};

static PyTypeObject FlaskDispatchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_hud_sensor.flask_dispatch",
    .tp_basicsize = sizeof(flask_dispatch),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_vectorcall_offset = offsetof(flask_dispatch, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = flask_get,
    .tp_traverse = flask_traverse,
    .tp_dealloc = flask_dealloc,
    .tp_getset = flask_getset,
    .tp_doc = "Flask.full_dispatch_request run inside its endpoint flow",
};

static PyObject *py_flask_dispatch(PyObject *mod, PyObject *args) {
  PyObject *orig, *cv;
  if (!PyArg_ParseTuple(args, "OO!", &orig, &PyContextVar_Type, &cv)) return NULL;
  flask_dispatch *w = PyObject_GC_New(flask_dispatch, &FlaskDispatchType);
  if (!w) return NULL;
  w->vectorcall = flask_call;
  w->orig = Py_NewRef(orig);
  w->cv = Py_NewRef(cv);
  PyObject_GC_Track(w);
  return (PyObject *)w;
}

/* ---- tokens, for flows entered and left from Python ---- */

typedef struct {
  PyObject_HEAD
  uint32_t idx;
  uint64_t t0;
  PyObject *var_token; /* NULL until the flow is entered */
} flow_token;

static void token_dealloc(PyObject *op) {
  Py_XDECREF(((flow_token *)op)->var_token);
  PyObject_Free(op);
}

static PyObject *token_idx(PyObject *op, void *closure) { return PyLong_FromUnsignedLong(((flow_token *)op)->idx); }

static PyGetSetDef token_getset[] = {{"idx", token_idx, NULL, "the flow entered (0: none yet)", NULL}, {NULL}};

static PyTypeObject FlowTokenType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_hud_sensor.flow_token",
    .tp_basicsize = sizeof(flow_token),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = token_dealloc,
    .tp_getset = token_getset,
    .tp_doc = "a flow started by flow_enter",
};

static int token_set(flow_token *t, PyObject *idx_obj) {
  unsigned long idx = PyLong_AsUnsignedLong(idx_obj);
  if (idx == (unsigned long)-1 && PyErr_Occurred()) return -1;
  if (!idx || t->var_token) return 0;
  t->var_token = PyContextVar_Set(sns_flow_var(), idx_obj);
  if (!t->var_token) return -1;
  t->idx = (uint32_t)idx;
  return 0;
}

static PyObject *py_flow_enter(PyObject *mod, PyObject *arg) {
  flow_token *t = PyObject_New(flow_token, &FlowTokenType);
  if (!t) return NULL;
  t->idx = 0;
  t->var_token = NULL;
  if (token_set(t, arg) < 0) {
    Py_DECREF(t);
    return NULL;
  }
  t->t0 = sns_ticks();
  return (PyObject *)t;
}

static PyObject *py_flow_set(PyObject *mod, PyObject *args) {
  PyObject *tok, *idx;
  if (!PyArg_ParseTuple(args, "O!O", &FlowTokenType, &tok, &idx)) return NULL;
  if (token_set((flow_token *)tok, idx) < 0) return NULL;
  Py_RETURN_NONE;
}

/* flow_leave(token, status, exc or None[, idx for a token that never entered a flow]) */
static PyObject *py_flow_leave(PyObject *mod, PyObject *args) {
  PyObject *tok, *exc;
  int status;
  unsigned long late = 0;
  if (!PyArg_ParseTuple(args, "O!iO|k", &FlowTokenType, &tok, &status, &exc, &late)) return NULL;
  flow_token *t = (flow_token *)tok;
  int64_t d = (int64_t)((double)(sns_ticks() - t->t0) * sns_ns_per_tick());
  if (t->var_token) {
    if (PyContextVar_Reset(sns_flow_var(), t->var_token) < 0) PyErr_Clear(); /* set in another context */
    Py_CLEAR(t->var_token);
  }
  uint32_t idx = t->idx ? t->idx : (uint32_t)late;
  const char *tn = exc == Py_None ? NULL : sns_type_name(PyType_Check(exc) ? (PyTypeObject *)exc : Py_TYPE(exc));
  sns_flow_add(idx, status, d, tn);
  Py_RETURN_NONE;
}

static PyMethodDef flow_methods[] = {
    {"flask_dispatch", py_flask_dispatch, METH_VARARGS, "flask_dispatch(orig, request_contextvar) -> method"},
    {"flow_enter", py_flow_enter, METH_O, "flow_enter(idx) -> token (idx 0: clock only)"},
    {"flow_set", py_flow_set, METH_VARARGS, "flow_set(token, idx): enters the flow of a token started without one"},
    {"flow_leave", py_flow_leave, METH_VARARGS, "flow_leave(token, status, exc[, idx])"},
    {NULL, NULL, 0, NULL}};

int sns_flow_init(PyObject *m) {
  if (!s_request) {
    if (PyType_Ready(&FlaskDispatchType) < 0 || PyType_Ready(&FlowTokenType) < 0) return -1;
    s_request = PyUnicode_InternFromString("request");
    s_method = PyUnicode_InternFromString("method");
    s_url_rule = PyUnicode_InternFromString("url_rule");
    s_rule = PyUnicode_InternFromString("rule");
    s_status_code = PyUnicode_InternFromString("status_code");
    s__status_code = PyUnicode_InternFromString("_status_code");
    if (!s_request || !s_method || !s_url_rule || !s_rule || !s_status_code || !s__status_code) return -1;
  }
  return PyModule_AddFunctions(m, flow_methods);
}
