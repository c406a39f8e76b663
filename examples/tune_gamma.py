"""Tunes FactorVAE's gamma on dSprites with KerasTuner; resumable, distributable.

    python examples/tune_gamma.py --directory runs/tuning --max-trials 20
    python examples/tune_gamma.py --quick            # seconds, for a smoke test

Run it again with the same --directory/--project-name to resume an
interrupted search (completed trials are kept). Run it under
examples/launch_tuning_workers.py for one worker per GPU. Writes
results.csv/json/png, best_hyperparameters.json and best_model.keras to
DIRECTORY/PROJECT_results (on the chief only, in a distributed search).
"""

import argparse
import json
import os

import keras_factorvae as kfv


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dsprites",
                        help="a name of kfv.datasets.load")
    parser.add_argument("--objective", default="factor_vae_score",
                        help="factor_vae_score, mig or unsupervised")
    parser.add_argument("--tuner", default="bayesian",
                        choices=("bayesian", "random", "hyperband"))
    parser.add_argument("--max-trials", type=int, default=None,
                        help="default: 20 (2 with --quick)")
    parser.add_argument("--gamma-min", type=float, default=1.0)
    parser.add_argument("--gamma-max", type=float, default=100.0)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--metric-sizes", type=int, default=1000)
    parser.add_argument("--tc-weight", type=float, default=1.0,
                        help="weight of TC in the unsupervised objective")
    parser.add_argument("--directory", default="runs/tuning")
    parser.add_argument("--project-name", default="gamma")
    parser.add_argument("--results", default=None,
                        help="default: DIRECTORY/PROJECT_results")
    parser.add_argument("--overwrite", action="store_true",
                        help="start afresh instead of resuming")
    parser.add_argument("--num-workers", type=int, default=None,
                        help="chief only: workers to wait for")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="2 tiny trials of 2 steps (smoke test)")
    args = parser.parse_args(argv)

    model_kwargs = {"latent_dim": args.latent_dim}
    run = dict(max_trials=args.max_trials or 20, epochs=args.epochs,
               steps_per_epoch=args.steps_per_epoch,
               batch_size=args.batch_size, metric_sizes=args.metric_sizes)
    if args.quick:
        model_kwargs = dict(latent_dim=3, discriminator_units=16,
                            discriminator_layers=1)
        run = dict(max_trials=args.max_trials or 2, epochs=1,
                   steps_per_epoch=2, batch_size=8, metric_sizes=100,
                   num_held_out=64)

    data = kfv.datasets.load(args.dataset)
    tuner = kfv.tuning.tune(
        data, objective=args.objective, tuner=args.tuner,
        directory=args.directory, project_name=args.project_name,
        overwrite=args.overwrite, model="factorvae",
        search={"gamma": (args.gamma_min, args.gamma_max)},
        tc_weight=args.tc_weight, num_workers=args.num_workers,
        seed=args.seed, verbose=0 if args.quick else 1,
        **run, **model_kwargs)
    if kfv.tuning.is_worker():
        # The chief holds the trials and writes the results.
        print(f"Worker {os.environ.get('KERASTUNER_TUNER_ID')} done.")
        return 0
    results = args.results or os.path.join(
        args.directory, f"{args.project_name}_results")
    paths = kfv.tuning.write_results(tuner, results)
    best = tuner.get_best_hyperparameters(1)[0].values
    print(json.dumps({"best_hyperparameters": best, "files": paths}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
