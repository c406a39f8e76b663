"""The one training engine: a run directory trained, backed up and resumed.

`train(config, out)` builds the model and the data of a `TrainConfig`,
trains it with `fit`, backs it up every `config.backup_every` steps or
seconds (`runs.backup`), and writes the run's outputs: `model.keras`,
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


def _callbacks(config, out, train, data, start_step):
    import keras

    from keras_factorvae.callbacks.traversals import Traversals
    from keras_factorvae.runs.epoch_metrics import EpochMetrics

    class EpochSync(keras.callbacks.Callback):
        # The pipeline's batches are a function of (seed, epoch, step): after
        # a resume, epoch k must serve epoch k's batches, not epoch 0's.
        def on_epoch_begin(self, epoch, logs=None):
            train.epoch = epoch

    class StepLimit(keras.callbacks.Callback):
        # The last epoch may be shorter: stop after exactly `steps` steps.
        step = start_step

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step >= config.steps:
                self.model.stop_training = True

    limit = StepLimit()
    callbacks = [EpochSync(), limit]
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
        start_step, config.steps_per_epoch))
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


def _fit(model, train, config, out, data, start_step):
    """Trains from `start_step` to `config.steps`; a mid-epoch start first
    finishes its epoch on the remaining batches of that epoch."""
    from keras_factorvae.datasets.py_dataset import EpochSlice

    spe = config.steps_per_epoch
    callbacks, limit = _callbacks(config, out, train, data, start_step)
    epoch, batch = divmod(start_step, spe)
    if batch:
        tail = EpochSlice(train, epoch, batch,
                          min(spe, config.steps - epoch * spe))
        restore = backup.RestoreAtEpochBegin(os.path.join(out, run_dir.BACKUP))
        model.fit(tail, epochs=epoch + 1, initial_epoch=epoch,
                  verbose=config.verbose, callbacks=[restore] + callbacks,
                  shuffle=False)
        epoch += 1
    if limit.step < config.steps:
        model.fit(train, epochs=config.epochs, initial_epoch=epoch,
                  verbose=config.verbose, callbacks=callbacks, shuffle=False)


def train(config, out):
    """Trains (or resumes) the run of `config` in the directory `out`.

    Args:
        config: a `TrainConfig`.
        out: the run directory (created if needed).

    Returns:
        A `Run(model, data, record, history, scores)`.

    Raises:
        RunError: settings or a directory the run cannot use (the message
            says what to do).

    Example:

    >>> run = train(TrainConfig(model="factorvae", steps=3000), "runs/fvae")
    >>> run.record["steps_done"]
    3000
    """
    with run_dir.RunLock(out):
        return _train(config, out)


def _train(config, out):
    import keras

    from keras_factorvae import __version__
    from keras_factorvae import reporting

    start_step = run_dir.prepare(out, config)
    data = load_data(config.dataset, config.source, config.data_dir)
    os.makedirs(out, exist_ok=True)
    model, train_data = _build(config, data)
    backup_path = os.path.join(out, run_dir.BACKUP)
    if start_step:
        backup.restore(model, backup_path)
    previous = run_dir.read_json(os.path.join(out, run_dir.RUN_FILE)) or {}
    record = {
        **config.training_settings(),
        "backup_every": config.backup_every,
        "status": "running",
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "keras_factorvae_version": __version__,
        "command": config.command,
        "train_seconds": previous.get("train_seconds", 0.0) if start_step else 0.0,
    }
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))
    if start_step:
        epoch, batch = divmod(start_step, config.steps_per_epoch)
        print(f"Resuming {out} from step {start_step} of {config.steps} "
              f"(epoch {epoch + 1} of {config.epochs}, batch {batch}; backup "
              f"in {backup_path}).", flush=True)
    start = time.time()
    try:
        _fit(model, train_data, config, out, data, start_step)
    except KeyboardInterrupt:
        print(f"\nInterrupted. Rerun the same command to resume from step "
              f"{run_dir.backup_step(out)} (backup in {backup_path}).",
              file=sys.stderr)
        raise
    record["train_seconds"] += time.time() - start

    # Save first: from here on the run can be evaluated even if a later
    # step fails.
    tmp = os.path.join(out, "model.tmp.keras")
    model.save(tmp)
    os.replace(tmp, os.path.join(out, run_dir.MODEL_FILE))
    history = merge_history(os.path.join(out, "history.csv"))
    reporting.write_json(history, os.path.join(out, "history.json"))
    shutil.rmtree(backup_path, ignore_errors=True)
    epochs_done = len(history.get("epoch", []))
    record.update(status="finished", epochs_done=epochs_done,
                  steps_done=min(config.steps, epochs_done * config.steps_per_epoch))
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))

    scores = None
    metrics = (config.metrics if config.metrics is not None
               else reporting.DEFAULT_METRICS)
    if metrics:
        if config.verbose:
            print(f"Computing metrics ({', '.join(metrics)}; size "
                  f"{config.metric_size})...")
        scores = reporting.json_safe(compute_metrics(
            model, data, metrics, config.metric_size, config.seed))
        reporting.write_json(scores, os.path.join(out, "metrics.json"))
    record["metrics"] = list(metrics)
    record["metric_size"] = config.metric_size
    if config.pictures:
        pictures = reporting.save_pictures(
            model, data, out, history=history, seed=config.seed,
            mode=config.traversal_mode,
        )
        record["inactive_dims"] = pictures["traversal_info"]["inactive"]
        _write_report(out, record, scores, pictures)
    reporting.write_json(record, os.path.join(out, run_dir.RUN_FILE))
    return Run(model, data, record, history, scores)


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
