/* The hot path of the Python sensor and the module object _hud_sensor.
 *
 * Instrumented functions (rewritten at import by hud_sensor/_instrument.py) call:
 *   e(IDX)              on entry: counts the call exactly on its (caller, call site, flow) edge
 *                       and starts timing the calls it decides to time (slot kept by frame);
 *   r(IDX)              in `except BaseException:` before re-raising: the exception escaping;
 *   x(IDX)              in `finally:` when timed[IDX] is true: ends the frame's timed call.
 * The caller is found by walking the interpreter's frame chain (internal frame structs, read
 * only) to the nearest frame whose code object carries our index in co_extra. Nothing here
 * allocates on the untimed path. */
#define Py_BUILD_CORE 1
#include "sensor.h"

#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#if PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_pystate.h"
#endif

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "hud/identity.h"

/* ---- interpreter internals per version ---- */
#if PY_VERSION_HEX >= 0x030D0000
#define CUR_FRAME(ts) ((ts)->current_frame)
#define FRAME_CODE(f) ((PyCodeObject *)(f)->f_executable)
#define FRAME_INSTR(f) ((f)->instr_ptr)
#define FRAME_SKIP(f) ((f)->owner == FRAME_OWNED_BY_CSTACK || !PyCode_Check((f)->f_executable) || _PyFrame_IsIncomplete(f))
#else
#define CUR_FRAME(ts) ((ts)->cframe->current_frame)
#define FRAME_CODE(f) ((f)->f_code)
#define FRAME_INSTR(f) ((f)->prev_instr)
#if PY_VERSION_HEX >= 0x030C0000
#define FRAME_SKIP(f) ((f)->owner == FRAME_OWNED_BY_CSTACK || _PyFrame_IsIncomplete(f))
#else
#define FRAME_SKIP(f) (_PyFrame_IsIncomplete(f))
#endif
#endif

#if PY_VERSION_HEX >= 0x030C0000
#define REQUEST_EXTRA_INDEX PyUnstable_Eval_RequestCodeExtraIndex
#define CODE_SET_EXTRA PyUnstable_Code_SetExtra
#else
#define REQUEST_EXTRA_INDEX _PyEval_RequestCodeExtraIndex
#define CODE_SET_EXTRA _PyCode_SetExtra
#endif

static inline PyThreadState *cur_tstate(void) {
#if PY_VERSION_HEX < 0x030C0000
  return _PyThreadState_GET(); /* 3.11: an atomic load from _PyRuntime, no call */
#else
  return PyThreadState_Get();
#endif
}

/* ---- globals (GIL) ---- */
static Py_ssize_t extra_index = -1;
static PyObject *flow_var; /* contextvars.ContextVar holding the current flow index */

/* ---- the caller: nearest instrumented frame up the chain ---- */
/* Layout of co_extra (private to Objects/codeobject.c, unchanged from 3.6 to 3.13). Reading it
 * directly saves a function call per frame walked. */
typedef struct {
  Py_ssize_t ce_size;
  void *ce_extras[1];
} code_extra;

static inline uint32_t code_fn(PyCodeObject *co) {
  code_extra *ex = (code_extra *)co->co_extra;
  if (ex && extra_index < ex->ce_size) {
    uintptr_t v = (uintptr_t)ex->ce_extras[extra_index];
    if (v) return (uint32_t)(v - 1);
  }
  return SNS_NONE;
}

static inline void find_caller(_PyInterpreterFrame *self, uint32_t *caller, uint32_t *off,
                               _PyInterpreterFrame **cframe) {
  int depth = 0;
  for (_PyInterpreterFrame *f = self ? self->previous : NULL; f && depth < 256; f = f->previous, depth++) {
    if (FRAME_SKIP(f)) continue;
    PyCodeObject *co = FRAME_CODE(f);
    uint32_t c = code_fn(co);
    if (c != SNS_NONE) {
      *caller = c;
      *off = (uint32_t)(FRAME_INSTR(f) - _PyCode_CODE(co));
      *cframe = f;
      return;
    }
  }
  *caller = SNS_NONE;
  *off = 0;
  *cframe = NULL;
}

static inline uint32_t current_flow(void) {
  if (!sns_flows_used) return 0;
  PyObject *v = NULL;
  if (PyContextVar_Get(flow_var, NULL, &v) < 0) {
    PyErr_Clear();
    return 0;
  }
  if (!v) return 0;
  long f = PyLong_AsLong(v);
  Py_DECREF(v);
  if (f < 0) {
    PyErr_Clear();
    return 0;
  }
  return (uint32_t)f;
}

/* ---- timing slots ---- */
#define NSLOTS 4096
typedef struct slot {
  uint64_t t0;
  double child_ns;       /* its timed children's time, each weighted by the calls it stands for */
  double wsum;           /* the calls they stand for */
  uint32_t kids;         /* calls it has made (kid()) */
  uint32_t w;            /* how many of its parent's calls this one stands for (0: none) */
  void *frame;           /* frame of a timed call (own), for its children */
  uint32_t fn, caller, off, flow;
  uint32_t parent;       /* slot of the timed caller, 0 = none */
  uint32_t parent_gen;
  uint32_t gen;
  uint32_t period;       /* period generation the call is counted in */
  bool own;              /* a sampled call (stats), not only timed for its parent's self time */
  bool live;
} slot;
static slot slots[NSLOTS];
static uint32_t free_slots[NSLOTS];
static uint32_t nfree;
static uint32_t nactive; /* own slots alive */
static uint32_t period_gen; /* bumped at every snapshot */
static long long timed_calls; /* calls timed so far, sampled or for a parent's self time (stats()) */

/* Timed calls by frame: the exit hook finds its slot from the interpreter frame it runs in, so
 * instrumented code keeps no token of its own (no extra local). A frame address is unique among
 * live frames (a generator's frame lives in the generator object, so it stays put across
 * suspensions); recursion and threads give distinct frames. Linear probing, at most half full. */
#define TMAP (2 * NSLOTS)
static struct {
  void *frame; /* NULL = empty */
  uint32_t slot;
} tmap[TMAP];
static inline uint32_t tmap_h(const void *f) { return ((uint32_t)((uintptr_t)f >> 4) * 2654435761u) >> 19; }

/* Position of FRAME's entry, or TMAP. */
static inline uint32_t tmap_find(const void *f) {
  for (uint32_t h = tmap_h(f);; h = (h + 1) & (TMAP - 1)) {
    if (tmap[h].frame == f) return h;
    if (!tmap[h].frame) return TMAP;
  }
}

/* Removes the entry at H, shifting later entries of the same probe run back (no tombstones). */
static void tmap_del(uint32_t h) {
  tmap[h].frame = NULL;
  for (uint32_t j = (h + 1) & (TMAP - 1); tmap[j].frame; j = (j + 1) & (TMAP - 1)) {
    uint32_t k = tmap_h(tmap[j].frame);
    bool stays = h <= j ? (h < k && k <= j) : (h < k || k <= j);
    if (stays) continue;
    tmap[h] = tmap[j];
    tmap[j].frame = NULL;
    h = j;
  }
}

/* `timed[i]` (a list shared with the instrumented code) is False while function i has no timed call
 * running, else `probe`, an object whose truth test asks whether the current frame is a timed one:
 * a return tests the item and calls the exit hook only then. Under recursion (a timed call's nested
 * calls of the same function) the test costs a type-slot call, not a Python-level call. */
static PyObject *timed_flags;
static PyObject *probe;

static void end_timing(uint32_t h, uint32_t fi, uint64_t t1);

/* The truth test runs in the function's own `finally`: in a timed frame it ends the timing right
 * there and answers false, so the return never makes the `_hud_x` call (a Python-level call). */
static int probe_bool(PyObject *self) {
  uint64_t t1 = sns_ticks();
  _PyInterpreterFrame *f = CUR_FRAME(cur_tstate());
  if (!f) return 0;
  uint32_t h = tmap_find(f);
  if (h != TMAP) end_timing(h, code_fn(FRAME_CODE(f)), t1);
  return 0;
}

static PyNumberMethods probe_number = {.nb_bool = probe_bool};
static PyTypeObject ProbeType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_hud_sensor.timed_probe",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_as_number = &probe_number,
    .tp_doc = "true in a frame whose call is being timed",
};

static void set_flag(uint32_t fi, PyObject *v) {
  PyObject *old = PyList_GET_ITEM(timed_flags, fi);
  Py_INCREF(v);
  PyList_SET_ITEM(timed_flags, fi, v);
  Py_DECREF(old);
}

static void slot_free(uint32_t s) {
  slot *sl = &slots[s];
  if (sl->own) nactive--;
  sl->live = false;
  sl->gen++;
  sns_fn *fn = sns_fn_at(sl->fn);
  if (fn->timed_live && --fn->timed_live == 0) set_flag(sl->fn, Py_False);
  free_slots[nfree++] = s;
}

static void slots_reset(void) {
  for (uint32_t i = 1; i < NSLOTS; i++)
    if (slots[i].live) slot_free(i);
  nfree = 0;
  for (uint32_t i = NSLOTS - 1; i >= 1; i--) {
    slots[i].live = false;
    slots[i].gen++;
    free_slots[nfree++] = i;
  }
  memset(tmap, 0, sizeof tmap);
  nactive = 0;
}

/* The next call made by the sampled call in slot S: whether it is timed for S's self time, as how
 * many of S's calls its duration stands for (0: not timed). The first KIDS are all timed, then every
 * 2nd of the next 64, every 4th of the next 128..., 32 per doubling: a sampled call that runs a
 * loop of millions of calls times a few hundred of them, and its self time takes the others' from
 * them. As the Node.js runtime's kid() (sensor/node/lib/runtime.js). The count stops at 2^30. */
#define KIDS 64
static inline uint32_t kid(slot *sl) {
  uint32_t k = sl->kids + 1;
  if (k > 0x40000000u) return 0;
  sl->kids = k;
  if (k <= KIDS) return 1;
  uint32_t stride = 2u << (31 - __builtin_clz((k - 1) >> 6));
  return ((k - 1) & (stride - 1)) == 0 ? stride : 0;
}

static void start_timing(uint32_t fi, uint32_t caller, uint32_t off, uint32_t flow, void *frame, uint32_t parent,
                         bool own, uint32_t w) {
  uint32_t h = tmap_find(frame);
  if (h != TMAP) {
    /* A timed call of this frame address whose exit never ran (a generator dropped at shutdown):
     * the frame is someone else's now. */
    slot_free(tmap[h].slot);
  } else {
    if (nfree == 0) return;
    for (h = tmap_h(frame); tmap[h].frame; h = (h + 1) & (TMAP - 1)) {
    }
  }
  uint32_t s = free_slots[--nfree];
  timed_calls++;
  slot *sl = &slots[s];
  sl->fn = fi, sl->caller = caller, sl->off = off, sl->flow = flow;
  sl->child_ns = 0;
  sl->wsum = 0;
  sl->kids = 0;
  sl->w = w;
  sl->period = period_gen;
  sl->own = own;
  sl->live = true;
  sl->parent = parent;
  sl->parent_gen = parent ? slots[parent].gen : 0;
  sl->frame = frame;
  tmap[h].frame = frame;
  tmap[h].slot = s;
  if (own) nactive++;
  sns_fn *fn = sns_fn_at(fi);
  if (fn->timed_live++ == 0) set_flag(fi, probe);
  sl->t0 = sns_ticks();
}

/* ---- where each running generator's call was counted ----
 * A generator (or coroutine) is counted when its body starts, on the edge of whoever resumed it
 * first; a later resumer may see it raise. Its exception belongs to the edge that counted the
 * call, so that edge is kept here per generator frame (the frame lives inside the generator
 * object, so its address is stable while the generator runs). Buckets of GWAYS entries; a full
 * bucket gives up its oldest entry (most often a generator that finished without raising). */
#define GMAP 4096
#define GWAYS 4
typedef struct gent {
  void *frame;
  uint32_t fn, caller, off, flow;
  uint32_t seq;
} gent;
static gent gmap[GMAP];
static uint32_t gseq;
static int64_t gmap_misses; /* raises whose starting edge was no longer known */

static inline bool is_gen_frame(const _PyInterpreterFrame *f) { return f && f->owner == FRAME_OWNED_BY_GENERATOR; }

static inline gent *gmap_bucket(const void *frame) {
  uint32_t h = (uint32_t)(((uintptr_t)frame >> 4) * 2654435761u) >> 20; /* 12 bits */
  return &gmap[(h * GWAYS) & (GMAP - 1)];
}

static void gmap_note(void *frame, uint32_t fn, uint32_t caller, uint32_t off, uint32_t flow) {
  gent *b = gmap_bucket(frame), *slot = &b[0];
  for (int k = 0; k < GWAYS; k++) {
    if (b[k].frame == frame || !b[k].frame) {
      slot = &b[k];
      break;
    }
    if ((int32_t)(b[k].seq - slot->seq) < 0) slot = &b[k];
  }
  slot->frame = frame;
  slot->fn = fn, slot->caller = caller, slot->off = off, slot->flow = flow;
  slot->seq = ++gseq;
}

/* The edge that counted the running generator FRAME of function FN; false if unknown. */
static bool gmap_take(void *frame, uint32_t fn, uint32_t *caller, uint32_t *off, uint32_t *flow) {
  gent *b = gmap_bucket(frame);
  for (int k = 0; k < GWAYS; k++) {
    if (b[k].frame == frame && b[k].fn == fn) {
      *caller = b[k].caller, *off = b[k].off, *flow = b[k].flow;
      b[k].frame = NULL;
      return true;
    }
  }
  return false;
}

/* ---- hot path ---- */

/* The index argument: a small non-negative int, read without a call. -1 for anything else. */
static inline long small_index(PyObject *o) {
  if (!PyLong_CheckExact(o)) return -1;
#if PY_VERSION_HEX >= 0x030C0000
  if (!_PyLong_IsCompact((PyLongObject *)o)) return -1;
  return (long)_PyLong_CompactValue((PyLongObject *)o);
#else
  Py_ssize_t n = Py_SIZE(o);
  if (n == 0) return 0;
  if (n != 1) return -1;
  return (long)((PyLongObject *)o)->ob_digit[0];
#endif
}

static PyObject *py_enter(PyObject *mod, PyObject *arg) {
  long i = small_index(arg);
  if ((unsigned long)i >= sns_nfns) Py_RETURN_NONE;
  sns_fn *fn = sns_fn_at((uint32_t)i);
  PyThreadState *ts = cur_tstate();
  _PyInterpreterFrame *self = CUR_FRAME(ts);
  uint32_t caller, off;
  _PyInterpreterFrame *cf;
  find_caller(self, &caller, &off, &cf);
  uint32_t flow = current_flow();
  sns_period *p = sns_cur;
  sns_count(p, (uint32_t)i, caller, off, flow);
  if (is_gen_frame(self)) gmap_note(self, (uint32_t)i, caller, off, flow);
  uint32_t parent = 0, w = 0;
  if (nactive && cf) {
    uint32_t h = tmap_find(cf);
    if (h != TMAP && slots[tmap[h].slot].own) {
      parent = tmap[h].slot;
      w = kid(&slots[parent]);
    }
  }
  bool due = sns_sample_due(p, fn);
  if (due || w) start_timing((uint32_t)i, caller, off, flow, self, w ? parent : 0, due, w);
  Py_RETURN_NONE;
}

/* x(IDX): function IDX returns or raises while timed[IDX] is set; ends the timed call of the
 * current frame, if it is one. */
static PyObject *py_exit(PyObject *mod, PyObject *arg) {
  uint64_t t1 = sns_ticks();
  long i = small_index(arg);
  if ((unsigned long)i >= sns_nfns) Py_RETURN_NONE;
  uint32_t h = tmap_find(CUR_FRAME(cur_tstate()));
  if (h != TMAP) end_timing(h, (uint32_t)i, t1); /* else an untimed call of a function with a timed one running */
  Py_RETURN_NONE;
}

/* Ends the timed call at tmap position H, made by function FI, at T1. */
static void end_timing(uint32_t h, uint32_t fi, uint64_t t1) {
  uint32_t s = tmap[h].slot;
  tmap_del(h);
  slot *sl = &slots[s];
  if (sl->fn != fi) { /* a dead call's entry (see start_timing) */
    slot_free(s);
    return;
  }
  int64_t d = (int64_t)((double)(t1 - sl->t0) * sns_ns_per_tick());
  if (d < 0) d = 0;
  if (sl->parent) {
    slot *ps = &slots[sl->parent];
    if (ps->live && ps->gen == sl->parent_gen) {
      ps->child_ns += (double)d * sl->w;
      ps->wsum += sl->w;
    }
  }
  if (sl->own) {
    /* Children timed at a stride: the last one's w may stand for more calls than were made. */
    double child = sl->wsum > sl->kids && sl->kids ? sl->child_ns * sl->kids / sl->wsum : sl->child_ns;
    int64_t self = child >= (double)d ? 0 : d - (int64_t)child;
    sns_record_timed(sns_cur, sl->fn, sl->caller, sl->off, sl->flow, d, self);
  }
  slot_free(s);
}

/* ---- exception type names (interned for the process) ---- */
#define TNAMES 512
static struct {
  PyTypeObject *type; /* a static type: lives as long as the process */
  char *name;
} tnames[TNAMES];

static char *compute_type_name(PyTypeObject *t) {
  PyObject *mod = PyObject_GetAttrString((PyObject *)t, "__module__");
  PyObject *qn = PyObject_GetAttrString((PyObject *)t, "__qualname__");
  const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
  const char *q = qn && PyUnicode_Check(qn) ? PyUnicode_AsUTF8(qn) : t->tp_name;
  if (!q) q = "?";
  PyErr_Clear();
  size_t len = strlen(q) + (m ? strlen(m) + 1 : 0) + 1;
  char *name = malloc(len);
  if (name) {
    if (m && strcmp(m, "builtins") != 0)
      snprintf(name, len, "%s.%s", m, q);
    else
      snprintf(name, len, "%s", q);
    sns_mem_bytes += (int64_t)len;
    name = sns_intern(name);
  }
  Py_XDECREF(mod);
  Py_XDECREF(qn);
  return name;
}

/* Static types (the built-in exceptions) are cached by address; classes defined in Python are
 * named on every call (a rare path), so that the sensor holds no reference to them. */
static const char *type_name(PyTypeObject *t) {
  if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
    char *n = compute_type_name(t);
    return n ? n : "?";
  }
  uint32_t h = (uint32_t)(((uintptr_t)t >> 4) * 2654435761u) % TNAMES;
  for (uint32_t k = 0; k < TNAMES; k++) {
    uint32_t j = (h + k) % TNAMES;
    if (tnames[j].type == t) return tnames[j].name;
    if (!tnames[j].type) {
      char *name = compute_type_name(t);
      if (!name) return "?";
      tnames[j].type = t;
      tnames[j].name = name;
      return name;
    }
  }
  char *n = compute_type_name(t);
  return n ? n : "?";
}

static int32_t origin_line_of(PyObject *exc) {
  PyObject *tb = PyException_GetTraceback(exc);
  if (!tb) return 0;
  PyObject *ln = PyObject_GetAttrString(tb, "tb_lineno");
  Py_DECREF(tb);
  long v = ln ? PyLong_AsLong(ln) : 0;
  Py_XDECREF(ln);
  PyErr_Clear();
  return v > 0 ? (int32_t)v : 0;
}

/* sys.exit(), sys.exit(0) and SIGTERM handlers that call them end a program normally: counting
 * them as errors would mark every server's main() as failing. */
static int is_clean_exit(PyObject *exc) {
  if (!PyErr_GivenExceptionMatches((PyObject *)Py_TYPE(exc), PyExc_SystemExit)) return 0;
  PyObject *code = ((PySystemExitObject *)exc)->code;
  if (!code || code == Py_None) return 1;
  if (!PyLong_Check(code)) return 0;
  int overflow = 0;
  long v = PyLong_AsLongAndOverflow(code, &overflow);
  if (v == -1 && PyErr_Occurred()) PyErr_Clear();
  return !overflow && v == 0;
}

static PyObject *py_raise(PyObject *mod, PyObject *arg) {
  long i = small_index(arg);
  if ((unsigned long)i >= sns_nfns) Py_RETURN_NONE;
  PyObject *exc = PyErr_GetHandledException();
  if (!exc || exc == Py_None) {
    Py_XDECREF(exc);
    Py_RETURN_NONE;
  }
  PyTypeObject *t = Py_TYPE(exc);
  /* Control flow, not failures: closing a generator, ending an iterator. */
  if (PyErr_GivenExceptionMatches((PyObject *)t, PyExc_GeneratorExit) ||
      PyErr_GivenExceptionMatches((PyObject *)t, PyExc_StopIteration) ||
      PyErr_GivenExceptionMatches((PyObject *)t, PyExc_StopAsyncIteration) ||
      is_clean_exit(exc)) {
    Py_DECREF(exc);
    Py_RETURN_NONE;
  }
  const char *tn = type_name(t);
  PyThreadState *ts = cur_tstate();
  uint32_t caller, off;
  _PyInterpreterFrame *cf;
  _PyInterpreterFrame *self = CUR_FRAME(ts);
  find_caller(self, &caller, &off, &cf);
  uint32_t flow = current_flow();
  /* The exception is counted on the edge that counted the call: for a generator, the one that
   * started it, whoever resumed it now. The path goes on to the frame it propagates to. */
  uint32_t ec = caller, eo = off, ef = flow;
  if (is_gen_frame(self) && !gmap_take(self, (uint32_t)i, &ec, &eo, &ef)) gmap_misses++;
  /* The edge must exist in this period even if the call began in the previous one. */
  if (!sns_edge_get(sns_cur, (uint32_t)i, ec, eo, ef)) sns_cur->dropped_invocations++;
  sns_exc *x = sns_exc_get(sns_cur, (uint32_t)i, ec, eo, ef, tn);
  if (x) x->count++;
  /* Exception path: the open path of this thread continues when the same exception object
   * escapes the function that was the nearest instrumented caller of the last escape. */
  sns_xrec *r = sns_xpath_escape(ts, exc, tn, flow, (uint32_t)i, caller);
  if (r) r->origin_line = origin_line_of(exc);
  Py_DECREF(exc);
  Py_RETURN_NONE;
}

/* declare(file, module_path, source: bytes, [(qualname, start, end, is_async, is_generator)])
 * -> index of the first function; the others follow in order. */
static PyObject *py_declare(PyObject *mod, PyObject *args) {
  const char *file, *module_path;
  Py_buffer src;
  PyObject *list;
  if (!PyArg_ParseTuple(args, "ssy*O!", &file, &module_path, &src, &PyList_Type, &list)) return NULL;
  Py_ssize_t n = PyList_GET_SIZE(list);
  if ((uint64_t)sns_nfns + (uint64_t)n > (uint64_t)SNS_FN_PAGE * SNS_FN_PAGES) {
    PyBuffer_Release(&src);
    PyErr_SetString(PyExc_MemoryError, "hud: too many functions");
    return NULL;
  }
  char *f = sns_dupstr(file), *mp = sns_dupstr(module_path);
  uint32_t first = sns_nfns;
  for (Py_ssize_t k = 0; k < n; k++) {
    const char *qn;
    int start, end, is_async, is_gen;
    if (!PyArg_ParseTuple(PyList_GET_ITEM(list, k), "siipp", &qn, &start, &end, &is_async, &is_gen)) {
      PyBuffer_Release(&src);
      return NULL;
    }
    if (PyList_Append(timed_flags, Py_False) < 0) {
      PyBuffer_Release(&src);
      return NULL;
    }
    uint32_t idx;
    if (sns_fn_declare(f, mp, qn, src.buf, (size_t)src.len, start, end, is_async, is_gen, NULL, &idx) != 0) {
      PyBuffer_Release(&src);
      return PyErr_NoMemory();
    }
  }
  PyBuffer_Release(&src);
  return PyLong_FromUnsignedLong(first);
}

/* bind(idx, code): marks CODE as function IDX (for caller lookups) and keeps it alive. */
static PyObject *py_bind(PyObject *mod, PyObject *args) {
  unsigned long idx;
  PyObject *code;
  if (!PyArg_ParseTuple(args, "kO!", &idx, &PyCode_Type, &code)) return NULL;
  if (idx >= sns_nfns) {
    PyErr_SetString(PyExc_IndexError, "hud: unknown function index");
    return NULL;
  }
  if (CODE_SET_EXTRA(code, extra_index, (void *)(uintptr_t)(idx + 1)) < 0) return NULL;
  sns_fn *fn = sns_fn_at((uint32_t)idx);
  if (!fn->rt) {
    Py_INCREF(code);
    fn->rt = code;
  }
  Py_RETURN_NONE;
}

/* add_overhead_ns(ns): sensor CPU spent in Python (the import-time rewrite), for cpu_fraction. */
static PyObject *py_add_overhead_ns(PyObject *mod, PyObject *arg) {
  long long ns = PyLong_AsLongLong(arg);
  if (ns == -1 && PyErr_Occurred()) return NULL;
  if (ns > 0 && sns_cur) sns_cur->extra_ns += ns;
  Py_RETURN_NONE;
}

static PyObject *py_function_id(PyObject *mod, PyObject *args) {
  const char *mp, *qn;
  if (!PyArg_ParseTuple(args, "ss", &mp, &qn)) return NULL;
  char out[HUD_UUID_STRLEN + 1];
  if (hud_function_id(mp, qn, out) != 0) return PyErr_Format(PyExc_ValueError, "bad identity");
  return PyUnicode_FromString(out);
}

static PyObject *py_source_hash(PyObject *mod, PyObject *args) {
  Py_buffer src;
  int start, end;
  if (!PyArg_ParseTuple(args, "y*ii", &src, &start, &end)) return NULL;
  char out[HUD_SHA1_HEXLEN + 1];
  int rc = hud_source_hash(src.buf, (size_t)src.len, start, end, out);
  PyBuffer_Release(&src);
  if (rc != 0) return PyErr_Format(PyExc_ValueError, "line range %d..%d outside the source", start, end);
  return PyUnicode_FromString(out);
}

/* ---- flows ---- */
static PyObject *flow_register(hud_flow_kind kind, const char *method, const char *route, const char *task,
                               const char *queue) {
  uint32_t idx;
  int rc = sns_flow_register(kind, method, route, task, queue, &idx);
  if (rc == HUD_ETOOBIG) {
    PyErr_SetString(PyExc_OverflowError, "hud: too many flows");
    return NULL;
  }
  if (rc == HUD_ENOMEM) return PyErr_NoMemory();
  if (rc != 0) return PyErr_Format(PyExc_ValueError, "hud: bad flow name");
  return PyLong_FromUnsignedLong(idx);
}

static PyObject *py_flow_endpoint(PyObject *mod, PyObject *args) {
  const char *method, *route;
  if (!PyArg_ParseTuple(args, "ss", &method, &route)) return NULL;
  return flow_register(HUD_FLOW_ENDPOINT, method, route, NULL, NULL);
}

static PyObject *py_flow_queue(PyObject *mod, PyObject *args) {
  const char *task, *queue = NULL;
  if (!PyArg_ParseTuple(args, "s|z", &task, &queue)) return NULL;
  return flow_register(HUD_FLOW_QUEUE_CONSUMER, NULL, NULL, task, queue);
}

/* Registers (or finds) the endpoint flow METHOD ROUTE: its index, or 0 with a Python error set. */
uint32_t sns_flow_endpoint(const char *method, const char *route) {
  PyObject *r = flow_register(HUD_FLOW_ENDPOINT, method, route, NULL, NULL);
  if (!r) return 0;
  uint32_t idx = (uint32_t)PyLong_AsUnsignedLong(r);
  Py_DECREF(r);
  return idx;
}

const char *sns_type_name(PyTypeObject *t) { return type_name(t); }

PyObject *sns_flow_var(void) { return flow_var; }

/* flow_record(idx, status, duration_ns, exception_type or None) */
static PyObject *py_flow_record(PyObject *mod, PyObject *args) {
  unsigned long idx;
  int status;
  long long dur;
  PyObject *exc;
  if (!PyArg_ParseTuple(args, "kiLO", &idx, &status, &dur, &exc)) return NULL;
  if (idx == 0 || idx > sns_nflows) Py_RETURN_NONE;
  const char *tn = NULL;
  if (exc != Py_None) tn = PyType_Check(exc) ? type_name((PyTypeObject *)exc) : type_name(Py_TYPE(exc));
  sns_flow_add((uint32_t)idx, status, (int64_t)dur, tn);
  Py_RETURN_NONE;
}

/* ---- snapshot (sender, under the GIL; sns_rt_ops) ---- */
/* A timed call still running is counted where it will end: records keep sampled <= count and
 * totals stay exact (the call moves from the old period to the new one). Not at the final
 * snapshot: no period follows it, so a call still running there is counted where it began. */
void sns_py_move_running(sns_period *old, sns_period *fresh, bool final) {
  for (uint32_t k = 1; k < NSLOTS && !final; k++) {
    slot *sl = &slots[k];
    if (!sl->live || !sl->own || sl->period != period_gen) continue;
    sns_edge *oe = sns_edge_find(old, sl->fn, sl->caller, sl->off, sl->flow);
    if (!oe || oe->count <= oe->sampled) continue;
    sns_edge *ne = sns_edge_get(fresh, sl->fn, sl->caller, sl->off, sl->flow);
    if (!ne) continue;
    oe->count--;
    ne->count++;
  }
  period_gen++;
  for (uint32_t k = 1; k < NSLOTS; k++)
    if (slots[k].live) slots[k].period = period_gen;
}

/* OFF is an instruction index in the caller's code object. */
int32_t sns_py_call_line(const sns_fn *c, uint32_t off) {
  if (!c->rt) return 0;
  return PyCode_Addr2Line((PyCodeObject *)c->rt, (int)(off * sizeof(_Py_CODEUNIT)));
}

/* ---- module ---- */
static PyObject *py_start(PyObject *mod, PyObject *cfg) {
  if (!PyDict_Check(cfg)) {
    PyErr_SetString(PyExc_TypeError, "start(config: dict)");
    return NULL;
  }
  if (sns_py_sender_start(cfg) != 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *py_flush(PyObject *mod, PyObject *arg) {
  double t = PyFloat_AsDouble(arg);
  if (t < 0 && PyErr_Occurred()) return NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = sns_sender_flush(t);
  Py_END_ALLOW_THREADS;
  return PyBool_FromLong(rc == 0);
}

static PyObject *py_shutdown(PyObject *mod, PyObject *arg) {
  double t = PyFloat_AsDouble(arg);
  if (t < 0 && PyErr_Occurred()) return NULL;
  int rc;
  Py_BEGIN_ALLOW_THREADS;
  rc = sns_sender_shutdown(t);
  Py_END_ALLOW_THREADS;
  return PyBool_FromLong(rc == 0);
}

static PyObject *py_before_fork(PyObject *mod, PyObject *unused) {
  /* The sender takes its locks before the GIL: waiting for them with the GIL held deadlocks. */
  Py_BEGIN_ALLOW_THREADS;
  sns_sender_before_fork();
  Py_END_ALLOW_THREADS;
  Py_RETURN_NONE;
}
static PyObject *py_after_fork_parent(PyObject *mod, PyObject *unused) {
  sns_sender_after_fork_parent();
  Py_RETURN_NONE;
}
static PyObject *py_after_fork_child(PyObject *mod, PyObject *unused) {
  /* The child starts its own state: the parent sends what it recorded. */
  slots_reset();
  memset(gmap, 0, sizeof gmap);
  sns_core_after_fork_child();
  Py_RETURN_NONE;
}

static PyObject *py_stats(PyObject *mod, PyObject *unused) {
  PyObject *d = sns_py_sender_stats();
  if (!d) return NULL;
  PyObject *v;
#define SET(k, val)                                 \
  v = (val);                                        \
  if (!v || PyDict_SetItemString(d, k, v) < 0) {    \
    Py_XDECREF(v);                                  \
    Py_DECREF(d);                                   \
    return NULL;                                    \
  }                                                 \
  Py_DECREF(v);
  SET("functions", PyLong_FromUnsignedLong(sns_nfns));
  SET("flows", PyLong_FromUnsignedLong(sns_nflows));
  SET("memory_bytes", PyLong_FromLongLong(sns_mem_bytes));
  SET("tsc", PyBool_FromLong(sns_use_tsc));
  SET("ns_per_tick", PyFloat_FromDouble(sns_ns_per_tick()));
  SET("quota", PyLong_FromUnsignedLong(sns_quota));
  SET("generator_edge_misses", PyLong_FromLongLong(gmap_misses));
  SET("timed_calls", PyLong_FromLongLong(timed_calls));
#undef SET
  return d;
}

static PyMethodDef methods[] = {
    {"e", py_enter, METH_O, "enter(idx)"},
    {"x", py_exit, METH_O, "exit(idx): ends the current frame's timed call"},
    {"r", py_raise, METH_O, "raised(idx): the handled exception escapes function idx"},
    {"add_overhead_ns", py_add_overhead_ns, METH_O, "add_overhead_ns(ns): sensor CPU spent in Python"},
    {"declare", py_declare, METH_VARARGS, "declare(file, module_path, source, [(qualname, start, end, async, gen)])"},
    {"bind", py_bind, METH_VARARGS, "bind(idx, code)"},
    {"function_id", py_function_id, METH_VARARGS, "function_id(module_path, qualname)"},
    {"source_hash", py_source_hash, METH_VARARGS, "source_hash(source, start, end)"},
    {"flow_endpoint", py_flow_endpoint, METH_VARARGS, "flow_endpoint(method, route) -> flow index"},
    {"flow_queue", py_flow_queue, METH_VARARGS, "flow_queue(task, queue=None) -> flow index"},
    {"flow_record", py_flow_record, METH_VARARGS, "flow_record(idx, status, duration_ns, exc)"},
    {"start", py_start, METH_O, "start(config)"},
    {"flush", py_flush, METH_O, "flush(timeout_s) -> sent"},
    {"shutdown", py_shutdown, METH_O, "shutdown(timeout_s) -> sent"},
    {"before_fork", py_before_fork, METH_NOARGS, NULL},
    {"after_fork_parent", py_after_fork_parent, METH_NOARGS, NULL},
    {"after_fork_child", py_after_fork_child, METH_NOARGS, NULL},
    {"stats", py_stats, METH_NOARGS, "counters"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_hud_sensor", "hud sensor hot path", -1, methods};

PyMODINIT_FUNC PyInit__hud_sensor(void) {
  if (extra_index < 0) {
    timed_flags = PyList_New(0);
    if (!timed_flags || PyType_Ready(&ProbeType) < 0) return NULL;
    probe = PyObject_New(PyObject, &ProbeType); /* lives for the process */
    if (!probe) return NULL;
    extra_index = REQUEST_EXTRA_INDEX(NULL);
    if (extra_index < 0) {
      PyErr_SetString(PyExc_RuntimeError, "hud: no code-object extra slot left");
      return NULL;
    }
    /* +15 ns: the call from bytecode into the hook; +40 ns: the timed call's bookkeeping
     * here (measured separately, docs/architecture.md). */
    if (sns_core_init(15.0, 40.0) != 0) return PyErr_NoMemory();
    slots_reset();
  }
  PyObject *m = PyModule_Create(&moddef);
  if (!m) return NULL;
  if (!flow_var) {
    flow_var = PyContextVar_New("hud_flow", NULL);
    if (!flow_var) return NULL;
  }
  Py_INCREF(flow_var);
  if (PyModule_AddObject(m, "flow_var", flow_var) < 0) return NULL;
  Py_INCREF(timed_flags);
  if (PyModule_AddObject(m, "timed", timed_flags) < 0) return NULL;
  if (sns_flow_init(m) < 0) return NULL;
  return m;
}
