"""Where TensorFlow's training step spends its time, per oneDNN primitive.

Runs `python -m keras_factorvae.bench` under `ONEDNN_VERBOSE=1` (TensorFlow
backend, oneDNN kernels on) and adds up the execution times that oneDNN
prints for every primitive, by kind (convolution forward, backward-data,
backward-weights, matrix products, reorders) and by problem shape. The sums
are divided by the number of steps the bench ran (warm-up included: every
step runs the same kernels), so they read as milliseconds per step, next to
the bench's own wall time per step.

    taskset -c 0 .venv/bin/python benchmarks/onednn_profile.py --threads 1 \
        --out docs/results/perf/onednn_conv64_1thread.json

Args of the command line: see `--help`.
"""

import argparse
import collections
import json
import os
import subprocess
import sys


def parse_verbose(lines):
    """Milliseconds by (primitive, propagation kind) and by problem.

    Args:
        lines: lines of oneDNN's verbose output (others are ignored).

    Returns:
        `(by_kind, by_problem)`: dicts of total milliseconds, keyed by
        `"primitive/prop_kind"` and by `"primitive/prop_kind/problem"`.

    Example:

    >>> line = ("onednn_verbose,v1,primitive,exec,cpu,convolution,jit,"
    ...         "forward_training,src,,alg,mb64_ic1oc32,2.5")
    >>> parse_verbose([line])[0]
    {'convolution/forward_training': 2.5}
    """
    by_kind = collections.defaultdict(float)
    by_problem = collections.defaultdict(float)
    for line in lines:
        if not line.startswith("onednn_verbose,v1,primitive,exec,"):
            continue
        fields = line.strip().split(",")
        kind = f"{fields[5]}/{fields[7]}"
        milliseconds = float(fields[-1])
        by_kind[kind] += milliseconds
        by_problem[f"{kind}/{fields[-2]}"] += milliseconds
    return dict(by_kind), dict(by_problem)


def per_step(totals, steps, top=None):
    """`totals` divided by `steps`, largest first, rounded to 0.01 ms."""
    rows = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return {key: round(value / steps, 2) for key, value in rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP_NUM_THREADS for TensorFlow's oneDNN pool")
    parser.add_argument("--discriminator-layers", type=int, default=5)
    parser.add_argument("--top", type=int, default=20,
                        help="problems listed (largest first)")
    parser.add_argument("--out", default=None, help="write the JSON here")
    parser.add_argument("--from-log", default=None,
                        help="read a saved log of such a bench run (stdout "
                             "and stderr) instead of running one; give the "
                             "same --steps, --warmup and --threads")
    args = parser.parse_args(argv)

    env = dict(os.environ, KERAS_BACKEND="tensorflow", ONEDNN_VERBOSE="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    command = [sys.executable, "-m", "keras_factorvae.bench", "--steps",
               str(args.steps), "--warmup", str(args.warmup),
               "--discriminator-layers", str(args.discriminator_layers),
               "--json"]
    if args.from_log:
        with open(args.from_log) as f:
            lines = f.read().splitlines()
    else:
        done = subprocess.run(command, env=env, capture_output=True,
                              text=True, check=True)
        lines = done.stdout.splitlines() + done.stderr.splitlines()
    bench = json.loads([line for line in lines if line.startswith("{")][-1])
    by_kind, by_problem = parse_verbose(lines)
    steps = args.steps + args.warmup
    result = {
        "command": " ".join(command),
        "env": {key: env[key] for key in ("ONEDNN_VERBOSE", "OMP_NUM_THREADS")
                if key in env},
        "threads": args.threads,
        "bench": bench,
        "kernel_ms_per_step": round(sum(by_kind.values()) / steps, 2),
        "wall_ms_per_step": round(1000 / bench["steps_per_s"], 2),
        "by_kind_ms_per_step": per_step(by_kind, steps),
        "by_problem_ms_per_step": per_step(by_problem, steps, args.top),
    }
    text = json.dumps(result, indent=1)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
