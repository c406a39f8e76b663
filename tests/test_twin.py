"""The independent PyTorch twin (benchmarks/twin_torch.py) and its comparison.

The twin is loaded from the repository path (benchmarks is no package). It
must permute every latent column on its own, keep its two updates apart, and
have exactly the parameters of our `conv_paper` FactorVAE.
"""


import json

import numpy as np
import pytest

from tests.conftest import load_benchmark

torch = pytest.importorskip("torch")



@pytest.fixture(scope="module")
def twin_torch():
    torch.set_num_threads(1)
    return load_benchmark("twin_torch")


@pytest.fixture(scope="module")
def batches():
    rng = np.random.RandomState(0)
    shape = (16, 64, 64, 1)
    return ((rng.rand(*shape) > 0.5).astype("float32"),
            (rng.rand(*shape) > 0.5).astype("float32"))


def _snapshot(*modules):
    return [p.detach().clone() for m in modules for p in m.parameters()]


def _unchanged(before, *modules):
    after = [p.detach() for m in modules for p in m.parameters()]
    return all(torch.equal(a, b) for a, b in zip(before, after))


def _all_changed(before, *modules):
    after = [p.detach() for m in modules for p in m.parameters()]
    return all(not torch.equal(a, b) for a, b in zip(before, after))


def test_permute_dims_shuffles_each_column_independently(twin_torch):
    batch, dims = 64, 10
    z = torch.arange(batch * dims, dtype=torch.float32).reshape(batch, dims)
    generator = torch.Generator().manual_seed(0)
    perm = twin_torch.permute_dims(z, generator)
    assert perm.shape == z.shape
    # Every column holds exactly its own values, in another order.
    for j in range(dims):
        assert torch.equal(torch.sort(perm[:, j]).values, z[:, j])
        assert not torch.equal(perm[:, j], z[:, j])
    # The columns are shuffled by different permutations (a row-wise or a
    # shared permutation would keep the rows of z together).
    rows = (perm - perm[:, :1]).numpy()
    assert not np.all(rows == np.arange(dims)[None, :])
    orders = {tuple(torch.argsort(perm[:, j]).tolist()) for j in range(dims)}
    assert len(orders) == dims
    # The input is left alone.
    assert torch.equal(z, torch.arange(batch * dims, dtype=torch.float32)
                       .reshape(batch, dims))


def test_updates_do_not_leak(twin_torch, batches):
    model = twin_torch.TwinFactorVAE(gamma=35.0, seed=0)
    x, x2 = (model.to_torch(b) for b in batches)
    # A first full step, so that both Adams have state and a leak would show
    # even through a zero first moment.
    model.train_step(x, x2)

    d_before = _snapshot(model.discriminator)
    vae_before = _snapshot(model.encoder, model.decoder)
    z, _ = model.vae_update(x)
    assert _unchanged(d_before, model.discriminator)
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert float(model.d_optimizer.state_dict()["state"][0]["step"]) == 1.0
    assert _all_changed(vae_before, model.encoder, model.decoder)

    vae_before = _snapshot(model.encoder, model.decoder)
    d_before = _snapshot(model.discriminator)
    vae_steps = float(model.vae_optimizer.state_dict()["state"][0]["step"])
    model.discriminator_update(x2, z)
    assert _unchanged(vae_before, model.encoder, model.decoder)
    assert all(p.grad is None for p in model.encoder.parameters())
    assert float(model.vae_optimizer.state_dict()["state"][0]["step"]) == vae_steps
    assert _all_changed(d_before, model.discriminator)
    assert float(model.d_optimizer.state_dict()["state"][0]["step"]) == 2.0


def test_train_step_logs_and_losses_match_ours(twin_torch, batches):
    from keras import ops

    from keras_factorvae import losses

    model = twin_torch.TwinFactorVAE(gamma=10.0, seed=1)
    logs = model.train_step(*batches)
    assert set(logs) == {"loss", "reconstruction_loss", "kl_loss", "tc_loss",
                         "discriminator_loss", "discriminator_accuracy"}
    assert all(np.isfinite(v) for v in logs.values())
    rng = np.random.RandomState(2)
    x = (rng.rand(4, 8, 8, 1) > 0.5).astype("float32")
    logits = rng.randn(4, 8, 8, 1).astype("float32") * 3
    mean, logvar = rng.randn(4, 5).astype("float32"), rng.randn(4, 5).astype("float32")
    d_real, d_perm = rng.randn(4, 2).astype("float32"), rng.randn(4, 2).astype("float32")
    pairs = [
        (twin_torch.reconstruction_loss(torch.tensor(x), torch.tensor(logits)),
         losses.bernoulli_reconstruction(x, logits)),
        (twin_torch.kl_loss(torch.tensor(mean), torch.tensor(logvar)),
         losses.gaussian_kl(mean, logvar)),
        (twin_torch.discriminator_loss(torch.tensor(d_real), torch.tensor(d_perm)),
         losses.discriminator_cross_entropy(d_real, d_perm)),
        (twin_torch.density_ratio_tc(torch.tensor(d_real)),
         losses.density_ratio_tc(d_real)),
    ]
    for theirs, ours in pairs:
        np.testing.assert_allclose(float(theirs), float(ops.convert_to_numpy(ours)),
                                   rtol=1e-5)


def test_parameter_counts_equal_ours_conv_paper(twin_torch):
    import keras_factorvae as kfv

    ours = kfv.FactorVAE(latent_dim=10, input_shape=(64, 64, 1),
                         preset="conv_paper", gamma=35.0, discriminator_layers=6)
    twin = twin_torch.TwinFactorVAE(latent_dim=10, discriminator_layers=6)
    for mine, theirs in ((ours.encoder, twin.encoder), (ours.decoder, twin.decoder),
                         (ours.discriminator, twin.discriminator)):
        assert mine.count_params() == twin_torch.count_parameters(theirs)
        # Layer by layer, too (weights' sizes in order).
        keras_sizes = [int(np.prod(w.shape)) for w in mine.weights]
        torch_sizes = [p.numel() for p in theirs.parameters()]
        assert keras_sizes == torch_sizes
    # Shapes of the outputs.
    mean, logvar = twin.encode_stats(np.zeros((3, 64, 64, 1), "float32"))
    assert mean.shape == logvar.shape == (3, 10)
    assert twin.decode_logits(np.zeros((3, 10), "float32")).shape == (3, 64, 64, 1)
    assert twin.discriminator_logits(np.zeros((3, 10))).shape == (3, 2)


def test_compare_tc_estimates_equal_the_library_for_ours():
    import keras_factorvae as kfv
    from keras_factorvae import metrics

    compare = load_benchmark("twin_compare")
    data = kfv.datasets.load("dsprites")
    model = kfv.FactorVAE(latent_dim=4, input_shape=(64, 64, 1),
                          preset="conv_paper", discriminator_units=8,
                          discriminator_layers=1, seed=0)
    ours = compare.tc_estimates(compare.OursAdapter(model), data,
                                num_points=256, batch_size=128, seed=3)
    ref = metrics.total_correlation_estimates(model, data, num_points=256,
                                              batch_size=128, seed=3)
    assert ours.keys() == ref.keys()
    for key in ref:
        np.testing.assert_allclose(ours[key], ref[key], rtol=1e-5)
    terms = compare.held_out_terms(compare.OursAdapter(model), data, n=64,
                                   batch_size=32)
    assert set(terms) == {"reconstruction_loss", "kl_loss", "discriminator_tc"}
    assert all(np.isfinite(v) for v in terms.values())


@pytest.mark.parametrize("beta_2", [0.999, 0.9])
def test_torch_epsilon_adam_is_torch_adam(beta_2):
    import keras

    compare = load_benchmark("twin_compare")
    rng = np.random.RandomState(0)
    start = rng.randn(40).astype("float32")
    # Gradients down to 1e-9, where the two placements of epsilon differ.
    grads = [(rng.randn(40) * 10 ** rng.uniform(-9, -5, 40)).astype("float32")
             for _ in range(12)]
    settings = dict(learning_rate=1e-4, beta_1=0.9, beta_2=beta_2,
                    epsilon=1e-8)
    moved = {}
    for name, optimizer in (
            ("torch_eps", compare.torch_epsilon_adam(**settings)),
            ("keras", keras.optimizers.Adam(**settings))):
        variable = keras.Variable(start.copy())
        for g in grads:
            optimizer.apply([keras.ops.convert_to_tensor(g)], [variable])
        moved[name] = keras.ops.convert_to_numpy(variable) - start
    param = torch.nn.Parameter(torch.tensor(start.copy()))
    reference = torch.optim.Adam([param], lr=1e-4, betas=(0.9, beta_2),
                                 eps=1e-8)
    for g in grads:
        param.grad = torch.tensor(g)
        reference.step()
    torch_moved = param.detach().numpy() - start
    scale = np.abs(torch_moved).max()
    assert np.abs(moved["torch_eps"] - torch_moved).max() < 1e-3 * scale
    assert np.abs(moved["keras"] - torch_moved).max() > 1e-2 * scale
    assert compare.ours_optimizer("keras") is None


def test_twin_summary_groups_by_placement_and_checks_spread(tmp_path):
    summary = load_benchmark("twin_summary")

    def write(directory, impl, seed, mig, **settings):
        runs = tmp_path / directory / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        row = {"impl": impl, "seed": seed, "mig.discrete_mig": mig,
               "settings": settings}
        (runs / f"{impl}_seed{seed}.json").write_text(json.dumps(row))

    write("a", "ours", 0, 0.01)
    write("a", "ours", 1, 0.05)
    write("a", "twin", 0, 0.04)
    write("a", "twin", 1, 0.06)
    write("b", "twin", 0, 0.02, twin_adam_epsilon="keras")
    write("d", "twin", 0, 0.03, twin_adam_epsilon="keras", init="ours")
    assert sorted(summary.spread(summary.load_rows([str(tmp_path / "d")]), [])) \
        == ["twin:keras:init-ours"]
    groups, comparisons = summary.main(
        [str(tmp_path / "a"), str(tmp_path / "b"),
         "--out", str(tmp_path / "s.md"),
         "--against", "ours:keras=twin:torch", "twin:keras=twin:torch"])
    assert sorted(groups) == ["ours:keras", "twin:keras", "twin:torch"]
    assert groups["twin:torch"]["mig.discrete_mig"] == [0.04, 0.06]
    # Our mean 0.03 lies below the twin's 0.04..0.06; one seed is inside.
    mine = comparisons[("ours:keras", "twin:torch")]
    assert mine["inside"]["mig.discrete_mig"] == (False, 1, 2)
    # 0.03 - 0.05; sqrt(0.0008 / 2 + 0.0002 / 2) from the sample variances.
    delta, error, p = mine["difference"]["mig.discrete_mig"]
    assert delta == pytest.approx(-0.02)
    assert error == pytest.approx(np.sqrt(0.0005))
    # Splits of {0.01, 0.05, 0.04, 0.06} into pairs: |difference| >= 0.02
    # for {0.01, 0.05} (observed), {0.01, 0.04}, {0.05, 0.06}, {0.04, 0.06}.
    assert p == pytest.approx(4 / 6)
    keras_twin = comparisons[("twin:keras", "twin:torch")]
    assert keras_twin["inside"]["mig.discrete_mig"] == (False, 0, 1)
    assert keras_twin["difference"] == {}  # one seed: no standard error
    assert "**no** (1/2)" in (tmp_path / "s.md").read_text()
    assert "-0.020 +- 0.022 (p 0.667)" in (tmp_path / "s.md").read_text()
    # The same (group, seed) from two directories is refused.
    write("c", "ours", 0, 0.02)
    with pytest.raises(SystemExit):
        summary.main([str(tmp_path / "a"), str(tmp_path / "c")])


def test_permutation_p_exact_and_sampled():
    summary = load_benchmark("twin_summary")
    a, b = [0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0]
    # Of the 70 splits into fours only this one and its mirror are as far
    # apart as the observed means.
    assert summary.permutation_p(a, b) == pytest.approx(2 / 70)
    sampled = summary.permutation_p(a, b, max_splits=20_000)
    assert sampled == pytest.approx(2 / 70, abs=0.006)
    # Identical groups: every split is at least as extreme as a zero gap.
    assert summary.permutation_p([1.0, 2.0], [1.0, 2.0]) == 1.0


def test_paired_by_seed_differences_sign_flips_and_correlation(tmp_path):
    summary = load_benchmark("twin_summary")
    key = "mig.discrete_mig"
    first = {"seeds": [0, 1, 2, 3], key: [0.10, 0.20, 0.30, 0.50]}
    # Seed 4 has no partner, and the seeds are listed in another order.
    second = {"seeds": [3, 0, 2, 1, 4], key: [0.40, 0.12, 0.28, 0.16, 0.9]}
    delta, error, p, r, n = summary.paired(first, second, [(key, "MIG")])[key]
    # Differences 0.10-0.12, 0.20-0.16, 0.30-0.28, 0.50-0.40.
    d = np.array([-0.02, 0.04, 0.02, 0.10])
    assert n == 4
    assert delta == pytest.approx(0.035)
    assert error == pytest.approx(np.std(d, ddof=1) / 2)
    # With |d| = (0.02, 0.04, 0.02, 0.10), the sum 0.18 - 2 * (the flipped
    # |d|) is at least 0.14 in magnitude when the flipped ones add up to at
    # most 0.02 (none, the first, the third) or, mirrored, at least 0.16:
    # 6 of the 16 sign patterns.
    assert p == pytest.approx(6 / 16)
    assert r == pytest.approx(np.corrcoef([0.1, 0.2, 0.3, 0.5],
                                          [0.12, 0.16, 0.28, 0.40])[0, 1])
    assert summary.sign_flip_p([1.0, 1.0, 1.0]) == pytest.approx(2 / 8)
    sampled = summary.sign_flip_p(d, max_flips=8)
    assert 0.0 < sampled <= 1.0
    text = summary.markdown({}, {}, [(key, "MIG")],
                            {("a", "b"): {key: (delta, error, p, r, n)}})
    assert f"+0.035 +- {error:.3f} (p 0.375; r +{r:.2f}; 4)" in text
    # Fewer than three common seeds: nothing to say.
    assert summary.paired(first, {"seeds": [0, 1], key: [0.1, 0.2]},
                          [(key, "MIG")]) == {}


def test_twin_can_start_from_our_initial_weights(twin_torch):
    import argparse

    from keras_factorvae import FactorVAE
    from keras_factorvae import reporting

    compare = load_benchmark("twin_compare")
    args = argparse.Namespace(gamma=35.0)
    twin = twin_torch.TwinFactorVAE(latent_dim=10, discriminator_layers=6, seed=1)
    x = np.random.RandomState(0).rand(4, 64, 64, 1).astype("float32")
    before, _ = twin.encode_stats(x)
    compare.copy_initial_weights_of_ours(twin, 3, args)
    reporting.set_random_seed(3)
    ours = FactorVAE(latent_dim=10, input_shape=(64, 64, 1), preset="conv_paper",
                     gamma=35.0, discriminator_layers=6, seed=3)
    mean, logvar = ours.posterior_stats(x)
    twin_mean, twin_logvar = twin.encode_stats(x)
    np.testing.assert_allclose(twin_mean, mean, atol=1e-6)
    np.testing.assert_allclose(twin_logvar, logvar, atol=1e-6)
    assert np.abs(before - twin_mean).max() > 1e-4  # the copy changed it
    z = np.random.RandomState(1).randn(4, 10).astype("float32")
    np.testing.assert_allclose(
        twin.discriminator_logits(z),
        np.asarray(ours.discriminator(z)), atol=1e-5)


def test_latent_profile_orders_dims_by_kl():
    compare = load_benchmark("twin_compare")

    class Fixed:
        """Dimension 0: the prior; 1: means 0 or 1, unit variance; 2: means
        0.01 or 0.03, log-variance -2."""

        def stats(self, x):
            n = len(x)
            half = np.arange(n) % 2
            mean = np.stack([np.zeros(n), half, 0.01 + 0.02 * half], 1)
            logvar = np.stack([np.zeros(n), np.zeros(n), np.full(n, -2.0)], 1)
            return mean, logvar

    class Data:
        def sample_observations(self, n, random_state):
            return np.zeros((n, 1))

    profile = compare.latent_profile(Fixed(), Data(), n=8)
    # KL: dim 1 0.5 * mean(mu^2) = 0.25; dim 2 0.5 * (e^-2 + 2 - 1 +
    # mean(mu^2)) = 0.568...; dim 0 nothing.
    kl_2 = 0.5 * (np.exp(-2.0) + 1.0 + (0.01 ** 2 + 0.03 ** 2) / 2)
    assert profile["kl"] == pytest.approx([kl_2, 0.25, 0.0])
    assert profile["mean_sd"] == pytest.approx([0.01, 0.5, 0.0])
    assert profile["logvar"] == pytest.approx([-2.0, 0.0, 0.0])
    assert profile["active"] == 1  # only the 0.5 spread reaches 0.05
    # The 1 quietest of 3 dimensions (half, rounded down) is dim 0.
    assert profile["quiet_mean_sd"] == 0.0


@pytest.mark.slow
def test_compare_saves_runs_that_rescore_to_the_same_metrics(tmp_path):
    compare = load_benchmark("twin_compare")
    common = ["--out", str(tmp_path), "--metric-size", "tiny", "--threads", "1",
              "--metrics", "mig"]
    compare.main(common + ["--steps", "2", "--epoch-steps", "1", "--seeds", "0",
                           "--held-out", "32", "--tc-points", "256"])
    rows = compare.rescore(compare.parse_args(common + ["--rescore", "0", "1"]),
                           compare_data(), compare.load_twin())
    assert sorted(r["impl"] for r in rows) == ["ours", "twin"]
    for row in rows:
        with open(tmp_path / "runs" / f"{row['impl']}_seed0.json") as f:
            trained = json.load(f)
        # Metric seed 0 is the seed the run was scored with.
        assert row["scores"]["mig.discrete_mig"][0] == pytest.approx(
            trained["mig.discrete_mig"], abs=1e-6)
    assert (tmp_path / "rescore.md").exists()


def compare_data():
    import keras_factorvae as kfv

    return kfv.datasets.load("dsprites")
