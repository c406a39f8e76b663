"""Runs several disentanglement metrics on one model or representation."""

import inspect

import numpy as np

from keras_factorvae.metrics import code_table as code_tables
from keras_factorvae.metrics import utils
from keras_factorvae.metrics.beta_vae import beta_vae_score
from keras_factorvae.metrics.dci import dci
from keras_factorvae.metrics.factor_vae import factor_vae_score
from keras_factorvae.metrics.irs import irs
from keras_factorvae.metrics.mig import mig
from keras_factorvae.metrics.modularity import modularity_explicitness
from keras_factorvae.metrics.sap import sap_score
from keras_factorvae.metrics.unsupervised import unsupervised

METRICS = {
    "beta_vae_score": beta_vae_score,
    "factor_vae_score": factor_vae_score,
    "mig": mig,
    "dci": dci,
    "sap_score": sap_score,
    "modularity_explicitness": modularity_explicitness,
    "irs": irs,
    "unsupervised": unsupervised,
}

# metric name -> (log name of its headline value, key in its result dict).
HEADLINES = {
    "beta_vae_score": ("beta_vae_score", "eval_accuracy"),
    "factor_vae_score": ("factor_vae_score", "eval_accuracy"),
    "mig": ("discrete_mig", "discrete_mig"),
    "dci": ("dci_disentanglement", "disentanglement"),
    "sap_score": ("sap_score", "SAP_score"),
    "modularity_explicitness": ("modularity_score", "modularity_score"),
    "irs": ("irs", "IRS"),
    "unsupervised": ("gaussian_total_correlation",
                     "gaussian_total_correlation"),
}

_NOT_OVERRIDABLE = {
    "ground_truth_data", "representation_function", "random_state",
    "encode_batch_size",
}


def _parameters(name):
    return set(inspect.signature(METRICS[name]).parameters) - _NOT_OVERRIDABLE


def check_metric_names(metrics):
    """Returns `metrics` as a tuple of known names, or raises `ValueError`."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError("`metrics` is empty.")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(
            f"Unknown metric(s) {unknown}; choose from {sorted(METRICS)}."
        )
    return metrics


def resolve_params(metrics, overrides=None, metric_params=None):
    """Per-metric keyword arguments from shared and per-metric overrides.

    Args:
        metrics: metric names.
        overrides: parameters applied to every metric that accepts them
            (e.g. `num_train`); each must be accepted by at least one.
        metric_params: dict `{metric name: {parameter: value}}`, applied
            after `overrides` (e.g. a metric's own sampling `batch_size`).

    Returns:
        Dict `{metric name: kwargs}`.
    """
    metrics = check_metric_names(metrics)
    overrides = dict(overrides or {})
    metric_params = dict(metric_params or {})
    accepted = {name: _parameters(name) for name in metrics}
    unused = [key for key in overrides
              if not any(key in accepted[name] for name in metrics)]
    if unused:
        raise ValueError(
            f"Parameter(s) {unused} are accepted by none of the metrics "
            f"{list(metrics)}."
        )
    kwargs = {}
    for name in metrics:
        kwargs[name] = {k: v for k, v in overrides.items()
                        if k in accepted[name]}
    for name, params in metric_params.items():
        if name not in metrics:
            raise ValueError(
                f"`metric_params` names {name!r}, which is not among the "
                f"metrics {list(metrics)}."
            )
        bad = sorted(set(params) - accepted[name])
        if bad:
            raise ValueError(
                f"Metric {name!r} has no parameter(s) {bad}; it accepts "
                f"{sorted(accepted[name])}."
            )
        kwargs[name].update(params)
    return kwargs


def make_representation_function(model_or_fn,
                                 batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE):
    """Turns a model with `encode` (or a function) into a numpy function.

    A model's codes are its `encode(x)` (for a model of the zoo, the batched
    inference path `BaseVAE.posterior_stats`), called on at most
    `batch_size` observations at a time by a `utils.Encoder`, which also
    checks every output. A plain function is returned unchanged (the metrics
    wrap it in an `Encoder` themselves).

    Args:
        model_or_fn: an object with an `encode(x)` method returning the
            posterior mean (if it returns a tuple or list, its first element
            is used), or a function mapping observations to codes.
        batch_size: most observations per `encode` call.

    Returns:
        A function mapping an array of observations to an `(n, d)` numpy
        array.
    """
    batch_size = utils.check_int("batch_size", batch_size)
    encode = getattr(model_or_fn, "encode", None)
    if encode is None:
        if not callable(model_or_fn):
            raise ValueError(
                "Expected a model with an `encode` method or a representation "
                f"function, got {type(model_or_fn).__name__}."
            )
        return model_or_fn

    def posterior_mean(x):
        z = encode(x)
        if isinstance(z, (tuple, list)):
            z = z[0]
        return utils.to_numpy(z)

    return utils.Encoder(posterior_mean, batch_size)


def evaluate(
    model_or_fn,
    ground_truth_data,
    metrics=tuple(METRICS),
    seed=0,
    batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
    metric_params=None,
    code_table=True,
    **overrides,
):
    """Runs several metrics and returns their scores in one flat dict.

    Each metric gets its own `np.random.RandomState(seed)`, so its scores do
    not depend on which other metrics ran (and equal those of calling it
    alone with that seed, as disentanglement_lib's evaluation does).

    On datasets whose observations are stored or rendered examples
    (dSprites, the array datasets; not the colour and noise variants), the
    metrics run on example indices and one `code_table.CodeTable` encodes
    each example once for all of them: at the default sizes that is about
    0.7 million encoder passes on dSprites instead of 2.9 million, and the
    scores are the same (see `code_table`).

    Args:
        model_or_fn: model with an `encode(x)` method (posterior mean) or a
            representation function.
        ground_truth_data: `GroundTruthData`-like dataset.
        metrics: names among `beta_vae_score`, `factor_vae_score`, `mig`,
            `dci`, `sap_score`, `modularity_explicitness`, `irs`,
            `unsupervised` (default: all; `dci` takes minutes).
        seed: seed of every metric's random state.
        batch_size: most observations per encoder call (not the metrics'
            own sampling `batch_size`, set through `metric_params`).
        metric_params: optional `{metric name: {parameter: value}}`.
        code_table: share one table of codes by example index between the
            metrics where the dataset allows it; False encodes every drawn
            observation, as the reference does.
        **overrides: parameters applied to every selected metric that
            accepts them, e.g. `num_train=500`.

    Returns:
        Dict with keys `"<metric>.<score>"`, e.g. `"mig.discrete_mig"`,
        `"factor_vae_score.eval_accuracy"`, `"dci.disentanglement"`.

    Example:

    >>> evaluate(model, data, metrics=("mig", "factor_vae_score"),
    ...          num_train=1000, num_eval=500)
    {'mig.discrete_mig': 0.31, 'factor_vae_score.train_accuracy': 0.8, ...}
    """
    metrics = check_metric_names(metrics)
    utils.check_ground_truth_data(ground_truth_data)
    kwargs = resolve_params(metrics, overrides, metric_params)
    representation_function = make_representation_function(
        model_or_fn, batch_size)
    if code_table:
        ground_truth_data, representation_function = code_tables.indexed(
            ground_truth_data, representation_function, batch_size)
    results = {}
    for name in metrics:
        scores = METRICS[name](
            ground_truth_data,
            representation_function,
            np.random.RandomState(seed),
            encode_batch_size=batch_size,
            **kwargs[name],
        )
        for key, value in scores.items():
            results[f"{name}.{key}"] = value
    return results
