"""Training-throughput benchmark of the zoo's models.

Times full training steps (for FactorVAE: VAE update + discriminator update)
on random binary batches generated before timing and held in memory, so that
data loading is not timed. Prints one JSON line (with `--json`) or a table.

    python -m keras_factorvae.bench --model factorvae --preset conv \
        --batch-size 64 --steps 50 --warmup 5 --json

The first `fit` call runs the warm-up steps (tracing and compilation); a
second call runs `--steps` steps and is timed as a whole, including the final
synchronisation, so asynchronous dispatch cannot flatter the figure.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np


def _pool(batch_size, shape, size=8, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.rand(size, batch_size, *shape) > 0.5).astype("float32")


def time_training(
    model_name="factorvae", preset="conv", batch_size=64, steps=50, warmup=5,
    latent_dim=10, input_shape=(64, 64, 1), seed=0, **model_kwargs,
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
        **model_kwargs: further constructor arguments.

    Returns:
        A dict with `backend`, `model`, `preset`, `batch_size`,
        `steps_per_s`, `images_per_s`, `seconds`, `steps`.

    Example:

    >>> time_training("factorvae", steps=10, warmup=2)["steps_per_s"]
    """
    import keras

    from keras_factorvae import models

    pool = _pool(batch_size, input_shape, seed=seed)

    class Batches(keras.utils.PyDataset):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return pool[i % len(pool)]

    keras.utils.set_random_seed(seed)
    model = models.get(
        model_name, latent_dim=latent_dim, input_shape=input_shape,
        preset=preset, seed=seed, **model_kwargs,
    )
    model.compile()
    model.fit(Batches(max(warmup, 1)), epochs=1, verbose=0)
    start = time.perf_counter()
    history = model.fit(Batches(steps), epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    loss = float(history.history["loss"][-1])
    return {
        "backend": keras.backend.backend(),
        "model": model_name,
        "preset": preset,
        "batch_size": batch_size,
        "steps": steps,
        "seconds": round(seconds, 4),
        "steps_per_s": round(steps / seconds, 3),
        "images_per_s": round(steps * batch_size / seconds, 1),
        "final_loss": loss,
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
    }


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
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    result = time_training(
        args.model, args.preset, args.batch_size, args.steps, args.warmup,
        args.latent_dim, (args.image_size, args.image_size, args.channels),
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
