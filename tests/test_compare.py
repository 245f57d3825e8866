"""Rebuild vs reference: the per-cell test, the whole-tree verdict, and the paper compared with itself
and with a copy of itself that has one cell shifted by 3 combined standard errors."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from dualgrad import compare
from dualgrad.cli import main
from workflow_helpers import REPO, snakemake


def _table(cells: dict[tuple, list[float]], experiment="P") -> pd.DataFrame:
    rows = []
    for (model, lam), errors in cells.items():
        rows += [{"experiment": experiment, "kind": "train", "model": model, "lambda": lam, "noise_rate": 0.4,
                  "seed": s, "status": "ok", "test_error": e} for s, e in enumerate(errors)]
    return pd.DataFrame(rows)


def _shift(table: pd.DataFrame, pick, by_se: float) -> pd.DataFrame:
    """The table with every run of one cell moved by ``by_se`` combined standard errors of (it, itself)."""
    out = table.copy()
    errors = out.loc[pick, "test_error"]
    out.loc[pick, "test_error"] = errors + by_se * math.sqrt(2 * errors.var(ddof=1) / len(errors))
    return out


def test_p_value_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for t, df in [(3.0, 4.0), (0.3, 2.5), (2.1, 7.3), (6.0, 1.2), (1.0, 200.0)]:
        assert compare.t_two_sided_p(t, df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9)


def test_planted_shift_is_the_only_difference():
    rng = np.random.default_rng(0)
    cells = {(m, lam): list(0.2 + 0.01 * rng.standard_normal(4)) for m in ("A", "B") for lam in (0.1, 0.2, 0.3)}
    ref = _table(cells)
    shifted = _shift(ref, (ref["model"] == "B") & (ref["lambda"] == 0.2), 3.0)
    cells = compare.compare({"P": shifted}, {"P": ref})
    assert len(cells) == 6
    differ = cells[cells["verdict"] == "differ"]
    assert differ[["model", "lambda"]].values.tolist() == [["B", 0.2]]
    assert differ["z"].iloc[0] == pytest.approx(3.0)
    assert (cells.loc[cells["verdict"] == "agree", "z"] == 0).all()
    # 2 SE at df = 6 is p ≈ 0.09: not a difference at 0.05
    cells = compare.compare({"P": _shift(ref, (ref["model"] == "B") & (ref["lambda"] == 0.2), 2.0)}, {"P": ref})
    assert (cells["verdict"] == "agree").all()


def test_undecided_zero_spread_and_holm():
    ref = _table({("A", 0.1): [0.9, 0.9, 0.9], ("A", 0.2): [0.3], ("A", 0.3): [0.2, 0.21, 0.22]})
    ours = _table({("A", 0.1): [0.9, 0.9, 0.9], ("A", 0.2): [0.5], ("A", 0.3): [0.5, 0.51, 0.52]})
    cells = compare.compare({"P": ours}, {"P": ref}).set_index("lambda")
    assert cells.loc[0.1, "verdict"] == "agree"  # equal, no spread on either side
    assert cells.loc[0.2, "verdict"] == "undecided" and "fewer than 2 runs" in cells.loc[0.2, "reason"]
    assert cells.loc[0.3, "verdict"] == "differ" and cells.loc[0.3, "differs_after_holm"]
    headline = compare.verdict(cells.reset_index())
    assert headline["verdict"] == "differs" and headline["undecided"] == 1 and headline["decided"] == 2
    assert "Holm" in headline["rule"]


def test_no_shared_cell_is_undecided():
    cells = compare.compare({"P": _table({("A", 0.1): [0.1, 0.2]})}, {"K": _table({("A", 0.1): [0.1, 0.2]})})
    assert cells.empty and compare.verdict(cells)["verdict"] == "undecided"


# ------------------------------------------------------------- the paper's released results
@pytest.fixture(scope="module")
def paper_tables(tmp_path_factory, paper_results):
    """The paper's results imported, as each experiment's run table (no snakemake)."""
    from dualgrad.plan import build_plan
    from dualgrad.tidy import collect_tables

    results = tmp_path_factory.mktemp("paper") / "results"
    assert main(["import", str(paper_results), "--workflow-config", str(REPO / "config.yaml"),
                 "--results", str(results)]) == 0
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(yaml.safe_load((REPO / "config" / "paper-import.yaml").read_text()))
    plan = build_plan(config)
    return {name: collect_tables(exp.rows, results)["table"] for name, exp in plan.experiments.items()}


def test_paper_against_itself_differs_nowhere(paper_tables):
    cells = compare.compare(paper_tables, paper_tables)
    assert len(cells) > 100 and set(cells["experiment"]) == set(paper_tables)
    assert (cells["verdict"] != "differ").all()
    assert set(cells.loc[cells["verdict"] == "undecided", "experiment"]) == {"V3"}  # one seed per start
    assert compare.verdict(cells)["verdict"] == "matches"


def test_paper_with_one_cell_shifted_by_3_se(paper_tables):
    """A cell of each experiment in turn (and P's ResNet34 at λ=0.65) moved by 3 combined SE: that cell
    and no other in the whole tree differs."""
    cells = compare.compare(paper_tables, paper_tables)
    decided = cells[(cells["verdict"] == "agree") & (cells["std_reference"] > 0)]
    picked = decided.groupby("experiment").head(1)
    picked = pd.concat([picked, decided[(decided["model"] == "ResNet34") & np.isclose(decided["lambda"], 0.65)]])
    assert len(picked) == 8
    for _, cell in picked.iterrows():
        table = paper_tables[cell["experiment"]]
        pick = (table["model"] == cell["model"]) & np.isclose(table["lambda"], cell["lambda"]) & np.isclose(
            table["noise_rate"], cell["noise_rate"])
        for col in ("condition", "region", "branch"):
            pick &= table[col].fillna("") == cell[col]
        shifted = dict(paper_tables, **{cell["experiment"]: _shift(table, pick, 3.0)})
        found = compare.compare(shifted, paper_tables)
        differ = found[found["verdict"] == "differ"]
        assert [compare.cell_name(r) for _, r in differ.iterrows()] == [compare.cell_name(cell)]
        assert differ["z"].iloc[0] == pytest.approx(3.0)


@pytest.mark.slow
def test_compare_rule_paper_against_itself(tmp_path, paper_results):
    """The workflow's compare rule on the imported paper tree against itself: table, verdict, figure."""
    results = tmp_path / "paper"
    assert main(["import", str(paper_results), "--workflow-config", str(REPO / "config.yaml"),
                 "--results", str(results)]) == 0
    overlay = ["--cores", "2", "--workflow-profile", "none", "--configfile", "config/paper-import.yaml",
               "--config", f"results_dir={results}"]
    raw = yaml.safe_load((REPO / "config.yaml").read_text())["experiments"]
    experiments = [name for name, spec in raw.items() if not spec.get("extension")]  # the paper's, not opt-in ones
    snakemake(*[f"{results}/{name}/tables/table.csv" for name in experiments], *overlay, timeout=600)
    snakemake(f"{results}/comparison/comparison.json", *overlay, f"compare_with={results}", timeout=600)
    headline = json.loads((results / "comparison" / "comparison.json").read_text())
    assert headline["verdict"] == "matches" and headline["differ"] == 0 and headline["cells"] > 100
    assert len(pd.read_csv(results / "comparison" / "cells.csv")) == headline["cells"]
    assert (results / "comparison" / "figures" / "comparison.png").stat().st_size > 10_000


def test_compare_with_a_missing_tree_is_a_config_error(tmp_path):
    proc = snakemake("-n", "--workflow-profile", "none", "--configfile", "config/demo.yaml", "--config",
                     f"compare_with={tmp_path}/nothing", check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "compare_with" in proc.stdout + proc.stderr and "dualgrad import" in proc.stdout + proc.stderr
