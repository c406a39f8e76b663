"""The FactorVAE mechanism at equal steps: does raising gamma lower TC?

FactorVAE's VAE update is trained against its own discriminator's TC
estimate (`tc_loss`), so that number cannot tell whether the penalty works.
This script trains FactorVAE on the built-in procedural dSprites at several
gammas (default 0, 10, 35, 100) with the same seed, the same initial weights
and the same batches (`data.as_py_dataset(batch_size=64, paired=True,
seed=seed)`, the conv preset, latent 10, the papers' optimisers), then reads
two estimates of total correlation that no model trains on
(`keras_factorvae.metrics.total_correlation_estimates`): the Gaussian TC of
the posterior means and beta-TCVAE's minibatch-stratified estimate of the
sampled codes. If the mechanism works, both fall as gamma rises.

    KERAS_BACKEND=tensorflow taskset -c 0 python benchmarks/mechanism.py \
        --out runs/mechanism --steps 3000 --threads 1

Outputs in `--out`: `mechanism.json` (settings, machine, one row per gamma:
held-out reconstruction and KL, the training log's `tc_loss` over the last
`--log-every` steps, the discriminator's held-out `tc_loss`, both TC
estimates, wall seconds) and `mechanism.md` (the table). Each finished gamma
is written at once, so a killed run keeps what it finished and, run again
with the same settings, skips it.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from learning_curve import configure_threads  # noqa: E402  (a sibling script)

COLUMNS = (
    ("gamma", "gamma", "{:g}"),
    ("steps", "steps", "{:d}"),
    ("seed", "seed", "{:d}"),
    ("reconstruction_loss", "recon (held out)", "{:.2f}"),
    ("kl_loss", "KL (held out)", "{:.2f}"),
    ("tc_loss_logged", "tc_loss (log, last stretch)", "{:.3f}"),
    ("tc_loss_held_out", "tc_loss (D, held out)", "{:.3f}"),
    ("discriminator_accuracy", "D accuracy (held out)", "{:.3f}"),
    ("gaussian_tc_mean", "Gaussian TC of means", "{:.3f}"),
    ("mss_tc_sampled", "MSS TC of samples", "{:.3f}"),
    ("train_seconds", "train s", "{:.0f}"),
    ("wall_seconds", "wall s", "{:.0f}"),
)


def held_out_losses(model, data, seed, n=1024, batch=256):
    """Loss terms (sampled codes) averaged over `n` held-out images.

    The second batch of each pair is another held-out batch, so that the
    discriminator's accuracy is measured on independent codes as in training.
    """
    rng = np.random.RandomState(10_000 + seed)
    x = data.sample_observations(n, rng)
    x2 = data.sample_observations(n, rng)
    terms = [
        model.compute_losses(x[i : i + batch], x2[i : i + batch])
        for i in range(0, n, batch)
    ]
    return {k: float(np.mean([t[k] for t in terms])) for k in terms[0]}


def train_one(gamma, args, data):
    """Trains FactorVAE at `gamma`; returns its row of the table."""
    import keras_factorvae as kfv
    from keras_factorvae import metrics
    from keras_factorvae import reporting

    start = time.time()
    reporting.set_random_seed(args.seed)
    model = kfv.FactorVAE(
        latent_dim=args.latent_dim, input_shape=data.observation_shape,
        preset=args.preset, gamma=gamma, seed=args.seed,
    )
    model.compile()
    # A fresh dataset per gamma: epoch e, batch i is the same pair for all.
    train = data.as_py_dataset(
        batch_size=args.batch_size, paired=True, seed=args.seed,
        steps_per_epoch=args.log_every,
    )
    fit_start = time.time()
    history = model.fit(
        train, epochs=args.steps // args.log_every, verbose=0, shuffle=False
    )
    train_seconds = time.time() - fit_start
    logs = history.history
    held = held_out_losses(model, data, args.seed)
    row = {
        "gamma": float(gamma), "steps": args.steps, "seed": args.seed,
        "reconstruction_loss": held["reconstruction_loss"],
        "kl_loss": held["kl_loss"],
        "tc_loss_logged": float(logs["tc_loss"][-1]),
        "tc_loss_held_out": held["tc_loss"],
        "discriminator_accuracy": held["discriminator_accuracy"],
        "discriminator_accuracy_logged": float(logs["discriminator_accuracy"][-1]),
        "tc_loss_log": [float(v) for v in logs["tc_loss"]],
    }
    row.update(metrics.total_correlation_estimates(
        model, data, num_points=args.eval_points, seed=args.seed))
    row["train_seconds"] = round(train_seconds, 1)
    row["wall_seconds"] = round(time.time() - start, 1)
    return row


def write_table(path, rows):
    with open(path, "w") as f:
        f.write("| " + " | ".join(title for _, title, _ in COLUMNS) + " |\n")
        f.write("|" + "---|" * len(COLUMNS) + "\n")
        for row in sorted(rows, key=lambda r: r["gamma"]):
            f.write("| " + " | ".join(
                fmt.format(row[key]) for key, _, fmt in COLUMNS) + " |\n")



def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/mechanism")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--gammas", type=float, nargs="+",
                        default=[0.0, 10.0, 35.0, 100.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="conv")
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--log-every", type=int, default=500,
                        help="steps per Keras epoch; the logged tc_loss is "
                             "the mean over the last one")
    parser.add_argument("--eval-points", type=int, default=2048,
                        help="images of the TC estimates (multiple of 256)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads (TensorFlow, torch); 0: default")
    args = parser.parse_args(argv)
    if args.steps % args.log_every:
        parser.error("--steps must be a multiple of --log-every")
    return args


def main(argv=None):
    import keras

    from keras_factorvae import datasets
    from keras_factorvae.bench import machine_info

    args = parse_args(argv)
    configure_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "mechanism.json")
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "gammas")}
    report = {"settings": settings, "rows": []}
    if os.path.exists(json_path):
        with open(json_path) as f:
            old = json.load(f)
        if old["settings"] == settings:
            report = old
    report.update(
        backend=keras.backend.backend(), keras=keras.__version__,
        machine=machine_info(), command=" ".join(sys.argv),
    )
    data = datasets.load("dsprites")
    done = {row["gamma"] for row in report["rows"]}
    for gamma in args.gammas:
        if float(gamma) in done:
            continue
        row = train_one(gamma, args, data)
        report["rows"].append(row)
        report["wall_seconds"] = round(
            sum(r["wall_seconds"] for r in report["rows"]), 1)
        tmp = json_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        os.replace(tmp, json_path)
        write_table(os.path.join(args.out, "mechanism.md"), report["rows"])
        print(f"gamma {gamma:g}: Gaussian TC {row['gaussian_tc_mean']:.3f}, "
              f"MSS TC {row['mss_tc_sampled']:.3f}, recon "
              f"{row['reconstruction_loss']:.1f}, {row['wall_seconds']:.0f} s",
              flush=True)
    return report


if __name__ == "__main__":
    # TensorFlow's oneDNN kernels on x86, before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()

    main()
