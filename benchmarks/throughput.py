"""Training throughput of the real data paths against the bench's step.

`keras_factorvae.bench` times `fit` on a pool of random batches held in
memory: the model's step with no input cost. Users train through
`model.fit(data.as_py_dataset(...))` and the `train` CLI (the engine's
callbacks: CSVLogger, backups, traversals). This script measures, on the
active backend and in one process, alternating rounds of:

- `bench`: `bench.time_training` (steady-state steps/s after warm-up);
- `py_dataset`: `fit` on `DSprites().as_py_dataset(...)`, timed the same way;
- `cli`: two `keras-factorvae train` runs of `--steps S` and `--steps 5S`,
  each one epoch, no metrics; their `train_seconds` differ by the time of
  4S steady-state steps (start-up, compilation and the last pictures cancel).

and prints each path's median steps/s and its ratio to `bench`. The process
takes the allocator and thread settings that the bench's command line and the
`train` command take (`keras_factorvae.threads`).

    KERAS_BACKEND=jax python benchmarks/throughput.py --steps 60 --rounds 3 \\
        --out docs/results/throughput/jax.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def fit_py_dataset(steps, warmup, batch_size, paired, preset, seed=0):
    """Steady-state steps/s of `fit` on the dSprites PyDataset."""
    import keras

    from keras_factorvae import bench
    from keras_factorvae import datasets
    from keras_factorvae import models

    keras.utils.set_random_seed(seed)
    model = models.get("factorvae", preset=preset, seed=seed)
    model.compile()
    data = datasets.DSprites()
    ds = data.as_py_dataset(batch_size=batch_size, paired=paired, seed=seed,
                            steps_per_epoch=warmup + steps)
    clock = bench.step_clock()
    model.fit(ds, epochs=1, verbose=0, callbacks=[clock], shuffle=False)
    times = clock.times[warmup - 1:]
    return steps / (times[-1] - times[0])


def cli_seconds(steps, batch_size, paired, preset, env):
    """`train_seconds` of a one-epoch CLI run without metrics."""
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-m", "keras_factorvae", "train",
                "--model", "factorvae", "--preset", preset, "--steps",
                str(steps), "--steps-per-epoch", str(steps), "--batch-size",
                str(batch_size), "--metrics", "none", "--verbose", "1",
                "--out", os.path.join(out, "run")]
        if paired:
            args.append("--paired")
        subprocess.run(args, env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "run", "run.json")) as f:
            return json.load(f)["train_seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60,
                        help="timed steps per round (the CLI runs S and 5S)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--preset", default="conv")
    parser.add_argument("--unpaired", action="store_true",
                        help="single batches (the CLI's default) instead of "
                        "(x, x2) pairs")
    parser.add_argument("--out", default=None, help="JSON file of the results")
    args = parser.parse_args(argv)
    # The process settings of `python -m keras_factorvae.bench` and of the
    # `train` command, before any framework starts its threads.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    from keras_factorvae.threads import configure_allocator
    from keras_factorvae.threads import configure_threads

    configure_allocator()
    configure_threads("auto")

    import keras

    from keras_factorvae import bench

    paired = not args.unpaired
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    runs = {"bench": [], "py_dataset": [], "cli": []}
    for _ in range(args.rounds):
        runs["bench"].append(bench.time_training(
            "factorvae", preset=args.preset, batch_size=args.batch_size,
            steps=args.steps, warmup=args.warmup, paired=paired)["steps_per_s"])
        runs["py_dataset"].append(fit_py_dataset(
            args.steps, args.warmup, args.batch_size, paired, args.preset))
        short = cli_seconds(args.steps, args.batch_size, paired, args.preset,
                            env)
        long = cli_seconds(5 * args.steps, args.batch_size, paired,
                           args.preset, env)
        runs["cli"].append(4 * args.steps / (long - short))
        print(json.dumps({k: round(v[-1], 3) for k, v in runs.items()}),
              flush=True)
    medians = {k: float(np.median(v)) for k, v in runs.items()}
    from keras_factorvae import backend as kfv_backend

    result = {
        "backend": keras.backend.backend(),
        "settings": vars(args),
        "machine": bench.machine_info(),
        "threads": kfv_backend.intra_op_threads(),
        "runs": runs,
        "median_steps_per_s": medians,
        "ratio_to_bench": {k: v / medians["bench"] for k, v in medians.items()},
        "time": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(json.dumps(result["ratio_to_bench"]))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
