#!/usr/bin/env bash
# Issue 9's GPU race, run on a lent GPU machine from the repository root.
# That machine has JAX, PyTorch and CUDA but not Keras, and cannot reach the
# internet; prepare here first (see docs/benchmarks.md, "GPU"):
#   echo /.whl/ >> .git/info/exclude; echo /.refbench/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 -d .whl \
#     keras==3.15.1 namex optree
#   mkdir -p .refbench && cp ../shared/bench/torch_factorvae_ref.py .refbench/
# then run this script there with `.whl` and `.refbench` carried.
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python3 benchmarks/gpu_race.py --reference .refbench/torch_factorvae_ref.py \
  --out "${OUT:-.}/gpu_race.json" "$@"
