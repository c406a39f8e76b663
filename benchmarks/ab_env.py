"""A/B of process-wide settings: warm processes taking turns at training steps.

Settings read once per process (environment variables such as glibc's
`MALLOC_ARENA_MAX`, thread counts, XLA flags) cannot be alternated within one
process, and a race of fresh processes measures each setting minutes apart
on a machine whose speed drifts by tens of percent. Here every variant is one
long-lived worker process, built and warmed up once; the driver then lets
the workers run a few training steps each in turn, every round in the
opposite order from the last, while the others wait idle on a pipe. Adjacent
turns are a second or two apart, so drift and neighbours hit the variants
alike.

    KERAS_BACKEND=jax .venv/bin/python benchmarks/ab_env.py --rounds 12 \\
        --variant glibc:MALLOC_ARENA_MAX=16 --variant one_arena:MALLOC_ARENA_MAX=1

A worker trains our FactorVAE (the race's model: conv preset, batch 64,
5 hidden discriminator layers, `(x, x2)` pairs) with `train_on_batch`, whose
logs come back to the host after every step. It configures the allocator and
the thread pool as the bench does (`keras_factorvae.threads`), after its
variant's environment is set, so a variable the user set wins there too.
A variant's `AB_ENV_ALLOCATOR` (read by the worker alone) is a JSON object of
keyword arguments for `configure_allocator`, one key per variant since commas
separate the variables:

    KERAS_BACKEND=jax .venv/bin/python benchmarks/ab_env.py --rounds 16 \
        --variant small:AB_ENV_ALLOCATOR='{"huge_pages":false}' \
        --variant huge:AB_ENV_ALLOCATOR='{"huge_pages":true}'
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def worker(args):
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    from keras_factorvae.threads import configure_allocator
    from keras_factorvae.threads import configure_threads

    configure_allocator(**json.loads(os.environ.get("AB_ENV_ALLOCATOR", "{}")))
    configure_threads(args.threads)
    import keras
    import numpy as np

    from keras_factorvae import models
    from keras_factorvae.bench import _pool

    pool = _pool(args.batch_size, (64, 64, 1), seed=0)
    keras.utils.set_random_seed(0)
    model = models.get("factorvae", preset=args.preset, seed=0,
                       discriminator_layers=args.discriminator_layers)
    model.compile()
    step = [0]

    def run(n):
        for _ in range(n):
            i = step[0] % len(pool)
            model.train_on_batch(pool[i], pool[(i + 1) % len(pool)])
            step[0] += 1

    run(args.warmup)
    print("ready", flush=True)
    for line in sys.stdin:
        n = int(line)
        start = time.perf_counter()
        run(n)
        print(f"{(time.perf_counter() - start) * 1000 / n:.3f}", flush=True)


def start_worker(command, env):
    """One worker process, talking over pipes; its log output goes to a
    temporary file (`proc.log`), read back only if the worker fails."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=env, stderr=log)
    proc.log = log
    return proc


def _log_tail(proc, lines=15):
    log = getattr(proc, "log", None)
    if log is None:
        return ""
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])


def _variant(text):
    name, _, assignments = text.partition(":")
    env = {}
    for item in filter(None, assignments.split(",")):
        key, _, value = item.partition("=")
        env[key] = value
    return name, env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", type=_variant, default=[],
                        help="NAME:VAR=VALUE[,VAR=VALUE...] (twice or more)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=4,
                        help="steps per turn")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--preset", default="conv")
    parser.add_argument("--discriminator-layers", type=int, default=5)
    parser.add_argument("--threads", default=str(os.cpu_count()),
                        help="torch intra-op threads (keras_factorvae.threads)")
    parser.add_argument("--out", help="write the JSON here too")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if len(args.variant) < 2:
        parser.error("give at least two --variant")
    common = [
        "--worker", "--warmup", str(args.warmup), "--batch-size",
        str(args.batch_size), "--preset", args.preset,
        "--discriminator-layers", str(args.discriminator_layers),
        "--threads", args.threads,
    ]
    procs = {}
    for name, env in args.variant:
        proc = start_worker([sys.executable, os.path.abspath(__file__)] + common,
                            dict(os.environ, **env))
        # One at a time: a worker's compilation must not share the cores
        # with another's.
        while proc.stdout.readline().strip() != "ready":
            if proc.poll() is not None:
                raise RuntimeError(f"worker {name!r} exited ({proc.returncode}):\n"
                                   + _log_tail(proc))
        procs[name] = proc
    names = list(procs)
    times = {name: [] for name in names}
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            procs[name].stdin.write(f"{args.steps}\n")
            procs[name].stdin.flush()
            times[name].append(float(procs[name].stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    first = names[0]
    result = {
        "backend": os.environ.get("KERAS_BACKEND"),
        "variants": dict(args.variant),
        "rounds": args.rounds,
        "steps_per_turn": args.steps,
        "median_step_ms": {n: round(statistics.median(t), 2)
                           for n, t in times.items()},
        "step_ms": times,
    }
    for name in names[1:]:
        result[f"{name}_faster_rounds"] = sum(
            b < a for a, b in zip(times[first], times[name]))
        result[f"{name}_per_round_ratio_median"] = round(statistics.median(
            a / b for a, b in zip(times[first], times[name])), 4)
    from keras_factorvae.bench import machine_info

    result["machine"] = machine_info()
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
