"""The README's first command: train a FactorVAE on the built-in dSprites.

Trains for a CPU time budget (`--minutes`, default 8: the whole demo takes
about 10 minutes on a 2-core CPU under the TensorFlow backend), computes the
disentanglement metrics, and writes a one-page report (`report.md`) with
the metric table, the training curves and the latent traversal:

    python examples/demo.py --out runs/demo --minutes 8
    python examples/demo.py --out /tmp/demo --quick     # seconds, for tests

It trains with the package's one training engine (`keras_factorvae.runs`),
so the output directory is a run directory like `keras-factorvae train`'s:
the time budget is `TrainConfig.max_seconds`, the run is backed up while it
trains, and a demo interrupted (Ctrl-C, a kill) resumes from its last backup
when started again with the same options, within what is left of its budget.
A finished demo is replaced by the next one.

Files in `--out`: report.md, model.keras, history.csv / .json,
metrics.json, run.json (so that `keras-factorvae evaluate|traverse --run
OUT` work), traversal.png / .gif, reconstructions.png, samples.png, kl.png,
curves.png, and traversals/traversal_epoch_NNN.png (one per epoch, from the
`Traversals` callback); backup/ while training.
"""

import argparse
import os
import sys

# TensorFlow's oneDNN kernels on x86 (unless TF_ENABLE_ONEDNN_OPTS is set):
# asked for before anything imports Keras, which imports TensorFlow.
from keras_factorvae.backend import prefer_tensorflow_onednn  # isort: skip

prefer_tensorflow_onednn()

import keras  # noqa: E402

import keras_factorvae as kfv  # noqa: E402

from keras_factorvae import reporting
from keras_factorvae import runs
from keras_factorvae.runs import directory

METRICS = ("factor_vae_score", "beta_vae_score", "mig", "sap_score",
           "modularity_explicitness")

# Epochs the budget leaves room for: `--minutes` stops training long before.
MAX_EPOCHS = 100_000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/demo", help="output directory")
    parser.add_argument("--minutes", type=float, default=None,
                        help="training time budget (default: 8; 1 with --quick)")
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=100,
                        help="steps between curve points / traversal pictures")
    parser.add_argument("--metric-size", default="small",
                        help="tiny, small, medium, full or an integer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh instead of resuming an interrupted "
                        "demo")
    parser.add_argument("--quick", action="store_true",
                        help="a few steps and tiny metric sizes (for tests)")
    args = parser.parse_args(argv)

    batch_size = 16 if args.quick else args.batch_size
    steps_per_epoch = 3 if args.quick else args.steps_per_epoch
    steps = (2 if args.quick else MAX_EPOCHS) * steps_per_epoch
    minutes = args.minutes if args.minutes is not None else (
        1.0 if args.quick else 8.0)
    metrics = ("factor_vae_score", "mig") if args.quick else METRICS
    size = "tiny" if args.quick else args.metric_size
    # Resume an interrupted demo; replace a finished one.
    previous = directory.read_json(os.path.join(args.out, directory.RUN_FILE))
    overwrite = (args.overwrite or previous is None
                 or previous.get("status") == "finished")
    config = runs.TrainConfig(
        model="factorvae",
        model_kwargs={"latent_dim": 10, "preset": "conv", "gamma": args.gamma,
                      "seed": args.seed},
        dataset="dsprites",  # procedural: no download
        batch_size=batch_size, steps=steps, steps_per_epoch=steps_per_epoch,
        paired=True,  # the paper's Algorithm 2; the paper's two Adams
        seed=args.seed,  # weights, noise and batches: reproducible runs
        max_seconds=minutes * 60, metrics=metrics, metric_size=size,
        traversal_every=1, verbose=0 if args.quick else 2,
        overwrite=overwrite, command=" ".join(["examples/demo.py", *(
            sys.argv[1:] if argv is None else argv)]),
    )
    try:
        run = runs.train(config, args.out)
    except runs.RunError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2

    record, scores, pictures = run.record, run.scores, run.pictures
    steps_done, train_seconds = record["steps_done"], record["train_seconds"]
    info = pictures["traversal_info"]
    active = run.model.latent_dim - len(info["inactive"])
    summary = [
        f"FactorVAE (gamma={args.gamma:g}, `conv` preset, 10 latent "
        f"dimensions, discriminator 6 x 1000, the paper's optimisers) trained "
        f"on the built-in procedural dSprites with paired batches of "
        f"{batch_size} for {steps_done} steps ({train_seconds:.0f} s, "
        f"{steps_done / max(train_seconds, 1e-9):.1f} steps/s, backend "
        f"`{keras.backend.backend()}`). Metrics took "
        f"{record['metric_seconds']:.0f} s (sample sizes `{size}`, see "
        "`keras_factorvae.reporting.METRIC_SIZES`).",
        f"{active} of {run.model.latent_dim} latent dimensions are active "
        f"(KL > {info['inactive_kl']:g} nats). Short CPU runs disentangle "
        "position and scale first; shape and orientation take much longer "
        "training (the paper trains for hundreds of thousands of steps).",
        "Metrics: `factor_vae_score` is the accuracy of the FactorVAE "
        "majority-vote classifier (1 = each factor in its own dimension, "
        "chance = 0.2); `beta_vae_score` the accuracy of the beta-VAE linear "
        "classifier; `mig` the mutual information gap (0..1); `sap_score` "
        "the SAP score; `modularity_explicitness` modularity and "
        "explicitness (Ridgeway & Mozer 2018).",
    ]
    notes = ["Per-epoch traversals (the `Traversals` callback) are in "
             "`traversals/`.",
             f"Command: `{record['command']}`"]
    # The engine wrote a generic report.md; this one explains the demo.
    report = reporting.write_report(args.out, "keras-factorvae demo report",
                                    summary, scores, pictures, notes=notes)
    print(f"Wrote {report}")
    for key in ("factor_vae_score.eval_accuracy", "mig.discrete_mig"):
        print(f"  {key}: {float(scores[key]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
