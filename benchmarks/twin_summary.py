"""One table over several twin_compare runs: ours and the twin, each Adam placement.

`benchmarks/twin_compare.py` writes one directory per invocation, and one
invocation has one setting of each option (`--twin-adam-epsilon`,
`--ours-adam-epsilon`). This script reads the run files of several of them
(`<dir>/runs/<impl>_seed<k>.json`), groups the runs by implementation and
Adam-epsilon placement, and writes per group the mean and min..max over
seeds of every column, then, for each pair of groups named with `--against`,
whether the first group falls inside the second's seed spread, column by
column (the mean of the first inside the min..max of the second, and how
many of its seeds are), and the difference of their means with its
standard error and its permutation p-value; for each pair named with
`--paired`, the same seed by seed.

    .venv/bin/python benchmarks/twin_summary.py runs/twin runs/twin_keras_eps \\
        runs/twin_ours_torch_eps --out docs/results/twin/summary.md \\
        --against "ours:keras=twin:torch" "ours:keras=twin:keras" \\
        "ours:torch=twin:torch"

A group is named `<impl>:<placement>`, the placement being where that
implementation's Adam adds epsilon (`keras`: to `sqrt(v)`, as Keras and
TensorFlow do; `torch`: to the bias-corrected `sqrt(v_hat)`), with
`:init-<init>` after it for runs of a twin not initialised by Glorot
(`twin:keras:init-ours`: the twin from our initial weights).
"""

import argparse
import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the sibling script twin_compare

# Runs written before an option existed ran with its default.
PLACEMENT_KEY = {"ours": ("ours_adam_epsilon", "keras"),
                 "twin": ("twin_adam_epsilon", "torch")}


def group_of(row):
    key, default = PLACEMENT_KEY[row["impl"]]
    name = f"{row['impl']}:{row['settings'].get(key, default)}"
    init = row["settings"].get("init", "glorot")
    return name if init == "glorot" else f"{name}:init-{init}"


def load_rows(directories):
    """Every run file under the directories; a (group, seed) seen twice is an error."""
    rows, seen = [], {}
    for directory in directories:
        for path in sorted(glob.glob(os.path.join(directory, "runs", "*.json"))):
            with open(path) as f:
                row = json.load(f)
            name = (group_of(row), row["seed"])
            if name in seen:
                sys.exit(f"{path} repeats {name} of {seen[name]}")
            seen[name] = path
            rows.append(row)
    return rows


def spread(rows, columns):
    """{group: {"seeds": [...], key: values over seeds}}."""
    out = {}
    for row in sorted(rows, key=lambda r: (group_of(r), r["seed"])):
        group = out.setdefault(group_of(row), {"seeds": []})
        group["seeds"].append(row["seed"])
        for key, _ in columns:
            if isinstance(row.get(key), (int, float)):
                group.setdefault(key, []).append(float(row[key]))
    return out


def difference(first, second, columns):
    """Per column: mean of `first` less mean of `second`, its standard error
    (Welch: `sqrt(s1^2 / n1 + s2^2 / n2)`, sample variances) and the
    permutation p-value of that difference (`permutation_p`); left out where
    either side has fewer than two seeds."""
    result = {}
    for key, _ in columns:
        a, b = first.get(key, []), second.get(key, [])
        if len(a) < 2 or len(b) < 2:
            continue
        error = np.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
        result[key] = (float(np.mean(a) - np.mean(b)), float(error),
                       permutation_p(a, b))
    return result


def permutation_p(a, b, max_splits=200_000, seed=0):
    """Two-sided p-value of `mean(a) - mean(b)` under exchangeable labels.

    The share of the ways to split the pooled values into groups of
    `len(a)` and `len(b)` whose difference of means is at least as large in
    magnitude as the observed one (the observed split counts). Exact when
    there are at most `max_splits` splits, else estimated from that many
    random ones. It assumes no distribution, which suits a few seeds with
    heavy tails (stalled runs) better than a t-test on the standard error.
    """
    import itertools
    import math

    pooled = np.asarray(list(a) + list(b), dtype=float)
    n, k = len(pooled), len(a)
    observed = abs(np.mean(a) - np.mean(b))
    total = pooled.sum()
    if math.comb(n, k) <= max_splits:
        sums = np.array([pooled[list(c)].sum()
                         for c in itertools.combinations(range(n), k)])
    else:
        rng = np.random.RandomState(seed)
        sums = np.array([pooled[rng.permutation(n)[:k]].sum()
                         for _ in range(max_splits)])
    deltas = np.abs(sums / k - (total - sums) / (n - k))
    # A relative tolerance so that the observed split counts itself.
    return float(np.mean(deltas >= observed * (1 - 1e-9) - 1e-12))


def paired(first, second, columns):
    """Per column, over the seeds both groups ran: the mean of the per-seed
    differences (first less second), its standard error (`sd / sqrt(n)`),
    the sign-flip p-value of that mean (`sign_flip_p`), the correlation of
    the two groups' values across those seeds, and how many seeds there
    are; left out below three common seeds.

    Pairing by seed means something where a seed fixes something shared,
    as for the twin started from our initial weights (`--init ours`): the
    pair then differs in its noise streams only, and the correlation says
    how much of the spread over seeds the initial weights decide.
    """
    common = sorted(set(first["seeds"]) & set(second["seeds"]))
    result = {}
    if len(common) < 3:
        return result
    for key, _ in columns:
        if key not in first or key not in second:
            continue
        a = np.array([first[key][first["seeds"].index(s)] for s in common])
        b = np.array([second[key][second["seeds"].index(s)] for s in common])
        d = a - b
        r = (float(np.corrcoef(a, b)[0, 1])
             if np.std(a) > 0 and np.std(b) > 0 else float("nan"))
        result[key] = (float(np.mean(d)), float(np.std(d, ddof=1) / np.sqrt(len(d))),
                       sign_flip_p(d), r, len(d))
    return result


def sign_flip_p(d, max_flips=200_000, seed=0):
    """Two-sided p-value of `mean(d)` under signs that are equally likely
    either way: the share of the sign patterns of `d` whose mean is at least
    as large in magnitude as the observed one. Exact for up to
    `log2(max_flips)` pairs, else estimated from that many random patterns.
    """
    import itertools

    d = np.asarray(d, dtype=float)
    observed = abs(d.mean())
    if 2 ** len(d) <= max_flips:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    else:
        signs = np.random.RandomState(seed).choice((1.0, -1.0), (max_flips, len(d)))
    means = np.abs(signs @ d) / len(d)
    return float(np.mean(means >= observed * (1 - 1e-9) - 1e-12))


def inside(first, second, columns):
    """Per column: (mean of `first` inside min..max of `second`, seeds inside)."""
    result = {}
    for key, _ in columns:
        if key not in first or key not in second:
            continue
        low, high = min(second[key]), max(second[key])
        values = first[key]
        result[key] = (bool(low <= np.mean(values) <= high),
                       sum(low <= v <= high for v in values), len(values))
    return result


def markdown(groups, comparisons, columns, pairs=None):
    from keras_factorvae.reporting import markdown_table
    from twin_compare import spread_cell

    titles = [title for _, title in columns]
    lines = ["Mean (min..max) over seeds:", ""]
    lines += markdown_table(
        ["group", "seeds", *titles],
        [[name, ",".join(str(s) for s in group["seeds"]),
          *(spread_cell(group.get(k)) for k, _ in columns)]
         for name, group in groups.items()])
    if comparisons:
        lines += ["", "Inside the other's seed spread (mean inside min..max; "
                  "seeds inside / seeds):", ""]
        lines += markdown_table(
            ["group", "against", *titles],
            [[a, b, *(_verdict(result["inside"].get(k)) for k, _ in columns)]
             for (a, b), result in comparisons.items()])
        lines += ["", "Difference of the means (first less second) +- its "
                  "standard error (permutation p-value):", ""]
        lines += markdown_table(
            ["group", "against", *titles],
            [[a, b, *(_difference(result["difference"].get(k))
                      for k, _ in columns)]
             for (a, b), result in comparisons.items()])
    if pairs:
        lines += ["", "Paired by seed: mean of the per-seed differences (first "
                  "less second) +- its standard error (sign-flip p-value; "
                  "correlation across seeds; seeds):", ""]
        lines += markdown_table(
            ["group", "against", *titles],
            [[a, b, *(_paired(result.get(k)) for k, _ in columns)]
             for (a, b), result in pairs.items()])
    return "\n".join(lines) + "\n"


def _paired(result):
    if result is None:
        return ""
    delta, error, p, r, n = result
    return f"{delta:+.3f} +- {error:.3f} (p {p:.3f}; r {r:+.2f}; {n})"


def _difference(result):
    if result is None:
        return ""
    delta, error, p = result
    return f"{delta:+.3f} +- {error:.3f} (p {p:.3f})"


def _verdict(result):
    if result is None:
        return ""
    ok, n_in, n = result
    return f"{'yes' if ok else '**no**'} ({n_in}/{n})"


def _groups_named(pair, groups):
    a, _, b = pair.partition("=")
    missing = [g for g in (a, b) if g not in groups]
    if missing:
        sys.exit(f"no runs of {missing}; groups: {sorted(groups)}")
    return a, b


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+",
                        help="twin_compare --out directories")
    parser.add_argument("--out", help="markdown file (default: print)")
    parser.add_argument("--against", nargs="*", default=[],
                        help="pairs GROUP=GROUP, e.g. ours:keras=twin:torch")
    parser.add_argument("--paired", nargs="*", default=[],
                        help="pairs GROUP=GROUP compared seed by seed, e.g. "
                             "ours:keras=twin:keras:init-ours")
    args = parser.parse_args(argv)
    from twin_compare import COLUMNS

    columns = [c for c in COLUMNS if not c[0].startswith("st")]
    groups = spread(load_rows(args.directories), columns)
    comparisons, pairs = {}, {}
    for pair in args.against:
        a, b = _groups_named(pair, groups)
        comparisons[(a, b)] = {
            "inside": inside(groups[a], groups[b], columns),
            "difference": difference(groups[a], groups[b], columns)}
    for pair in args.paired:
        a, b = _groups_named(pair, groups)
        pairs[(a, b)] = paired(groups[a], groups[b], columns)
    text = markdown(groups, comparisons, columns, pairs)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return groups, comparisons


if __name__ == "__main__":
    main()
