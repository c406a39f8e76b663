"""The one markdown table writer and the tables written with it."""

import pytest

from keras_factorvae import reporting
from keras_factorvae import reproduce
from keras_factorvae.cli.reproduce import sweep_table


def test_markdown_table_literal():
    lines = reporting.markdown_table(["a", "b c"], [[1, 2.5], ["x", None]])
    assert "\n".join(lines) == (
        "| a | b c |\n"
        "|---|---|\n"
        "| 1 | 2.5 |\n"
        "| x | None |"
    )


def test_markdown_table_escapes_pipes_and_checks_row_lengths():
    assert reporting.markdown_table(["k"], [["a|b"]])[-1] == "| a\\|b |"
    assert reporting.markdown_table(["k", "v"], []) == ["| k | v |", "|---|---|"]
    with pytest.raises(ValueError, match="3 cells for 2 columns"):
        reporting.markdown_table(["k", "v"], [[1, 2, 3]])


def test_metric_table_literal():
    scores = {"zzz": "text", "mig.discrete_mig": 0.31234567,
              "dci.informativeness_train": float("nan"),
              "factor_vae_score.eval_accuracy": 0.8,
              "sap_score.SAP_score": None}
    assert reporting.metric_table(scores) == [
        "| metric | value |",
        "|---|---|",
        "| **mig.discrete_mig** | **0.3123** |",
        "| **factor_vae_score.eval_accuracy** | **0.8000** |",
        "| **sap_score.SAP_score** | **n/a** |",
        "| dci.informativeness_train | n/a |",
        "| zzz | text |",
    ]


def test_reproduction_results_md_literal(tmp_path):
    rows = [
        {"run": "factorvae", "seed": 0, "steps": 100,
         "reconstruction_loss": 123.456789, "kl_loss": 12.0,
         "mig.discrete_mig": 0.123456},
        {"run": "beta_vae", "seed": 1, "steps": 100,
         "reconstruction_loss": 99.5, "kl_loss": 3.25, "extra": 1},
    ]
    reproduce._write_tables(str(tmp_path), rows)
    assert (tmp_path / "results.md").read_text() == (
        "| run | seed | steps | reconstruction_loss | kl_loss "
        "| mig.discrete_mig |\n"
        "|---|---|---|---|---|---|\n"
        "| factorvae | 0 | 100 | 123.5 | 12 | 0.1235 |\n"
        "| beta_vae | 1 | 100 | 99.5 | 3.25 |  |\n"
    )
    assert (tmp_path / "results.csv").read_text().splitlines() == [
        "run,seed,steps,reconstruction_loss,kl_loss,mig.discrete_mig,extra",
        "factorvae,0,100,123.456789,12.0,0.123456,",
        "beta_vae,1,100,99.5,3.25,,1",
    ]


def test_sweep_table_literal():
    rows = [
        {"gamma": 10.0, "seed": 0, "mig.discrete_mig": 0.1,
         "reconstruction_loss": 100.0},
        {"gamma": 10.0, "seed": 1, "mig.discrete_mig": 0.3,
         "reconstruction_loss": float("nan")},
        {"gamma": 2.5, "seed": 0, "mig.discrete_mig": None,
         "reconstruction_loss": 90.0},
    ]
    assert sweep_table("gamma", ["mig.discrete_mig", "reconstruction_loss"],
                       rows) == [
        "| gamma | runs | mig.discrete_mig | reconstruction_loss |",
        "|---|---|---|---|",
        "| 2.5 | 1 | n/a | 90.000 +- 0.000 |",
        "| 10 | 2 | 0.200 +- 0.100 | 100.000 +- 0.000 |",
    ]
