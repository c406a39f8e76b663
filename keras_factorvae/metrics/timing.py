"""Wall-clock timing of the disentanglement metrics."""

import time

import numpy as np

from keras_factorvae.metrics import code_table as code_tables
from keras_factorvae.metrics import utils
from keras_factorvae.metrics.evaluate import METRICS
from keras_factorvae.metrics.evaluate import check_metric_names
from keras_factorvae.metrics.evaluate import make_representation_function
from keras_factorvae.metrics.evaluate import resolve_params


def time_suite(ground_truth_data, representation_function, metrics=None,
               seed=0, batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
               metric_params=None, code_table=True, **overrides):
    """Times each metric once, at its defaults unless overridden.

    The metrics run in order and share one code table, as in `evaluate`, so
    a metric's time excludes encoding the examples earlier metrics drew.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: representation function, or a model with
            `encode`.
        metrics: metric names (default: all, see `evaluate.METRICS`).
        seed: seed of each metric's random state.
        batch_size: most observations per encoder call.
        metric_params: optional `{metric name: {parameter: value}}`.
        code_table: as for `evaluate`.
        **overrides: as for `evaluate`, e.g. `num_train=1000`.

    Returns:
        Dict `{metric name: seconds}` in the order run.

    Example:

    >>> time_suite(data, encoder_mean, metrics=("mig", "factor_vae_score"))
    {'mig': 0.4, 'factor_vae_score': 2.1}
    """
    metrics = check_metric_names(
        tuple(METRICS) if metrics is None else metrics)
    utils.check_ground_truth_data(ground_truth_data)
    kwargs = resolve_params(metrics, overrides, metric_params)
    function = make_representation_function(representation_function,
                                            batch_size)
    if code_table:
        ground_truth_data, function = code_tables.indexed(
            ground_truth_data, function, batch_size)
    timings = {}
    for name in metrics:
        start = time.perf_counter()
        METRICS[name](ground_truth_data, function, np.random.RandomState(seed),
                      encode_batch_size=batch_size, **kwargs[name])
        timings[name] = time.perf_counter() - start
    return timings
