"""Run JSONs are checked where the tables read them: a damaged one is named in one line with what to
do; in figures-only mode it is listed as missing; the workflow sets it aside so its job reruns."""

import json
import subprocess
import sys

import pytest

from dualgrad.errors import DamagedFileError
from dualgrad.result_files import damaged_results, set_aside_damaged
from dualgrad.tidy import collect_tables


def sound_result(epochs=2):
    return {"status": "ok", "test_acc": 0.5, "test_error": 0.5, "config": {"arch": "SimpleCNN"},
            "provenance": {"imported": False}, "trajectory": None,
            "dynamics": {"epoch": list(range(1, epochs + 1)), "test_acc": [0.4, 0.5], "test_error": [0.6, 0.5],
                         "train_loss": [2.0, 1.5], "avg_cos": [None, None], "avg_gmix_norm": [None, None],
                         "lr": [0.1, 0.1], "lam": [0.3, 0.3]}}


DAMAGE = {
    "torn": lambda text: text[:len(text) // 2],
    "empty": lambda text: "",
    "binary": None,
    "a list": lambda text: "[1, 2]",
    "no status": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "status"}),
    "short dynamics": lambda text: text.replace('"train_loss": [\n      2.0,\n      1.5\n    ]',
                                                '"train_loss": [\n      2.0\n    ]'),
    "bad trajectory": lambda text: text.replace('"trajectory": null', '"trajectory": [{"lambda": 0.3}]'),
}


@pytest.fixture
def results(tmp_path):
    rows = []
    for i in range(3):
        run = f"runs/lam~0.{i}"
        path = tmp_path / f"{run}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sound_result(), indent=2))
        rows.append({"experiment": "P", "run": run})
    return tmp_path, rows


def damage(path, how):
    if DAMAGE[how] is None:
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        text = DAMAGE[how](path.read_text())
        path.write_text(text)
        assert text != json.dumps(sound_result(), indent=2), f"{how}: the damage did not apply"


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_run_json_is_named(results, how):
    folder, rows = results
    path = folder / f"{rows[1]['run']}.json"
    damage(path, how)
    with pytest.raises(DamagedFileError) as err:
        collect_tables(rows, folder, damaged_as_missing=False)
    assert err.value.path == str(path) and "without figures_only" in str(err.value)
    tables = collect_tables(rows, folder, damaged_as_missing=True)
    assert len(tables["table"]) == 2
    assert tables["missing"]["run"].tolist() == [rows[1]["run"]]
    assert tables["missing"]["reason"].iloc[0].startswith("damaged: ")
    assert [p for p, _ in damaged_results(folder / f"{r['run']}.json" for r in rows)] == [path]


def test_sound_results_pass(results):
    folder, rows = results
    assert len(collect_tables(rows, folder, damaged_as_missing=False)["table"]) == 3
    assert damaged_results(folder / f"{r['run']}.json" for r in rows) == []


def test_tables_command_fails_in_one_line_naming_the_file(results, tmp_path):
    folder, rows = results
    path = folder / f"{rows[0]['run']}.json"
    damage(path, "torn")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(rows))
    proc = subprocess.run([sys.executable, "-m", "dualgrad", "tables", "--plan", plan, "--results", folder,
                           "--out-dir", tmp_path / "tables"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert f"'{path}' is damaged (torn or not JSON" in proc.stderr and "delete the file" in proc.stderr


def test_set_aside_renames_only_damaged_files_and_not_in_a_dry_run(results, capsys):
    folder, rows = results
    paths = [folder / f"{r['run']}.json" for r in rows]
    damage(paths[2], "torn")
    assert set_aside_damaged(paths, dry_run=True) == [] and paths[2].exists()
    assert "a real run sets it aside" in capsys.readouterr().err
    moved = set_aside_damaged(paths)
    assert moved == [paths[2].with_name(paths[2].name + ".damaged")] and not paths[2].exists()
    assert f"damaged run result {paths[2]}" in capsys.readouterr().err
    assert paths[0].exists() and paths[1].exists()
