"""Medians of `bf16_race.sh` output: steps/s per backend and policy, and the
mixed_bfloat16 / float32 ratio.

    python benchmarks/bf16_summary.py docs/results/bf16/race.jsonl
"""

import collections
import json
import sys

import numpy as np


def summarise(path):
    runs = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                runs[row["backend"], row["dtype_policy"]].append(
                    row["steps_per_s"])
    table = {}
    for backend in sorted({b for b, _ in runs}):
        fp32 = float(np.median(runs[backend, "float32"]))
        bf16 = float(np.median(runs[backend, "mixed_bfloat16"]))
        table[backend] = {"float32": fp32, "mixed_bfloat16": bf16,
                          "ratio": bf16 / fp32,
                          "rounds": len(runs[backend, "float32"])}
    return table


if __name__ == "__main__":
    result = summarise(sys.argv[1])
    print("| backend | float32 steps/s | mixed_bfloat16 steps/s | bf16 / fp32 |")
    print("|---|---|---|---|")
    for backend, row in result.items():
        print(f"| {backend} | {row['float32']:.2f} | {row['mixed_bfloat16']:.2f} "
              f"| {row['ratio']:.2f} |")
