"""Our FactorVAE against an independent PyTorch twin, scored by the same metrics.

Trains `keras_factorvae.FactorVAE(latent_dim=10, input_shape=(64, 64, 1),
preset="conv_paper", gamma=..., discriminator_layers=6)` with the default
`compile()` (on whatever `KERAS_BACKEND` says) and the plain-PyTorch twin of
`benchmarks/twin_torch.py` for the same number of steps on the same batches,
for every seed, and scores both with the same code:

- held-out reconstruction and KL: the same 1024 dSprites images for every run
  (`RandomState(10000)`), codes sampled with the same noise
  (`RandomState(10001)`), losses computed here in numpy from each model's
  means, log-variances and decoder logits (sigmoid cross-entropy summed over
  pixels and KL summed over dims, batch means: the training losses);
- the discriminator's TC: `mean(D(z)[:, 0] - D(z)[:, 1])` of those codes;
- `gaussian_tc_mean` and `mss_tc_sampled`: the two estimates of
  `keras_factorvae.metrics.total_correlation_estimates`, computed exactly as
  it does (2048 images and codes drawn with `RandomState(seed)`, MSS batches
  of 256) from each model's means and log-variances;
- `metrics.evaluate(..., metrics=("factor_vae_score", "mig"), seed=seed)`
  with `reporting.metric_overrides(names, --metric-size)`: the twin's encoder
  mean is wrapped as the representation function.

Data order: both implementations train on batch `i` of epoch `e` of
`data.as_py_dataset(batch_size=64, paired=True, seed=seed,
steps_per_epoch=--epoch-steps)` (our batch plan: data, not model code); the
twin draws its own initial weights, noise and permutations. Each model's own
seed is the run's seed. With `--init ours` the twin starts instead from the
very weights ours starts from at the same seed (built as `train_ours` builds
them, copied by `twin_lockstep.copy_ours_to_twin`): a twin run and ours at
one seed then differ in their noise and permutations only.

Resumable per finished run: every `(impl, seed)` writes `runs/<impl>_seed<k>.json`
under `--out` when it has trained and been scored (and its weights beside it:
`.weights.h5` for ours, `.pt` state dicts for the twin); a rerun skips the runs
whose file exists (with the same settings; other settings stop the script).
After every run, `twin_compare.json` (settings, runs, summary) and
`twin_compare.md` (one row per run, then per implementation the mean and the
min..max over seeds) are rewritten from the run files. Two processes may share
one `--out` with disjoint `--impls` or `--seeds` (e.g. one per core).

The full comparison (>= 5000 steps, 2 seeds), one core:

    KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1 \\
      taskset -c 0 .venv/bin/python benchmarks/twin_compare.py \\
      --out runs/twin --steps 5000 --seeds 0 1 --threads 1

Smoke test (minutes): `--out runs/twin_smoke --steps 200 --metric-size tiny`.
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the sibling scripts: twin_torch, learning_curve
HELD_OUT_SEED = 10_000
IMPLS = ("ours", "twin")

# (key, markdown title) of the table's columns.
COLUMNS = (
    ("steady_steps_per_second", "steps/s"),
    ("steps_per_cpu_second", "steps/CPU s"),
    ("reconstruction_loss", "recon (held out)"),
    ("kl_loss", "KL (held out)"),
    ("gaussian_tc_mean", "TC Gauss (means)"),
    ("mss_tc_sampled", "TC MSS (samples)"),
    ("discriminator_tc", "TC (discriminator)"),
    ("factor_vae_score.eval_accuracy", "FactorVAE score"),
    ("mig.discrete_mig", "MIG"),
)

# Settings a finished run must share with the present invocation.
RUN_SETTINGS = ("steps", "gamma", "batch_size", "epoch_steps", "metric_size",
                "metrics", "held_out", "tc_points", "init", "twin_adam_epsilon",
                "ours_adam_epsilon")
# What a run file written before a setting existed ran with.
SETTING_DEFAULTS = {"twin_adam_epsilon": "torch", "ours_adam_epsilon": "keras"}


def load_twin():
    """benchmarks/twin_torch.py (a sibling script, imported on first use)."""
    import twin_torch

    return twin_torch


def _write_json(data, path):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# One interface over both implementations, numpy in and out
# --------------------------------------------------------------------------

class OursAdapter:
    def __init__(self, model):
        self.model = model

    def stats(self, x):
        from keras import ops

        mean, logvar = self.model.encode_stats(x)
        return ops.convert_to_numpy(mean), ops.convert_to_numpy(logvar)

    def decoder_logits(self, z):
        from keras import ops

        return ops.convert_to_numpy(self.model.decoder(z.astype("float32")))

    def discriminator_logits(self, z):
        from keras import ops

        return ops.convert_to_numpy(self.model.discriminator(z.astype("float32")))

    @property
    def representation(self):
        return self.model  # metrics.evaluate calls its `encode`


    def save(self, stem):
        self.model.save_weights(f"{stem}.weights.h5")


class TwinAdapter:
    def __init__(self, twin):
        self.twin = twin

    def save(self, stem):
        import torch

        torch.save({name: getattr(self.twin, name).state_dict()
                    for name in ("encoder", "decoder", "discriminator")},
                   f"{stem}.pt")

    def stats(self, x):
        return self.twin.encode_stats(x)

    def decoder_logits(self, z):
        return self.twin.decode_logits(z)

    def discriminator_logits(self, z):
        return self.twin.discriminator_logits(z)

    @property
    def representation(self):
        return self.twin.encode


def _stats_in_batches(adapter, x, batch_size=256):
    means, logvars = [], []
    for s in range(0, len(x), batch_size):
        m, lv = adapter.stats(x[s : s + batch_size])
        means.append(np.asarray(m, np.float64))
        logvars.append(np.asarray(lv, np.float64))
    return np.concatenate(means), np.concatenate(logvars)


def held_out_terms(adapter, data, n=1024, batch_size=256):
    """Reconstruction, KL and discriminator TC on the shared held-out set."""
    x = data.sample_observations(n, np.random.RandomState(HELD_OUT_SEED))
    mean, logvar = _stats_in_batches(adapter, x, batch_size)
    eps = np.random.RandomState(HELD_OUT_SEED + 1).standard_normal(mean.shape)
    z = (mean + np.exp(0.5 * logvar) * eps).astype("float32")
    recon, tc = [], []
    for s in range(0, n, batch_size):
        logits = np.asarray(adapter.decoder_logits(z[s : s + batch_size]),
                            np.float64)
        target = x[s : s + batch_size].astype(np.float64)
        per_pixel = np.logaddexp(0.0, logits) - logits * target
        recon.append(per_pixel.reshape(len(target), -1).sum(1))
        d = np.asarray(adapter.discriminator_logits(z[s : s + batch_size]),
                       np.float64)
        tc.append(d[:, 0] - d[:, 1])
    from keras_factorvae.losses import gaussian_kl_terms

    kl = gaussian_kl_terms(mean, logvar, xp=np)
    return {"reconstruction_loss": float(np.mean(np.concatenate(recon))),
            "kl_loss": float(np.mean(kl.sum(1))),
            "discriminator_tc": float(np.mean(np.concatenate(tc)))}


def tc_estimates(adapter, data, num_points=2048, batch_size=256, seed=0):
    """`metrics.total_correlation_estimates` from an adapter's statistics."""
    from keras_factorvae.metrics import total_correlation_estimates

    return total_correlation_estimates(None, data, num_points, batch_size,
                                       seed, stats_fn=adapter.stats)


def score(adapter, data, seed, args):
    from keras_factorvae import metrics
    from keras_factorvae import reporting

    start = time.time()
    row = held_out_terms(adapter, data, n=args.held_out)
    row.update(tc_estimates(adapter, data, num_points=args.tc_points, seed=seed))
    names = tuple(args.metrics)
    row.update(metrics.evaluate(
        adapter.representation, data, metrics=names, seed=seed,
        **reporting.metric_overrides(names, args.metric_size)))
    row["metric_seconds"] = round(time.time() - start, 1)
    return row


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

def _epochs(args):
    epoch_steps = min(args.epoch_steps, args.steps)
    if args.steps % epoch_steps:
        sys.exit(f"--steps ({args.steps}) must be a multiple of --epoch-steps "
                 f"({epoch_steps})")
    return epoch_steps, args.steps // epoch_steps


def torch_epsilon_adam(**kwargs):
    """A Keras Adam that adds epsilon where torch does.

    Torch's update is `lr / (1 - beta_1^t) * m / (sqrt(v) / sqrt(1 - beta_2^t)
    + eps)`; Keras' is `lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m /
    (sqrt(v) + eps)`. Keras' form with `eps * sqrt(1 - beta_2^t)` in place of
    `eps` is torch's update. Being a subclass, it takes Keras' own (unfused)
    apply path.
    """
    import keras
    from keras import ops

    class TorchEpsilonAdam(keras.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            dtype = variable.dtype
            lr = ops.cast(learning_rate, dtype)
            gradient = ops.cast(gradient, dtype)
            local_step = ops.cast(self.iterations + 1, dtype)
            beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
            beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
            index = self._get_variable_index(variable)
            m, v = self._momentums[index], self._velocities[index]
            alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            self.assign_add(
                m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
            self.assign_add(v, ops.multiply(
                ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
            epsilon = self.epsilon * ops.sqrt(1 - beta_2_power)
            self.assign_sub(variable, ops.divide(
                ops.multiply(m, alpha), ops.add(ops.sqrt(v), epsilon)))

    return TorchEpsilonAdam(**kwargs)


def ours_optimizer(placement):
    """The default `compile()` pair, or the same Adams with torch's epsilon."""
    if placement == "keras":
        return None
    from keras_factorvae.optimizers import PairedOptimizer

    return PairedOptimizer(
        torch_epsilon_adam(learning_rate=1e-4, beta_1=0.9, beta_2=0.999,
                           epsilon=1e-8),
        torch_epsilon_adam(learning_rate=1e-4, beta_1=0.5, beta_2=0.9,
                           epsilon=1e-8))


def build_ours(gamma, seed, set_seed=True):
    """Our model as every run builds it; `set_seed` seeds the initial
    weights first (`reporting.set_random_seed`), as training does."""
    from keras_factorvae import FactorVAE
    from keras_factorvae import reporting

    if set_seed:
        reporting.set_random_seed(seed)
    return FactorVAE(latent_dim=10, input_shape=(64, 64, 1), preset="conv_paper",
                     gamma=gamma, discriminator_layers=6, seed=seed)


def train_ours(data, seed, args):
    """Trains our FactorVAE; returns (adapter, timing, last logs)."""
    epoch_steps, epochs = _epochs(args)
    model = build_ours(args.gamma, seed)
    model.compile(optimizer=ours_optimizer(args.ours_adam_epsilon))
    ds = data.as_py_dataset(batch_size=args.batch_size, paired=True, seed=seed,
                            steps_per_epoch=epoch_steps)
    from keras_factorvae.datasets.py_dataset import EpochSlice

    times, logs = [], {}
    for epoch in range(epochs):
        # A fixed epoch of the plan: `fit` calls the PyDataset's epoch hooks,
        # which would move it on, and the twin must get the same batches.
        batches = EpochSlice(ds, epoch, 0)
        start, cpu = time.time(), time.process_time()
        history = model.fit(batches, epochs=1, verbose=0, shuffle=False)
        times.append((time.time() - start, time.process_time() - cpu))
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        _progress("ours", seed, (epoch + 1) * epoch_steps, times, logs)
    return OursAdapter(model), _timing(times, epoch_steps), logs


def train_twin(data, seed, args, twin_module):
    """Trains the twin, epoch by epoch on the same batch plan."""
    epoch_steps, epochs = _epochs(args)
    twin = twin_module.TwinFactorVAE(latent_dim=10, gamma=args.gamma,
                                     discriminator_layers=6, seed=seed,
                                     init="glorot" if args.init == "ours"
                                     else args.init,
                                     adam_epsilon=args.twin_adam_epsilon)
    if args.init == "ours":
        copy_initial_weights_of_ours(twin, seed, args)
    ds = data.as_py_dataset(batch_size=args.batch_size, paired=True, seed=seed,
                            steps_per_epoch=epoch_steps)
    times, logs = [], {}
    for epoch in range(epochs):
        ds.epoch = epoch
        start, cpu = time.time(), time.process_time()
        sums = {}
        for index in range(epoch_steps):
            x, x2 = ds[index]
            for key, value in twin.train_step(x, x2).items():
                sums[key] = sums.get(key, 0.0) + value
        times.append((time.time() - start, time.process_time() - cpu))
        # Means over the epoch, as Keras' `fit` logs them for ours.
        logs = {key: value / epoch_steps for key, value in sums.items()}
        if not all(np.isfinite(v) for v in logs.values()):
            raise FloatingPointError(f"twin seed {seed}: non-finite loss {logs}")
        _progress("twin", seed, (epoch + 1) * epoch_steps, times, logs)
    return TwinAdapter(twin), _timing(times, epoch_steps), logs


def copy_initial_weights_of_ours(twin, seed, args):
    """Gives the twin the initial weights of ours at `seed`."""
    from twin_lockstep import copy_ours_to_twin

    copy_ours_to_twin(build_ours(args.gamma, seed), twin)


def _timing(times, epoch_steps):
    """Speeds from per-epoch `(wall, process CPU)` seconds.

    `steps_per_cpu_second` (steps per second of this process's CPU time) is
    what a quiet core would give a one-thread run; the wall-clock speeds
    drop when other processes share the core. The `steady_` speeds leave out
    the first epoch (tracing, compiling, warming up).
    """
    wall = [w for w, _ in times]
    cpu = [c for _, c in times]
    steady = slice(1, None) if len(times) > 1 else slice(None)
    n_steady = len(wall[steady]) * epoch_steps
    return {"train_seconds": round(sum(wall), 1),
            "train_cpu_seconds": round(sum(cpu), 1),
            "steps_per_second": len(wall) * epoch_steps / sum(wall),
            "steady_steps_per_second": n_steady / sum(wall[steady]),
            "steps_per_cpu_second": n_steady / sum(cpu[steady])}


def _progress(impl, seed, step, times, logs):
    wall = sum(w for w, _ in times)
    cpu = sum(c for _, c in times)
    print(f"[{impl} seed {seed}] step {step}: epoch means loss "
          f"{logs.get('loss', 0):.1f}, tc {logs.get('tc_loss', 0):.3f}; "
          f"{step / wall:.2f} steps/s "
          f"({step / cpu:.2f} per CPU second)", flush=True)


# --------------------------------------------------------------------------
# Scoring saved runs again
# --------------------------------------------------------------------------

def load_adapter(row, stem, twin_module):
    """The adapter of a finished run, its weights read from `stem`."""
    if row["impl"] == "ours":
        model = build_ours(row["settings"]["gamma"], row["seed"], set_seed=False)
        model.load_weights(f"{stem}.weights.h5")
        return OursAdapter(model)
    import torch

    twin = twin_module.TwinFactorVAE(latent_dim=10, discriminator_layers=6,
                                     seed=row["seed"])
    for name, state in torch.load(f"{stem}.pt").items():
        getattr(twin, name).load_state_dict(state)
    return TwinAdapter(twin)


def saved_runs(out, twin_module):
    """`(row, adapter)` of every finished run under `out` whose weights were
    saved (runs written before weights were saved are skipped, with a note)."""
    for path in sorted(glob.glob(os.path.join(out, "runs", "*.json"))):
        with open(path) as f:
            row = json.load(f)
        stem = path[: -len(".json")]
        if not glob.glob(f"{stem}.weights.h5") + glob.glob(f"{stem}.pt"):
            print(f"{path}: no saved weights, skipped", flush=True)
            continue
        yield row, load_adapter(row, stem, twin_module)


def rescore(args, data, twin_module):
    """The metrics of every saved run at each of `--rescore` metric seeds.

    The spread over metric seeds of one trained model is the metric's own
    noise at `--metric-size`, to set against the spread over training seeds.
    Writes `rescore.json` and `rescore.md` under `--out`.
    """
    from keras_factorvae import metrics
    from keras_factorvae import reporting

    names = tuple(args.metrics)
    keys = [k for k, _ in COLUMNS if k.split(".")[0] in names]
    rows = []
    for row, adapter in saved_runs(args.out, twin_module):
        scores = {k: [] for k in keys}
        for metric_seed in args.rescore:
            result = metrics.evaluate(
                adapter.representation, data, metrics=names, seed=metric_seed,
                **reporting.metric_overrides(names, args.metric_size))
            for k in keys:
                scores[k].append(float(result[k]))
        rows.append({"impl": row["impl"], "seed": row["seed"],
                     "metric_seeds": list(args.rescore), "scores": scores})
        print(f"[{row['impl']} seed {row['seed']}] rescored: " + ", ".join(
            f"{k} {np.mean(v):.3f} (sd {np.std(v, ddof=1):.3f})"
            for k, v in scores.items()), flush=True)
    _write_json(rows, os.path.join(args.out, "rescore.json"))
    from keras_factorvae.reporting import markdown_table

    table = markdown_table(
        ["impl", "seed", *(t for k, t in COLUMNS if k in keys)],
        [[r["impl"], r["seed"], *(
            f"{np.mean(v):.3f} ({np.std(v, ddof=1):.3f}, {min(v):.3f}..{max(v):.3f})"
            for v in r["scores"].values())] for r in rows])
    with open(os.path.join(args.out, "rescore.md"), "w") as f:
        f.write("\n".join(
            [f"Metric seeds {list(args.rescore)}, size {args.metric_size}: mean "
             "(sd, min..max) over metric seeds of one trained model.", "",
             *table]) + "\n")
    return rows


def latent_profile(adapter, data, n=1024):
    """Per latent dimension, on the held-out images, in order of falling KL.

    `kl`: the mean KL to the prior; `mean_sd`: the spread of the posterior
    mean over the images; `logvar`: the mean log-variance. `active`: the
    dimensions whose `mean_sd` reaches 0.05, the FactorVAE score's rule for
    a dimension it votes with. `quiet_mean_sd`: the median `mean_sd` of the
    half of the dimensions with the least KL (those no factor needs when
    there are twice as many dimensions as factors).
    """
    x = data.sample_observations(n, np.random.RandomState(HELD_OUT_SEED))
    mean, logvar = _stats_in_batches(adapter, x)
    from keras_factorvae.losses import gaussian_kl_terms

    kl = gaussian_kl_terms(mean, logvar, xp=np).mean(0)
    order = np.argsort(-kl, kind="stable")
    mean_sd = mean.std(0)[order]
    quiet = mean_sd[len(order) - len(order) // 2:]
    return {"kl": kl[order].tolist(), "mean_sd": mean_sd.tolist(),
            "logvar": logvar.mean(0)[order].tolist(),
            "active": int(np.sum(mean_sd >= 0.05)),
            "quiet_mean_sd": float(np.median(quiet))}


def latents(args, data, twin_module):
    """`latent_profile` of every saved run under `--out`: latents.json/.md."""
    from keras_factorvae.reporting import markdown_table

    rows = []
    for row, adapter in saved_runs(args.out, twin_module):
        profile = latent_profile(adapter, data, n=args.held_out)
        rows.append({"impl": row["impl"], "seed": row["seed"], **profile,
                     "factor_vae_score": row.get("factor_vae_score.eval_accuracy")})
    _write_json(rows, os.path.join(args.out, "latents.json"))
    table = markdown_table(
        ["impl", "seed", "FactorVAE score", "active", "quiet mean sd",
         "KL per dim", "mean sd per dim"],
        [[r["impl"], r["seed"], _cell(r["factor_vae_score"]), r["active"],
          f"{r['quiet_mean_sd']:.3f}", " ".join(f"{v:.2f}" for v in r["kl"]),
          " ".join(f"{v:.3f}" for v in r["mean_sd"])] for r in rows])
    with open(os.path.join(args.out, "latents.md"), "w") as f:
        f.write("\n".join(
            ["Per latent dimension on the held-out images, in order of falling "
             "KL (`twin_compare.latent_profile`).", "", *table]) + "\n")
    return rows


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def summarise(rows):
    """Per implementation: mean, min and max over seeds of every column."""
    out = {}
    for impl in sorted({r["impl"] for r in rows}):
        mine = [r for r in rows if r["impl"] == impl]
        out[impl] = {"seeds": sorted(r["seed"] for r in mine)}
        for key, _ in COLUMNS:
            values = [r[key] for r in mine if isinstance(r.get(key), (int, float))]
            if values:
                out[impl][key] = {"mean": float(np.mean(values)),
                                  "min": float(np.min(values)),
                                  "max": float(np.max(values))}
    return out


def _cell(value):
    return f"{value:.3f}" if isinstance(value, (int, float)) else ""


def spread_cell(values):
    """`mean (min..max)` of the values, as the summary tables write them."""
    if not values:
        return ""
    return f"{np.mean(values):.3f} ({min(values):.3f}..{max(values):.3f})"


def write_tables(out, settings):
    from keras_factorvae.reporting import markdown_table

    rows = []
    for path in sorted(glob.glob(os.path.join(out, "runs", "*.json"))):
        with open(path) as f:
            rows.append(json.load(f))
    rows.sort(key=lambda r: (r["impl"], r["seed"]))
    summary = summarise(rows)
    _write_json({"settings": settings, "runs": rows, "summary": summary},
                os.path.join(out, "twin_compare.json"))
    titles = [t for _, t in COLUMNS]
    per_run = markdown_table(
        ["impl", "seed", "steps", *titles],
        [[r["impl"], r["seed"], r["steps"], *(_cell(r.get(k)) for k, _ in COLUMNS)]
         for r in rows])
    per_impl = markdown_table(
        ["impl", "seeds", *titles],
        [[impl, ",".join(str(x) for x in s["seeds"]),
          *(f"{s[k]['mean']:.3f} ({s[k]['min']:.3f}..{s[k]['max']:.3f})"
            if k in s else "" for k, _ in COLUMNS)]
         for impl, s in summary.items()])
    text = "\n".join(
        [f"Backend of ours: {settings['backend']}; gamma {settings['gamma']}; "
         f"metric size {settings['metric_size']}.", "", *per_run, "",
         "Mean and min..max over seeds:", "", *per_impl]) + "\n"
    with open(os.path.join(out, "twin_compare.md"), "w") as f:
        f.write(text)
    return rows


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def configure_threads(threads):
    """Intra/inter-op threads of TensorFlow (before any op) and torch."""
    if not threads:
        return
    import torch

    torch.set_num_threads(threads)
    from learning_curve import configure_threads as configure

    configure(threads)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/twin")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epoch-steps", type=int, default=1000,
                        help="steps per epoch of the batch plan (one fit call)")
    parser.add_argument("--metric-size", default="small")
    parser.add_argument("--metrics", nargs="+", default=["factor_vae_score", "mig"])
    parser.add_argument("--held-out", type=int, default=1024)
    parser.add_argument("--tc-points", type=int, default=2048)
    parser.add_argument("--init", choices=("glorot", "torch", "ours"),
                        default="glorot",
                        help="the twin's initialisation (glorot: Keras' default; "
                        "ours: a copy of our initial weights at the same seed)")
    parser.add_argument("--twin-adam-epsilon", choices=("torch", "keras"),
                        default="torch",
                        help="where the twin's Adam adds epsilon: torch's "
                        "sqrt(v_hat) + eps, or Keras' sqrt(v) + eps")
    parser.add_argument("--ours-adam-epsilon", choices=("keras", "torch"),
                        default="keras",
                        help="where our Adams add epsilon: keras (the default "
                        "compile()) or torch (a Keras Adam subclass)")
    parser.add_argument("--rescore", type=int, nargs="+", metavar="SEED",
                        help="train nothing: score every saved run under --out "
                        "again at these metric seeds (rescore.json, rescore.md)")
    parser.add_argument("--latents", action="store_true",
                        help="train nothing: the per-dimension KL and spread of "
                        "the posterior means of every saved run under --out "
                        "(latents.json, latents.md)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads of TensorFlow and torch; 0: default")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # TensorFlow's oneDNN kernels on x86, before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    import keras

    configure_threads(args.threads)
    from keras_factorvae import datasets
    from keras_factorvae import reporting

    twin_module = load_twin()
    settings = {k: v for k, v in vars(args).items()
                if k in RUN_SETTINGS}
    settings["backend"] = keras.backend.backend()
    runs_dir = os.path.join(args.out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    data = datasets.load("dsprites")
    if args.rescore:
        return rescore(args, data, twin_module)
    if args.latents:
        return latents(args, data, twin_module)
    for seed in args.seeds:
        for impl in args.impls:
            path = os.path.join(runs_dir, f"{impl}_seed{seed}.json")
            if os.path.exists(path):
                with open(path) as f:
                    done = json.load(f)
                changed = sorted(
                    k for k in RUN_SETTINGS
                    if done["settings"].get(k, SETTING_DEFAULTS.get(k)) != settings[k])
                if changed:
                    sys.exit(f"{path} was run with other {changed}; choose "
                             "another --out")
                print(f"[{impl} seed {seed}] done, skipped", flush=True)
                continue
            if impl == "ours":
                adapter, timing, logs = train_ours(data, seed, args)
            else:
                adapter, timing, logs = train_twin(data, seed, args, twin_module)
            # The training losses averaged over the last epoch (both).
            row = {"impl": impl, "seed": seed, "steps": args.steps, **timing,
                   "last_epoch_train_logs": logs}
            row.update(score(adapter, data, seed, args))
            # The trained weights, so that a run can be scored again later.
            adapter.save(path[: -len(".json")])
            row["settings"] = settings
            _write_json(reporting.json_safe(row), path)
            write_tables(args.out, settings)
            print(f"[{impl} seed {seed}] FactorVAE score "
                  f"{row.get('factor_vae_score.eval_accuracy')}, MIG "
                  f"{row.get('mig.discrete_mig')}, "
                  f"{timing['steady_steps_per_second']:.2f} steps/s, "
                  f"{timing['steps_per_cpu_second']:.2f} per CPU second",
                  flush=True)
            del adapter
            if impl == "ours":
                keras.backend.clear_session()
    return write_tables(args.out, settings)


if __name__ == "__main__":
    main()
