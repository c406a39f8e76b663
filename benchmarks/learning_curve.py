"""A resumable learning curve: FactorVAE, beta-VAE and the VAE on dSprites.

Every model trains with the same seed on the same batches (the built-in
procedural dSprites, paired batches, batch 64, the papers' optimisers and
the conv preset). Training advances in chunks of `--checkpoint-every`
steps; after each chunk the model is saved (weights, optimizer state and
noise state: `model.save`), so a killed study resumes where it stopped, on
the batches and noise an uninterrupted run would have used. Models take turns
in stretches of `--eval-every` steps, so that an interrupted study has
curves of equal length. At every multiple of `--eval-every` steps the
disentanglement metrics (`--metric-size`), the held-out losses and the two
TC estimates of `keras_factorvae.metrics.total_correlation_estimates` are
written to `curve.json`, and a plot and a table are redrawn.

    KERAS_BACKEND=tensorflow taskset -c 1 python benchmarks/learning_curve.py \
        --out runs/curve --steps 30000 --threads 1

Outputs in `--out`: `curve.json` (one row per model and evaluated step),
`curve.md`, `curve.png`, `study.json` (settings and wall time) and, per
model, `<run>/traversals/step_NNNNNN.png` and the latest checkpoint.
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np

DEFAULT_RUNS = (
    ("factorvae_gamma35", "factorvae", {"gamma": 35.0}),
    ("beta_vae_beta4", "beta_vae", {"beta": 4.0}),
    ("vae", "vae", {}),
)

ALL_METRICS = (
    "factor_vae_score", "beta_vae_score", "mig", "dci", "sap_score",
    "modularity_explicitness", "irs", "unsupervised",
)

SHOWN = (
    ("reconstruction_loss", "recon"), ("kl_loss", "KL"),
    ("gaussian_tc_mean", "TC (Gauss, means)"),
    ("mss_tc_sampled", "TC (MSS, samples)"),
    ("factor_vae_score.eval_accuracy", "FactorVAE score"),
    ("beta_vae_score.eval_accuracy", "BetaVAE score"),
    ("mig.discrete_mig", "MIG"), ("dci.disentanglement", "DCI dis."),
    ("sap_score.SAP_score", "SAP"),
    ("modularity_explicitness.modularity_score", "modularity"),
)


def _write_json(data, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def _read_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def held_out_losses(model, data, seed, n=1024, batch=256):
    """Loss terms (with sampled codes) averaged over `n` held-out images."""
    rng = np.random.RandomState(10_000 + seed)
    x = data.sample_observations(n, rng)
    terms = [model.compute_losses(x[i : i + batch]) for i in range(0, n, batch)]
    return {k: float(np.mean([t[k] for t in terms])) for k in terms[0]}


class CurveRun:
    """One model of the study: its checkpoint, step counter and rows."""

    def __init__(self, out, name, model_name, kwargs, args, data):
        self.dir = os.path.join(out, name)
        self.name, self.model_name, self.kwargs = name, model_name, kwargs
        self.args, self.data = args, data
        os.makedirs(os.path.join(self.dir, "traversals"), exist_ok=True)
        self.state_path = os.path.join(self.dir, "state.json")
        self.state = _read_json(self.state_path, {"step": 0, "train_seconds": 0.0})
        self.model = None

    @property
    def step(self):
        return self.state["step"]

    def _checkpoint_path(self, step):
        return os.path.join(self.dir, f"checkpoint_{step:06d}.keras")

    def load(self):
        import keras

        from keras_factorvae import models
        from keras_factorvae import reporting

        if self.model is not None:
            return self.model
        if self.step:
            self.model = keras.models.load_model(self._checkpoint_path(self.step))
            print(f"[{self.name}] resumed at step {self.step}", flush=True)
        else:
            reporting.set_random_seed(self.args.seed)
            self.model = models.get(
                self.model_name, latent_dim=10, input_shape=(64, 64, 1),
                preset="conv", seed=self.args.seed, **self.kwargs)
            self.model.compile(**self._compile_kwargs())
        return self.model

    def _compile_kwargs(self):
        spe = self.args.steps_per_execution
        return {"steps_per_execution": spe} if spe > 1 else {}

    def train_chunk(self, train):
        """Trains one checkpoint interval and saves the model."""
        model = self.load()
        every = self.args.checkpoint_every
        train.epoch = self.step // every
        start = time.time()
        model.fit(train, epochs=1, verbose=0, shuffle=False)
        self.state["train_seconds"] += time.time() - start
        new_step = self.step + every
        model.save(self._checkpoint_path(new_step))
        old = self.step
        self.state["step"] = new_step
        _write_json(self.state, self.state_path)
        if old and os.path.exists(self._checkpoint_path(old)):
            os.remove(self._checkpoint_path(old))
        self.traversal()

    def traversal(self):
        from keras_factorvae import visualize

        path = os.path.join(self.dir, "traversals", f"step_{self.step:06d}.png")
        if not os.path.exists(path):
            visualize.traversal_grid(self.model, self.data, num_images=256,
                                     seed=0, path=path)

    def evaluate(self):
        from keras_factorvae import metrics
        from keras_factorvae import reporting

        model, seed = self.load(), self.args.seed
        start = time.time()
        row = {"run": self.name, "method": self.model_name, **self.kwargs,
               "seed": seed, "step": self.step,
               "train_seconds": round(self.state["train_seconds"], 1)}
        row.update(held_out_losses(model, self.data, seed))
        row.update(metrics.total_correlation_estimates(model, self.data, seed=seed))
        names = tuple(self.args.metrics)
        row.update(metrics.evaluate(
            model, self.data, metrics=names, seed=seed,
            **reporting.metric_overrides(names, self.args.metric_size)))
        row["metric_seconds"] = round(time.time() - start, 1)
        return reporting.json_safe(row)


def write_outputs(out, rows, runs):
    with open(os.path.join(out, "curve.md"), "w") as f:
        f.write("| run | step | " + " | ".join(t for _, t in SHOWN) + " |\n")
        f.write("|---|---|" + "---|" * len(SHOWN) + "\n")
        for row in sorted(rows, key=lambda r: (r["run"], r["step"])):
            cells = [f"{row[k]:.3f}" if isinstance(row.get(k), float) else ""
                     for k, _ in SHOWN]
            f.write(f"| {row['run']} | {row['step']} | " + " | ".join(cells) + " |\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("factor_vae_score.eval_accuracy", "FactorVAE score"),
              ("mig.discrete_mig", "MIG"),
              ("reconstruction_loss", "reconstruction (held out)"),
              ("gaussian_tc_mean", "Gaussian TC of means (nats)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4))
    for ax, (key, title) in zip(axes, panels):
        for name, _, _ in runs:
            mine = sorted((r for r in rows if r["run"] == name and key in r),
                          key=lambda r: r["step"])
            ax.plot([r["step"] for r in mine], [r[key] for r in mine],
                    marker="o", label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training steps")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curve.png"), dpi=80)
    plt.close(fig)


def configure_threads(threads):
    """Intra- and inter-op threads of TensorFlow or torch, before any op."""
    import keras

    if not threads:
        return
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/curve")
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metric-size", default="small")
    parser.add_argument("--metrics", nargs="+", default=list(ALL_METRICS))
    parser.add_argument("--runs", nargs="+", default=None,
                        help="subset of the run names (default: all three)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads (TensorFlow, torch); 0: default")
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="batches per compiled call (GPU runs)")
    args = parser.parse_args(argv)
    if args.eval_every % args.checkpoint_every or args.steps % args.eval_every:
        parser.error("--steps must be a multiple of --eval-every, which must be "
                     "a multiple of --checkpoint-every")
    return args


def run_study(args):
    """Runs or resumes the study; returns the rows of `curve.json`."""
    import keras

    from keras_factorvae import datasets

    configure_threads(args.threads)
    out = args.out
    os.makedirs(out, exist_ok=True)
    runs = [r for r in DEFAULT_RUNS if args.runs is None or r[0] in args.runs]
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "threads")}
    study_path = os.path.join(out, "study.json")
    study = _read_json(study_path, {"settings": settings, "wall_seconds": 0.0})
    changed = {k for k in ("seed", "batch_size", "checkpoint_every")
               if study["settings"].get(k) != settings[k]}
    if changed:
        sys.exit(f"{out} holds a study with other {sorted(changed)}; choose "
                 "another --out")
    study["settings"].update(steps=args.steps)
    study.update(backend=keras.backend.backend(), command=" ".join(sys.argv))
    data = datasets.load("dsprites")
    train = data.as_py_dataset(batch_size=args.batch_size, paired=True,
                               seed=args.seed,
                               steps_per_epoch=args.checkpoint_every)
    curve_path = os.path.join(out, "curve.json")
    rows = _read_json(curve_path, [])
    done = {(r["run"], r["step"]) for r in rows}
    members = [CurveRun(out, *r, args, data) for r in runs]
    start = time.time()
    def needs_eval(m):
        return m.step and m.step % args.eval_every == 0 and (m.name, m.step) not in done

    while True:
        pending = [m for m in members if m.step < args.steps or needs_eval(m)]
        if not pending:
            break
        for member in pending:
            if needs_eval(member):
                rows.append(member.evaluate())
                done.add((member.name, member.step))
                _write_json(rows, curve_path)
                write_outputs(out, rows, runs)
                print(f"[{member.name}] step {member.step}: FactorVAE score "
                      f"{rows[-1].get('factor_vae_score.eval_accuracy')}, MIG "
                      f"{rows[-1].get('mig.discrete_mig')}", flush=True)
            target = min(args.steps,
                         (member.step // args.eval_every + 1) * args.eval_every)
            while member.step < target:
                member.train_chunk(train)
                print(f"[{member.name}] step {member.step} "
                      f"({member.state['train_seconds']:.0f} s training)",
                      flush=True)
            study["wall_seconds"] += time.time() - start
            start = time.time()
            _write_json(study, study_path)
    for member in members:
        for path in glob.glob(os.path.join(member.dir, "checkpoint_*.keras")):
            if path != member._checkpoint_path(member.step):
                os.remove(path)
    return rows


if __name__ == "__main__":
    # TensorFlow's oneDNN kernels on x86, before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()

    run_study(parse_args())
