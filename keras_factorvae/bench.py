"""Training-throughput benchmark of the zoo's models.

Times full training steps (for FactorVAE: VAE update + discriminator update)
on random binary batches generated before timing and held in memory, so that
data loading is not timed. Prints one JSON line (with `--json`) or a table.

    python -m keras_factorvae.bench --model factorvae --preset conv \
        --batch-size 64 --steps 50 --warmup 5 --json

One `fit` call runs `--warmup` steps (tracing and compilation) and then the
`--steps` timed steps. A callback reads the loss back to the host at the end
of every batch (so asynchronous dispatch cannot flatter the figure) and the
clock runs from the end of the last warm-up step to the end of the last timed
step. That is what the PyTorch reference times (its loop over steps on data
made beforehand): steady-state steps, without `fit`'s fixed start-up and
tear-down (building the iterator, callbacks, the data thread), which cost
0.2-0.9 s per call and would otherwise be spread over the few timed steps.

The race against the PyTorch reference (alternated processes, medians) is a
script of the repository, `benchmarks/race.py`, built on these functions.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from keras_factorvae import backend


def machine_info(cpuinfo="/proc/cpuinfo"):
    """The CPU a figure was measured on: speed ratios differ between hosts
    (TensorFlow's oneDNN kernels, for one, are tuned for AVX-512).

    Args:
        cpuinfo: the file to read (Linux's format).

    Returns:
        A dict with `cpu` (model name), `isa` (the widest vector extension
        seen: `"avx512"`, `"avx2"` or `"other"`) and `cores`.

    Example:

    >>> machine_info()["isa"]
    'avx2'
    """
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    isa = ("avx512" if "avx512f" in flags else "avx2" if "avx2" in flags
           else "other")
    return {"cpu": name, "isa": isa, "cores": os.cpu_count()}


def step_clock():
    """A callback noting the host time at the end of every training batch,
    after reading the loss back (a host sync)."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            float(keras.ops.convert_to_numpy(logs["loss"]))
            self.times.append(time.perf_counter())

    return StepClock()


def _pool(batch_size, shape, size=8, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.rand(size, batch_size, *shape) > 0.5).astype("float32")


def _layer_macs(layer):
    """Multiply-accumulates per sample of a Dense / Conv2D / Conv2DTranspose."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
    if isinstance(layer, keras.layers.Conv2DTranspose):
        h, w = _spatial(layer, layer.input.shape)
        kh, kw, cout, cin = layer.kernel.shape
        return h * w * kh * kw * cin * cout
    if isinstance(layer, keras.layers.Conv2D):
        h, w = _spatial(layer, layer.output.shape)
        kh, kw, cin, cout = layer.kernel.shape
        return h * w * kh * kw * cin * cout
    return 0


def _spatial(layer, shape):
    """Height and width of a conv layer's tensor in its own data format."""
    if layer.data_format == "channels_first":
        return shape[2:4]
    return shape[1:3]


def _net_macs(net):
    macs = [_layer_macs(layer) for layer in net.layers]
    return sum(macs), next((m for m in macs if m), 0)


def count_step_flops(model, paired=True):
    """Analytic FLOPs of one training step per sample (2 FLOPs per MAC).

    Counted the way `../shared/bench/torch_factorvae_ref.py --count-flops`
    counts: forward passes, and backward passes as 2x forward (weight and
    input gradients) except the input gradient of each network's first
    layer. For FactorVAE: VAE forward, D forward on z, backward through D,
    decoder and encoder, encoder forward on the second batch (if paired),
    and the discriminator update (two D forwards and backwards).
    """
    enc, enc_first = _net_macs(model.encoder)
    dec, _ = _net_macs(model.decoder)
    macs = enc + dec + 2 * dec + (2 * enc - enc_first)
    if hasattr(model, "discriminator"):
        disc, disc_first = _net_macs(model.discriminator)
        macs += disc + 2 * disc  # TC term: forward, backward to z
        macs += enc if paired else 0
        macs += 2 * disc + 2 * (2 * disc - disc_first)
    return 2 * macs


def time_training(
    model_name="factorvae", preset="conv", batch_size=64, steps=50, warmup=5,
    latent_dim=10, input_shape=(64, 64, 1), seed=0, paired=True,
    jit_compile="auto", steps_per_execution=1, dtype_policy=None,
    **model_kwargs,
):
    """Measures training steps per second of one model configuration.

    Args:
        model_name: a name known to `keras_factorvae.models.get`.
        preset: encoder/decoder preset.
        batch_size: images per step.
        steps: timed steps.
        warmup: untimed steps run first (compilation).
        latent_dim: latent size.
        input_shape: image shape.
        seed: seed of the data and the model.
        paired: feed `(x, x2)` pairs, so that FactorVAE encodes an independent
            second batch for its discriminator (the paper's and the PyTorch
            reference's workload); other models ignore `x2`.
        jit_compile: passed to `compile`.
        steps_per_execution: passed to `compile`: batches per compiled call
            (JAX and TensorFlow; Keras' torch trainer allows only 1). The
            clock then ticks once per call, and `warmup` and `steps` are
            rounded up to multiples of it.
        dtype_policy: a Keras dtype policy name for the model (e.g.
            `"mixed_bfloat16"`); None keeps the global policy (float32).
        **model_kwargs: further constructor arguments.

    Returns:
        A dict with `backend`, `model`, `preset`, `batch_size`,
        `steps_per_s`, `images_per_s`, `seconds`, `steps`.

    Example:

    >>> time_training("factorvae", steps=10, warmup=2)["steps_per_s"]
    """
    import keras

    from keras_factorvae import models

    if steps_per_execution < 1:
        raise ValueError(
            f"steps_per_execution must be >= 1, received {steps_per_execution}."
        )
    pool = _pool(batch_size, input_shape, seed=seed)

    class Batches(keras.utils.PyDataset):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            x = pool[i % len(pool)]
            return (x, pool[(i + 1) % len(pool)]) if paired else x

    keras.utils.set_random_seed(seed)
    previous_policy = keras.config.dtype_policy()
    if dtype_policy is not None:
        keras.config.set_dtype_policy(dtype_policy)
    try:
        model = models.get(
            model_name, latent_dim=latent_dim, input_shape=input_shape,
            preset=preset, seed=seed, **model_kwargs,
        )
    finally:
        keras.config.set_dtype_policy(previous_policy)
    model.compile(jit_compile=jit_compile,
                  steps_per_execution=steps_per_execution)
    clock = step_clock()
    calls = -(-max(warmup, 1) // steps_per_execution)
    warmup = calls * steps_per_execution
    steps = -(-steps // steps_per_execution) * steps_per_execution
    history = model.fit(Batches(warmup + steps), epochs=1, verbose=0,
                        callbacks=[clock])
    times = clock.times[calls - 1:]
    seconds = times[-1] - times[0]
    step_ms = 1000 * np.diff(times) / steps_per_execution
    loss = float(history.history["loss"][-1])
    flops = count_step_flops(model, paired) * batch_size
    return {
        "backend": backend.name(),
        "model": model_name,
        "preset": preset,
        "batch_size": batch_size,
        "paired": paired,
        "steps": steps,
        "seconds": round(seconds, 4),
        "steps_per_s": round(steps / seconds, 3),
        "median_step_ms": round(float(np.median(step_ms)), 2),
        "images_per_s": round(steps * batch_size / seconds, 1),
        "final_loss": loss,
        "gflop_per_step": round(flops / 1e9, 3),
        "achieved_gflop_s": round(flops * steps / seconds / 1e9, 2),
        "steps_per_execution": steps_per_execution,
        "dtype_policy": model.dtype_policy.name,
        "encoder_compute_dtype": model.encoder.compute_dtype,
        "threads": backend.intra_op_threads(),
        "machine": machine_info(),
        "python": platform.python_version(),
    }


def time_pipeline(name="dsprites", batch_size=64, steps=300):
    """Images/s the input pipelines deliver, per kind (numpy, py, tf)."""
    from keras_factorvae import datasets
    from keras_factorvae.datasets.pipeline import benchmark_pipeline

    data = datasets.load(name)
    kinds = ["numpy", "py"]
    try:
        import tensorflow  # noqa: F401

        kinds.append("tf")
    except ImportError:
        pass
    return {
        kind: round(benchmark_pipeline(data, batch_size, steps, kind=kind), 1)
        for kind in kinds
    }


def time_render(num_images=200_000, batch_size=2048, seed=0):
    """Images/s of dSprites rendered at random indices, as the metrics draw.

    Returns:
        Dict: `binary` (uint8 images from `DSprites.render`), `float32` (the
        observations the metrics and pipelines get) and `sequential` (all
        737,280 images in index order, `materialize(packed=False)`).
    """
    from keras_factorvae.datasets import DSprites

    data = DSprites()
    data.render([0])  # builds the shared renderer outside the clock
    indices = np.random.RandomState(seed).randint(0, data.num_examples,
                                                  num_images)
    result = {}
    for name, function in (("binary", data.render),
                           ("float32", data.observations_from_indices)):
        start = time.perf_counter()
        for s in range(0, num_images, batch_size):
            function(indices[s : s + batch_size])
        result[name] = round(num_images / (time.perf_counter() - start))
    start = time.perf_counter()
    data.materialize(packed=False)
    result["sequential"] = round(data.num_examples
                                 / (time.perf_counter() - start))
    return result


def time_metrics(model_path=None, seed=0, dci_jobs=-1, code_table=True):
    """Seconds per metric at default sizes on a conv FactorVAE and dSprites.

    Args:
        model_path: a saved model (default: an untrained conv FactorVAE).
        seed: seed of every metric's random state.
        dci_jobs: `n_jobs` of `dci` (threads fitting its classifiers).
        code_table: share one code table between the metrics (see
            `metrics.code_table`); False encodes every draw.
    """
    from keras_factorvae import datasets
    from keras_factorvae import metrics
    from keras_factorvae import models
    from keras_factorvae.saving import load_model

    model = (
        load_model(model_path)
        if model_path
        else models.get("factorvae", preset="conv", seed=seed)
    )
    return metrics.time_suite(datasets.load("dsprites"), model, seed=seed,
                              metric_params={"dci": {"n_jobs": dci_jobs}},
                              code_table=code_table)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_factorvae.bench",
        description="Time training steps of a keras_factorvae model on the "
        "active Keras backend (set KERAS_BACKEND).",
    )
    parser.add_argument("--model", default="factorvae")
    parser.add_argument("--preset", default="conv")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--discriminator-layers", type=int, default=None,
                        help="FactorVAE discriminator hidden layers (default 6; "
                        "the PyTorch reference has 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--jit-compile", default="auto",
                        choices=("auto", "true", "false"),
                        help="passed to compile (XLA on TF, torch.compile on torch)")
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="batches per compiled call (jax, tensorflow)")
    parser.add_argument("--dtype-policy", default=None,
                        help="Keras dtype policy of the model, e.g. "
                        "mixed_bfloat16 (default: float32)")
    parser.add_argument("--unpaired", action="store_true",
                        help="single batches (FactorVAE permutes the same batch)")
    parser.add_argument("--data", action="store_true",
                        help="also time the dSprites input pipelines and report "
                        "how many times faster they deliver than training eats")
    parser.add_argument("--metrics", action="store_true",
                        help="time the metric suite at default sizes instead")
    parser.add_argument("--model-path", default=None,
                        help="a saved .keras model for --metrics")
    parser.add_argument("--dci-jobs", type=int, default=-1,
                        help="with --metrics: threads fitting DCI's "
                        "classifiers (-1: all cores)")
    parser.add_argument("--no-code-table", action="store_true",
                        help="with --metrics: encode every observation drawn "
                        "(no code table shared by the metrics)")
    parser.add_argument("--render", action="store_true",
                        help="time dSprites rendering (random indices and "
                        "the whole set in order) instead")
    parser.add_argument("--threads", default="auto",
                        help="torch intra-op threads: auto (idle cores, see "
                        "keras_factorvae.threads), a number, or none")
    parser.add_argument("--allocator", default="tuned", choices=("tuned", "default"),
                        help="tuned: keras_factorvae.threads.configure_allocator "
                        "(reuses large temporaries); default: glibc's settings")
    args = parser.parse_args(argv)
    # Before anything imports TensorFlow: its oneDNN kernels on x86, as the
    # command line has them (see keras_factorvae.backend.compile_options).
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    from keras_factorvae.threads import configure_allocator
    from keras_factorvae.threads import configure_threads

    if args.allocator == "tuned":
        configure_allocator()
    threads = configure_threads(None if args.threads == "none" else args.threads)
    if args.metrics:
        result = time_metrics(args.model_path, dci_jobs=args.dci_jobs,
                              code_table=not args.no_code_table)
        result["total"] = sum(result.values())
        print(json.dumps(result) if args.json else "\n".join(
            f"{k:>26}: {v:.2f} s" for k, v in result.items()))
        return 0
    if args.render:
        result = time_render()
        print(json.dumps(result) if args.json else "\n".join(
            f"{k:>12}: {v} images/s" for k, v in result.items()))
        return 0
    extra = {}
    if args.discriminator_layers is not None and args.model == "factorvae":
        extra["discriminator_layers"] = args.discriminator_layers
    result = time_training(
        args.model, args.preset, args.batch_size, args.steps, args.warmup,
        args.latent_dim, (args.image_size, args.image_size, args.channels),
        paired=not args.unpaired,
        jit_compile={"auto": "auto", "true": True, "false": False}[args.jit_compile],
        steps_per_execution=args.steps_per_execution,
        dtype_policy=args.dtype_policy,
        **extra,
    )
    if args.data:
        pipeline = time_pipeline(batch_size=args.batch_size)
        result["pipeline_images_per_s"] = pipeline
        result["pipeline_over_training"] = {
            k: round(v / result["images_per_s"], 1) for k, v in pipeline.items()
        }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
