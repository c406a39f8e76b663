"""Races our training step against the PyTorch reference step.

The reference is `../shared/bench/torch_factorvae_ref.py` (the architecture
of the most used PyTorch FactorVAE; it lives beside this repository, not in
it). Every round runs the reference once and `python -m keras_factorvae.bench`
once per backend (and dtype policy), each in its own process, one after the
other, so that a noisy neighbour or the machine's drift hurts both sides
alike; medians over rounds are reported with their ratios to the reference.

One race (the README's headline: conv preset, batch 64, the reference's
5-hidden-layer discriminator):

    PYTHONPATH=. .venv/bin/python benchmarks/race.py \\
        --reference ../shared/bench/torch_factorvae_ref.py \\
        --rounds 8 --steps 30 --warmup 5 --discriminator-layers 5 --json

The full table (preset {conv, mlp} x batch {64, 256} against the reference,
then every zoo model at conv / batch 64; about 30 minutes on 2 cores):

    PYTHONPATH=. .venv/bin/python benchmarks/race.py --table \\
        --reference ../shared/bench/torch_factorvae_ref.py --rounds 3 \\
        --out table.json
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BACKENDS = ("jax", "tensorflow", "torch")


def _env(**extra):
    """The environment of a child process: the package importable from
    this checkout, plus `extra`."""
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=ROOT + (os.pathsep + path if path else ""),
                **extra)


def _last_json_line(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def run_reference(reference, preset="conv", batch_size=64, steps=30, warmup=5):
    """One run of the PyTorch reference; its JSON result (`steps_per_s`...)."""
    arch = "mlp" if preset == "mlp" else "conv"
    cmd = [sys.executable, reference, "--arch", arch, "--batch-size",
           str(batch_size), "--steps", str(steps), "--warmup", str(warmup),
           "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return _last_json_line(out.stdout)


def run_ours(backend, model="factorvae", preset="conv", batch_size=64,
             steps=30, warmup=5, discriminator_layers=None,
             dtype_policy="float32"):
    """One run of `python -m keras_factorvae.bench` on `backend`, in its own
    process; its JSON result (see `keras_factorvae.bench.time_training`)."""
    cmd = [sys.executable, "-m", "keras_factorvae.bench", "--model", model,
           "--preset", preset, "--batch-size", str(batch_size), "--steps",
           str(steps), "--warmup", str(warmup), "--json"]
    if dtype_policy != "float32":
        cmd += ["--dtype-policy", dtype_policy]
    if discriminator_layers is not None and model == "factorvae":
        cmd += ["--discriminator-layers", str(discriminator_layers)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env=_env(KERAS_BACKEND=backend))
    return _last_json_line(out.stdout)


def race(reference, backends=BACKENDS, rounds=3, preset="conv", batch_size=64,
         steps=30, warmup=5, model="factorvae", discriminator_layers=None,
         dtype_policies=("float32",)):
    """Alternates our benchmark per backend with the PyTorch reference.

    Args:
        reference: path of `torch_factorvae_ref.py`.
        backends: Keras backends to race.
        rounds: rounds; each runs the reference and every entry once.
        dtype_policies: the Keras dtype policies to run each backend under;
            an entry is named after its backend, with `/policy` appended for
            any policy but float32 (e.g. `"tensorflow/mixed_bfloat16"`).

    Returns:
        `(medians, runs)`: `{"reference": median steps/s, entry: median
        steps/s}` and every run's steps/s per entry.
    """
    entries = [(b, p, b if p == "float32" else f"{b}/{p}")
               for b in backends for p in dtype_policies]
    runs = {name: [] for name in ["reference"] + [e[2] for e in entries]}
    for _ in range(rounds):
        runs["reference"].append(run_reference(
            reference, preset, batch_size, steps, warmup)["steps_per_s"])
        for backend, policy, name in entries:
            runs[name].append(run_ours(
                backend, model, preset, batch_size, steps, warmup,
                discriminator_layers, policy)["steps_per_s"])
    return {name: round(statistics.median(v), 3) for name, v in runs.items()}, runs


def table(reference, rounds=3, backends=BACKENDS, out=None):
    """The README's full table: races and the zoo, written as they finish.

    Races FactorVAE (5 hidden discriminator layers, like the reference)
    against the reference for preset {conv, mlp} x batch {64, 256}, then
    times every zoo model at conv / batch 64 on every backend (median of
    `rounds` runs each). Batch 256 runs half the steps of batch 64.

    Args:
        reference: path of `torch_factorvae_ref.py`.
        rounds: runs per entry (medians are reported).
        backends: Keras backends to time.
        out: optional JSON path, rewritten after every entry so that an
            interrupted run keeps what it measured.

    Returns:
        `{"race": [...], "zoo": [...]}` with medians and every run; its
        markdown is `format_table(result)`.
    """
    from keras_factorvae.bench import machine_info
    from keras_factorvae.models import MODELS

    result = {"rounds": rounds, "machine": machine_info(), "race": [],
              "zoo": []}

    def save():
        if out:
            with open(out, "w") as f:
                json.dump(result, f, indent=1)

    for preset in ("conv", "mlp"):
        for batch_size in (64, 256):
            steps = 20 if batch_size == 64 else 10
            medians, runs = race(reference, backends, rounds, preset,
                                 batch_size, steps, 3, "factorvae", 5)
            result["race"].append({"preset": preset, "batch_size": batch_size,
                                   "steps": steps, "medians": medians,
                                   "runs": runs})
            save()
    for name in sorted(MODELS):
        row = {"model": name, "medians": {}, "runs": {}}
        for backend in backends:
            runs = [run_ours(backend, name, "conv", 64, 20, 3, 5)["steps_per_s"]
                    for _ in range(rounds)]
            row["runs"][backend] = runs
            row["medians"][backend] = round(statistics.median(runs), 3)
        result["zoo"].append(row)
        save()
    return result


def parse_backends(text):
    """`"jax, torch"` -> `("jax", "torch")`; anything but the three Keras
    backends is refused."""
    names = tuple(b.strip() for b in text.split(",") if b.strip())
    unknown = set(names) - set(BACKENDS)
    if not names or unknown:
        raise SystemExit(
            f"--backends takes jax, tensorflow and/or torch; got {text!r}.")
    return names


def parse_policies(text):
    """`"float32,mixed_bfloat16"` -> a tuple of dtype policy names."""
    policies = tuple(p.strip() for p in text.split(",") if p.strip())
    if not policies:
        raise SystemExit("--policies names no dtype policy")
    return policies


def format_race(medians, rounds):
    """A markdown table of `race`'s medians with their ratios."""
    ref = medians["reference"]
    lines = [f"| implementation | steps/s (median of {rounds}) | x reference |",
             "|---|---|---|"]
    lines += [f"| {name} | {value:.2f} | {value / ref:.2f} |"
              for name, value in medians.items()]
    return "\n".join(lines)


def format_table(result):
    """Markdown tables of `table()`'s result: the race, then the zoo."""
    from keras_factorvae.reporting import markdown_table

    backends = ("jax", "tensorflow", "torch")
    race = []
    for row in result["race"]:
        m = row["medians"]
        ref = m["reference"]
        race.append([row["preset"], row["batch_size"], f"{ref:.2f}"] + [
            f"{m[b]:.2f} ({m[b] / ref:.2f}x)" if b in m else "-" for b in backends])
    zoo = [[row["model"]] + [f"{row['medians'][b]:.2f}" if b in row["medians"]
                             else "-" for b in backends] for row in result["zoo"]]
    lines = markdown_table(["preset", "batch", "reference steps/s", *backends], race)
    lines += [""] + markdown_table(["model (conv, batch 64)", *backends], zoo)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks/race.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True,
                        help="path of torch_factorvae_ref.py")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated backends to race")
    parser.add_argument("--policies", default="float32",
                        help="comma-separated dtype policies per backend, "
                        "e.g. float32,mixed_bfloat16")
    parser.add_argument("--model", default="factorvae")
    parser.add_argument("--preset", default="conv")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--discriminator-layers", type=int, default=None,
                        help="FactorVAE discriminator hidden layers (default "
                        "6; the reference has 5)")
    parser.add_argument("--table", action="store_true",
                        help="the full table instead of one race (conv/mlp x "
                        "batch 64/256 races, then every zoo model at conv/64)")
    parser.add_argument("--out", default=None,
                        help="with --table: JSON file written as entries finish")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    from keras_factorvae.bench import machine_info

    backends = parse_backends(args.backends)
    if args.table:
        result = table(args.reference, rounds=args.rounds, backends=backends,
                       out=args.out)
        print(json.dumps(result) if args.json else format_table(result))
        return 0
    medians, runs = race(args.reference, backends=backends, rounds=args.rounds,
                         preset=args.preset, batch_size=args.batch_size,
                         steps=args.steps, warmup=args.warmup,
                         model=args.model,
                         discriminator_layers=args.discriminator_layers,
                         dtype_policies=parse_policies(args.policies))
    if args.json:
        print(json.dumps({"medians": medians, "runs": runs,
                          "machine": machine_info()}))
    else:
        print(format_race(medians, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
