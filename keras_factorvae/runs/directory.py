"""A run directory: its files, and whether a run there starts or resumes."""

import json
import os
import shutil

from keras_factorvae.runs import backup
from keras_factorvae.runs.config import RunError

BACKUP = "backup"
RUN_FILE = "run.json"
MODEL_FILE = "model.keras"


def read_json(path):
    """The JSON in `path`, None if there is no such file."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RunError(f"Cannot read {path}: {error}") from None


def backup_step(out):
    """The step of the run's last backup (0: none)."""
    state = backup.read_state(os.path.join(out, BACKUP))
    return 0 if state is None else int(state["step"])


def prepare(out, config, program="keras-factorvae"):
    """Clears or checks `out` for `config`; returns the step to resume from.

    Raises:
        RunError: `out` holds a finished run, or an unfinished one with other
            settings (unless `config.overwrite`).
    """
    from keras_factorvae import reporting

    previous = read_json(os.path.join(out, RUN_FILE))
    if config.overwrite:
        # Remove only what a run writes: `out` may hold other files.
        outputs = (MODEL_FILE, "history.csv", "history.json", "metrics.json",
                   RUN_FILE, "report.md", *reporting.PICTURES.values())
        for name in outputs:
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        for name in (BACKUP, "traversals", "logs"):
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
        previous = None
    step = backup_step(out)
    if previous is not None and step:
        settings = config.training_settings()
        changed = [
            k for k in settings
            if k in previous and json.dumps(previous.get(k), sort_keys=True)
            != json.dumps(reporting.json_safe(settings[k]), sort_keys=True)
        ]
        if changed:
            details = ", ".join(
                f"{k}: {previous.get(k)!r} -> {settings[k]!r}" for k in changed)
            raise RunError(
                f"{out!r} holds an unfinished run with other settings "
                f"({details}). Rerun with the same settings to resume it, "
                "pass --overwrite to start afresh, or choose another --out."
            )
        return step
    if previous is not None and previous.get("status") == "finished":
        raise RunError(
            f"{out!r} already holds a finished run. Pass --overwrite to "
            f"train again, or use `{program} evaluate {out}` / "
            f"`{program} traverse {out}`."
        )
    # A fresh start: stale history rows would be appended to otherwise.
    for name in ("history.csv", "history.json"):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))
    shutil.rmtree(os.path.join(out, BACKUP), ignore_errors=True)
    return 0
