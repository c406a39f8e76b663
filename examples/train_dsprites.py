"""Train a FactorVAE on dSprites with the Keras callbacks of the package.

The plain-Keras version of `keras-factorvae train`: `model.fit` on the
procedural dSprites (or the real one from tensorflow-datasets with
`--source tfds`), with

- `DisentanglementMetrics`: MIG and the FactorVAE metric every
  `--eval-every` epochs, logged as `val_discrete_mig` /
  `val_factor_vae_score` (so `History`, `CSVLogger`, `TensorBoard` see them),
- `Traversals`: a traversal picture per epoch (and into TensorBoard with
  `--tensorboard`),
- `BackupAndRestore`: rerun the same command after an interruption to
  resume,

then the final metrics and pictures (`report.md`):

    python examples/train_dsprites.py --out runs/train_dsprites --steps 20000
    python examples/train_dsprites.py --out /tmp/t --quick   # for tests
"""

import argparse
import os

# TensorFlow's oneDNN kernels on x86 (unless TF_ENABLE_ONEDNN_OPTS is set):
# asked for before anything imports Keras, which imports TensorFlow.
from keras_factorvae.backend import prefer_tensorflow_onednn  # isort: skip

prefer_tensorflow_onednn()

import keras  # noqa: E402

import keras_factorvae as kfv  # noqa: E402
import numpy as np

from keras_factorvae import reporting
from keras_factorvae import visualize
from keras_factorvae.callbacks.disentanglement import DisentanglementMetrics
from keras_factorvae.callbacks.traversals import Traversals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/train_dsprites")
    parser.add_argument("--source", default=None,
                        help="procedural (default) or tfds (real dSprites)")
    parser.add_argument("--data-dir", default=None, help="tfds data directory")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--eval-every", type=int, default=5,
                        help="epochs between metric evaluations")
    parser.add_argument("--tensorboard", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a few steps, small networks (for tests)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    # keras.utils.set_random_seed, minus the TensorFlow import under JAX/torch.
    reporting.set_random_seed(args.seed)

    data = kfv.datasets.load("dsprites", source=args.source,
                             data_dir=args.data_dir)
    if args.quick:
        args.steps, args.steps_per_epoch, args.batch_size = 4, 2, 16
        args.latent_dim, args.eval_every = 3, 1
    train = data.as_py_dataset(batch_size=args.batch_size, paired=True,
                               steps_per_epoch=args.steps_per_epoch,
                               seed=args.seed)
    small = dict(discriminator_units=16, discriminator_layers=1) if args.quick else {}
    model = kfv.FactorVAE(latent_dim=args.latent_dim,
                          input_shape=data.observation_shape, gamma=args.gamma,
                          seed=args.seed, **small)
    model.compile()

    sizes = reporting.metric_overrides(("mig", "factor_vae_score"),
                                       "tiny" if args.quick else "small")
    callbacks = [
        # Metrics first: the callbacks after it see `val_*` in the logs.
        DisentanglementMetrics(data, metrics=("mig", "factor_vae_score"),
                               every_n_epochs=args.eval_every, **sizes),
        Traversals(directory=os.path.join(args.out, "traversals"),
                   images=data, mode="sigma"),
        keras.callbacks.CSVLogger(os.path.join(args.out, "history.csv"),
                                  append=True),
        keras.callbacks.BackupAndRestore(os.path.join(args.out, "backup")),
    ]
    if args.tensorboard:
        # Traversals finds this callback and adds its images to the logs.
        callbacks.append(keras.callbacks.TensorBoard(
            os.path.join(args.out, "logs")))
    history = model.fit(train, epochs=args.steps // args.steps_per_epoch,
                        callbacks=callbacks, shuffle=False,
                        verbose=0 if args.quick else 1)
    model.save(os.path.join(args.out, "model.keras"))

    metrics = ("factor_vae_score", "mig", "beta_vae_score", "sap_score")
    if args.quick:
        metrics = metrics[:2]
    scores = kfv.metrics.evaluate(model, data, metrics=metrics, seed=args.seed,
                                  **reporting.metric_overrides(
                                      metrics, "tiny" if args.quick else "small"))
    reporting.write_json(scores, os.path.join(args.out, "metrics.json"))
    images = data.sample_observations(256, np.random.RandomState(args.seed))
    pictures = reporting.save_pictures(model, images, args.out,
                                       gif=not args.quick, history=history)
    # The metric-vs-epoch curves from the callback's logs.
    visualize.plot_history(history, ["val_discrete_mig", "val_factor_vae_score"],
                           path=os.path.join(args.out, "metrics_vs_epoch.png"))
    reporting.write_report(
        args.out, "FactorVAE on dSprites",
        [f"gamma={args.gamma:g}, latent {args.latent_dim}, {args.steps} steps "
         f"of batch {args.batch_size}."],
        scores, pictures,
        notes=["## Metrics during training", "",
               "![metrics vs epoch](metrics_vs_epoch.png)"])
    print(f"Wrote {os.path.join(args.out, 'report.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
