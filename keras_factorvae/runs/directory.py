"""A run directory: its files, and whether a run there starts or resumes."""

import json
import os
import shutil

from keras_factorvae.runs import backup
from keras_factorvae.runs.config import RunError

BACKUP = "backup"
RUN_FILE = "run.json"
MODEL_FILE = "model.keras"
LOCK_FILE = ".train.lock"


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


class RunLock:
    """Keeps a second process from training in a run directory in use.

    Two `train` processes on one directory would both resume from the same
    backups and overwrite each other's files. The lock is a file holding the
    owner's pid; a lock whose process is gone (killed) is stale and taken
    over, so a run SIGKILLed mid-training still resumes.

    Args:
        out: the run directory (created if needed).

    Example:

    >>> with RunLock("runs/fvae"):
    ...     pass
    """

    def __init__(self, out):
        self.out = out
        self.path = os.path.join(out, LOCK_FILE)

    def __enter__(self):
        os.makedirs(self.out, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = _lock_owner(self.path)
                if owner is not None and owner != os.getpid() and _alive(owner):
                    raise RunError(
                        f"{self.out!r} is in use by another training process "
                        f"(pid {owner}). Wait for it to finish, or choose "
                        "another --out.") from None
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise RunError(f"Cannot lock {self.out!r}: {self.path} keeps coming back.")

    def __exit__(self, *exc_info):
        if _lock_owner(self.path) == os.getpid():
            os.remove(self.path)
        return False


def _lock_owner(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True
