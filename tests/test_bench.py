"""Benchmark command-line pieces that need no timing."""

import json
import sys

import pytest

from keras_factorvae import bench

from tests.conftest import load_benchmark


def test_race_backends_and_policies_are_parsed_and_checked():
    race = load_benchmark("race")
    assert race.parse_backends("jax, torch") == ("jax", "torch")
    with pytest.raises(SystemExit, match="--backends"):
        race.parse_backends("jax,numpy")
    with pytest.raises(SystemExit, match="--backends"):
        race.parse_backends(" , ")
    assert race.parse_policies("float32, mixed_bfloat16") == (
        "float32", "mixed_bfloat16")
    with pytest.raises(SystemExit, match="--policies"):
        race.parse_policies(",")


def test_race_alternates_the_reference_and_every_entry_per_round(monkeypatch):
    race = load_benchmark("race")
    calls = []

    def reference(path, preset, batch_size, steps, warmup):
        calls.append("reference")
        return {"steps_per_s": 10.0 + len(calls)}

    def ours(backend, model, preset, batch_size, steps, warmup, layers, policy):
        calls.append(f"{backend}/{policy}")
        return {"steps_per_s": 20.0 + len(calls)}

    monkeypatch.setattr(race, "run_reference", reference)
    monkeypatch.setattr(race, "run_ours", ours)
    medians, runs = race.race("ref.py", backends=("jax", "torch"), rounds=3,
                              dtype_policies=("float32", "mixed_bfloat16"))
    one_round = ["reference", "jax/float32", "jax/mixed_bfloat16",
                 "torch/float32", "torch/mixed_bfloat16"]
    assert calls == one_round * 3
    # Entries are named after the backend, with any policy but float32 added.
    assert list(medians) == ["reference", "jax", "jax/mixed_bfloat16",
                             "torch", "torch/mixed_bfloat16"]
    assert runs["reference"] == [11.0, 16.0, 21.0]
    assert runs["torch"] == [24.0, 29.0, 34.0]
    assert medians == {"reference": 16.0, "jax": 27.0,
                       "jax/mixed_bfloat16": 28.0, "torch": 29.0,
                       "torch/mixed_bfloat16": 30.0}
    table = race.format_race(medians, 3).splitlines()
    assert table[0] == "| implementation | steps/s (median of 3) | x reference |"
    assert table[2] == "| reference | 16.00 | 1.00 |"
    assert table[4] == "| jax/mixed_bfloat16 | 28.00 | 1.75 |"


def test_env_ab_alternates_warm_workers_and_compares_per_round(monkeypatch, tmp_path):
    ab = load_benchmark("ab_env")
    turns = []
    # Step times per variant and round: "b" is faster in rounds 0 and 2.
    table = {"a": [100.0, 90.0, 120.0], "b": [80.0, 95.0, 110.0]}

    class Worker:
        def __init__(self, command, env):
            assert "--worker" in command
            self.name = env["AB"]
            self.lines = ["ready\n"]
            worker = self

            class In:
                def write(self, text):
                    turns.append((worker.name, int(text)))
                    worker.lines.append(
                        f"{table[worker.name][sum(n == worker.name for n, _ in turns) - 1]}\n")

                def flush(self):
                    pass

                def close(self):
                    pass

            class Out:
                def readline(self):
                    return worker.lines.pop(0)

            self.stdin, self.stdout, self.returncode = In(), Out(), 0

        def poll(self):
            return None

        def wait(self):
            return 0

    monkeypatch.setattr(ab, "start_worker", Worker)
    path = tmp_path / "ab.json"
    assert ab.main(["--variant", "a:AB=a", "--variant", "b:AB=b",
                    "--rounds", "3", "--steps", "2", "--out", str(path)]) == 0
    # Each round in the opposite order from the last, two steps a turn.
    assert turns == [("a", 2), ("b", 2), ("b", 2), ("a", 2), ("a", 2), ("b", 2)]
    result = json.loads(path.read_text())
    assert result["variants"] == {"a": {"AB": "a"}, "b": {"AB": "b"}}
    assert result["median_step_ms"] == {"a": 100.0, "b": 95.0}
    assert result["b_faster_rounds"] == 2
    assert result["b_per_round_ratio_median"] == round(120.0 / 110.0, 4)
    with pytest.raises(SystemExit):
        ab.main(["--variant", "a:AB=a"])


def test_ab_env_names_a_failed_workers_last_log_lines(monkeypatch):
    ab = load_benchmark("ab_env")
    real = ab.start_worker
    fail = [sys.executable, "-c",
            "import sys; sys.stderr.write('Unknown flag in XLA_FLAGS\\n'); sys.exit(3)"]
    monkeypatch.setattr(ab, "start_worker", lambda command, env: real(fail, env))
    with pytest.raises(RuntimeError, match=r"exited \(3\):\nUnknown flag in XLA_FLAGS"):
        ab.main(["--variant", "a:AB=a", "--variant", "b:AB=b"])


def test_race_runs_the_reference_with_its_arch_and_reads_its_last_line(tmp_path):
    race = load_benchmark("race")
    script = tmp_path / "ref.py"
    script.write_text(
        "import json, sys\n"
        "print('warming up')\n"
        "print(json.dumps({'steps_per_s': 1.5, 'argv': sys.argv[1:]}))\n")
    result = race.run_reference(str(script), preset="mlp", batch_size=256,
                                steps=10, warmup=3)
    assert result["steps_per_s"] == 1.5
    assert result["argv"] == ["--arch", "mlp", "--batch-size", "256",
                              "--steps", "10", "--warmup", "3", "--json"]


def test_the_users_bench_has_no_race_options():
    # The race serves this repository and lives in benchmarks/race.py.
    for option in ("--race", "--table", "--race-policies", "--rounds"):
        with pytest.raises(SystemExit) as error:
            bench.main([option, "x"])
        assert error.value.code == 2


@pytest.mark.multibackend
def test_flop_count_of_the_conv_factorvae_step_matches_the_documented_figure():
    # Every backend: torch builds its convolutions channels-first, where the
    # spatial size sits at axes 2-3, not 1-2.
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


def test_onednn_profile_sums_exec_times_by_kind_and_problem():
    profile = load_benchmark("onednn_profile")
    lines = [
        "onednn_verbose,v1,info,cpu,runtime:threadpool",
        "onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,jit,"
        "forward_training,src,,alg,mb64_ic1oc32,9.0",
        "onednn_verbose,v1,primitive,exec,cpu,convolution,jit,"
        "forward_training,src,,alg,mb64_ic1oc32,2.5",
        "onednn_verbose,v1,primitive,exec,cpu,convolution,jit,"
        "forward_training,src,,alg,mb64_ic1oc32,1.5",
        "onednn_verbose,v1,primitive,exec,cpu,convolution,jit,"
        "backward_data,src,,alg,mb64_ic32oc32,3.0",
        "onednn_verbose,v1,primitive,exec,cpu,gemm_api,,undef,src,,,"
        "128x1000:1000x1000,0.25",
        "{\"steps_per_s\": 5.0}",
    ]
    by_kind, by_problem = profile.parse_verbose(lines)
    # Only exec lines count: the 9.0 ms of primitive creation is left out.
    assert by_kind == {"convolution/forward_training": 4.0,
                       "convolution/backward_data": 3.0,
                       "gemm_api/undef": 0.25}
    assert by_problem["convolution/forward_training/mb64_ic1oc32"] == 4.0
    assert profile.per_step(by_kind, 2, top=2) == {
        "convolution/forward_training": 2.0, "convolution/backward_data": 1.5}
