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


def test_steps_per_execution_rounds_steps_and_times_calls():
    result = bench.time_training(
        "factorvae", preset="mlp", batch_size=4, steps=3, warmup=1,
        latent_dim=2, input_shape=(32, 32, 1), steps_per_execution=2,
        discriminator_units=8, discriminator_layers=1,
    )
    # 3 timed steps round up to 2 calls of 2 batches; the warm-up to one call.
    assert result["steps"] == 4
    assert result["steps_per_execution"] == 2
    # Timed as 4 steps, not 3 or 6; `seconds` is rounded to 0.1 ms, so the
    # tolerance allows for that on a run of a few tens of milliseconds.
    assert result["steps_per_s"] == pytest.approx(4 / result["seconds"], rel=0.01)
    with pytest.raises(ValueError, match="steps_per_execution"):
        bench.time_training("vae", preset="mlp", input_shape=(32, 32, 1),
                            steps_per_execution=0)


@pytest.mark.multibackend
@pytest.mark.parametrize("flags, isa", [
    ("fpu sse2 avx avx2 fma avx512f avx512_vnni", "avx512"),
    ("fpu sse2 avx avx2 fma", "avx2"),
    ("fpu sse2", "other"),
])
def test_machine_info_reads_model_and_widest_isa(tmp_path, flags, isa):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Some CPU 9000\n"
                    f"flags\t\t: {flags}\n\nprocessor\t: 1\n")
    info = bench.machine_info(str(path))
    assert (info["cpu"], info["isa"]) == ("Some CPU 9000", isa)


def test_dtype_policy_applies_to_the_timed_model_only():
    import keras

    result = bench.time_training(
        "factorvae", preset="mlp", batch_size=4, steps=2, warmup=1,
        latent_dim=2, input_shape=(32, 32, 1), dtype_policy="mixed_bfloat16",
        discriminator_units=8, discriminator_layers=1,
    )
    assert result["dtype_policy"] == "mixed_bfloat16"
    assert result["encoder_compute_dtype"] == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"
