"""`tune`: a hyperparameter search over a model of the zoo in one call."""

import inspect
import os

import keras_tuner
import numpy as np

from keras_factorvae.callbacks.disentanglement import DisentanglementMetrics
from keras_factorvae.metrics.evaluate import METRICS
from keras_factorvae.tuning import distributed
from keras_factorvae.tuning import objectives
from keras_factorvae.tuning.hypermodel import ZooHyperModel
from keras_factorvae.tuning.hypermodel import is_ground_truth_data


class _EngineTrials:
    """Trains each trial of a `ZooHyperModel` through the training engine,
    in `<trial directory>/run` (history, backups, resume mid-trial)."""

    def _build_and_fit_model(self, trial, *args, **kwargs):
        if isinstance(self.hypermodel, ZooHyperModel):
            kwargs["run_directory"] = os.path.join(
                self.get_trial_dir(trial.trial_id), "run")
        return super()._build_and_fit_model(trial, *args, **kwargs)


class BayesianOptimization(_EngineTrials, keras_tuner.BayesianOptimization):
    """`keras_tuner.BayesianOptimization`, trials trained by the engine."""


class RandomSearch(_EngineTrials, keras_tuner.RandomSearch):
    """`keras_tuner.RandomSearch`, trials trained by the engine."""


class Hyperband(_EngineTrials, keras_tuner.Hyperband):
    """`keras_tuner.Hyperband`, trials trained by the engine."""


TUNERS = {
    "bayesian": BayesianOptimization,
    "random": RandomSearch,
    "hyperband": Hyperband,
}

# Sizes of the supervised metrics per evaluation. The study's defaults
# (10000 / 5000) make every epoch of every trial pay for ~1M encoded images
# with the FactorVAE score; tuning compares trials, so smaller samples do.
DEFAULT_METRIC_SIZES = 1000


def metric_overrides(metric, sizes):
    """`DisentanglementMetrics` overrides from `metric_sizes`.

    Args:
        metric: a metric name of `keras_factorvae.metrics.METRICS`.
        sizes: `None` (the metric's defaults), an int `n` (`num_train=n`,
            `num_eval=n // 2`, `num_variance_estimate=n`, where accepted),
            or a dict of overrides passed as they are.

    Returns:
        A dict of keyword arguments.
    """
    if sizes is None:
        return {}
    if isinstance(sizes, dict):
        return dict(sizes)
    n = int(sizes)
    if n < 2:
        raise ValueError(f"`metric_sizes` must be >= 2, received {sizes}.")
    wanted = {"num_train": n, "num_eval": max(n // 2, 1),
              "num_variance_estimate": n}
    accepted = inspect.signature(METRICS[metric]).parameters
    return {k: v for k, v in wanted.items() if k in accepted}


def make_tuner(hypermodel, objective, tuner="bayesian", max_trials=10,
               directory="tuning", project_name="factorvae", overwrite=False,
               seed=0, epochs=1, **tuner_kwargs):
    """Builds a KerasTuner tuner by name.

    Args:
        hypermodel: a `keras_tuner.HyperModel`.
        objective: a `keras_tuner.Objective`.
        tuner: `"bayesian"` (Gaussian-process Bayesian optimisation, needs
            scikit-learn), `"random"` or `"hyperband"`. Hyperband sets the
            number of trials itself (`max_trials` is ignored) and trains up
            to `epochs` epochs (`max_epochs`).
        max_trials, directory, project_name, overwrite, seed: see
            `keras_tuner.Tuner`.
        **tuner_kwargs: other tuner arguments (e.g. `max_retries_per_trial`,
            `executions_per_trial`, `factor` for Hyperband).

    Returns:
        The tuner. With a `ZooHyperModel`, each trial trains through the
        package's training engine in `<trial directory>/run` (see
        `ZooHyperModel`): a search killed mid-trial resumes that trial from
        its last backup.
    """
    key = str(tuner).lower()
    if key not in TUNERS:
        raise ValueError(f"Unknown tuner {tuner!r}; known: {sorted(TUNERS)}.")
    kwargs = dict(hypermodel=hypermodel, objective=objective, seed=seed,
                  directory=str(directory), project_name=project_name,
                  overwrite=overwrite, **tuner_kwargs)
    if key == "hyperband":
        kwargs.setdefault("max_epochs", max(int(epochs), 2))
    else:
        kwargs["max_trials"] = int(max_trials)
    return TUNERS[key](**kwargs)


def _input_shape(dataset, model_kwargs):
    if "input_shape" in model_kwargs:
        return tuple(model_kwargs.pop("input_shape"))
    if is_ground_truth_data(dataset):
        return tuple(dataset.observation_shape)
    return tuple(objectives.held_out_images(dataset, 1).shape[1:])


def tune(dataset, ground_truth_data=None, objective=None, max_trials=10,
         tuner="bayesian", directory="tuning", project_name="factorvae",
         overwrite=False, model="factorvae", search=None, epochs=1,
         steps_per_epoch=None, batch_size=64, metric_sizes=DEFAULT_METRIC_SIZES,
         seed=0, *, callbacks=None, tc_weight=1.0, num_held_out=1000,
         num_workers=None, tuner_kwargs=None, compile_kwargs=None, verbose=1,
         **model_kwargs):
    """Searches the hyperparameters of a model of the zoo with KerasTuner.

    Every trial builds the model with the trial's values, compiles it with
    the papers' optimisers, trains it for `epochs` epochs and is scored at
    the end of each epoch; the best epoch's score counts and its weights are
    checkpointed in the trial's directory.

    Objectives (see `keras_factorvae.tuning.objectives`):

    - with ground-truth factors (`ground_truth_data`, or `dataset` itself
      when it is a `GroundTruthData`): `"factor_vae_score"` (default,
      `val_factor_vae_score`) or `"mig"` (`val_discrete_mig`), maximised,
      from `DisentanglementMetrics` on freshly sampled data;
    - without: `"unsupervised"` (default), `val_recon_tc_tradeoff`
      = held-out reconstruction + `tc_weight` * Gaussian TC of the codes,
      minimised (`ReconstructionTCTradeoff`);
    - or any `keras_tuner.Objective` whose value a training log or one of
      `callbacks` provides.

    The trade-off's terms (`val_reconstruction_loss`, `val_gaussian_tc`)
    are logged with every objective, for `write_results`.

    Resuming: with `overwrite=False` an existing project reloads. Completed
    trials are kept; a trial that was running when the process died runs
    again; then the search continues up to `max_trials`.

    Distributed: if `KERASTUNER_ORACLE_IP` is set, the process with
    `KERASTUNER_TUNER_ID=chief` serves the oracle until all trials are done
    (it trains nothing) and the others are workers; see docs/tuning.md.
    A worker's tuner must not be queried after the search (the chief may
    be gone): write results from the chief.

    Args:
        dataset: training data: a `GroundTruthData` (the pipeline is
            `dataset.as_py_dataset(batch_size, paired, steps_per_epoch,
            seed)`, built anew for each trial, so every trial sees the same
            batches), or anything `model.fit` accepts (numpy images,
            `tf.data`, a `PyDataset`).
        ground_truth_data: `GroundTruthData` for the supervised metrics;
            defaults to `dataset` when that is one.
        objective: see above; `None` chooses by whether factors exist.
        max_trials: number of trials (ignored by Hyperband).
        tuner: `"bayesian"`, `"random"` or `"hyperband"`.
        directory, project_name: where the tuner keeps its state; shared by
            chief and workers.
        overwrite: start afresh instead of resuming (in a distributed
            search, only the chief's `overwrite` counts).
        model: a model name of `keras_factorvae.models.MODELS`.
        search: `{argument: spec}` of tuned arguments (see
            `define_hyperparameter`); `None` is the model's usual weight
            (`gamma` in [1, 100] log-uniform for FactorVAE).
        epochs: epochs per trial (Hyperband's `max_epochs`).
        steps_per_epoch: steps per epoch (`None`: one pass over the data).
        batch_size: batch size of the pipeline built from a
            `GroundTruthData` (other datasets are already batched).
        metric_sizes: sample sizes of the supervised metrics (see
            `metric_overrides`); `None` keeps the study's defaults.
        seed: seed of the tuner, of the weights' initialisation and of the
            metrics' and pipelines' sampling.
        callbacks: more callbacks for every trial (deep-copied per trial;
            they run after the scoring callbacks).
        tc_weight: weight of the TC term of the unsupervised objective.
        num_held_out: images on which the trade-off is computed.
        num_workers: on the chief, the number of workers to wait for.
        tuner_kwargs: more arguments of the tuner (see `make_tuner`).
        compile_kwargs: more arguments of `model.compile` (see
            `ZooHyperModel`).
        verbose: verbosity of `fit` and of the tuner.
        **model_kwargs: fixed constructor arguments of the model (e.g.
            `latent_dim=10`, `preset="conv"`, `discriminator_units=1000`);
            `input_shape` defaults to the data's.

    Returns:
        The `keras_tuner.Tuner`, after the search (on a worker: do not
        query it).

    Example:

    ```python
    data = kfv.datasets.load("dsprites")
    tuner = kfv.tuning.tune(data, objective="factor_vae_score", max_trials=20,
                            epochs=5, steps_per_epoch=1000,
                            directory="runs/tuning", project_name="gamma")
    kfv.tuning.write_results(tuner, "runs/tuning/gamma_results")
    ```
    """
    if str(tuner).lower() not in TUNERS:
        raise ValueError(f"Unknown tuner {tuner!r}; known: {sorted(TUNERS)}.")
    distributed.configure_gpu_memory()
    if ground_truth_data is None and is_ground_truth_data(dataset):
        ground_truth_data = dataset
    objective, metric = objectives.get_objective(
        objective, has_ground_truth=ground_truth_data is not None)
    input_shape = _input_shape(dataset, model_kwargs)

    scoring = []
    chief = distributed.is_chief()
    if distributed.is_worker():
        # Every process would delete the shared project; only the chief may
        # (before its oracle starts, so before any worker writes there).
        overwrite = False
    # The chief only runs the oracle: it needs the search space (from the
    # hypermodel) but neither data nor callbacks.
    if not chief:
        if metric not in (None, "unsupervised"):
            scoring.append(DisentanglementMetrics(
                ground_truth_data, metrics=(metric,), seed=seed,
                **metric_overrides(metric, metric_sizes)))
        images = objectives.held_out_images(
            ground_truth_data if ground_truth_data is not None else dataset,
            num_held_out, seed=seed + 1)
        scoring.append(objectives.ReconstructionTCTradeoff(
            images, tc_weight=tc_weight))

    hypermodel = ZooHyperModel(
        model, input_shape, search=search, callbacks=scoring,
        batch_size=batch_size, steps_per_epoch=steps_per_epoch, seed=seed,
        compile_kwargs=compile_kwargs, **model_kwargs)
    the_tuner = make_tuner(
        hypermodel, objective, tuner=tuner, max_trials=max_trials,
        directory=directory, project_name=project_name, overwrite=overwrite,
        seed=seed, epochs=epochs, **(tuner_kwargs or {}))
    if chief:
        distributed.serve_oracle(the_tuner, num_workers=num_workers)
        return the_tuner
    fit_kwargs = dict(epochs=epochs, callbacks=list(callbacks or []),
                      verbose=verbose)
    if steps_per_epoch is not None and not is_ground_truth_data(dataset):
        fit_kwargs["steps_per_epoch"] = steps_per_epoch
    if isinstance(dataset, np.ndarray):
        fit_kwargs["batch_size"] = batch_size
    the_tuner.search(dataset, **fit_kwargs)
    return the_tuner
