"""FactorVAE (gamma 35) and beta-VAE (beta 4) at the paper's budget on one GPU, against a deadline.

The learning-curve study of `benchmarks/learning_curve.py` (same models,
seed, batches, optimisers, conv preset, evaluation rows and tables: its
`CurveRun` and `write_outputs` do the work), run at 300,000 steps of batch
64 inside a lent GPU's 10 minutes:

- `--steps-per-execution` batches per compiled call (Keras' `fit` otherwise
  returns to Python after every step), checkpoint-sized `fit` calls
  (`--checkpoint-every`, 50,000) and few evaluations (`--eval-every`,
  100,000, at `--metric-size small`, DCI left out);
- `--parallel` (the default in `gpu_fidelity.sh`): one process per model, so
  that the two models' steps (each bound by Python dispatch and batch
  rendering on the host at batch 64) share the GPU. Each child writes its own
  study under `OUT/parts/<run>/`; the parent merges the rows into
  `OUT/curve.json`, `curve.md`, `curve.png` and `study.json` (with a
  `fidelity` entry: steps reached, speeds, timings, deadline) at the end;
- a wall-clock guard: `--deadline-seconds` from the start (or the absolute
  `--deadline-at`). Before every training call and every evaluation it checks
  that the evaluations still owed (one per model whose current step has no
  row) fit before the deadline, estimated from the slowest evaluation so far
  (`--eval-reserve-seconds` before the first one); a callback stops a
  training call at that point, after which the model is evaluated at the
  step it reached (the row is marked `"partial": true`, the study `"stopped":
  "deadline"`) and the tables are written.

Batches come from `data.as_py_dataset` (`BatchPlan`: the same batches as the
CPU study for the same seed and `--checkpoint-every`), which needs no
TensorFlow; `--workers` > 1 renders them in threads. Full chunks are saved
(unless `--no-checkpoints`, which gpu_fidelity.sh passes: its machine starts
bare), so a rerun with the same `--out` resumes from the last full chunk, like
learning_curve.py; a chunk cut by the deadline is not saved.

To reach 300,000 steps for both models inside 540 s, with the first
compilations and 3 evaluations per model, the two processes together need
roughly 1,300-1,500 steps/s; no GPU has run this yet, so that rate is not
known. If it is not reached, the guard ends the study with what was reached
(partial last rows) instead of overrunning the machine's time.

On a lent GPU machine (JAX, no TensorFlow, Keras carried as wheels in
`.whl/`, see gpu_fidelity.sh):

    run(command="bash benchmarks/gpu_fidelity.sh", carry=[".whl"],
        timeout_s=600)

(after `.whl/` is prepared as its header says), which installs the wheels
and runs

    python3 benchmarks/gpu_fidelity.py --out /tmp/gpu_fidelity --parallel \\
        --steps 300000 --eval-every 100000 --checkpoint-every 50000 \\
        --steps-per-execution 500 --metric-size small --workers 2 \\
        --no-checkpoints --runs factorvae_gamma35 beta_vae_beta4 \\
        --deadline-at <its start + 540 s>

and copies `curve.json`, `curve.md`, `curve.png`, `study.json`, each model's
last traversal and the log to `$OUT`. Dry run on
a CPU (tests/test_gpu_fidelity.py does this at a tiny budget):

    KERAS_BACKEND=jax python benchmarks/gpu_fidelity.py --out runs/gpu_dry \\
        --steps 40 --eval-every 20 --checkpoint-every 10 \\
        --steps-per-execution 5 --metric-size tiny --parallel
"""

import argparse
import os
import subprocess
import sys
import time

START = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
GPU_METRICS = ("factor_vae_score", "beta_vae_score", "mig", "sap_score",
               "modularity_explicitness")
DEFAULT_FIDELITY_RUNS = ("factorvae_gamma35", "beta_vae_beta4")
MERGE_RESERVE = 20.0  # seconds the parent keeps for merging and plotting


sys.path.insert(0, HERE)
import learning_curve as lc  # noqa: E402  (a sibling script)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/gpu_fidelity")
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--checkpoint-every", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metric-size", default="small")
    parser.add_argument("--metrics", nargs="+", default=list(GPU_METRICS))
    parser.add_argument("--runs", nargs="+", default=list(DEFAULT_FIDELITY_RUNS))
    parser.add_argument("--steps-per-execution", type=int, default=500)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="threads rendering batches (PyDataset workers)")
    parser.add_argument("--deadline-seconds", type=float, default=540.0,
                        help="stop cleanly this long after the start")
    parser.add_argument("--deadline-at", type=float, default=None,
                        help="absolute deadline (time.time()); overrides the above")
    parser.add_argument("--eval-reserve-seconds", type=float, default=60.0,
                        help="assumed length of one evaluation before one is timed")
    parser.add_argument("--no-checkpoints", action="store_true",
                        help="do not save the models (not resumable; saves time)")
    parser.add_argument("--parallel", action="store_true",
                        help="one process per run, merged at the end")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.runs) - {r[0] for r in lc.DEFAULT_RUNS})
    if unknown:
        parser.error(f"unknown runs {unknown}")
    if (args.eval_every % args.checkpoint_every or args.steps % args.eval_every
            or args.checkpoint_every % args.steps_per_execution):
        parser.error("--steps must be a multiple of --eval-every, which must be "
                     "a multiple of --checkpoint-every, which must be a "
                     "multiple of --steps-per-execution")
    if args.deadline_at is None:
        args.deadline_at = START + args.deadline_seconds
    return args


class Guard:
    """The deadline and the time still owed to evaluations."""

    def __init__(self, deadline_at, eval_estimate):
        self.deadline_at = deadline_at
        self.eval_estimate = eval_estimate
        self.stopped = None

    def left(self):
        return self.deadline_at - time.time()

    def record_eval(self, seconds):
        # The first evaluation includes compiling the encoder: an upper bound.
        self.eval_estimate = max(seconds, self.eval_estimate
                                 if self.eval_estimate is not None else 0.0)

    def stop_at(self, owed_evals):
        """The time by which training must stop to leave `owed_evals`."""
        return self.deadline_at - owed_evals * self.eval_estimate - 2.0


def _deadline_callback(stop_at):
    import keras

    class StopAt(keras.callbacks.Callback):
        """Ends `fit` at the first batch that finishes after `stop_at`."""

        def __init__(self):
            super().__init__()
            self.fired = False

        def on_train_batch_end(self, batch, logs=None):
            if time.time() >= stop_at:
                self.fired = True
                self.model.stop_training = True

    return StopAt()


def _iterations(model):
    from keras import ops

    return int(ops.convert_to_numpy(model.optimizer.iterations))


def train_chunk(member, train, stop_at, save=True):
    """One `fit` of `--checkpoint-every` steps, stopped early at `stop_at`.

    Returns the number of steps trained. A full chunk is saved (as
    `CurveRun.train_chunk` does); a cut one is not (its step is not a chunk
    boundary of the batch plan), and `member.state["step"]` then holds the
    step reached, unsaved.
    """
    model = member.load()
    spe = member.args.steps_per_execution
    if getattr(model, "steps_per_execution", 1) != spe:
        # `load_model` compiles from the saved config, which leaves
        # `steps_per_execution` out: a resumed model would run one step
        # per call.
        model.steps_per_execution = spe
        model.train_function = None
    every = member.args.checkpoint_every
    train.epoch = member.step // every
    callback = _deadline_callback(stop_at)
    before = _iterations(model)
    start = time.time()
    model.fit(train, epochs=1, verbose=0, shuffle=False, callbacks=[callback])
    seconds = time.time() - start
    done = _iterations(model) - before
    member.state["train_seconds"] += seconds
    member.state.setdefault("chunks", []).append(
        {"steps": done, "seconds": round(seconds, 2)})
    old = member.step
    member.state["step"] = old + done
    if done == every and save:
        model.save(member._checkpoint_path(member.step))
        lc._write_json(member.state, member.state_path)
        if old and os.path.exists(member._checkpoint_path(old)):
            os.remove(member._checkpoint_path(old))
    return done


def run_study(args):
    """The sequential study (one process); returns its rows."""
    import keras

    from keras_factorvae import datasets

    lc.configure_threads(args.threads)
    out = args.out
    os.makedirs(out, exist_ok=True)
    runs = [r for r in lc.DEFAULT_RUNS if r[0] in args.runs]
    settings = {k: v for k, v in vars(args).items()
                if k not in ("out", "threads", "deadline_at", "deadline_seconds",
                             "parallel", "workers")}
    study_path = os.path.join(out, "study.json")
    study = lc._read_json(study_path, {"settings": settings, "wall_seconds": 0.0})
    changed = {k for k in ("seed", "batch_size", "checkpoint_every")
               if study["settings"].get(k) != settings[k]}
    if changed:
        sys.exit(f"{out} holds a study with other {sorted(changed)}; choose "
                 "another --out")
    study["settings"].update(steps=args.steps)
    study.update(backend=keras.backend.backend(), command=" ".join(sys.argv),
                 devices=[str(d) for d in _devices()])
    data = datasets.load("dsprites")
    train = data.as_py_dataset(batch_size=args.batch_size, paired=True,
                               seed=args.seed,
                               steps_per_epoch=args.checkpoint_every,
                               workers=args.workers)
    curve_path = os.path.join(out, "curve.json")
    rows = lc._read_json(curve_path, [])
    done = {(r["run"], r["step"]) for r in rows}
    members = [lc.CurveRun(out, *r, args, data) for r in runs]
    guard = Guard(args.deadline_at, args.eval_reserve_seconds)
    start = time.time()

    def owed(exclude=None):
        return sum(1 for m in members if m is not exclude and m.step
                   and (m.name, m.step) not in done)

    def evaluate(member, partial=False):
        t = time.time()
        member.load()
        member.traversal()
        row = member.evaluate()
        if partial:
            row["partial"] = True
        guard.record_eval(time.time() - t)
        rows.append(row)
        done.add((member.name, member.step))
        lc._write_json(rows, curve_path)
        lc.write_outputs(out, rows, runs)
        print(f"[{member.name}] step {member.step}: FactorVAE score "
              f"{row.get('factor_vae_score.eval_accuracy')}, MIG "
              f"{row.get('mig.discrete_mig')} ({time.time() - t:.0f} s)",
              flush=True)

    def needs_eval(m):
        return (m.step and m.step % args.eval_every == 0
                and (m.name, m.step) not in done)

    while guard.stopped is None:
        pending = [m for m in members if m.step < args.steps or needs_eval(m)]
        if not pending:
            break
        for member in pending:
            if needs_eval(member):
                if guard.left() < owed() * guard.eval_estimate:
                    guard.stopped = "deadline"
                    break
                evaluate(member)
            target = min(args.steps,
                         (member.step // args.eval_every + 1) * args.eval_every)
            while member.step < target:
                # This model's row at the step it reaches, and the others'.
                stop_at = guard.stop_at(1 + owed(exclude=member))
                if time.time() >= stop_at:
                    guard.stopped = "deadline"
                    break
                trained = train_chunk(member, train, stop_at,
                                      save=not args.no_checkpoints)
                rate = trained / max(member.state["chunks"][-1]["seconds"], 1e-9)
                print(f"[{member.name}] step {member.step} "
                      f"({member.state['train_seconds']:.0f} s training, "
                      f"{rate:.0f} steps/s)", flush=True)
                if trained < args.checkpoint_every:
                    guard.stopped = "deadline"
                    break
            study["wall_seconds"] += time.time() - start
            start = time.time()
            lc._write_json(study, study_path)
            if guard.stopped:
                break
    # Rows still owed: models stopped mid-stretch or not yet evaluated.
    for member in members:
        if member.step and (member.name, member.step) not in done:
            if guard.left() < guard.eval_estimate * 0.5:
                print(f"[{member.name}] no time left to evaluate step "
                      f"{member.step}", flush=True)
                continue
            evaluate(member, partial=member.step % args.eval_every != 0)
    study["wall_seconds"] += time.time() - start
    study["fidelity"] = fidelity_summary(members, guard, args)
    lc._write_json(study, study_path)
    lc.write_outputs(out, rows, runs)
    return rows


def fidelity_summary(members, guard, args):
    return {
        "stopped": guard.stopped or "finished",
        "deadline_left_seconds": round(guard.left(), 1),
        "eval_estimate_seconds": round(guard.eval_estimate, 1),
        "runs": {m.name: {"step": m.step, "target": args.steps,
                          "train_seconds": round(m.state["train_seconds"], 1),
                          "chunks": m.state.get("chunks", [])}
                 for m in members},
    }


def _devices():
    import keras

    if keras.backend.backend() != "jax":
        return []
    import jax

    return jax.devices()


def run_parallel(args, argv):
    """One child process per run; merges their rows into `args.out`."""
    out = args.out
    os.makedirs(out, exist_ok=True)
    child_deadline = args.deadline_at - MERGE_RESERVE
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if len(args.runs) > 1:
        # Several JAX processes on one GPU: no process may take most of it.
        env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION",
                       f"{0.9 / len(args.runs):.2f}")
    base = _strip(argv, ("--out", "--runs", "--deadline-at",
                         "--deadline-seconds"), ("--parallel",))
    children = {}
    for name in args.runs:
        cmd = [sys.executable, os.path.abspath(__file__), *base,
               "--out", os.path.join(out, "parts", name), "--runs", name,
               "--deadline-at", repr(child_deadline)]
        children[name] = subprocess.Popen(cmd, env=env)
    codes = {name: child.wait() for name, child in children.items()}
    settings = {k: v for k, v in vars(args).items()
                if k not in ("out", "threads", "deadline_at", "deadline_seconds")}
    rows, study = [], {"settings": settings, "command": " ".join(sys.argv),
                       "parts": {}, "return_codes": codes}
    for name in args.runs:
        part = os.path.join(out, "parts", name)
        rows += lc._read_json(os.path.join(part, "curve.json"), [])
        study["parts"][name] = lc._read_json(
            os.path.join(part, "study.json"), {})
    study["fidelity"] = {
        "stopped": sorted({p.get("fidelity", {}).get("stopped", "crashed")
                           for p in study["parts"].values()}),
        "runs": {n: p.get("fidelity", {}).get("runs", {}).get(n)
                 for n, p in study["parts"].items()},
        "wall_seconds": round(time.time() - START, 1),
    }
    runs = [r for r in lc.DEFAULT_RUNS if r[0] in args.runs]
    lc._write_json(rows, os.path.join(out, "curve.json"))
    lc._write_json(study, os.path.join(out, "study.json"))
    lc.write_outputs(out, rows, runs)
    bad = {n: c for n, c in codes.items() if c}
    if bad:
        sys.exit(f"runs failed: {bad}")
    return rows


def _strip(argv, with_value, flags):
    """`argv` without the options in `with_value` (and their values) or `flags`."""
    kept, skip = [], 0
    for arg in argv:
        if skip:
            if arg.startswith("--"):
                skip = 0
            else:
                continue
        key = arg.split("=", 1)[0]
        if key in with_value:
            skip = "=" not in arg
            continue
        if key in flags:
            continue
        kept.append(arg)
    return kept


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.parallel and len(args.runs) > 1:
        return run_parallel(args, argv)
    # TensorFlow's oneDNN kernels on x86, before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()

    return run_study(args)


if __name__ == "__main__":
    main()
