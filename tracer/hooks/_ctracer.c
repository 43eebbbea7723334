/* The C profile filter (Python < 3.12): the pure-Python `setprofile` backend, minus its cost.
 *
 * `tracer/hooks/setprofile.py` is the specification and the test oracle. Its profile function
 * runs for every call / return / C call of the program, and on almost every event it only
 * decides that there is nothing to do. This module makes exactly the same decisions in C and
 * calls back into Python (the same `Dispatcher` methods, with the same `ThreadState`) only
 * where the Python version would do real work:
 *
 *   any event      if `pending` is non-empty and the frame (or its caller) is the frame that
 *                  waits for a C call's result: dispatcher.resolve(state)
 *   call           id(f_code) watched (catalog.code_entries), and its first caller that is not a
 *                  wrapper is not known library code (is_user's per-file cache, read in place):
 *                  dispatcher.start(state, frame, entry)
 *   return         the top of the thread's stack is this frame: dispatcher.exit(...), telling a
 *                  raise from `return None` by the opcode at f_lasti, as the oracle does
 *   c_call         id(callable) watched (catalog.c_entries), or its name is a watched C method
 *                  name (bound methods are new objects each time: catalog.entry_for_c decides),
 *                  and f_code is user code: dispatcher.c_start(state, frame, entry, CCall(...))
 *   c_return/_exc  the top of the stack is a C call of this frame at this f_lasti:
 *                  dispatcher.c_exit(state, frame, f_lasti, None | True)
 *
 * The catalog's tables are read through pointer hash sets (no hashing of code objects, no
 * PyLong per event). The tables only grow while a script runs (imports resolve more entries),
 * so a set is rebuilt when the size of its dict changes; the entry itself is fetched from the
 * dict on a hit. The thread's stack and pending lists are the Python ThreadState's own lists,
 * read in place (so C and Python can never disagree about them); `Open.frame` and friends are
 * __slots__ read at their member offsets.
 *
 * Per thread: a `Profiler` object holds its thread's ThreadState and is the profile object
 * given to PyEval_SetProfile, so `sys.getprofile()` returns it; it is also callable with the
 * Python profile signature, so code that saves and restores `sys.getprofile()` keeps working.
 * `Hook.stop()` clears the profile function of the calling thread and of every other thread
 * whose profile object is one of this hook's profilers.
 *
 * Nothing raises into user code: an `Exception` raised on the way is counted and handed to
 * dispatcher.fail (which reports it and detaches after too many). BaseExceptions that are not
 * Exceptions (KeyboardInterrupt, SystemExit) propagate, so Ctrl-C still interrupts the script.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030B0000
#error "tracer's C profile filter needs Python 3.11 or later"
#endif
#if PY_VERSION_HEX >= 0x030C0000
/* 3.12+ has sys.monitoring (tracer/hooks/sysmon.py), far cheaper than any profile function;
 * 3.13 also stopped exporting _PyEval_SetProfile, which stop() uses on other threads. */
#error "tracer's C profile filter is for Python < 3.12 (sys.monitoring does better)"
#endif

/* -- pointer hash set ---------------------------------------------------------------------- */

typedef struct {
    void **keys;    /* NULL = empty slot */
    size_t mask;    /* capacity - 1; capacity is a power of two */
    int shift;      /* 64 - log2(capacity) */
} ptrset;

static inline size_t
ptr_slot(const ptrset *s, const void *p)
{
    return (size_t)((((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL) >> s->shift);
}

static inline int
ptrset_has(const ptrset *s, const void *p)
{
    if (s->keys == NULL) {
        return 0;
    }
    size_t i = ptr_slot(s, p);
    for (;;) {
        void *k = s->keys[i];
        if (k == p) {
            return 1;
        }
        if (k == NULL) {
            return 0;
        }
        i = (i + 1) & s->mask;
    }
}

static void
ptrset_free(ptrset *s)
{
    PyMem_Free(s->keys);
    s->keys = NULL;
    s->mask = 0;
    s->shift = 64;
}

/* Rebuild `s` from the ids (ints) in `iterable` (a dict's keys, or a set), ids of objects
 * the catalog pins. */
static int
ptrset_from_ids(ptrset *s, PyObject *iterable)
{
    Py_ssize_t n = PyObject_Length(iterable);
    if (n < 0) {
        return -1;
    }
    size_t cap = 16;
    int bits = 4;
    while (cap < (size_t)n * 2 + 2) {
        cap <<= 1;
        bits++;
    }
    void **keys = PyMem_Calloc(cap, sizeof(void *));
    if (keys == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    ptrset fresh = {keys, cap - 1, 64 - bits};
    PyObject *it = PyObject_GetIter(iterable);
    if (it == NULL) {
        PyMem_Free(keys);
        return -1;
    }
    PyObject *k;
    while ((k = PyIter_Next(it)) != NULL) {
        void *p = PyLong_Check(k) ? PyLong_AsVoidPtr(k) : NULL;
        Py_DECREF(k);
        if (p == NULL) {
            PyErr_Clear();
            continue;
        }
        size_t i = ptr_slot(&fresh, p);
        while (keys[i] != NULL && keys[i] != p) {
            i = (i + 1) & fresh.mask;
        }
        keys[i] = p;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        PyMem_Free(keys);
        return -1;
    }
    ptrset_free(s);
    *s = fresh;
    return 0;
}

/* -- objects ------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    /* the catalog's live tables */
    PyObject *code_entries;     /* dict: id(code) -> Entry */
    PyObject *c_entries;        /* dict: id(callable) -> Entry */
    PyObject *c_method_names;   /* set of str */
    /* callbacks */
    PyObject *d_start, *d_exit, *d_c_start, *d_c_exit, *d_resolve, *d_fail;
    PyObject *entry_for_c, *is_user, *ccall_type;
    /* the recording rule's first question, "is the caller user code?", for the common no */
    PyObject *wrapper_codes;    /* set of id(code): decorators' wrappers, skipped over */
    PyObject *user_files;       /* dict: co_filename -> bool (is_user's cache), or NULL */
    /* Open / Pending __slots__ offsets (0: not a plain slot, use getattr) */
    PyTypeObject *open_type, *pending_type;
    Py_ssize_t open_frame, open_cfunc, open_lasti, pending_frame;
    unsigned char return_ops[256];
    /* mirrors */
    ptrset codes, cfuncs, wrappers;
    Py_ssize_t codes_synced, cfuncs_synced, names_synced, wrappers_synced;
    char **names;
    Py_ssize_t n_names;
    int running;
    /* counters */
    unsigned long long events, callbacks, errors;
} Hook;

typedef struct {
    PyObject_HEAD
    Hook *hook;
    PyObject *state;    /* ThreadState */
    PyObject *stack;    /* state.stack: list of Open */
    PyObject *pending;  /* state.pending: list of Pending */
} Profiler;

static PyTypeObject HookType;
static PyTypeObject ProfilerType;

static PyObject *str_frame, *str_cfunc, *str_lasti, *str_name;
static PyObject *what_strings[8];

/* A __slots__ attribute of `o`: read at its offset when `o` is exactly `type`, else getattr.
 * New reference, or NULL with an exception set. */
static inline PyObject *
slot_get(PyObject *o, PyTypeObject *type, Py_ssize_t offset, PyObject *name)
{
    if (offset > 0 && Py_TYPE(o) == type) {
        PyObject *v = *(PyObject **)((char *)o + offset);
        if (v != NULL) {
            Py_INCREF(v);
            return v;
        }
    }
    return PyObject_GetAttr(o, name);
}

/* Offset of the __slots__ member `name` of `type` (an object slot), or 0. */
static Py_ssize_t
slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *d = PyDict_GetItemString(type->tp_dict, name);  /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        return 0;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    if (m->type != T_OBJECT_EX && m->type != T_OBJECT) {
        return 0;
    }
    return m->offset;
}

/* -- error handling ------------------------------------------------------------------------ */

/* An exception is set. Exceptions are counted and reported to dispatcher.fail, never raised
 * into user code (0); other BaseExceptions (KeyboardInterrupt, SystemExit) propagate (-1). */
static int
handle_error(Hook *h, const char *where)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return -1;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    h->errors++;
    if (value != NULL && h->d_fail != NULL) {
        PyObject *w = PyUnicode_FromFormat("ctrace.%s", where);
        if (w != NULL) {
            PyObject *r = PyObject_CallFunctionObjArgs(h->d_fail, w, value, NULL);
            Py_XDECREF(r);
            Py_DECREF(w);
        }
        if (PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                Py_XDECREF(type);
                Py_XDECREF(value);
                Py_XDECREF(tb);
                return -1;
            }
            PyErr_Clear();
        }
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return 0;
}

/* The result of a call into Python: 0, or what handle_error says. Steals `r`. */
static inline int
done(Hook *h, PyObject *r, const char *where)
{
    if (r != NULL) {
        Py_DECREF(r);
        return 0;
    }
    return handle_error(h, where);
}

/* -- table mirrors ------------------------------------------------------------------------- */

static void
names_free(Hook *h)
{
    for (Py_ssize_t i = 0; i < h->n_names; i++) {
        PyMem_Free(h->names[i]);
    }
    PyMem_Free(h->names);
    h->names = NULL;
    h->n_names = 0;
}

static int
names_sync(Hook *h)
{
    Py_ssize_t n = PySet_GET_SIZE(h->c_method_names);
    names_free(h);
    h->names_synced = -1;
    if (n > 0) {
        h->names = PyMem_Calloc((size_t)n, sizeof(char *));
        if (h->names == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        PyObject *it = PyObject_GetIter(h->c_method_names), *o;
        if (it == NULL) {
            return -1;
        }
        while ((o = PyIter_Next(it)) != NULL) {
            const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
            if (s == NULL) {
                PyErr_Clear();
            }
            else if (h->n_names < n) {
                size_t len = strlen(s) + 1;
                char *copy = PyMem_Malloc(len);
                if (copy == NULL) {
                    Py_DECREF(o);
                    Py_DECREF(it);
                    PyErr_NoMemory();
                    return -1;
                }
                memcpy(copy, s, len);
                h->names[h->n_names++] = copy;
            }
            Py_DECREF(o);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    h->names_synced = n;
    return 0;
}

static inline int
name_watched(Hook *h, const char *name)
{
    for (Py_ssize_t i = 0; i < h->n_names; i++) {
        if (name[0] == h->names[i][0] && strcmp(name, h->names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Is `func`'s __name__ a watched C method name? (getattr(func, "__name__", None) in names) */
static int
method_name_watched(Hook *h, PyObject *func)
{
    if (PySet_GET_SIZE(h->c_method_names) != h->names_synced && names_sync(h) < 0) {
        return -1;
    }
    if (h->n_names == 0) {
        return 0;
    }
    if (PyCFunction_Check(func)) {  /* what 3.11 reports for every C call */
        return name_watched(h, ((PyCFunctionObject *)func)->m_ml->ml_name);
    }
    PyObject *name = PyObject_GetAttr(func, str_name);
    if (name == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    int r = PySet_Contains(h->c_method_names, name);
    Py_DECREF(name);
    return r;
}

/* -- the profile function ------------------------------------------------------------------ */

static int
returned_normally(Hook *h, PyFrameObject *frame)
{
    PyCodeObject *code = PyFrame_GetCode(frame);
    PyObject *raw = PyCode_GetCode(code);
    Py_DECREF(code);
    if (raw == NULL) {
        PyErr_Clear();
        return 0;
    }
    int i = PyFrame_GetLasti(frame);
    int ok = 0 <= i && i < PyBytes_GET_SIZE(raw)
             && h->return_ops[(unsigned char)PyBytes_AS_STRING(raw)[i]];
    Py_DECREF(raw);
    return ok;
}

static int
on_pending(Profiler *p, Hook *h, PyFrameObject *frame)
{
    Py_ssize_t n = PyList_GET_SIZE(p->pending);
    PyObject *last = PyList_GET_ITEM(p->pending, n - 1);
    Py_INCREF(last);
    PyObject *waiting = slot_get(last, h->pending_type, h->pending_frame, str_frame);
    Py_DECREF(last);
    if (waiting == NULL) {
        return handle_error(h, "pending");
    }
    int hit = waiting == (PyObject *)frame;
    if (!hit) {
        PyFrameObject *back = PyFrame_GetBack(frame);
        hit = back != NULL && (PyObject *)back == waiting;
        Py_XDECREF(back);
    }
    Py_DECREF(waiting);
    if (!hit) {
        return 0;
    }
    h->callbacks++;
    return done(h, PyObject_CallOneArg(h->d_resolve, p->state), "resolve");
}

/* Is the first caller of `frame` that is not a wrapper user code? 0 no (a watched function
 * called by library code: most calls, which need no Python at all), 1 yes or not known yet
 * (dispatcher.start asks is_user and decides), -1 error. */
static int
caller_is_user(Hook *h, PyFrameObject *frame)
{
    if (h->user_files == NULL || h->wrapper_codes == NULL) {
        return 1;
    }
    if (PySet_GET_SIZE(h->wrapper_codes) != h->wrappers_synced) {
        if (ptrset_from_ids(&h->wrappers, h->wrapper_codes) < 0) {
            return -1;
        }
        h->wrappers_synced = PySet_GET_SIZE(h->wrapper_codes);
    }
    PyFrameObject *caller = PyFrame_GetBack(frame);
    while (caller != NULL) {
        PyCodeObject *code = PyFrame_GetCode(caller);
        if (!ptrset_has(&h->wrappers, code)) {
            PyObject *user = PyDict_GetItemWithError(h->user_files, code->co_filename);
            Py_DECREF(code);
            Py_DECREF(caller);
            if (user == NULL && PyErr_Occurred()) {
                return -1;
            }
            return user != Py_False;
        }
        Py_DECREF(code);
        PyFrameObject *next = PyFrame_GetBack(caller);
        Py_DECREF(caller);
        caller = next;
    }
    return 0;  /* no caller at all: nothing to record */
}

static int
on_call(Profiler *p, Hook *h, PyFrameObject *frame)
{
    if (PyDict_GET_SIZE(h->code_entries) != h->codes_synced) {
        if (ptrset_from_ids(&h->codes, h->code_entries) < 0) {
            return handle_error(h, "sync");
        }
        h->codes_synced = PyDict_GET_SIZE(h->code_entries);
    }
    PyCodeObject *code = PyFrame_GetCode(frame);
    int hit = ptrset_has(&h->codes, code);
    if (!hit) {
        Py_DECREF(code);
        return 0;
    }
    PyObject *key = PyLong_FromVoidPtr(code);
    Py_DECREF(code);
    if (key == NULL) {
        return handle_error(h, "call");
    }
    PyObject *entry = PyDict_GetItemWithError(h->code_entries, key);
    Py_DECREF(key);
    if (entry == NULL) {
        return PyErr_Occurred() ? handle_error(h, "call") : 0;
    }
    int caller = caller_is_user(h, frame);
    if (caller <= 0) {
        return caller < 0 ? handle_error(h, "call") : 0;
    }
    Py_INCREF(entry);
    PyObject *args[3] = {p->state, (PyObject *)frame, entry};
    h->callbacks++;
    int r = done(h, PyObject_Vectorcall(h->d_start, args, 3, NULL), "start");
    Py_DECREF(entry);
    return r;
}

static int
on_return(Profiler *p, Hook *h, PyFrameObject *frame, PyObject *arg)
{
    Py_ssize_t n = PyList_GET_SIZE(p->stack);
    if (n == 0) {
        return 0;
    }
    PyObject *top = PyList_GET_ITEM(p->stack, n - 1);
    Py_INCREF(top);
    PyObject *f = slot_get(top, h->open_type, h->open_frame, str_frame);
    Py_DECREF(top);
    if (f == NULL) {
        return handle_error(h, "return");
    }
    Py_DECREF(f);  /* only compared */
    if (f != (PyObject *)frame) {
        return 0;
    }
    PyObject *args[4] = {p->state, (PyObject *)frame, Py_None, Py_None};
    if ((arg == NULL || arg == Py_None) && !returned_normally(h, frame)) {
        args[3] = Py_True;
    }
    else if (arg != NULL) {
        args[2] = arg;
    }
    h->callbacks++;
    return done(h, PyObject_Vectorcall(h->d_exit, args, 4, NULL), "exit");
}

static int
on_c_call(Profiler *p, Hook *h, PyFrameObject *frame, PyObject *func)
{
    PyObject *entry = NULL;
    if (PyDict_GET_SIZE(h->c_entries) != h->cfuncs_synced) {
        if (ptrset_from_ids(&h->cfuncs, h->c_entries) < 0) {
            return handle_error(h, "sync");
        }
        h->cfuncs_synced = PyDict_GET_SIZE(h->c_entries);
    }
    if (ptrset_has(&h->cfuncs, func)) {
        PyObject *key = PyLong_FromVoidPtr(func);
        if (key == NULL) {
            return handle_error(h, "c_call");
        }
        entry = PyDict_GetItemWithError(h->c_entries, key);
        Py_DECREF(key);
        if (entry == NULL && PyErr_Occurred()) {
            return handle_error(h, "c_call");
        }
        Py_XINCREF(entry);
    }
    if (entry == NULL) {
        int named = method_name_watched(h, func);
        if (named < 0) {
            return handle_error(h, "c_call");
        }
        if (!named) {
            return 0;
        }
        h->callbacks++;
        entry = PyObject_CallOneArg(h->entry_for_c, func);
        if (entry == NULL) {
            return handle_error(h, "entry_for_c");
        }
        if (entry == Py_None) {
            Py_DECREF(entry);
            return 0;
        }
    }
    /* is_user(frame.f_code) */
    PyCodeObject *code = PyFrame_GetCode(frame);
    h->callbacks++;
    PyObject *u = PyObject_CallOneArg(h->is_user, (PyObject *)code);
    Py_DECREF(code);
    int user = u == NULL ? -1 : PyObject_IsTrue(u);
    Py_XDECREF(u);
    if (user <= 0) {
        Py_DECREF(entry);
        return user < 0 ? handle_error(h, "is_user") : 0;
    }
    PyObject *lasti = PyLong_FromLong(PyFrame_GetLasti(frame));
    if (lasti == NULL) {
        Py_DECREF(entry);
        return handle_error(h, "c_call");
    }
    PyObject *cargs[2] = {func, lasti};
    PyObject *ccall = PyObject_Vectorcall(h->ccall_type, cargs, 2, NULL);
    Py_DECREF(lasti);
    if (ccall == NULL) {
        Py_DECREF(entry);
        return handle_error(h, "c_call");
    }
    PyObject *args[4] = {p->state, (PyObject *)frame, entry, ccall};
    int r = done(h, PyObject_Vectorcall(h->d_c_start, args, 4, NULL), "c_start");
    Py_DECREF(ccall);
    Py_DECREF(entry);
    return r;
}

static int
on_c_return(Profiler *p, Hook *h, PyFrameObject *frame, int raised)
{
    Py_ssize_t n = PyList_GET_SIZE(p->stack);
    if (n == 0) {
        return 0;
    }
    PyObject *top = PyList_GET_ITEM(p->stack, n - 1);
    Py_INCREF(top);
    PyObject *f = slot_get(top, h->open_type, h->open_frame, str_frame);
    if (f == NULL) {
        Py_DECREF(top);
        return handle_error(h, "c_return");
    }
    Py_DECREF(f);
    if (f != (PyObject *)frame) {
        Py_DECREF(top);
        return 0;
    }
    /* dispatcher.c_exit returns at once, doing nothing, unless the top is a C call made at
     * this very instruction: test that here rather than call it for every C call made
     * directly by a watched function's own frame. */
    int lasti = PyFrame_GetLasti(frame);
    PyObject *cfunc = slot_get(top, h->open_type, h->open_cfunc, str_cfunc);
    PyObject *olasti = cfunc == NULL ? NULL : slot_get(top, h->open_type, h->open_lasti, str_lasti);
    Py_DECREF(top);
    if (olasti == NULL) {
        Py_XDECREF(cfunc);
        return handle_error(h, "c_return");
    }
    int is_c = cfunc != Py_None;
    Py_DECREF(cfunc);
    long at = PyLong_Check(olasti) ? PyLong_AsLong(olasti) : -2;
    Py_DECREF(olasti);
    if (at == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        at = -2;
    }
    if (!is_c || at != (long)lasti) {
        return 0;
    }
    PyObject *where = PyLong_FromLong(lasti);
    if (where == NULL) {
        return handle_error(h, "c_return");
    }
    PyObject *args[4] = {p->state, (PyObject *)frame, where, raised ? Py_True : Py_None};
    h->callbacks++;
    int r = done(h, PyObject_Vectorcall(h->d_c_exit, args, 4, NULL), "c_exit");
    Py_DECREF(where);
    return r;
}

/* The thread's stack is non-empty and its top is a call of `frame`: 1 yes, 0 no, -1 can't
 * tell without running Python (the slow path will look properly). No reference taken. */
static inline int
top_is(Profiler *p, Hook *h, PyFrameObject *frame)
{
    Py_ssize_t n = PyList_GET_SIZE(p->stack);
    if (n == 0) {
        return 0;
    }
    PyObject *top = PyList_GET_ITEM(p->stack, n - 1);
    if (h->open_frame <= 0 || Py_TYPE(top) != h->open_type) {
        return -1;
    }
    PyObject *f = *(PyObject **)((char *)top + h->open_frame);
    return f == (PyObject *)frame;
}

/* Might this C call be watched? 0 only when it certainly is not. */
static inline int
c_maybe_watched(Hook *h, PyObject *func)
{
    if (PyDict_GET_SIZE(h->c_entries) != h->cfuncs_synced) {
        return 1;
    }
    if (ptrset_has(&h->cfuncs, func)) {
        return 1;
    }
    if (PySet_GET_SIZE(h->c_method_names) != h->names_synced) {
        return 1;
    }
    if (h->n_names == 0) {
        return 0;
    }
    if (PyCFunction_Check(func)) {
        return name_watched(h, ((PyCFunctionObject *)func)->m_ml->ml_name);
    }
    return 1;
}

static inline int
code_maybe_watched(Hook *h, PyFrameObject *frame)
{
    if (PyDict_GET_SIZE(h->code_entries) != h->codes_synced) {
        return 1;
    }
    PyCodeObject *code = PyFrame_GetCode(frame);
    int hit = ptrset_has(&h->codes, code);
    Py_DECREF(code);
    return hit;
}

/* Everything the oracle's profile function does, for an event that may need work. */
static int
slow_path(Profiler *p, Hook *h, PyFrameObject *frame, int what, PyObject *arg)
{
    if (PyList_GET_SIZE(p->pending) > 0) {
        int r = on_pending(p, h, frame);
        if (r < 0) {
            return r;
        }
    }
    switch (what) {
    case PyTrace_CALL:
        return on_call(p, h, frame);
    case PyTrace_RETURN:
        return on_return(p, h, frame, arg);
    case PyTrace_C_CALL:
        return on_c_call(p, h, frame, arg);
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        return on_c_return(p, h, frame, what == PyTrace_C_EXCEPTION);
    default:
        return 0;
    }
}

static int
profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    Profiler *p = (Profiler *)obj;
    Hook *h = p->hook;
    if (h == NULL || !h->running) {
        /* This hook has stopped: a thread that stop() missed, or a profile object put back by
         * code that saved sys.getprofile(), lets go of its own thread. */
        if (PyThreadState_Get()->c_profileobj == obj) {
            PyEval_SetProfile(NULL, NULL);
        }
        return 0;
    }
    h->events++;
    if (PyList_GET_SIZE(p->pending) == 0) {
        /* The common case, decided without a reference or a call: nothing to do. */
        switch (what) {
        case PyTrace_CALL:
            if (!code_maybe_watched(h, frame)) {
                return 0;
            }
            break;
        case PyTrace_RETURN:
        case PyTrace_C_RETURN:
        case PyTrace_C_EXCEPTION:
            if (top_is(p, h, frame) == 0) {
                return 0;
            }
            break;
        case PyTrace_C_CALL:
            if (!c_maybe_watched(h, arg)) {
                return 0;
            }
            break;
        default:
            return 0;
        }
    }
    /* Python code may run from here on: keep `p` (and through it `h`) alive even if a callback
     * stops the hook and so drops this thread's profile object. */
    Py_INCREF(p);
    int r = slow_path(p, h, frame, what, arg);
    Py_DECREF(p);
    return r;
}

/* -- Profiler type ------------------------------------------------------------------------- */

static int
Profiler_traverse(Profiler *self, visitproc visit, void *arg)
{
    Py_VISIT(self->hook);
    Py_VISIT(self->state);
    Py_VISIT(self->stack);
    Py_VISIT(self->pending);
    return 0;
}

static int
Profiler_clear(Profiler *self)
{
    Py_CLEAR(self->hook);
    Py_CLEAR(self->state);
    Py_CLEAR(self->stack);
    Py_CLEAR(self->pending);
    return 0;
}

static void
Profiler_dealloc(Profiler *self)
{
    PyObject_GC_UnTrack(self);
    Profiler_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* profiler(frame, event, arg): the same filter, called the way a Python profile function is
 * (the first event of a new thread, or after code restored a saved sys.getprofile()). */
static PyObject *
Profiler_call(Profiler *self, PyObject *args, PyObject *kwds)
{
    PyObject *frame, *event, *arg;
    static char *kwlist[] = {"frame", "event", "arg", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!UO:profiler", kwlist,
                                     &PyFrame_Type, &frame, &event, &arg)) {
        return NULL;
    }
    if (self->hook == NULL) {
        Py_RETURN_NONE;
    }
    int what = -1;
    for (int i = 0; i < 8; i++) {
        if (what_strings[i] != NULL && PyUnicode_Compare(event, what_strings[i]) == 0) {
            what = i;
            break;
        }
    }
    if (what < 0) {
        Py_RETURN_NONE;
    }
    if (profile((PyObject *)self, (PyFrameObject *)frame, what, arg) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Profiler_get_state(Profiler *self, void *closure)
{
    PyObject *s = self->state ? self->state : Py_None;
    Py_INCREF(s);
    return s;
}

static PyGetSetDef Profiler_getset[] = {
    {"state", (getter)Profiler_get_state, NULL, "this thread's ThreadState", NULL},
    {NULL},
};

static PyTypeObject ProfilerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.hooks._ctracer.Profiler",
    .tp_doc = "One thread's profile object (made by Hook.install).",
    .tp_basicsize = sizeof(Profiler),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)Profiler_dealloc,
    .tp_traverse = (traverseproc)Profiler_traverse,
    .tp_clear = (inquiry)Profiler_clear,
    .tp_call = (ternaryfunc)Profiler_call,
    .tp_getset = Profiler_getset,
};

/* -- Hook type ----------------------------------------------------------------------------- */

static int
Hook_traverse(Hook *self, visitproc visit, void *arg)
{
    Py_VISIT(self->code_entries);
    Py_VISIT(self->c_entries);
    Py_VISIT(self->c_method_names);
    Py_VISIT(self->d_start);
    Py_VISIT(self->d_exit);
    Py_VISIT(self->d_c_start);
    Py_VISIT(self->d_c_exit);
    Py_VISIT(self->d_resolve);
    Py_VISIT(self->d_fail);
    Py_VISIT(self->entry_for_c);
    Py_VISIT(self->is_user);
    Py_VISIT(self->wrapper_codes);
    Py_VISIT(self->user_files);
    Py_VISIT(self->ccall_type);
    Py_VISIT(self->open_type);
    Py_VISIT(self->pending_type);
    return 0;
}

static int
Hook_clear(Hook *self)
{
    Py_CLEAR(self->code_entries);
    Py_CLEAR(self->c_entries);
    Py_CLEAR(self->c_method_names);
    Py_CLEAR(self->d_start);
    Py_CLEAR(self->d_exit);
    Py_CLEAR(self->d_c_start);
    Py_CLEAR(self->d_c_exit);
    Py_CLEAR(self->d_resolve);
    Py_CLEAR(self->d_fail);
    Py_CLEAR(self->entry_for_c);
    Py_CLEAR(self->is_user);
    Py_CLEAR(self->wrapper_codes);
    Py_CLEAR(self->user_files);
    Py_CLEAR(self->ccall_type);
    Py_CLEAR(self->open_type);
    Py_CLEAR(self->pending_type);
    self->running = 0;
    return 0;
}

static void
Hook_dealloc(Hook *self)
{
    PyObject_GC_UnTrack(self);
    Hook_clear(self);
    ptrset_free(&self->codes);
    ptrset_free(&self->cfuncs);
    ptrset_free(&self->wrappers);
    names_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Hook_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Hook *self = (Hook *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->codes.shift = self->cfuncs.shift = self->wrappers.shift = 64;
        self->codes_synced = self->cfuncs_synced = self->names_synced = -1;
        self->wrappers_synced = -1;
    }
    return (PyObject *)self;
}

static int
Hook_init(Hook *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"code_entries", "c_entries", "c_method_names", "dispatcher",
                             "entry_for_c", "is_user", "ccall_type", "open_type",
                             "pending_type", "return_ops", NULL};
    PyObject *code_entries, *c_entries, *names, *dispatcher, *entry_for_c, *is_user, *ccall;
    PyObject *open_type, *pending_type;
    Py_buffer ops;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!OOOOO!O!y*:Hook", kwlist,
                                     &PyDict_Type, &code_entries, &PyDict_Type, &c_entries,
                                     &PySet_Type, &names, &dispatcher, &entry_for_c, &is_user,
                                     &ccall, &PyType_Type, &open_type, &PyType_Type,
                                     &pending_type, &ops)) {
        return -1;
    }
    memset(self->return_ops, 0, sizeof(self->return_ops));
    for (Py_ssize_t i = 0; i < ops.len; i++) {
        self->return_ops[((unsigned char *)ops.buf)[i]] = 1;
    }
    PyBuffer_Release(&ops);
    Hook_clear(self);
    Py_INCREF(code_entries);
    self->code_entries = code_entries;
    Py_INCREF(c_entries);
    self->c_entries = c_entries;
    Py_INCREF(names);
    self->c_method_names = names;
    Py_INCREF(entry_for_c);
    self->entry_for_c = entry_for_c;
    Py_INCREF(is_user);
    self->is_user = is_user;
    Py_INCREF(ccall);
    self->ccall_type = ccall;
    Py_INCREF(open_type);
    self->open_type = (PyTypeObject *)open_type;
    Py_INCREF(pending_type);
    self->pending_type = (PyTypeObject *)pending_type;
    if (!(self->d_start = PyObject_GetAttrString(dispatcher, "start"))
        || !(self->d_exit = PyObject_GetAttrString(dispatcher, "exit"))
        || !(self->d_c_start = PyObject_GetAttrString(dispatcher, "c_start"))
        || !(self->d_c_exit = PyObject_GetAttrString(dispatcher, "c_exit"))
        || !(self->d_resolve = PyObject_GetAttrString(dispatcher, "resolve"))
        || !(self->d_fail = PyObject_GetAttrString(dispatcher, "fail"))) {
        return -1;
    }
    /* The dispatcher's wrapper codes and is_user's per-file cache, read in place; without
     * them (a stand-in dispatcher in a test, say) every watched call goes to Python. */
    PyObject *wrappers = PyObject_GetAttrString(dispatcher, "wrappers");
    PyObject *files = PyObject_GetAttrString(is_user, "files");
    if (wrappers != NULL && PySet_Check(wrappers) && files != NULL && PyDict_Check(files)) {
        self->wrapper_codes = wrappers;
        self->user_files = files;
    }
    else {
        Py_XDECREF(wrappers);
        Py_XDECREF(files);
        PyErr_Clear();
    }
    self->open_frame = slot_offset(self->open_type, "frame");
    self->open_cfunc = slot_offset(self->open_type, "cfunc");
    self->open_lasti = slot_offset(self->open_type, "lasti");
    self->pending_frame = slot_offset(self->pending_type, "frame");
    self->codes_synced = self->cfuncs_synced = self->names_synced = -1;
    self->wrappers_synced = -1;
    self->events = self->callbacks = self->errors = 0;
    self->running = 1;
    return 0;
}

static PyObject *
Hook_install(Hook *self, PyObject *state)
{
    if (!self->running) {
        Py_RETURN_NONE;  /* a thread starting while the hook stops: nothing to install */
    }
    Profiler *p = PyObject_GC_New(Profiler, &ProfilerType);
    if (p == NULL) {
        return NULL;
    }
    p->hook = NULL;
    p->state = p->stack = p->pending = NULL;
    PyObject_GC_Track(p);
    Py_INCREF(self);
    p->hook = self;
    Py_INCREF(state);
    p->state = state;
    p->stack = PyObject_GetAttrString(state, "stack");
    p->pending = p->stack ? PyObject_GetAttrString(state, "pending") : NULL;
    if (p->pending == NULL) {
        Py_DECREF(p);
        return NULL;
    }
    if (!PyList_CheckExact(p->stack) || !PyList_CheckExact(p->pending)) {
        PyErr_SetString(PyExc_TypeError, "state.stack and state.pending must be lists");
        Py_DECREF(p);
        return NULL;
    }
    PyEval_SetProfile(profile, (PyObject *)p);
    if (PyErr_Occurred()) {  /* an audit hook refused */
        Py_DECREF(p);
        return NULL;
    }
    return (PyObject *)p;
}

static int
is_ours(Hook *self, PyObject *obj)
{
    return obj != NULL && Py_IS_TYPE(obj, &ProfilerType) && ((Profiler *)obj)->hook == self;
}

static PyObject *
Hook_stop(Hook *self, PyObject *unused)
{
    self->running = 0;
    Py_INCREF(self);
    PyThreadState *me = PyThreadState_Get();
    /* The calling thread, unconditionally: what sys.setprofile(None) does in the oracle. */
    PyEval_SetProfile(NULL, NULL);
    PyErr_Clear();
    long cleared = 0;
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me));
    while (ts != NULL) {
        if (ts != me && is_ours(self, ts->c_profileobj)) {
            if (_PyEval_SetProfile(ts, NULL, NULL) < 0) {
                PyErr_Clear();
            }
            else {
                cleared++;
            }
        }
        ts = PyThreadState_Next(ts);
    }
    Py_DECREF(self);
    return PyLong_FromLong(cleared);
}

/* pause(): take the calling thread's profile function off, if it is ours; returns the
 * profiler to hand back to resume(), or None. A library module executes in between. */
static PyObject *
Hook_pause(Hook *self, PyObject *unused)
{
    PyObject *obj = PyThreadState_Get()->c_profileobj;
    if (!self->running || !is_ours(self, obj)) {
        Py_RETURN_NONE;
    }
    Py_INCREF(obj);
    PyEval_SetProfile(NULL, NULL);
    if (PyErr_Occurred()) {  /* an audit hook refused: still profiled, nothing to resume */
        PyErr_Clear();
        Py_DECREF(obj);
        Py_RETURN_NONE;
    }
    return obj;
}

/* resume(profiler): put back what pause() took, unless the hook has stopped meanwhile or
 * something else now profiles the thread. */
static PyObject *
Hook_resume(Hook *self, PyObject *obj)
{
    if (self->running && is_ours(self, obj) && PyThreadState_Get()->c_profilefunc == NULL) {
        PyEval_SetProfile(profile, obj);
        PyErr_Clear();
    }
    Py_RETURN_NONE;
}

static PyObject *
Hook_stats(Hook *self, PyObject *unused)
{
    return Py_BuildValue("{sKsKsKsnsnsi}", "events", self->events, "callbacks", self->callbacks,
                         "errors", self->errors, "codes", self->codes_synced,
                         "c_callables", self->cfuncs_synced, "running", self->running);
}

static PyObject *
Hook_owns(Hook *self, PyObject *obj)
{
    return PyBool_FromLong(is_ours(self, obj));
}

static PyMethodDef Hook_methods[] = {
    {"install", (PyCFunction)Hook_install, METH_O,
     "install(state) -> Profiler | None: profile the calling thread with `state` (a "
     "ThreadState); None, installing nothing, once the hook has stopped."},
    {"stop", (PyCFunction)Hook_stop, METH_NOARGS,
     "Stop: clear the calling thread's profile function and every other thread's that is one "
     "of this hook's profilers. Returns how many other threads were cleared."},
    {"pause", (PyCFunction)Hook_pause, METH_NOARGS,
     "Take this thread's profile function off: the profiler to resume(), or None."},
    {"resume", (PyCFunction)Hook_resume, METH_O, "Put back what pause() took."},
    {"stats", (PyCFunction)Hook_stats, METH_NOARGS, "Counters: events, callbacks, errors, ..."},
    {"owns", (PyCFunction)Hook_owns, METH_O, "Is `obj` a profile object of this hook?"},
    {NULL},
};

static PyTypeObject HookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.hooks._ctracer.Hook",
    .tp_doc = "Hook(code_entries, c_entries, c_method_names, dispatcher, entry_for_c, is_user, "
              "ccall_type, open_type, pending_type, return_ops)",
    .tp_basicsize = sizeof(Hook),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = Hook_new,
    .tp_init = (initproc)Hook_init,
    .tp_dealloc = (destructor)Hook_dealloc,
    .tp_traverse = (traverseproc)Hook_traverse,
    .tp_clear = (inquiry)Hook_clear,
    .tp_methods = Hook_methods,
};

/* -- module -------------------------------------------------------------------------------- */

static int
profile_noop(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

static PyObject *
install_noop(PyObject *module, PyObject *unused)
{
    PyEval_SetProfile(profile_noop, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"install_noop", install_noop, METH_NOARGS,
     "Install a C profile function that does nothing on the calling thread (the floor of the "
     "mechanism, for benchmarks); sys.setprofile(None) removes it."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tracer.hooks._ctracer",
    .m_doc = "The C profile filter of tracer's ctrace backend (see tracer/hooks/ctrace.py).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__ctracer(void)
{
    static const char *whats[8] = {"call", "exception", "line", "return",
                                   "c_call", "c_exception", "c_return", "opcode"};
    for (int i = 0; i < 8; i++) {
        if (!(what_strings[i] = PyUnicode_InternFromString(whats[i]))) {
            return NULL;
        }
    }
    if (!(str_frame = PyUnicode_InternFromString("frame"))
        || !(str_cfunc = PyUnicode_InternFromString("cfunc"))
        || !(str_lasti = PyUnicode_InternFromString("lasti"))
        || !(str_name = PyUnicode_InternFromString("__name__"))) {
        return NULL;
    }
    if (PyType_Ready(&HookType) < 0 || PyType_Ready(&ProfilerType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    /* Bumped when the Python side (ctrace.py) must change with this file: a stale build of
     * an editable install is then refused instead of misbehaving. */
    if (PyModule_AddIntConstant(m, "API_VERSION", 4) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&HookType);
    Py_INCREF(&ProfilerType);
    if (PyModule_AddObject(m, "Hook", (PyObject *)&HookType) < 0
        || PyModule_AddObject(m, "Profiler", (PyObject *)&ProfilerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
