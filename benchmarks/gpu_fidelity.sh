#!/usr/bin/env bash
# Issue 18 item 5: FactorVAE gamma 35 and beta-VAE beta 4 at the paper's
# budget (300,000 steps of batch 64 each) on a lent GPU machine, inside its
# 10 minutes: see benchmarks/gpu_fidelity.py. Run from the repository root.
#
# That machine has JAX (CUDA), scikit-learn, scipy and matplotlib but neither
# Keras nor TensorFlow, and cannot reach the internet. Prepare here once
# (as for gpu_race.sh):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 -d .whl \
#     keras==3.15.1 namex optree
# then call the device tool with
#   run(command="bash benchmarks/gpu_fidelity.sh", carry=[".whl"], timeout_s=600)
# Extra arguments go to gpu_fidelity.py (the last of a repeated option wins),
# e.g. `bash benchmarks/gpu_fidelity.sh --eval-every 150000`. DEADLINE (seconds
# from this script's start, default 540) bounds the whole run; the tables and
# each model's last traversal land in $OUT (7 files, all small). PYTHON, OUT
# WORK (the study's folder, default /tmp/gpu_fidelity, emptied first) and
# WHEELS (default .whl; empty: install nothing) may be set too:
# tests/test_gpu_fidelity.py runs this script on the CPU at a tiny budget.
set -uo pipefail
START=$(date +%s)
DEADLINE=${DEADLINE:-540}
OUT=${OUT:-runs/gpu_fidelity_out}
WORK=${WORK:-/tmp/gpu_fidelity}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS-.whl}  # empty: use the Keras already importable
mkdir -p "$OUT"
rm -rf "$WORK"  # a one-shot run (--no-checkpoints): never mix with an old one
if [ -n "$WHEELS" ] && ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
echo "deadline in $((DEADLINE - ($(date +%s) - START))) s"
"$PYTHON" benchmarks/gpu_fidelity.py --out "$WORK" --parallel \
  --steps 300000 --eval-every 100000 --checkpoint-every 50000 \
  --steps-per-execution 500 --metric-size small --workers 2 --no-checkpoints \
  --runs factorvae_gamma35 beta_vae_beta4 \
  --deadline-at "$((START + DEADLINE))" "$@" 2>&1 | tee "$OUT/gpu_fidelity.log"
status=${PIPESTATUS[0]}
for f in curve.json curve.md curve.png study.json; do
  [ -f "$WORK/$f" ] && cp "$WORK/$f" "$OUT/"
done
for run in "$WORK"/parts/*/; do
  name=$(basename "$run")
  last=$(ls "$run$name"/traversals/step_*.png 2>/dev/null | tail -n 1)
  [ -n "$last" ] && cp "$last" "$OUT/traversal_${name}.png"
done
echo "gpu_fidelity.py exited with $status after $(($(date +%s) - START)) s"
cat "$OUT/curve.md" 2>/dev/null || true
exit "$status"
