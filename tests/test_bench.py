"""Benchmark command-line pieces that need no timing."""

import pytest

from keras_factorvae import bench


def test_race_backends_are_parsed_and_checked():
    assert bench._backends("jax, torch") == ("jax", "torch")
    with pytest.raises(SystemExit, match="--backends"):
        bench._backends("jax,numpy")
    with pytest.raises(SystemExit, match="--backends"):
        bench._backends(" , ")


def test_flop_count_of_the_conv_factorvae_step_matches_the_documented_figure():
    from keras_factorvae import models

    model = models.get("factorvae", preset="conv", discriminator_layers=5)
    # docs/benchmarks.md: 166 MFLOP per image, 10.6 GFLOP per step of 64.
    flops = bench.count_step_flops(model, True) * 64
    assert flops / 1e9 == pytest.approx(10.63, abs=0.01)
