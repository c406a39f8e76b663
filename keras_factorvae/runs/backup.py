"""Backups of a run in progress, taken every N steps or seconds.

A backup is the model's whole state (`save_weights`: weights, optimizer
slots and the noise state of its `SeedGenerator`) in
`weights_<step>.weights.h5`, then `state.json` naming it and holding the
metric accumulators of the epoch in progress (which `save_weights` leaves
out), written in that order and each atomically, so that a process killed at any moment leaves the
last complete backup in place. With the batches a function of
`(seed, epoch, step)`, resuming from step `s` replays exactly the steps an
uninterrupted run would have taken after `s`.
"""

import json
import os
import time

import keras

STATE_FILE = "state.json"


def _weights_name(step):
    return f"weights_{step:09d}.weights.h5"


def read_state(directory):
    """`{"step": ..., "weights": ..., "metrics": ...}` of the last backup
    (with `"train_seconds"` when its `StepBackup` had a clock), or None."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    if not os.path.exists(os.path.join(directory, state.get("weights", ""))):
        return None
    return state


def restore(model, directory, metrics=False):
    """Loads the last backup into `model`; returns its step (0: none).

    Args:
        model: the model to load into.
        directory: the backup directory.
        metrics: also restore the metric accumulators of the epoch.
    """
    state = read_state(directory)
    if state is None:
        return 0
    model.load_weights(os.path.join(directory, state["weights"]))
    if metrics:
        saved = state.get("metrics", {})
        for variable in model.metrics_variables:
            if variable.path in saved:
                variable.assign(saved[variable.path])
    return int(state["step"])


class StepBackup(keras.callbacks.Callback):
    """Backs the run up every `every` steps or seconds, and after each epoch.

    The epoch-end backup comes from `on_epoch_end`, so a `CSVLogger` placed
    before this callback has written the epoch's row before the backup that
    follows it: a resumed run never loses a history row (it may repeat one,
    which `history.merge_history` removes).

    Args:
        directory: backup directory.
        every: `("steps", n)` or `("seconds", s)` (`config.parse_backup_every`).
        start_step: the global step training starts from (a resume's).
        steps_per_epoch: steps per epoch of the run.
        clock: optional callable returning the seconds the run has trained
            so far (all invocations); kept in `state.json` as
            `train_seconds`, so that a resumed run's time (and time budget)
            counts the seconds before the interruption.
    """

    def __init__(self, directory, every, start_step, steps_per_epoch,
                 clock=None):
        super().__init__()
        self.directory = directory
        self.clock = clock
        self.kind, self.amount = every
        self.step = int(start_step)
        self.steps_per_epoch = int(steps_per_epoch)
        self._last_step = self.step  # the step of the last backup
        self._last_time = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.steps_per_epoch == 0:
            return  # on_epoch_end backs this step up, after the history row
        if self.kind == "steps":
            due = self.step - self._last_step >= self.amount
        else:
            due = time.monotonic() - self._last_time >= self.amount
        if due:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()

    def save(self):
        previous = read_state(self.directory)
        if previous is not None and previous["step"] == self.step:
            return  # this step is backed up already (the epoch's last batch)
        os.makedirs(self.directory, exist_ok=True)
        name = _weights_name(self.step)
        tmp = os.path.join(self.directory, "tmp_" + name)
        self.model.save_weights(tmp)
        os.replace(tmp, os.path.join(self.directory, name))
        state_tmp = os.path.join(self.directory, STATE_FILE + ".tmp")
        metrics = {
            v.path: keras.ops.convert_to_numpy(v).tolist()
            for v in self.model.metrics_variables
        }
        state = {"step": self.step, "weights": name, "metrics": metrics}
        if self.clock is not None:
            state["train_seconds"] = float(self.clock())
        with open(state_tmp, "w") as f:
            json.dump(state, f)
        os.replace(state_tmp, os.path.join(self.directory, STATE_FILE))
        if previous and previous["weights"] != name:
            old = os.path.join(self.directory, previous["weights"])
            if os.path.exists(old):
                os.remove(old)
        self._last_step, self._last_time = self.step, time.monotonic()


class RestoreAtEpochBegin(keras.callbacks.Callback):
    """Reloads a backup once `fit` has reset the metrics of the first epoch.

    `fit` zeroes the loss trackers at every epoch's start; a run resumed
    mid-epoch reloads its backup after that, so the epoch's logged means
    cover the steps taken before the interruption too.
    """

    def __init__(self, directory):
        super().__init__()
        self.directory = directory
        self._done = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self._done:
            restore(self.model, self.directory, metrics=True)
            self._done = True
