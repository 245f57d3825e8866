"""benchmarks/step.py runs end to end in a tiny configuration and writes complete JSON (no timing checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = ["--reduced", "--archs", "SimpleCNN", "--width", "0.25", "--device", "cpu", "--batch-size", "4",
        "--steps", "16", "--reps", "1", "--warmup-steps", "1", "--epoch-batch-size", "16", "--data-images", "64",
        "--e2e-images", "64", "--epoch-reps", "1", "--num-workers", "1"]


def _positive_rates(entry: dict) -> None:
    assert entry["images_per_rep"] > 0
    for key in ("seconds", "images_per_s"):
        assert all(entry[key][stat] > 0 for stat in ("median", "min", "max"))


def test_reduced_benchmark_writes_complete_json(tmp_path):
    out = tmp_path / "step.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "step.py"), *TINY, "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Targets" in proc.stdout
    result = json.loads(out.read_text())

    assert {"settings", "environment", "step", "data", "e2e", "targets"} <= set(result)
    assert result["settings"]["mode"] == "reduced"
    assert result["environment"]["device"]["torch_threads"] > 0
    assert result["environment"]["versions"]["torch"]

    step = result["step"]["SimpleCNN"]
    assert step["parameters"] > 0
    assert set(step["methods"]) == {"notebook", "dual", "ce"}
    for method in step["methods"].values():
        _positive_rates(method)
        assert method["memory_format"]
    for r in step["ratios"].values():
        assert r["median"] > 0
    for section, names in (("data", ("engine", "pil")), ("e2e", ("engine", "reference"))):
        for name in names:
            _positive_rates(result[section][name])
        assert result[section]["ratio"]["median"] > 0
    assert {t["target"] for t in result["targets"]} == {"dual_vs_notebook", "dual_vs_ce", "data", "e2e"}
    assert all(isinstance(t["pass"], bool) and t["ratio"] > 0 for t in result["targets"])
