"""Loading saved models with errors a user can act on."""

import os
import zipfile

import keras


def load_model(path, expect=None, **kwargs):
    """`keras.models.load_model` with clear errors and `safe_mode=True`.

    Keras itself loads these models without help (they register themselves);
    this wrapper only turns the failures users meet into plain messages.

    Args:
        path: a `.keras` file.
        expect: optional class (e.g. `keras_factorvae.BaseVAE`) the model must
            be an instance of.
        **kwargs: passed to `keras.models.load_model` (`safe_mode` defaults
            to True).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is truncated, corrupted, not a `.keras` archive,
            or holds a model of another kind.

    Example:

    >>> model = load_model("runs/demo/model.keras", expect=kfv.BaseVAE)
    """
    import keras_factorvae  # noqa: F401  (registers the classes)

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved model at {path!r}.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path!r} is not a valid .keras archive: the file is truncated, "
            "corrupted or of another format. Save it again with model.save()."
        )
    with zipfile.ZipFile(path) as archive:
        try:
            broken = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            broken = str(error)
        if broken is not None:
            raise ValueError(
                f"{path!r} is corrupted (damaged member {broken!r}). Save the "
                "model again with model.save()."
            )
        names = set(archive.namelist())
    if "config.json" not in names:
        raise ValueError(f"{path!r} is a zip file but not a .keras model.")
    kwargs.setdefault("safe_mode", True)
    try:
        model = keras.models.load_model(path, **kwargs)
    except Exception as error:
        raise ValueError(
            f"Could not load {path!r}: {type(error).__name__}: {error}"
        ) from error
    if expect is not None and not isinstance(model, expect):
        raise ValueError(
            f"{path!r} holds a {type(model).__name__}, not a "
            f"{expect.__name__}."
        )
    return model
