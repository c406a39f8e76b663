"""FactorVAE disentanglement score (Kim & Mnih, 2018).

"Disentangling by Factorising", https://arxiv.org/abs/1802.05983; as
implemented by disentanglement_lib's `compute_factor_vae` with the study's
`prune_dims.threshold = 0.05`.
"""

import numpy as np

from keras_factorvae.metrics import utils


def factor_vae_score(
    ground_truth_data,
    representation_function,
    random_state,
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    num_variance_estimate=10000,
    prune_threshold=0.05,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the FactorVAE score.

    Global variances (ddof=1) of the codes come from
    `num_variance_estimate` observations; dimensions whose standard
    deviation is below `prune_threshold` are dropped. Each vote fixes one
    random factor over a batch of `batch_size` observations and votes for
    the active dimension with the least variance relative to its global
    variance; a majority-vote classifier maps each dimension to a factor.

    Batching: the reference calls the representation function once per vote
    (64 observations). Here factors and observations are drawn from
    `random_state` in the reference's order, vote after vote, and the
    observations of many votes are encoded by calls of up to
    `encode_batch_size` observations (the variance estimate is split the
    same way). The representation function maps each observation
    independently, so codes, variances and votes are those of the
    reference.

    `num_active_dims` is the number of dimensions kept after pruning. The
    reference returns `len(active_dims)` of a boolean mask, i.e. the total
    number of dimensions whenever at least one is active; this function
    returns the true count (the accuracies are unaffected).

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        random_state: `numpy.random.RandomState`.
        batch_size: observations per vote (>= 2).
        num_train: number of training votes.
        num_eval: number of evaluation votes.
        num_variance_estimate: observations for the global variances (>= 2).
        prune_threshold: dimensions with a global standard deviation below
            it are inactive.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `train_accuracy`, `eval_accuracy` and `num_active_dims`.
        With no active dimension all three are 0 (as in the reference).

    Example:

    >>> factor_vae_score(data, encoder_mean, np.random.RandomState(0))
    {'train_accuracy': 1.0, 'eval_accuracy': 1.0, 'num_active_dims': 10}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    batch_size = utils.check_int("batch_size", batch_size, minimum=2)
    num_train = utils.check_int("num_train", num_train)
    num_eval = utils.check_int("num_eval", num_eval)
    num_variance_estimate = utils.check_int(
        "num_variance_estimate", num_variance_estimate, minimum=2
    )
    if not prune_threshold >= 0:
        raise ValueError(
            f"`prune_threshold` must be >= 0, got {prune_threshold!r}."
        )
    encoder = utils.Encoder(representation_function, encode_batch_size)

    observations = utils.sample_observations(
        ground_truth_data, num_variance_estimate, random_state
    )
    global_variances = np.var(encoder(observations), axis=0, ddof=1)
    active_dims = np.sqrt(global_variances) >= prune_threshold
    if not active_dims.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0,
                "num_active_dims": 0}

    train_votes = _generate_votes(ground_truth_data, encoder, batch_size,
                                  num_train, random_state, global_variances,
                                  active_dims)
    classifier = np.argmax(train_votes, axis=0)
    columns = np.arange(train_votes.shape[1])
    train_accuracy = (
        np.sum(train_votes[classifier, columns]) * 1.0 / np.sum(train_votes)
    )
    eval_votes = _generate_votes(ground_truth_data, encoder, batch_size,
                                 num_eval, random_state, global_variances,
                                 active_dims)
    eval_accuracy = (
        np.sum(eval_votes[classifier, columns]) * 1.0 / np.sum(eval_votes)
    )
    return {
        "train_accuracy": float(train_accuracy),
        "eval_accuracy": float(eval_accuracy),
        "num_active_dims": int(np.sum(active_dims)),
    }


def _generate_votes(ground_truth_data, encoder, batch_size, num_votes,
                    random_state, global_variances, active_dims):
    """Returns the `(num_factors, num_active_dims)` vote counts.

    A vote's column is the position of its argmin among the active
    dimensions, as in the reference (whose extra columns stay empty).
    """
    votes = np.zeros(
        (ground_truth_data.num_factors, int(np.sum(active_dims))),
        dtype=np.int64,
    )
    for group in utils.groups(num_votes, batch_size,
                              encoder.encode_batch_size):
        factor_indices = np.zeros(group, dtype=np.int64)
        observations = []
        for i in range(group):
            index = random_state.randint(ground_truth_data.num_factors)
            factors = ground_truth_data.sample_factors(batch_size,
                                                       random_state)
            factors[:, index] = factors[0, index]
            observations.append(
                ground_truth_data.sample_observations_from_factors(
                    factors, random_state
                )
            )
            factor_indices[i] = index
        codes = encoder(np.concatenate(observations))
        codes = codes.reshape(group, batch_size, codes.shape[1])
        local_variances = np.var(codes, axis=1, ddof=1)
        argmins = np.argmin(
            local_variances[:, active_dims] / global_variances[active_dims],
            axis=1,
        )
        np.add.at(votes, (factor_indices, argmins), 1)
    return votes
