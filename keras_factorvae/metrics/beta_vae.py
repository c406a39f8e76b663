"""BetaVAE disentanglement score (Higgins et al., 2017).

"beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
Framework", https://openreview.net/forum?id=Sy2fzU9gl; as implemented by
disentanglement_lib's `compute_beta_vae_sklearn`.
"""

import numpy as np
from sklearn import linear_model

from keras_factorvae.metrics import utils


def beta_vae_score(
    ground_truth_data,
    representation_function,
    random_state,
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the BetaVAE score.

    Each point picks a factor `k` at random, samples two batches of
    `batch_size` factors that share factor `k`, and uses the mean absolute
    difference of their codes as features; a `LogisticRegression` (configured
    as in the reference: `random_state=random_state`, sklearn defaults
    otherwise) predicts `k` from them.

    Batching: the reference calls the representation function twice per
    point (2 x 64 observations). Here all factors and observations are drawn
    from `random_state` in the reference's order, point after point, and the
    observations of many points are concatenated into calls of up to
    `encode_batch_size` observations. The representation function maps each
    observation independently, so every code and every feature is the same
    as with the reference's small calls, up to the float rounding that an
    encoder's batch size causes (about 1e-7); the classifier is fit
    before the evaluation set is drawn, as in the reference.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        random_state: `numpy.random.RandomState`.
        batch_size: observations per batch of a point.
        num_train: number of training points.
        num_eval: number of evaluation points.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `train_accuracy` and `eval_accuracy`.

    Example:

    >>> beta_vae_score(data, encoder_mean, np.random.RandomState(0))
    {'train_accuracy': 1.0, 'eval_accuracy': 1.0}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    batch_size = utils.check_int("batch_size", batch_size)
    num_train = utils.check_int("num_train", num_train)
    num_eval = utils.check_int("num_eval", num_eval)
    encoder = utils.Encoder(representation_function, encode_batch_size)

    train_points, train_labels = _generate_points(
        ground_truth_data, encoder, batch_size, num_train, random_state
    )
    model = linear_model.LogisticRegression(random_state=random_state)
    model.fit(train_points, train_labels)
    train_accuracy = np.mean(model.predict(train_points) == train_labels)

    eval_points, eval_labels = _generate_points(
        ground_truth_data, encoder, batch_size, num_eval, random_state
    )
    eval_accuracy = model.score(eval_points, eval_labels)
    return {
        "train_accuracy": float(train_accuracy),
        "eval_accuracy": float(eval_accuracy),
    }


def _generate_points(ground_truth_data, encoder, batch_size, num_points,
                     random_state):
    """Returns `(features (num_points, num_codes), labels (num_points,))`."""
    labels = np.zeros(num_points, dtype=np.int64)
    features = []
    done = 0
    for group in utils.groups(
        num_points, 2 * batch_size, encoder.encode_batch_size
    ):
        observations = []
        data = ground_truth_data
        for i in range(done, done + group):
            index = random_state.randint(data.num_factors)
            factors1 = data.sample_factors(batch_size, random_state)
            factors2 = data.sample_factors(batch_size, random_state)
            factors2[:, index] = factors1[:, index]
            observations.append(
                data.sample_observations_from_factors(factors1, random_state))
            observations.append(
                data.sample_observations_from_factors(factors2, random_state))
            labels[i] = index
        codes = encoder(np.concatenate(observations))
        codes = codes.reshape(group, 2, batch_size, codes.shape[1])
        features.append(np.mean(np.abs(codes[:, 0] - codes[:, 1]), axis=1))
        done += group
    # The reference stores features in a float64 array.
    return np.concatenate(features).astype(np.float64), labels
