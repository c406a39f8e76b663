"""The one training engine: a run directory trained, backed up and resumed.

`train(config, out)` builds the model and the data of a `TrainConfig`,
trains it with `fit` for `config.steps` steps (or until its time budget
`config.max_seconds` is spent), backs it up every `config.backup_every`
steps or seconds (`runs.backup`), and writes the run's outputs: `model.keras`,
`history.csv` / `history.json`, `metrics.json`, the pictures, `report.md`
and `run.json`. Called again on the same directory after an interruption
(Ctrl-C, SIGKILL, a lost machine), it resumes from the last backup: same
weights, optimizer state, metric accumulators, noise state and batches, so
the run ends as an uninterrupted one would.
"""

import os
import shutil
import sys
import time
from typing import NamedTuple

from keras_factorvae import backend
from keras_factorvae.runs import backup
from keras_factorvae.runs import directory as run_dir
from keras_factorvae.runs.config import PRECISIONS
from keras_factorvae.runs.config import RunError
from keras_factorvae.runs.config import parse_backup_every
from keras_factorvae.runs.history import merge_history


class Run(NamedTuple):
    """What `train` returns."""

    model: object
    data: object
    record: dict
    history: dict
    scores: object
    pictures: object = None  # `reporting.save_pictures`' dict, if drawn


def load_data(name, source=None, data_dir=None):
    """`datasets.load` with its failures turned into `RunError`s."""
    from keras_factorvae import datasets

    try:
        return datasets.load(name, source=source, data_dir=data_dir)
    except ImportError as error:
        raise RunError(
            f"Dataset {name!r} needs a package that is not installed "
            f"({error}). Install tensorflow and tensorflow-datasets, or use "
            f"a procedural dataset "
            f"({', '.join(datasets.KNOWN_DATASETS['procedural'])})."
        ) from None
    except (ValueError, RuntimeError, OSError) as error:
        # The datasets package explains unknown names and missing tfds data
        # (with how to get it); surface its message as is.
        raise RunError(str(error)) from None


def compute_metrics(model, data, metrics, size, seed=0):
    """`metrics.evaluate` at the sample sizes `size` names."""
    from keras_factorvae import metrics as kfv_metrics
    from keras_factorvae import reporting

    overrides = reporting.metric_overrides(metrics, size)
    try:
        return kfv_metrics.evaluate(model, data, metrics=metrics, seed=seed,
                                    **overrides)
    except ValueError as error:
        raise RunError(f"Metrics failed: {error}") from None


def _callbacks(config, out, train, data, start_step, clock, extra=()):
    import keras

    from keras_factorvae.callbacks.traversals import Traversals
    from keras_factorvae.runs.epoch_metrics import EpochMetrics

    class EpochSync(keras.callbacks.Callback):
        # The pipeline's batches are a function of (seed, epoch, step): after
        # a resume, epoch k must serve epoch k's batches, not epoch 0's.
        def on_epoch_begin(self, epoch, logs=None):
            train.epoch = epoch

    class StepLimit(keras.callbacks.Callback):
        # The last epoch may be shorter: stop after exactly `steps` steps,
        # or after the step that spends the time budget (fit still ends
        # that epoch: its history row, pictures and backup are written).
        step = start_step

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step >= config.steps or (
                    config.max_seconds is not None
                    and clock() >= config.max_seconds):
                self.model.stop_training = True

    limit = StepLimit()
    # The caller's callbacks next: what they write into the epoch logs
    # reaches the history, TensorBoard and the backups.
    callbacks = [EpochSync(), limit, *extra]
    if config.metrics_every:
        callbacks.append(EpochMetrics(
            data, config.metrics or ("mig",), config.metrics_every,
            config.metric_size, config.seed))
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(out, "logs")))
    if config.traversal_every:
        callbacks.append(Traversals(
            every_n_epochs=config.traversal_every,
            directory=os.path.join(out, "traversals"), images=data,
            mode=config.traversal_mode, seed=config.seed,
        ))
    # CSVLogger before the backup: an epoch in a backup is in the CSV too.
    callbacks.append(keras.callbacks.CSVLogger(
        os.path.join(out, "history.csv"), append=True))
    callbacks.append(backup.StepBackup(
        os.path.join(out, run_dir.BACKUP), parse_backup_every(config.backup_every),
        start_step, config.steps_per_epoch, clock=clock))
    return callbacks, limit


def _build(config, data):
    from keras_factorvae import models
    from keras_factorvae import reporting

    import keras

    reporting.set_random_seed(config.seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[config.precision])
    try:
        model = models.get(config.model, input_shape=data.observation_shape,
                           **config.model_kwargs)
    except ValueError as error:
        raise RunError(f"Cannot build {config.model}: {error}") from None
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile()
    try:
        train = data.as_py_dataset(
            batch_size=config.batch_size, paired=config.paired,
            steps_per_epoch=config.steps_per_epoch, seed=config.seed,
        )
    except ValueError as error:
        raise RunError(str(error)) from None
    return model, train


def _fit(model, train, config, out, data, start_step, clock, extra=()):
    """Trains from `start_step` to `config.steps` (or the time budget); a
    mid-epoch start first finishes its epoch on the remaining batches of
    that epoch. Returns the step reached."""
    from keras_factorvae.datasets.py_dataset import EpochSlice

    spe = config.steps_per_epoch
    callbacks, limit = _callbacks(config, out, train, data, start_step, clock,
                                  extra)
    epoch, batch = divmod(start_step, spe)
    if batch:
        tail = EpochSlice(train, epoch, batch,
                          min(spe, config.steps - epoch * spe))
        restore = backup.RestoreAtEpochBegin(os.path.join(out, run_dir.BACKUP))
        model.fit(tail, epochs=epoch + 1, initial_epoch=epoch,
                  verbose=config.verbose, callbacks=[restore] + callbacks,
                  shuffle=False)
        epoch += 1
    if limit.step < config.steps and not model.stop_training:
        model.fit(train, epochs=config.epochs, initial_epoch=epoch,
                  verbose=config.verbose, callbacks=callbacks, shuffle=False)
    return limit.step


def train(config, out, callbacks=()):
    """Trains (or resumes) the run of `config` in the directory `out`.

    Args:
        config: a `TrainConfig`.
        out: the run directory (created if needed).
        callbacks: more Keras callbacks for `fit`, run after the engine's
            step counting and before its history, pictures and backups (so
            that values they add to the epoch logs are recorded). Stateful
            ones are not backed up: on a resume they start afresh.

    Returns:
        A `Run(model, data, record, history, scores, pictures)`. Its
        `record` (also `run.json`) holds `steps_done` (fewer than `steps`
        when the time budget stopped training), `train_seconds` and, with
        metrics, `metric_seconds`.

    Raises:
        RunError: settings or a directory the run cannot use (the message
            says what to do).

    Example:

    >>> run = train(TrainConfig(model="factorvae", steps=3000), "runs/fvae")
    >>> run.record["steps_done"]
    3000
    """
    with run_dir.RunLock(out):
        return _train(config, out, tuple(callbacks))


def train_model(model, data, train_data, config, out, callbacks=(),
                initial_step=0):
    """Trains a model built and compiled by the caller in the run directory
    `out`: the engine's step count, time budget, history, backups and
    resume, without its model file, metrics and pictures.

    For callers that build their own model (the tuner: KerasTuner builds
    each trial's model from its hyper-parameters). Called again on the same
    directory after an interruption, it reloads the last backup into
    `model` and goes on from there.

    Args:
        model: a compiled model of the zoo.
        data: the `GroundTruthData` the pipeline draws from (for the
            engine's callbacks).
        train_data: its `GroundTruthPyDataset` (`as_py_dataset` with the
            config's batch size, pairing, steps per epoch and seed).
        config: a `TrainConfig` (its model and dataset fields are recorded
            and checked on a resume; `metrics` and `pictures` are unused).
        out: the run directory.
        callbacks: more callbacks, as for `train`.
        initial_step: the step a fresh run starts from (a multiple of
            `config.steps_per_epoch`; e.g. Hyperband's `initial_epoch`
            times it, the caller having loaded the weights to go on from).

    Returns:
        A `Run(model, data, record, history, scores=None)`.
    """
    with run_dir.RunLock(out):
        resume_step = run_dir.prepare(out, config)
        record, history, _ = _train_in(
            model, data, train_data, config, out, resume_step,
            resume_step or int(initial_step), tuple(callbacks), save=None)
        return Run(model, data, record, history, None)


def _train(config, out, extra=()):
    from keras_factorvae import reporting

    resume_step = run_dir.prepare(out, config)
    data = load_data(config.dataset, config.source, config.data_dir)
    os.makedirs(out, exist_ok=True)
    model, train_data = _build(config, data)

    def save():
        # Before the backup goes: from here on the run can be evaluated even
        # if a later step fails.
        tmp = os.path.join(out, "model.tmp.keras")
        model.save(tmp)
        os.replace(tmp, os.path.join(out, run_dir.MODEL_FILE))

    record, history, _ = _train_in(model, data, train_data, config, out,
                                   resume_step, resume_step, extra, save)
    scores = None
    metrics = (config.metrics if config.metrics is not None
               else reporting.DEFAULT_METRICS)
    if metrics:
        if config.verbose:
            print(f"Computing metrics ({', '.join(metrics)}; size "
                  f"{config.metric_size})...")
        metric_start = time.time()
        scores = reporting.json_safe(compute_metrics(
            model, data, metrics, config.metric_size, config.seed))
        record["metric_seconds"] = time.time() - metric_start
        reporting.write_json(scores, os.path.join(out, "metrics.json"))
    record["metrics"] = list(metrics)
    record["metric_size"] = config.metric_size
    pictures = None
    if config.pictures:
        pictures = reporting.save_pictures(
            model, data, out, history=history, seed=config.seed,
            mode=config.traversal_mode,
        )
        record["inactive_dims"] = pictures["traversal_info"]["inactive"]
        _write_report(out, record, scores, pictures)
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))
    return Run(model, data, record, history, scores, pictures)


def _train_in(model, data, train_data, config, out, resume_step, start_step,
              extra, save):
    """Trains `model` in `out` from `start_step` (restoring the backup when
    `resume_step`); returns `(record, history, step reached)`."""
    import keras

    from keras_factorvae import __version__
    from keras_factorvae import reporting

    backup_path = os.path.join(out, run_dir.BACKUP)
    if resume_step:
        backup.restore(model, backup_path)
    previous = run_dir.read_json(os.path.join(out, run_dir.RUN_FILE)) or {}
    # Seconds trained before: the backup's clock (a killed run), else run.json.
    state = backup.read_state(backup_path) if resume_step else None
    seconds_before = (state or {}).get(
        "train_seconds", previous.get("train_seconds", 0.0)) if resume_step else 0.0
    record = {
        **config.training_settings(),
        "backup_every": config.backup_every,
        "max_seconds": config.max_seconds,
        "status": "running",
        "backend": backend.name(),
        "keras_version": keras.__version__,
        "keras_factorvae_version": __version__,
        "command": config.command,
        "train_seconds": seconds_before,
    }
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))
    if resume_step:
        epoch, batch = divmod(start_step, config.steps_per_epoch)
        print(f"Resuming {out} from step {start_step} of {config.steps} "
              f"(epoch {epoch + 1} of {config.epochs}, batch {batch}; backup "
              f"in {backup_path}).", flush=True)
    start = time.time()

    def clock():  # seconds trained, this invocation and those before
        return seconds_before + time.time() - start

    try:
        step = _fit(model, train_data, config, out, data, start_step, clock,
                    extra)
    except KeyboardInterrupt:
        print(f"\nInterrupted. Rerun the same command to resume from step "
              f"{run_dir.backup_step(out)} (backup in {backup_path}).",
              file=sys.stderr)
        raise
    record["train_seconds"] = clock()
    if save is not None:
        save()
    history = merge_history(os.path.join(out, "history.csv"))
    reporting.write_json(history, os.path.join(out, "history.json"))
    shutil.rmtree(backup_path, ignore_errors=True)
    epochs_done = len(history.get("epoch", []))
    record.update(status="finished", epochs_done=epochs_done, steps_done=step)
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))
    return record, history, step


def _write_report(out, record, scores, pictures):
    from keras_factorvae import reporting

    kwargs = ", ".join(
        f"{k}={v}" for k, v in record["model_kwargs"].items() if k != "seed"
    )
    summary = [
        f"`{record['model']}` ({kwargs}) trained on `{record['dataset']}` for "
        f"{record.get('steps_done', record['steps'])} steps of batch "
        f"{record['batch_size']} ({record.get('epochs_done')} epochs of "
        f"{record['steps_per_epoch']} steps, "
        f"{'paired' if record['paired'] else 'single'} "
        f"batches, seed {record['seed']}) in {record['train_seconds']:.0f} s on "
        f"the `{record['backend']}` backend.",
        f"Command: `{record['command']}`",
    ]
    notes = []
    if scores:
        notes = [f"Metric sample sizes: `--metric-size {record.get('metric_size')}`."]
    return reporting.write_report(
        out, f"Run {os.path.basename(os.path.abspath(out))}", summary, scores,
        pictures, notes=notes,
    )
