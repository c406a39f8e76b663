"""`keras-factorvae traverse`: writes the pictures of a run or a model."""

import os

from keras_factorvae import reporting
from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import add_data_options
from keras_factorvae.cli.common import add_run_options
from keras_factorvae.cli.common import load_run_data
from keras_factorvae.cli.common import load_run_model
from keras_factorvae.cli.common import positive_int
from keras_factorvae.cli.common import resolve_run
from keras_factorvae.cli.common import run_arguments


def run(args):
    """Runs `traverse`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae import visualize

    path, run_dir, config = resolve_run(*run_arguments(args))
    model = load_run_model(path)
    data = load_run_data(args, config, model)
    out = args.out or run_dir or os.path.dirname(os.path.abspath(path))
    os.makedirs(out, exist_ok=True)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    if data is None:
        # No images: a traversal around the prior mean and prior samples.
        if args.mode != "fixed":
            raise UsageError(
                f"--mode {args.mode} needs images: pass --dataset.")
        visualize.traversal_grid(
            model, None, num_steps=args.num_steps, limit=args.limit,
            path=os.path.join(out, "traversal.png"))
        visualize.prior_samples(model, seed=seed,
                                path=os.path.join(out, "samples.png"))
        print(f"Wrote {out}: traversal.png (around z = 0; pass --dataset for "
              "the KL order), samples.png")
        return 0
    images = visualize.as_images(model, data, args.num_images, seed)
    _, info = visualize.traversal_grid(
        model, images, num_steps=args.num_steps, mode=args.mode,
        limit=args.limit, num_sigma=args.num_sigma,
        inactive_kl=args.inactive_kl, base_index=args.base_index,
        path=os.path.join(out, "traversal.png"),
    )
    written = ["traversal.png"]
    if not args.no_gif:
        visualize.traversal_gif(
            model, images, path=os.path.join(out, "traversal.gif"),
            num_steps=max(args.num_steps, 15), mode=args.mode, limit=args.limit,
            num_sigma=args.num_sigma, inactive_kl=args.inactive_kl,
            base_index=args.base_index, bounce=True,
        )
        written.append("traversal.gif")
    visualize.reconstructions(model, images[:10],
                              path=os.path.join(out, "reconstructions.png"))
    visualize.prior_samples(model, seed=seed,
                            path=os.path.join(out, "samples.png"))
    visualize.plot_kl(info["kl"], inactive_kl=args.inactive_kl,
                      path=os.path.join(out, "kl.png"))
    written += ["reconstructions.png", "samples.png", "kl.png"]
    history = None
    for name in ("history.json", "history.csv"):
        if run_dir and os.path.exists(os.path.join(run_dir, name)):
            history = os.path.join(run_dir, name)
            break
    if history:
        data_h = visualize.load_history(history)
        keys = reporting.curve_keys(model, data_h)
        if keys:
            visualize.plot_history(data_h, keys,
                                   path=os.path.join(out, "curves.png"))
            written.append("curves.png")
    print(f"Wrote {out}: {', '.join(written)}")
    inactive = ", ".join(f"z{d}" for d in info["inactive"]) or "none"
    order = ", ".join(f"z{d} ({info['kl'][d]:.2f})" for d in info["dims"])
    print(f"  rows by KL (nats): {order}\n  inactive (KL < {args.inactive_kl:g}): "
          f"{inactive}")
    return 0


def add_parser(subparsers):
    """Adds the `traverse` subcommand.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "traverse", help="write traversal pictures of a run or model",
        description="Writes traversal.png (one row per latent dim, ordered "
        "by KL; inactive dims dimmed with a red bar), traversal.gif, "
        "reconstructions.png, samples.png, kl.png and curves.png.")
    add_run_options(p)
    add_data_options(p, default=None)
    p.add_argument("--out", default=None,
                   help="output directory (default: the run directory)")
    p.add_argument("--mode", choices=("fixed", "sigma", "minmax"),
                   default="fixed",
                   help="sweep [-limit, limit], +-num_sigma std of the "
                   "encoded means, or their min..max (default: fixed)")
    p.add_argument("--num-steps", type=positive_int, default=9)
    p.add_argument("--limit", type=float, default=2.0)
    p.add_argument("--num-sigma", type=float, default=2.0)
    p.add_argument("--inactive-kl", type=float, default=0.1,
                   help="KL (nats) below which a dim is inactive")
    p.add_argument("--num-images", type=positive_int, default=256,
                   help="images for the KL order and sweep ranges")
    p.add_argument("--base-index", type=int, default=0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--no-gif", action="store_true")
    p.set_defaults(func=run)
