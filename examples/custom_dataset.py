"""Train and evaluate on your own labelled images.

Any `(n, H, W[, C])` image array with an `(n, k)` array of integer factor
labels becomes a ground-truth dataset with
`kfv.datasets.GroundTruthData.from_arrays(images, factors, names)`: the
training pipelines and every disentanglement metric then work on it. This
script makes such arrays itself (white squares on black, 32 x 32: x and y
position, size and brightness), trains a FactorVAE and reports the metrics
and a traversal:

    python examples/custom_dataset.py --out runs/custom --steps 2000
    python examples/custom_dataset.py --out /tmp/custom --quick   # for tests

Replace `make_arrays` by your own loading code. The metrics sample images
with given factor values, so they need every combination of factor values
to occur at least once (a full grid); training alone does not.
"""

import argparse
import itertools
import os

import numpy as np

import keras_factorvae as kfv
from keras_factorvae import reporting


def make_arrays(side=32):
    """White squares on black: every combination of four factors.

    Returns:
        `(images, factors, names)`: uint8 images `(n, side, side, 1)`, int
        factors `(n, 4)` and the factor names.
    """
    xs, ys, sizes = np.arange(8), np.arange(8), np.array([4, 6, 8])
    brightness = np.array([128, 192, 255])
    factors = np.array(list(itertools.product(
        range(len(xs)), range(len(ys)), range(len(sizes)),
        range(len(brightness)))))
    images = np.zeros((len(factors), side, side, 1), "uint8")
    for i, (fx, fy, fs, fb) in enumerate(factors):
        size = sizes[fs]
        # Positions spread over the free space so every square fits.
        left = int(round(fx * (side - size) / (len(xs) - 1)))
        top = int(round(fy * (side - size) / (len(ys) - 1)))
        images[i, top : top + size, left : left + size] = brightness[fb]
    return images, factors, ("x", "y", "size", "brightness")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/custom_dataset")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--gamma", type=float, default=20.0)
    parser.add_argument("--latent-dim", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a few steps, small networks (for tests)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    # keras.utils.set_random_seed, minus the TensorFlow import under JAX/torch.
    reporting.set_random_seed(args.seed)

    images, factors, names = make_arrays()
    data = kfv.datasets.GroundTruthData.from_arrays(images, factors, names)
    print(data)  # factor names and sizes, observation shape

    steps = 4 if args.quick else args.steps
    steps_per_epoch = min(steps, 200)
    train = data.as_py_dataset(batch_size=16 if args.quick else 64,
                               steps_per_epoch=steps_per_epoch, seed=args.seed)
    small = dict(discriminator_units=16, discriminator_layers=1) if args.quick else {}
    model = kfv.FactorVAE(latent_dim=3 if args.quick else args.latent_dim,
                          input_shape=data.observation_shape, gamma=args.gamma,
                          seed=args.seed, **small)
    model.compile()
    history = model.fit(train, epochs=max(1, steps // steps_per_epoch),
                        verbose=0 if args.quick else 2, shuffle=False)
    model.save(os.path.join(args.out, "model.keras"))

    metrics = ("mig", "factor_vae_score", "sap_score")
    scores = kfv.metrics.evaluate(
        model, data, metrics=metrics, seed=args.seed,
        **reporting.metric_overrides(metrics, "tiny" if args.quick else "small"))
    reporting.write_json(scores, os.path.join(args.out, "metrics.json"))
    pictures = reporting.save_pictures(model, data, args.out, history=history,
                                       gif=not args.quick, seed=args.seed)
    reporting.write_report(
        args.out, "FactorVAE on a custom dataset",
        [f"{len(images)} labelled images {data.observation_shape}, factors "
         f"{dict(zip(names, data.factors_num_values))}; {steps} steps."],
        scores, pictures)
    for key, value in scores.items():
        print(f"  {key}: {float(value):.3f}")
    print(f"Wrote {os.path.join(args.out, 'report.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
