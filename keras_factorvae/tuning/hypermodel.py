"""KerasTuner hypermodels of the zoo: search spaces over the models' weights."""

import copy
import numbers
import os

import keras
import keras_tuner
import numpy as np

from keras_factorvae import models
from keras_factorvae.backend import set_random_seed
from keras_factorvae.optimizers import PairedOptimizer
from keras_factorvae.optimizers import default_discriminator_optimizer
from keras_factorvae.optimizers import default_vae_optimizer

# The weight each model is usually tuned over, with the ranges of the
# Locatello et al. (2019) grids (log-uniform between their extremes).
DEFAULT_SEARCH = {
    "vae": {},
    "beta_vae": {"beta": (1.0, 16.0)},
    "annealed_vae": {"c_max": (5.0, 100.0)},
    "dip_vae": {"lambda_od": (1.0, 50.0)},
    "beta_tcvae": {"beta": (1.0, 10.0)},
    "factorvae": {"gamma": (1.0, 100.0)},
}

# Search keys that configure `compile` instead of the model constructor.
COMPILE_KEYS = ("learning_rate", "discriminator_learning_rate")


def define_hyperparameter(hp, name, spec):
    """Declares one hyperparameter from a compact specification.

    Args:
        hp: a `keras_tuner.HyperParameters`.
        name: the hyperparameter's name (a model constructor argument).
        spec: one of
            - `(lo, hi)`: `hp.Float(name, lo, hi, sampling="log")`
              (log-uniform; `"linear"` when `lo <= 0`),
            - `(lo, hi, sampling)`: `hp.Float` with that sampling
              (`"linear"`, `"log"` or `"reverse_log"`),
            - a list: `hp.Choice(name, values)`,
            - a number, string, bool or `None`: `hp.Fixed(name, value)`,
            - a dict (for JSON, e.g. the CLI's `--set search=...`):
              `{"min": lo, "max": hi}` with optional `"sampling"`,
              `"type": "int"` and `"step"` (`hp.Float` / `hp.Int`;
              sampling defaults as for tuples), or `{"values": [...]}`
              (`hp.Choice`),
            - a callable `fn(hp, name)` that declares and returns a value
              (e.g. `lambda hp, n: hp.Int(n, 4, 12, step=2)`).

    Returns:
        The value of the hyperparameter for this trial.

    Example:

    >>> hp = keras_tuner.HyperParameters()
    >>> define_hyperparameter(hp, "gamma", (1.0, 100.0))   # log-uniform
    """
    if callable(spec):
        return spec(hp, name)
    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise ValueError(
                f"Range of {name!r} must be (lo, hi) or (lo, hi, sampling); "
                f"received {spec!r}."
            )
        lo, hi = float(spec[0]), float(spec[1])
        if not lo < hi:
            raise ValueError(
                f"Range of {name!r} must have lo < hi; received {spec!r}."
            )
        sampling = spec[2] if len(spec) == 3 else (
            "log" if lo > 0 else "linear"
        )
        if sampling in ("log", "reverse_log") and lo <= 0:
            raise ValueError(
                f"Log sampling of {name!r} needs lo > 0; received {spec!r}."
            )
        return hp.Float(name, lo, hi, sampling=sampling)
    if isinstance(spec, dict):
        return _from_dict(hp, name, spec)
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"The choices of {name!r} are empty.")
        return hp.Choice(name, spec)
    if spec is None or isinstance(spec, (numbers.Number, str, bool)):
        if isinstance(spec, numbers.Number) and not isinstance(spec, bool):
            # hp.Fixed keeps Python scalars only (numpy floats fail to
            # serialise into trial.json).
            spec = spec.item() if hasattr(spec, "item") else spec
        return hp.Fixed(name, spec)
    raise ValueError(
        f"Cannot make a hyperparameter of {name!r} from {spec!r}: use "
        "(lo, hi), (lo, hi, sampling), a list, a fixed value or a callable."
    )


class ZooHyperModel(keras_tuner.HyperModel):
    """A `keras_tuner.HyperModel` for any model of the zoo.

    `build(hp)` declares the search space, builds the model with
    `keras_factorvae.models.get(model_name, ...)` and compiles it with the
    papers' optimisers; `fit(hp, model, x, ...)` trains it. Callbacks given
    here run before those the tuner adds, so that the scores they write into
    the epoch logs (e.g. `DisentanglementMetrics`) reach the objective and
    the tuner's checkpointing.

    When `x` is a `GroundTruthData`, `fit` builds a fresh
    `as_py_dataset(batch_size, paired, steps_per_epoch, seed)` pipeline for
    every trial, so that all trials see the same batches in the same order.
    Given a `run_directory` as well (the tuners of `tuning.make_tuner` pass
    `<trial directory>/run`), the trial trains through the package's
    training engine (`keras_factorvae.runs.engine.train_model`): its history
    in `history.csv`, backups every `backup_every` steps or seconds, and a
    search killed mid-trial resumes that trial from its last backup.

    Args:
        model_name: a name of `keras_factorvae.models.MODELS`.
        input_shape: image shape `(side, side, channels)`.
        search: dict `{argument: spec}` of the tuned constructor arguments
            (see `define_hyperparameter`); `None` uses `DEFAULT_SEARCH`
            (e.g. `beta` for beta-VAE, `gamma` for FactorVAE). The keys
            `learning_rate` and `discriminator_learning_rate` tune the Adam
            learning rates of `compile` instead.
        callbacks: callbacks added (deep-copied) to every trial's `fit`,
            before the tuner's own.
        batch_size, steps_per_epoch, paired: pipeline built from a
            `GroundTruthData` given to `fit`; `paired=None` pairs batches
            for FactorVAE only (the paper's Algorithm 2).
        seed: seed of the weights' initialisation (the same for every
            trial, so trials differ by their hyperparameters only; each
            build reseeds Python's and NumPy's global generators), of the
            models' noise and of the pipeline. `None`: no reseeding.
        compile_kwargs: more arguments of `model.compile` (e.g.
            `{"jit_compile": False}`: on JAX, a jitted step is compiled
            anew for every trial, since the tuned weights are constants of
            the compiled step; eager steps skip that for very short trials).
        backup_every: the trials' backups (with a `run_directory`): every N
            steps (`"200"`) or seconds (`"60s"`), and after every epoch.
        name: name of the hypermodel.
        **model_kwargs: fixed constructor arguments (e.g. `latent_dim`,
            `preset`, `discriminator_units`).

    Example:

    ```python
    hypermodel = ZooHyperModel(
        "beta_vae", input_shape=(64, 64, 1), search={"beta": (1, 10)})
    tuner = keras_tuner.RandomSearch(
        hypermodel, objective=keras_tuner.Objective("val_discrete_mig", "max"),
        max_trials=10, directory="runs/tuning")
    tuner.search(dsprites, epochs=5,
                 callbacks=[DisentanglementMetrics(dsprites, metrics="mig")])
    ```
    """

    def __init__(self, model_name, input_shape, search=None, callbacks=None,
                 batch_size=64, steps_per_epoch=None, paired=None, seed=0,
                 compile_kwargs=None, name=None, backup_every=None,
                 **model_kwargs):
        key = str(model_name).lower().replace("-", "_")
        if key not in models.MODELS:
            raise ValueError(
                f"Unknown model {model_name!r}; known models: "
                f"{sorted(models.MODELS)}."
            )
        super().__init__(name=name or f"{key}_hypermodel", tunable=True)
        self.model_name = key
        self.input_shape = tuple(int(d) for d in input_shape)
        self.search = dict(DEFAULT_SEARCH[key] if search is None else search)
        overlap = sorted(set(self.search) & set(model_kwargs))
        if overlap:
            raise ValueError(
                f"{overlap} are both searched and fixed; pass a fixed value "
                "in `search` instead (it becomes hp.Fixed)."
            )
        self.callbacks = list(callbacks or [])
        self.batch_size = int(batch_size)
        self.steps_per_epoch = steps_per_epoch
        self.paired = (key == "factorvae") if paired is None else bool(paired)
        self.seed = seed
        self.compile_kwargs = dict(compile_kwargs or {})
        if backup_every is None:
            from keras_factorvae.runs.config import DEFAULT_BACKUP_EVERY

            backup_every = DEFAULT_BACKUP_EVERY
        self.backup_every = str(backup_every)
        self.model_kwargs = model_kwargs

    def build(self, hp):
        values = {
            name: define_hyperparameter(hp, name, spec)
            for name, spec in self.search.items()
        }
        compile_values = {k: values.pop(k) for k in COMPILE_KEYS if k in values}
        if self.seed is not None:
            # Same initial weights in every trial: the tuner clears the
            # session before each build, which does not reset the seed.
            set_random_seed(int(self.seed))
        kwargs = dict(self.model_kwargs)
        kwargs.setdefault("seed", self.seed)
        model = models.get(
            self.model_name, input_shape=self.input_shape, **kwargs, **values
        )
        model.compile(**self._compile_kwargs(compile_values),
                      **self.compile_kwargs)
        return model

    def _compile_kwargs(self, values):
        if not values:
            return {}
        vae = default_vae_optimizer()
        if "learning_rate" in values:
            vae.learning_rate = float(values["learning_rate"])
        if self.model_name != "factorvae":
            if "discriminator_learning_rate" in values:
                raise ValueError(
                    "`discriminator_learning_rate` applies to FactorVAE only."
                )
            return {"optimizer": vae}
        disc = default_discriminator_optimizer()
        if "discriminator_learning_rate" in values:
            disc.learning_rate = float(values["discriminator_learning_rate"])
        return {"optimizer": PairedOptimizer(vae, disc)}

    def fit(self, hp, model, *args, run_directory=None, **kwargs):
        args = list(args)
        x = args[0] if args else kwargs.get("x")
        if run_directory is not None and is_ground_truth_data(x) and (
                set(kwargs) - {"x"} <= _ENGINE_FIT_KEYS) and len(args) <= 1:
            return self._fit_run(hp, model, x, run_directory, kwargs)
        if is_ground_truth_data(x):
            x = x.as_py_dataset(
                batch_size=self.batch_size, paired=self.paired,
                steps_per_epoch=self.steps_per_epoch,
                seed=0 if self.seed is None else int(self.seed),
            )
            if args:
                args[0] = x
            else:
                kwargs["x"] = x
        # Ours first: the tuner's callbacks (checkpoint, objective) come last
        # in `callbacks` and must see the scores ours add to the logs.
        kwargs["callbacks"] = copy.deepcopy(self.callbacks) + list(
            kwargs.get("callbacks") or []
        )
        return model.fit(*args, **kwargs)

    def _fit_run(self, hp, model, data, out, kwargs):
        """One trial through the engine, in the run directory `out`."""
        from keras_factorvae.reporting import json_safe
        from keras_factorvae.runs import directory
        from keras_factorvae.runs.config import TrainConfig
        from keras_factorvae.runs.engine import train_model

        seed = 0 if self.seed is None else int(self.seed)
        train_data = data.as_py_dataset(
            batch_size=self.batch_size, paired=self.paired,
            steps_per_epoch=self.steps_per_epoch, seed=seed)
        spe = len(train_data)
        epochs = int(kwargs.get("epochs", 1))
        initial_epoch = int(kwargs.get("initial_epoch", 0))
        values = {k: v for k, v in hp.values.items() if "/" not in k}
        previous = directory.read_json(os.path.join(out, directory.RUN_FILE))
        config = TrainConfig(
            model=self.model_name,
            model_kwargs=json_safe({**self.model_kwargs, **values}),
            dataset=type(data).__name__, batch_size=self.batch_size,
            steps=epochs * spe, steps_per_epoch=spe, paired=self.paired,
            seed=seed, backup_every=self.backup_every, metrics=(),
            traversal_every=0, pictures=False,
            verbose=kwargs.get("verbose", 1),
            # A finished run here is an earlier execution of the trial.
            overwrite=bool(previous) and previous.get("status") == "finished",
            command="keras_factorvae.tuning",
        )
        callbacks = copy.deepcopy(self.callbacks) + list(
            kwargs.get("callbacks") or [])
        resumed = 0 if config.overwrite else directory.backup_step(out)
        if resumed:
            _seed_best_epoch(callbacks, os.path.join(out, "history.csv"),
                             resumed // spe)
        run = train_model(model, data, train_data, config, out,
                          callbacks=callbacks,
                          initial_step=initial_epoch * spe)
        # The whole trial's epochs, those before a resume included, for the
        # tuner's objective.
        history = keras.callbacks.History()
        history.set_model(model)
        history.epoch = [e - 1 for e in run.history.get("epoch", [])]
        history.history = {k: list(v) for k, v in run.history.items()
                           if k != "epoch"}
        return history


# `fit` arguments the engine path of `ZooHyperModel.fit` understands; any
# other (e.g. `validation_data`) keeps the trial on a plain `model.fit`.
_ENGINE_FIT_KEYS = {"epochs", "initial_epoch", "callbacks", "verbose",
                    "shuffle"}


def _seed_best_epoch(callbacks, csv_path, epochs_done):
    """Tells KerasTuner's best-epoch checkpoint the best value of a resumed
    trial's epochs before its backup (whose weights it saved then), so that
    a worse epoch after the resume does not replace them."""
    from keras_factorvae.runs import history as run_history

    rows = run_history.merge_history(csv_path)
    epochs = [e for e in rows.get("epoch", []) if e <= epochs_done]
    for callback in callbacks:
        # keras_tuner's SaveBestEpoch (not public: duck-typed).
        objective = getattr(callback, "objective", None)
        if not (hasattr(callback, "best_value")
                and hasattr(objective, "better_than")):
            continue
        for i in range(len(epochs)):
            logs = {k: v[i] for k, v in rows.items() if k != "epoch"}
            if objective.has_value(logs):
                value = objective.get_value(logs)
                if objective.better_than(value, callback.best_value):
                    callback.best_value = value


class FactorVAEHyperModel(ZooHyperModel):
    """The FactorVAE hypermodel: `gamma` log-uniform in [1, 100] by default.

    Args:
        input_shape: image shape `(side, side, channels)`.
        latent_dim: number of latent dimensions (fixed; pass a spec in
            `search` to tune it, e.g. `search={"latent_dim": [5, 10]}`).
        preset: encoder/decoder preset.
        gamma: the TC weight: `(lo, hi)` log-uniform (`hp.Float(sampling=
            "log")`), `(lo, hi, sampling)`, a list (`hp.Choice`, e.g. the
            Locatello et al. grid `[10, 20, 30, 40, 50, 100]`), or a float
            (`hp.Fixed`).
        search: other tuned arguments (see `ZooHyperModel`).
        **kwargs: see `ZooHyperModel` (e.g. `discriminator_units`,
            `callbacks`, `batch_size`, `seed`).

    Example:

    ```python
    hypermodel = FactorVAEHyperModel((64, 64, 1), gamma=(1.0, 100.0))
    tuner = keras_tuner.BayesianOptimization(
        hypermodel, objective=keras_tuner.Objective("val_factor_vae_score", "max"),
        max_trials=20, directory="runs/tuning", project_name="gamma")
    tuner.search(dsprites, epochs=10, callbacks=[DisentanglementMetrics(dsprites)])
    ```
    """

    def __init__(self, input_shape, latent_dim=10, preset="conv",
                 gamma=(1.0, 100.0), search=None, **kwargs):
        search = dict(search or {})
        if "gamma" in search:
            raise ValueError("Pass `gamma=` rather than search['gamma'].")
        kwargs.pop("model_name", None)
        if "latent_dim" not in search:
            kwargs["latent_dim"] = latent_dim
        super().__init__(
            "factorvae", input_shape, search={"gamma": gamma, **search},
            preset=preset, **kwargs,
        )


def _from_dict(hp, name, spec):
    spec = dict(spec)
    if "values" in spec:
        return define_hyperparameter(hp, name, list(spec["values"]))
    unknown = sorted(set(spec) - {"min", "max", "sampling", "type", "step"})
    if unknown or "min" not in spec or "max" not in spec:
        raise ValueError(
            f"A dict spec of {name!r} needs 'min' and 'max' (optional "
            f"'sampling', 'type', 'step') or 'values'; received {spec!r}."
        )
    kind = spec.get("type", "float")
    if kind == "float":
        rng = (spec["min"], spec["max"])
        if "sampling" in spec:
            rng += (spec["sampling"],)
        if "step" in spec:
            return hp.Float(name, float(spec["min"]), float(spec["max"]),
                            step=spec["step"],
                            sampling=spec.get("sampling", "linear"))
        return define_hyperparameter(hp, name, rng)
    if kind == "int":
        lo, hi = int(spec["min"]), int(spec["max"])
        sampling = spec.get("sampling", "log" if lo > 0 else "linear")
        return hp.Int(name, lo, hi, step=spec.get("step"), sampling=sampling)
    raise ValueError(f"Unknown type {kind!r} in the spec of {name!r}.")


def is_ground_truth_data(x):
    """Whether `x` is a `GroundTruthData` the search can train on.

    Duck-typed, as everywhere in the package (disentanglement_lib's
    interface), but `x` must also offer the Keras pipeline (`as_py_dataset`).

    Args:
        x: anything passed as training data.

    Returns:
        True for ground-truth data with factors and a Keras pipeline.
    """
    return hasattr(x, "sample_factors") and hasattr(x, "as_py_dataset")
