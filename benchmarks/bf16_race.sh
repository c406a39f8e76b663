#!/bin/sh
# Mixed bfloat16 against float32, our conv FactorVAE step at batch 64, on
# every backend: alternating rounds of `keras_factorvae.bench`, one JSON line
# per run in $OUT (default bf16_race.jsonl). Extra arguments go to the bench,
# e.g. `--threads 1`. Medians and ratios: benchmarks/bf16_summary.py.
#
#   sh benchmarks/bf16_race.sh 3 docs/results/bf16/race.jsonl
ROUNDS=${1:-3}
OUT=${2:-bf16_race.jsonl}
shift 2 2>/dev/null
PY=${PYTHON:-.venv/bin/python}
: > "$OUT"
for round in $(seq "$ROUNDS"); do
  for backend in jax tensorflow torch; do
    for policy in float32 mixed_bfloat16; do
      KERAS_BACKEND=$backend TF_CPP_MIN_LOG_LEVEL=3 "$PY" -m keras_factorvae.bench \
        --preset conv --batch-size 64 --steps 30 --warmup 5 \
        --dtype-policy "$policy" --json "$@" 2>/dev/null | tail -1 >> "$OUT"
    done
  done
done
