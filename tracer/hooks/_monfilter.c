/* The quick "nothing to do" of the sys.monitoring backend (Python 3.12+), in C.
 *
 * `tracer/hooks/sysmon.py` is the specification: its callbacks run for every event we asked
 * for, and on most of them they only decide that there is nothing to do. A Python callback
 * costs about a microsecond however little it does; pandas calls its own watched methods, and
 * raises and catches exceptions, dozens of times inside one user call. `Filter` makes those
 * decisions in C and calls the Python callback only where it would do real work:
 *
 *   PY_START   a watched code object (catalog.code_entries) whose first caller that is not a
 *              wrapper is known library code (is_user's per-file cache says False): nothing.
 *              An unwatched code object of a known library file: remembered (weakly) in
 *              `seen` and DISABLEd, as sysmon.py does. Anything else: the Python callback.
 *   PY_RETURN  the frame is not on this thread's stack of open calls: nothing.
 *   PY_UNWIND  (the same)
 *
 * The tables are the Python objects themselves, read in place (never copied), so C and Python
 * cannot disagree about them. Nothing here raises: an error is cleared and the event handed to
 * the Python callback, which has its own guards.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030C0000
#error "tracer's sys.monitoring filter needs Python 3.12 or later"
#endif

#define API_VERSION 1

typedef struct {
    PyObject_HEAD
    PyObject *code_entries;   /* dict: id(code) -> Entry */
    PyObject *wrapper_codes;  /* set of id(code) */
    PyObject *user_files;     /* dict: co_filename -> bool */
    PyObject *seen;           /* dict: id(code) -> weakref(code), code objects DISABLEd */
    PyObject *tls;            /* threading.local; .state is the thread's ThreadState */
    PyObject *on_start, *on_return, *on_unwind;  /* the Python callbacks */
    PyObject *disable;        /* sys.monitoring.DISABLE */
} Filter;

static PyObject *str_state, *str_stack, *str_frame;

/* The key the Python tables use for an object: its id. New reference. */
static inline PyObject *
id_of(PyObject *obj)
{
    return PyLong_FromVoidPtr(obj);
}

/* 1: the first caller of `frame` that is not a wrapper is known library code; 0: it is not
 * (user code, no caller, not known yet); -1: error. */
static int
called_by_library(Filter *f, PyFrameObject *frame)
{
    PyFrameObject *caller = PyFrame_GetBack(frame);
    while (caller != NULL) {
        PyCodeObject *code = PyFrame_GetCode(caller);
        PyObject *key = id_of((PyObject *)code);
        if (key == NULL) {
            Py_DECREF(code);
            Py_DECREF(caller);
            return -1;
        }
        int wrapper = PySet_Contains(f->wrapper_codes, key);
        Py_DECREF(key);
        if (wrapper == 0) {
            PyObject *user = PyDict_GetItemWithError(f->user_files, code->co_filename);
            Py_DECREF(code);
            Py_DECREF(caller);
            if (user == NULL) {
                return PyErr_Occurred() ? -1 : 0;
            }
            return user == Py_False;
        }
        Py_DECREF(code);
        if (wrapper < 0) {
            Py_DECREF(caller);
            return -1;
        }
        PyFrameObject *next = PyFrame_GetBack(caller);
        Py_DECREF(caller);
        caller = next;
    }
    return 0;
}

static PyObject *
pass_on(PyObject *callback, PyObject *const *args, Py_ssize_t nargs)
{
    if (PyErr_Occurred()) {
        PyErr_Clear();
    }
    return PyObject_Vectorcall(callback, args, nargs, NULL);
}

/* py_start(code, offset) */
static PyObject *
Filter_py_start(Filter *f, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyCode_Check(args[0])) {
        return pass_on(f->on_start, args, nargs);
    }
    PyCodeObject *code = (PyCodeObject *)args[0];
    PyObject *key = id_of((PyObject *)code);
    if (key == NULL) {
        return pass_on(f->on_start, args, nargs);
    }
    PyObject *entry = PyDict_GetItemWithError(f->code_entries, key);
    if (entry != NULL) {
        Py_DECREF(key);
        PyFrameObject *frame = PyEval_GetFrame();  /* borrowed: the frame that starts */
        if (frame != NULL) {
            PyCodeObject *fcode = PyFrame_GetCode(frame);
            int same = fcode == code;
            Py_DECREF(fcode);
            if (same && called_by_library(f, frame) == 1) {
                Py_RETURN_NONE;
            }
        }
        return pass_on(f->on_start, args, nargs);
    }
    if (!PyErr_Occurred()) {
        PyObject *user = PyDict_GetItemWithError(f->user_files, code->co_filename);
        if (user == Py_False) {
            PyObject *ref = PyWeakref_NewRef((PyObject *)code, NULL);
            if (ref != NULL) {
                int r = PyDict_SetItem(f->seen, key, ref);
                Py_DECREF(ref);
                if (r == 0) {
                    Py_DECREF(key);
                    return Py_NewRef(f->disable);
                }
            }
        }
    }
    Py_DECREF(key);
    return pass_on(f->on_start, args, nargs);
}

/* Is the frame of `code` that is returning or unwinding one of this thread's open calls?
 * 1 yes (or cannot tell), 0 no. */
static int
is_open(Filter *f, PyObject *code)
{
    PyObject *state = PyObject_GetAttr(f->tls, str_state);
    if (state == NULL) {
        PyErr_Clear();
        return 0;  /* no state: this thread never opened a call */
    }
    PyObject *stack = PyObject_GetAttr(state, str_stack);
    Py_DECREF(state);
    if (stack == NULL || !PyList_Check(stack)) {
        Py_XDECREF(stack);
        PyErr_Clear();
        return 1;
    }
    Py_ssize_t n = PyList_GET_SIZE(stack);
    if (n == 0) {
        Py_DECREF(stack);
        return 0;
    }
    PyFrameObject *current = PyEval_GetFrame();  /* borrowed */
    int found = 1;  /* unless the frame is certainly the one of `code` and not on the stack */
    if (current != NULL) {
        PyCodeObject *fcode = PyFrame_GetCode(current);
        found = (PyObject *)fcode != code;
        Py_DECREF(fcode);
    }
    PyObject *frame = (PyObject *)current;
    for (Py_ssize_t i = n - 1; i >= 0 && !found; i--) {
        PyObject *o = PyList_GET_ITEM(stack, i);
        Py_INCREF(o);
        PyObject *of = PyObject_GetAttr(o, str_frame);
        Py_DECREF(o);
        if (of == NULL) {
            PyErr_Clear();
            found = 1;
            break;
        }
        found = of == frame;
        Py_DECREF(of);
    }
    Py_DECREF(stack);
    return found;
}

/* py_return(code, offset, retval) */
static PyObject *
Filter_py_return(Filter *f, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && !is_open(f, args[0])) {
        Py_RETURN_NONE;
    }
    return pass_on(f->on_return, args, nargs);
}

/* py_unwind(code, offset, exception) */
static PyObject *
Filter_py_unwind(Filter *f, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1 && !is_open(f, args[0])) {
        Py_RETURN_NONE;
    }
    return pass_on(f->on_unwind, args, nargs);
}

/* -- type ---------------------------------------------------------------------------------- */

static int
Filter_traverse(Filter *self, visitproc visit, void *arg)
{
    Py_VISIT(self->code_entries);
    Py_VISIT(self->wrapper_codes);
    Py_VISIT(self->user_files);
    Py_VISIT(self->seen);
    Py_VISIT(self->tls);
    Py_VISIT(self->on_start);
    Py_VISIT(self->on_return);
    Py_VISIT(self->on_unwind);
    Py_VISIT(self->disable);
    return 0;
}

static int
Filter_clear(Filter *self)
{
    Py_CLEAR(self->code_entries);
    Py_CLEAR(self->wrapper_codes);
    Py_CLEAR(self->user_files);
    Py_CLEAR(self->seen);
    Py_CLEAR(self->tls);
    Py_CLEAR(self->on_start);
    Py_CLEAR(self->on_return);
    Py_CLEAR(self->on_unwind);
    Py_CLEAR(self->disable);
    return 0;
}

static void
Filter_dealloc(Filter *self)
{
    PyObject_GC_UnTrack(self);
    Filter_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Filter_init(Filter *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"code_entries", "wrapper_codes", "user_files", "seen", "tls",
                             "on_start", "on_return", "on_unwind", "disable", NULL};
    PyObject *entries, *wrappers, *files, *seen, *tls, *start, *ret, *unwind, *disable;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!OOOOO:Filter", kwlist,
                                     &PyDict_Type, &entries, &PySet_Type, &wrappers,
                                     &PyDict_Type, &files, &PyDict_Type, &seen, &tls, &start,
                                     &ret, &unwind, &disable)) {
        return -1;
    }
    Filter_clear(self);
    self->code_entries = Py_NewRef(entries);
    self->wrapper_codes = Py_NewRef(wrappers);
    self->user_files = Py_NewRef(files);
    self->seen = Py_NewRef(seen);
    self->tls = Py_NewRef(tls);
    self->on_start = Py_NewRef(start);
    self->on_return = Py_NewRef(ret);
    self->on_unwind = Py_NewRef(unwind);
    self->disable = Py_NewRef(disable);
    return 0;
}

static PyMethodDef Filter_methods[] = {
    {"py_start", (PyCFunction)(void (*)(void))Filter_py_start, METH_FASTCALL,
     "PY_START callback: (code, offset)"},
    {"py_return", (PyCFunction)(void (*)(void))Filter_py_return, METH_FASTCALL,
     "PY_RETURN callback: (code, offset, retval)"},
    {"py_unwind", (PyCFunction)(void (*)(void))Filter_py_unwind, METH_FASTCALL,
     "PY_UNWIND callback: (code, offset, exception)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FilterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.hooks._monfilter.Filter",
    .tp_basicsize = sizeof(Filter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The sys.monitoring callbacks' quick 'nothing to do', in C (see the module).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Filter_init,
    .tp_traverse = (traverseproc)Filter_traverse,
    .tp_clear = (inquiry)Filter_clear,
    .tp_dealloc = (destructor)Filter_dealloc,
    .tp_methods = Filter_methods,
};

static struct PyModuleDef monfilter_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tracer.hooks._monfilter",
    .m_doc = "The quick 'nothing to do' of tracer's sys.monitoring callbacks, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__monfilter(void)
{
    if (PyType_Ready(&FilterType) < 0) {
        return NULL;
    }
    str_state = PyUnicode_InternFromString("state");
    str_stack = PyUnicode_InternFromString("stack");
    str_frame = PyUnicode_InternFromString("frame");
    if (str_state == NULL || str_stack == NULL || str_frame == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&monfilter_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "API_VERSION", API_VERSION) < 0
        || PyModule_AddObjectRef(m, "Filter", (PyObject *)&FilterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
