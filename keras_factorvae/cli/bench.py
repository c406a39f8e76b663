"""`keras-factorvae bench`: times training steps (`keras_factorvae.bench`)."""

import argparse


def run(args):
    """Runs `bench`: forwards `args.bench_args` to `keras_factorvae.bench`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae import bench

    return bench.main(args.bench_args) or 0


def add_parser(subparsers):
    """Adds the `bench` subcommand.

    Its help is that of `keras_factorvae.bench`: `main` hands it every
    argument after `bench`, `--help` included.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "bench", help="time training steps", add_help=False,
        description="Forwards its arguments to keras_factorvae.bench "
        "(--model --preset --batch-size --steps --warmup --json).")
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)
