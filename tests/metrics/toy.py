"""A tiny ground-truth dataset and representation functions for the tests."""

import numpy as np


class ToyData:
    """Independent uniform factors; observation = factors as floats.

    Args:
        sizes: number of values of each factor.
        noise: std of Gaussian noise added to observations (drawn from the
            metric's random_state, to test that draws happen in order).
    """

    def __init__(self, sizes=(3, 4, 5), noise=0.0):
        self.sizes = tuple(sizes)
        self.noise = noise

    @property
    def num_factors(self):
        return len(self.sizes)

    @property
    def factors_num_values(self):
        return list(self.sizes)

    @property
    def observation_shape(self):
        return [len(self.sizes)]

    def sample_factors(self, num, random_state):
        factors = np.zeros((num, self.num_factors), dtype=np.int64)
        for i, size in enumerate(self.sizes):
            factors[:, i] = random_state.randint(size, size=num)
        return factors

    def sample_observations_from_factors(self, factors, random_state):
        obs = factors.astype(np.float32)
        if self.noise:
            obs = obs + self.noise * random_state.randn(*obs.shape).astype(
                np.float32)
        return obs

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(
            factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


def identity(x):
    return np.asarray(x, dtype=np.float64)


def rotated(x):
    """Mixes factors 0 and 1 by 45 degrees (same information, entangled)."""
    x = np.asarray(x, dtype=np.float64)
    c = np.sqrt(0.5)
    out = x.copy()
    out[:, 0] = c * x[:, 0] - c * x[:, 1]
    out[:, 1] = c * x[:, 0] + c * x[:, 1]
    return out


def with_dead_dim(x):
    """The perfect code plus a constant dimension."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([x, np.full((len(x), 1), 0.5)], axis=1)


def constant(x):
    return np.zeros((len(x), 3))


class Noise:
    """Codes drawn from their own random stream, independent of the data."""

    def __init__(self, dim=3, seed=123):
        self.dim = dim
        self.rng = np.random.RandomState(seed)

    def __call__(self, x):
        return self.rng.randn(len(x), self.dim)


def reference_batch_factor_code(data, function, num_points, random_state,
                                batch_size):
    """disentanglement_lib's unbatched sampling loop, for comparisons."""
    codes, factors = [], []
    i = 0
    while i < num_points:
        n = min(num_points - i, batch_size)
        f, obs = data.sample(n, random_state)
        factors.append(f)
        codes.append(function(obs))
        i += n
    return np.vstack(codes).T, np.vstack(factors).T
