"""Reproduce FactorVAE vs beta-VAE vs VAE on the built-in dSprites.

    python examples/reproduce.py --out runs/repro --steps 3000 --seeds 0 1
    python examples/reproduce.py --quick --out /tmp/repro     # a smoke run

Run it again with the same --out to resume: finished models are skipped.
"""

import argparse
import json

from keras_factorvae.reproduce import DEFAULT_METRICS
from keras_factorvae.reproduce import parse_methods
from keras_factorvae.reproduce import run_study


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/repro")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--steps-per-epoch", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--gammas", type=float, nargs="+", default=[10.0, 35.0])
    parser.add_argument("--beta", type=float, default=4.0)
    parser.add_argument("--metric-size", type=int, default=None,
                        help="num_train of every metric (num_eval/num_test half "
                        "of it); default: the study's sizes")
    parser.add_argument("--metrics", nargs="+", default=list(DEFAULT_METRICS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    sizes = None
    if args.metric_size:
        n = args.metric_size
        sizes = dict(num_train=n, num_eval=n // 2, num_test=n // 2,
                     num_variance_estimate=n)
    steps, per_epoch = args.steps, args.steps_per_epoch
    if args.quick:
        steps, per_epoch = 4, 2
        sizes = dict(num_train=100, num_eval=50, num_variance_estimate=100)
        args.metrics = ["factor_vae_score", "mig"]
    rows = run_study(args.out, parse_methods(args.gammas, args.beta), tuple(args.seeds),
                     steps, per_epoch, metrics=tuple(args.metrics), metric_sizes=sizes,
                     verbose=0 if args.quick else 2)
    print(json.dumps([{k: r[k] for k in ("run", "seed", "reconstruction_loss")
                       if k in r} for r in rows]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
