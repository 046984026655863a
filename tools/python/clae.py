"""clae from Python, through ctypes (no compiled extension): train, encode
and score autoencoders on numpy arrays with libclae.so.

    import numpy as np, clae
    x = np.random.default_rng(0).random((2000, 32), dtype=np.float32)
    with clae.Context() as ctx:
        model = ctx.model(ctx.arch_spec("reference", x.shape[1]))
        for m in model.train(x, epochs=5, batch_size=64):
            print(m["epoch"], m["train_loss"])
        codes = model.encode(x)       # (2000, 128) float32
        scores = model.score(x)       # (2000,) reconstruction errors
        model.save("model.safetensors")

The library is found as $CLAE_LIB, else build/libclae.so beside this
file's tools/, else as pkg-config and the loader find libclae.so. The
structures below mirror include/clae.h; tests/python/run.sh checks their
sizes against the C compiler's.
"""
import ctypes
import ctypes.util
import os
import weakref

import numpy as np

_float_p = ctypes.POINTER(ctypes.c_float)


class _Data(ctypes.Structure):
    """clae_data: n samples of d floats; x is borrowed from numpy here, so
    these are never given to clae_data_free."""
    _fields_ = [("n", ctypes.c_size_t), ("d", ctypes.c_size_t),
                ("height", ctypes.c_uint), ("width", ctypes.c_uint),
                ("channels", ctypes.c_uint), ("x", _float_p),
                ("scale", ctypes.c_float), ("value_bytes", ctypes.c_uint),
                ("source", ctypes.c_char_p)]


class _EpochMetrics(ctypes.Structure):
    _fields_ = [("epoch", ctypes.c_uint), ("train_loss", ctypes.c_double),
                ("val_loss", ctypes.c_double), ("seconds", ctypes.c_double),
                ("train_recon", ctypes.c_double),
                ("train_kl", ctypes.c_double),
                ("val_recon", ctypes.c_double), ("val_kl", ctypes.c_double),
                ("skipped_batches", ctypes.c_size_t),
                ("first_skipped", ctypes.c_size_t),
                ("profile", ctypes.c_void_p)]


_ON_EPOCH = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p,
                             ctypes.POINTER(_EpochMetrics))


class _TrainOptions(ctypes.Structure):
    _fields_ = [("optimizer", ctypes.c_int), ("learning_rate", ctypes.c_float),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("epsilon", ctypes.c_float), ("momentum", ctypes.c_float),
                ("nesterov", ctypes.c_int), ("weight_decay", ctypes.c_float),
                ("rho", ctypes.c_float), ("lr_schedule", ctypes.c_int),
                ("lr_step_epochs", ctypes.c_uint),
                ("lr_gamma", ctypes.c_float), ("clip_norm", ctypes.c_float),
                ("l1", ctypes.c_float), ("l2", ctypes.c_float),
                ("patience", ctypes.c_uint), ("min_delta", ctypes.c_float),
                ("kl_warmup", ctypes.c_uint),
                ("batch_size", ctypes.c_size_t), ("epochs", ctypes.c_uint),
                ("seed", ctypes.c_uint64), ("on_epoch", _ON_EPOCH),
                ("on_progress", ctypes.c_void_p),
                ("progress_batches", ctypes.c_size_t),
                ("user", ctypes.c_void_p), ("interrupt", ctypes.c_void_p),
                ("on_nan", ctypes.c_int), ("replicas", ctypes.c_uint),
                ("replica", ctypes.c_uint), ("sum_across", ctypes.c_void_p),
                ("replica_user", ctypes.c_void_p)]


# Sizes of the mirrored structures, for the test that checks them.
STRUCT_SIZES = {"clae_data": ctypes.sizeof(_Data),
                "clae_epoch_metrics": ctypes.sizeof(_EpochMetrics),
                "clae_train_options": ctypes.sizeof(_TrainOptions)}

OPTIMIZERS = {"adam": 0, "sgd": 1, "adamw": 2, "rmsprop": 3}


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("CLAE_LIB"),
                  os.path.join(here, "..", "..", "build", "libclae.so"),
                  ctypes.util.find_library("clae")]
    for path in candidates:
        if path and (os.path.exists(path) or os.path.sep not in path):
            return ctypes.CDLL(path)
    raise OSError("libclae.so not found: build it with make, install it "
                  "with make install, or set CLAE_LIB")


_lib = _load()
_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.free.argtypes = [ctypes.c_void_p]

_vp, _cp, _st = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_sig("clae_context_create", _st, _vp, ctypes.POINTER(_vp))
_sig("clae_context_destroy", None, _vp)
_sig("clae_last_error", _cp, _vp)
_sig("clae_arch_spec", _st, _vp, _cp, ctypes.c_size_t, _vp,
     ctypes.POINTER(_vp))
_sig("clae_model_create", _st, _vp, _cp, ctypes.c_uint64, ctypes.POINTER(_vp))
_sig("clae_model_load", _st, _vp, _cp, ctypes.POINTER(_vp))
_sig("clae_model_save", _st, _vp, _cp)
_sig("clae_model_destroy", None, _vp)
_sig("clae_model_code_width", ctypes.c_size_t, _vp)
_sig("clae_model_input_width", ctypes.c_size_t, _vp)
_sig("clae_train_options_default", None, ctypes.POINTER(_TrainOptions))
_sig("clae_train", _st, _vp, ctypes.POINTER(_Data), ctypes.POINTER(_Data),
     ctypes.POINTER(_TrainOptions))
_sig("clae_evaluate", _st, _vp, ctypes.POINTER(_Data), ctypes.c_size_t,
     ctypes.POINTER(ctypes.c_double))
for _name in ("clae_encode", "clae_score"):
    _sig(_name, _st, _vp, ctypes.POINTER(_Data), ctypes.c_size_t,
         ctypes.POINTER(_float_p))


class Error(RuntimeError):
    """A clae call failed; the message is clae_last_error's."""


def _data(x):
    """A clae_data over a 2-D float32 C-ordered array (kept alive by the
    caller for as long as the struct is used)."""
    if x.ndim != 2 or x.dtype != np.float32 or not x.flags.c_contiguous:
        raise ValueError("data must be a 2-D C-ordered float32 array")
    return _Data(n=x.shape[0], d=x.shape[1],
                 x=x.ctypes.data_as(_float_p), scale=1.0, value_bytes=4)


class Context:
    """An OpenCL device: clae_context_create with its defaults ($CLAE_DEVICE,
    else the first GPU, else the first device)."""

    def __init__(self):
        self._ptr = _vp()
        self._models = weakref.WeakSet()
        status = _lib.clae_context_create(None, ctypes.byref(self._ptr))
        if status:
            message = self.last_error()
            self.close()
            raise Error(message)

    def last_error(self):
        return (_lib.clae_last_error(self._ptr) or b"").decode()

    def check(self, status):
        if status:
            raise Error(self.last_error())

    def close(self):
        """Destroys the context and the models made on it."""
        for model in list(self._models):
            model.close()
        if self._ptr:
            _lib.clae_context_destroy(self._ptr)
            self._ptr = _vp()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def arch_spec(self, name, input_width):
        """A preset's spec text (clae arch lists them) for input_width."""
        text = _vp()
        self.check(_lib.clae_arch_spec(self._ptr, name.encode(), input_width,
                                       None, ctypes.byref(text)))
        spec = ctypes.cast(text, _cp).value.decode()
        _libc.free(text)
        return spec

    def model(self, spec, seed=0):
        """A new model from spec text (README: Model specs)."""
        ptr = _vp()
        self.check(_lib.clae_model_create(self._ptr, spec.encode(), seed,
                                          ctypes.byref(ptr)))
        return Model(self, ptr)

    def load(self, path):
        """A model saved by clae or Model.save."""
        ptr = _vp()
        self.check(_lib.clae_model_load(self._ptr, os.fsencode(path),
                                        ctypes.byref(ptr)))
        return Model(self, ptr)


class Model:
    """A model on a Context's device; Context.close destroys it too."""

    def __init__(self, context, ptr):
        self._context, self._ptr = context, ptr
        context._models.add(self)

    def close(self):
        if self._ptr:
            _lib.clae_model_destroy(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    def train(self, x, val=None, epochs=10, batch_size=256, optimizer="adam",
              learning_rate=1e-3, seed=0):
        """Trains on x (n x d float32), validating on val if given; returns
        the epochs' metrics as dicts."""
        history = []

        def record(user, metrics):
            m = metrics.contents
            history.append({"epoch": m.epoch, "train_loss": m.train_loss,
                            "val_loss": m.val_loss, "seconds": m.seconds})
            return 0

        options = _TrainOptions()
        _lib.clae_train_options_default(ctypes.byref(options))
        options.epochs, options.batch_size, options.seed = epochs, batch_size, seed
        options.optimizer = OPTIMIZERS[optimizer]
        options.learning_rate = learning_rate
        options.on_epoch = _ON_EPOCH(record)
        train = _data(x)
        valid = _data(val) if val is not None else None
        self._context.check(_lib.clae_train(
            self._ptr, ctypes.byref(train),
            ctypes.byref(valid) if valid is not None else None,
            ctypes.byref(options)))
        return history

    def evaluate(self, x, batch_size=256):
        """The mean loss on x."""
        loss = ctypes.c_double()
        data = _data(x)
        self._context.check(_lib.clae_evaluate(self._ptr, ctypes.byref(data),
                                               batch_size, ctypes.byref(loss)))
        return loss.value

    def _rows(self, function, x, width, batch_size):
        out = _float_p()
        data = _data(x)
        self._context.check(function(self._ptr, ctypes.byref(data),
                                     batch_size, ctypes.byref(out)))
        result = np.ctypeslib.as_array(out, shape=(x.shape[0], width)).copy()
        _libc.free(out)
        return result

    def encode(self, x, batch_size=256):
        """Each row's code: (n, code width) float32."""
        return self._rows(_lib.clae_encode, x,
                          _lib.clae_model_code_width(self._ptr), batch_size)

    def score(self, x, batch_size=256):
        """Each row's reconstruction error (clae score): (n,) float32."""
        return self._rows(_lib.clae_score, x, 1, batch_size)[:, 0]

    def save(self, path):
        self._context.check(_lib.clae_model_save(self._ptr, os.fsencode(path)))
