"""Races our FactorVAE step against the PyTorch reference on one GPU.

Issue 9's GPU check: the conv preset at batch 64 and 512, our JAX and torch
backends against `torch_factorvae_ref.py` on the same device, alternated
round by round, medians reported. Run it with `benchmarks/gpu_race.sh` on a
machine with a GPU (it installs the carried Keras wheels first), or directly:

    python benchmarks/gpu_race.py --reference PATH/torch_factorvae_ref.py \\
        --out results.json

The reference is a CPU program: here it runs with `cuda` as torch's default
device, its pre-generated batches moved to the GPU, and a
`torch.cuda.synchronize()` after every step, because its timer would
otherwise stop while the GPU still works. Our benchmark reads every step's
loss back to the host, which synchronises the same way. `--device cpu` runs
the same script on the CPU (a dry run of the whole procedure).
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys


def run_reference(reference, device, batch_size, steps, warmup):
    """One reference run in this process; returns its JSON result."""
    import runpy

    import torch

    namespace = runpy.run_path(reference, run_name="torch_factorvae_ref")
    main = namespace["main"]
    module_globals = main.__globals__
    make_pool = module_globals["make_pool"]
    trainer_class = module_globals["FactorVAETrainer"]

    def pool_on_device(*args, **kwargs):
        with torch.device("cpu"):  # the reference draws with a CPU generator
            return [b.to(device) for b in make_pool(*args, **kwargs)]

    step = trainer_class.step

    def synchronised_step(self, x1, x2):
        out = step(self, x1, x2)
        if device == "cuda":
            torch.cuda.synchronize()
        return out

    module_globals["make_pool"] = pool_on_device
    trainer_class.step = synchronised_step
    torch.set_default_device(device)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["--arch", "conv", "--batch-size", str(batch_size), "--steps",
              str(steps), "--warmup", str(warmup), "--json"])
    return json.loads(buffer.getvalue().strip().splitlines()[-1])


def _subprocess_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise RuntimeError(f"{cmd} failed with {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_ours(backend, batch_size, steps, warmup, device, steps_per_execution=1):
    env = dict(os.environ, KERAS_BACKEND=backend)
    if device == "cpu":
        env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    cmd = [sys.executable, "-m", "keras_factorvae.bench", "--preset", "conv",
           "--batch-size", str(batch_size), "--steps", str(steps), "--warmup",
           str(warmup), "--discriminator-layers", "5", "--json",
           "--steps-per-execution", str(steps_per_execution)]
    return _subprocess_json(cmd, env)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--batch-sizes", default="64,512")
    parser.add_argument("--backends", default="jax,torch")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="also race JAX with this many batches per "
                             "compiled call (Keras' steps_per_execution)")
    parser.add_argument("--out", default=None, help="JSON file of all runs")
    parser.add_argument("--reference-only", action="store_true",
                        help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=None,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_only:
        print(json.dumps(run_reference(args.reference, args.device,
                                       args.batch_size, args.steps, args.warmup)))
        return 0

    runs = {}
    for _ in range(args.rounds):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            ref = _subprocess_json([
                sys.executable, __file__, "--reference-only", "--reference",
                args.reference, "--device", args.device, "--batch-size",
                str(batch_size), "--steps", str(args.steps), "--warmup",
                str(args.warmup)])
            runs.setdefault(f"reference/{batch_size}", []).append(ref)
            for backend in args.backends.split(","):
                ours = run_ours(backend, batch_size, args.steps, args.warmup,
                                args.device)
                runs.setdefault(f"{backend}/{batch_size}", []).append(ours)
                if backend == "jax" and args.steps_per_execution > 1:
                    spe = args.steps_per_execution
                    ours = run_ours(backend, batch_size, args.steps,
                                    args.warmup, args.device, spe)
                    runs.setdefault(f"jax-spe{spe}/{batch_size}", []).append(ours)
            print(json.dumps({k: [r["steps_per_s"] for r in v]
                              for k, v in runs.items()}), flush=True)
    medians = {k: statistics.median(r["steps_per_s"] for r in v)
               for k, v in runs.items()}
    print("| implementation | batch | steps/s (median) | x reference |")
    print("|---|---|---|---|")
    for key, value in medians.items():
        name, batch = key.split("/")
        ratio = value / medians[f"reference/{batch}"]
        print(f"| {name} | {batch} | {value:.1f} | {ratio:.2f} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": args.device, "medians": medians, "runs": runs},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
