"""Registers the zoo's Keras classes with Keras as soon as Keras is imported.

`keras.models.load_model("m.keras")` finds our classes (models, optimizers,
layers) by their registered names, so they must be registered before it
runs. `import keras_factorvae` is lazy (it imports neither Keras nor a
backend, so the command line's `--help` stays instant), which leaves three
cases:

- Keras is already imported: the registering modules are imported now;
- Keras is imported later, by anyone but a module of this package that is
  still being imported: a one-shot import hook imports them right after
  Keras' own module has run;
- Keras is first imported by one of our modules (say `losses`, half-run):
  importing the models then would read names `losses` has not defined yet,
  so registering waits for the first lookup of a registered name (Keras'
  `get_registered_object`, called when a model is loaded), or for the next
  `keras_factorvae.X` access, whichever comes first.

Either way `import keras_factorvae`, then `keras.models.load_model(...)`,
works without `custom_objects`, in either import order.

Example:

>>> import keras_factorvae, keras
>>> model = keras.models.load_model("runs/demo/model.keras")
"""

import importlib
import importlib.abc
import importlib.util
import sys

# The modules whose import registers every serializable class of the zoo.
REGISTERING_MODULES = (
    "keras_factorvae.layers",
    "keras_factorvae.optimizers",
    "keras_factorvae.models",
)


_state = {"registered": False, "deferred": None}


def _importing_this_package():
    """Whether a module of this package is part-way through its import."""
    return any(
        getattr(getattr(module, "__spec__", None), "_initializing", False)
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "keras_factorvae" and module is not None
    )


def register():
    """Imports the modules that register our classes (idempotent)."""
    if _state["registered"]:
        return
    _state["registered"] = True  # before importing: they re-enter here
    _undefer()
    try:
        for name in REGISTERING_MODULES:
            importlib.import_module(name)
    except BaseException:
        _state["registered"] = False
        raise


def _defer():
    """Registers at Keras' first lookup of a registered name."""
    try:
        from keras.src.saving import object_registration
    except ImportError:  # another layout of Keras: the next access registers
        return
    if _state["deferred"] is not None:
        return
    original = object_registration.get_registered_object

    def get_registered_object(*args, **kwargs):
        register()
        return original(*args, **kwargs)

    object_registration.get_registered_object = get_registered_object
    _state["deferred"] = (object_registration, original)


def _undefer():
    if _state["deferred"] is not None:
        module, original = _state["deferred"]
        module.get_registered_object = original
        _state["deferred"] = None


def register_soon():
    """Registers now when that is safe, else at the first lookup."""
    if _importing_this_package():
        _defer()
    else:
        register()


class _RegisteringLoader(importlib.abc.Loader):
    """Runs Keras' loader, then `register()`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        # From here on Keras looks as if the hook had never been there.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        register_soon()

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Wraps the loader of the first `import keras`, then removes itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        uninstall()
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


_HOOK = _KerasImportHook()


def uninstall():
    """Removes the import hook (if installed)."""
    while _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def register_when_keras_is_imported():
    """Registers now if Keras is imported, else when it is.

    Called by `import keras_factorvae` and by its attribute access.
    """
    if _state["registered"]:
        return
    if "keras" in sys.modules:
        register_soon()
    elif _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
