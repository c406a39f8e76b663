"""Compare the model zoo on one dataset: one table and one plot.

Trains every model of `keras_factorvae.models.MODELS` (VAE, beta-VAE,
AnnealedVAE, beta-TCVAE, DIP-VAE, FactorVAE) with the same data, seed,
steps and network, then computes the same metrics for each. Writes to
`--out`: `comparison.csv`, `comparison.md` (one row per model:
hyper-parameters, final reconstruction loss, active dimensions, metrics,
training time), `comparison.png` (the metrics side by side), and every
model's `traversal_<model>.png`.

    python examples/compare_models.py --out runs/compare --steps 1500
    python examples/compare_models.py --out /tmp/compare --quick  # for tests

`--quick` uses a small 32 x 32 sub-grid of dSprites (3 shapes x 2 scales x
8 x 8 positions) and a few steps per model.
"""

import argparse
import csv
import os
import time

import numpy as np

import keras_factorvae as kfv
from keras_factorvae import reporting
from keras_factorvae import visualize

# Each model with its usual hyper-parameter (disentanglement_lib's ranges).
ZOO = {
    "vae": {},
    "beta_vae": {"beta": 4.0},
    "annealed_vae": {"gamma": 1000.0, "c_max": 25.0},
    "beta_tcvae": {"beta": 6.0},
    "dip_vae": {"variant": "i", "lambda_od": 10.0},
    "factorvae": {"gamma": 35.0},
}
METRICS = ("factor_vae_score", "mig", "sap_score")
HEADLINE = {"factor_vae_score": "factor_vae_score.eval_accuracy",
            "mig": "mig.discrete_mig", "sap_score": "sap_score.SAP_score"}


def small_dsprites():
    """A complete 32 x 32 sub-grid of dSprites as a `GroundTruthData`."""
    full = kfv.datasets.load("dsprites")
    # shape 3, scale {0, 5}, orientation 0, posX / posY every 4th of 32.
    grid = np.stack(np.meshgrid(np.arange(3), [0, 5], [0], np.arange(0, 32, 4),
                                np.arange(0, 32, 4), indexing="ij"), -1)
    factors = grid.reshape(-1, 5)
    images = full.sample_observations_from_factors(factors,
                                                   np.random.RandomState(0))
    images = images.reshape(-1, 32, 2, 32, 2, 1).max(axis=(2, 4))  # 64 -> 32
    labels = np.stack([factors[:, 0], factors[:, 1] // 5, factors[:, 3] // 4,
                       factors[:, 4] // 4], -1)
    return kfv.datasets.GroundTruthData.from_arrays(
        images, labels, ("shape", "scale", "posX", "posY"))


def plot_comparison(rows, path):
    """Grouped bars: one group per metric, one bar per model."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        values = [row[HEADLINE[m]] for m in METRICS]
        ax.bar(np.arange(len(METRICS)) + (i - (len(rows) - 1) / 2) * width,
               values, width, label=row["model"])
    ax.set_xticks(np.arange(len(METRICS)))
    ax.set_xticklabels([HEADLINE[m] for m in METRICS], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.legend(fontsize=7, ncol=3)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/compare_models")
    parser.add_argument("--dataset", default="dsprites",
                        help="a name of kfv.datasets.load")
    parser.add_argument("--steps", type=int, default=1500,
                        help="training steps per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=list(ZOO),
                        choices=list(ZOO))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="small data, a few steps, tiny metrics (tests)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    data = small_dsprites() if args.quick else kfv.datasets.load(args.dataset)
    steps = 2 if args.quick else args.steps
    batch_size = 16 if args.quick else args.batch_size
    latent_dim = 3 if args.quick else args.latent_dim
    images = data.sample_observations(256, np.random.RandomState(args.seed))
    rows = []
    for name in args.models:
        reporting.set_random_seed(args.seed)  # same initial encoder/decoder
        hparams = dict(ZOO[name])
        if name == "factorvae" and args.quick:
            hparams.update(discriminator_units=16, discriminator_layers=1)
        model = kfv.models.get(name, latent_dim=latent_dim,
                               input_shape=data.observation_shape,
                               seed=args.seed, **hparams)
        model.compile()
        # The same batches for every model.
        train = data.as_py_dataset(batch_size=batch_size, paired=True,
                                   steps_per_epoch=min(steps, 500),
                                   seed=args.seed)
        start = time.time()
        history = model.fit(train, epochs=max(1, steps // min(steps, 500)),
                            verbose=0, shuffle=False)
        seconds = time.time() - start
        scores = kfv.metrics.evaluate(
            model, data, metrics=METRICS, seed=args.seed,
            **reporting.metric_overrides(METRICS,
                                         "tiny" if args.quick else "small"))
        _, info = visualize.traversal_grid(
            model, images, path=os.path.join(args.out, f"traversal_{name}.png"))
        row = {
            "model": name,
            "hyperparameters": ", ".join(f"{k}={v:g}" if isinstance(v, float)
                                         else f"{k}={v}"
                                         for k, v in ZOO[name].items()) or "-",
            "reconstruction_loss": history.history["reconstruction_loss"][-1],
            "active_dims": latent_dim - len(info["inactive"]),
            **{HEADLINE[m]: scores[HEADLINE[m]] for m in METRICS},
            "train_seconds": seconds,
        }
        rows.append(row)
        print(f"{name:>13}: " + ", ".join(
            f"{k}={v:.3f}" for k, v in row.items() if isinstance(v, float)))

    columns = list(rows[0])
    with open(os.path.join(args.out, "comparison.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    where = "a 32x32 dSprites sub-grid" if args.quick else args.dataset
    lines = [
        f"# Model comparison on {where}",
        "",
        f"{steps} steps of batch {batch_size} per model, latent {latent_dim}, "
        f"seed {args.seed}; metric sizes "
        f"`{'tiny' if args.quick else 'small'}`.", "",
        "| " + " | ".join(columns) + " |", "|---" * len(columns) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(
            f"{v:.3f}" if isinstance(v, float) else str(v)
            for v in row.values()) + " |")
    lines += ["", "![comparison](comparison.png)", ""]
    with open(os.path.join(args.out, "comparison.md"), "w") as f:
        f.write("\n".join(lines))
    plot_comparison(rows, os.path.join(args.out, "comparison.png"))
    print(f"Wrote {os.path.join(args.out, 'comparison.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
