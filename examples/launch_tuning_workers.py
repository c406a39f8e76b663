"""Launches a distributed KerasTuner search: a chief + one worker per GPU.

    python examples/launch_tuning_workers.py -- \
        python examples/tune_gamma.py --max-trials 40
    python examples/launch_tuning_workers.py --workers-per-gpu 2 --dry-run \
        -- python examples/tune_gamma.py

Every process runs the same command (after `--`); only its environment
differs: `KERASTUNER_TUNER_ID` (`chief`, `tuner0`, `tuner1`, ...),
`KERASTUNER_ORACLE_IP`/`KERASTUNER_ORACLE_PORT` (a free port on 127.0.0.1),
`CUDA_VISIBLE_DEVICES` (one GPU per worker, none for the chief, which only
runs the oracle) and, for JAX, `XLA_PYTHON_CLIENT_PREALLOCATE=false` (plus a
memory fraction when workers share a GPU) so that JAX does not grab all GPU
memory. The command must use the same --directory in every process (shared
state). GPUs: CUDA_VISIBLE_DEVICES if set, else `nvidia-smi -L`; with none,
--num-workers CPU workers. --dry-run prints the commands and exits.
"""

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
import time


def _load_distributed():
    # Load keras_factorvae/tuning/distributed.py on its own: importing the
    # package would import Keras and a backend in the launcher, which needs
    # neither (and must not touch the GPUs it hands out).
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), "keras_factorvae", "tuning", "distributed.py")
    spec = importlib.util.spec_from_file_location("_kfv_distributed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


distributed = _load_distributed()


def build_commands(command, num_workers=None, workers_per_gpu=1,
                   host="127.0.0.1", port=None, gpus=None):
    """`(tuner_id, env_updates, argv)` of the chief and the workers."""
    gpus = distributed.visible_gpus() if gpus is None else list(gpus)
    if num_workers is None:
        num_workers = len(gpus) * workers_per_gpu if gpus else 1
    envs = distributed.process_environments(
        num_workers, gpus=gpus, workers_per_gpu=workers_per_gpu, host=host,
        port=port)
    commands = []
    for tuner_id, env in envs:
        argv = list(command)
        if tuner_id == distributed.CHIEF_ID and "tune_gamma.py" in " ".join(
                argv) and "--num-workers" not in argv:
            # The chief then waits for every worker (see serve_oracle).
            argv += ["--num-workers", str(num_workers)]
        commands.append((tuner_id, env, argv))
    return commands


def format_command(env, argv):
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"{assignments} {shlex.join(argv)}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    else:
        command = []
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        usage="%(prog)s [options] -- COMMAND [ARGS...]")
    parser.add_argument("--num-workers", type=int, default=None,
                        help="default: visible GPUs x --workers-per-gpu "
                        "(1 without GPUs)")
    parser.add_argument("--workers-per-gpu", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None,
                        help="default: a free port")
    parser.add_argument("--gpus", default=None,
                        help="comma-separated GPU ids (default: visible)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the commands, run nothing")
    args = parser.parse_args(argv)
    if not command:
        command = [sys.executable, os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "tune_gamma.py")]
    gpus = None if args.gpus is None else [
        g for g in args.gpus.split(",") if g]
    commands = build_commands(
        command, num_workers=args.num_workers,
        workers_per_gpu=args.workers_per_gpu, host=args.host, port=args.port,
        gpus=gpus)
    if args.dry_run:
        for tuner_id, env, cmd in commands:
            print(format_command(env, cmd))
        return 0

    processes = []
    try:
        for tuner_id, env, cmd in commands:
            print(f"[{tuner_id}] {format_command(env, cmd)}", flush=True)
            processes.append((tuner_id, subprocess.Popen(
                cmd, env=dict(os.environ, **env))))
        codes = {}
        while len(codes) < len(processes):
            for tuner_id, process in processes:
                if tuner_id not in codes and process.poll() is not None:
                    codes[tuner_id] = process.returncode
                    print(f"[{tuner_id}] exited with {process.returncode}",
                          flush=True)
            time.sleep(1)
    finally:
        # On Ctrl-C or an error here, stop what we started (workers resume
        # from the shared directory when relaunched).
        for _, process in processes:
            if process.poll() is None:
                process.terminate()
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
