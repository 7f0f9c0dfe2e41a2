"""``handgrad raven``: generate, train (tiny settings), evaluate, solve, and one-line errors."""

import json
import os

import numpy as np
import pytest

from handgrad.cli import main
from handgrad.raven.problem_file import load_problems

TINY = ["--encoder-problems", "6", "--encoder-problems-3x3", "3", "--encoder-epochs", "1", "--pairs", "40", "--pair-epochs", "1",
        "--blind-problems", "6", "--blind-epochs", "1", "--eval-problems", "6", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("raven") / "run"
    assert main(["raven", "train", "--out", str(out)] + TINY) == 0
    return out


def test_train_writes_models_histories_plots_and_metrics(run_dir):
    files = set(os.listdir(run_dir))
    assert {"encoder.npz", "pair.npz", "blind_2x2_encoder.npz", "blind_3x3_head.npz", "config.json",
            "metrics.json", "history_encoder.json", "history_pair.json"} <= files
    assert any(f.endswith(".png") for f in files)
    m = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy_2x2", "accuracy_3x3", "chance_2x2", "chance_3x3", "context_blind_2x2",
                "context_blind_3x3", "heuristic_2x2", "heuristic_3x3", "seed003_2x2", "seed003_3x3"):
        assert 0.0 <= m[key] <= 1.0, key
    assert m["chance_2x2"] == pytest.approx(1 / 6) and m["chance_3x3"] == pytest.approx(1 / 8)
    assert set(m["accuracy_per_rule"]) == {"2x2", "3x3"}
    some = next(iter(m["accuracy_per_rule"]["3x3"].values()))
    assert {"n", "strong", "seed003", "context_blind", "heuristic"} <= set(some)


def test_train_refuses_a_used_folder(run_dir, capsys):
    assert main(["raven", "train", "--out", str(run_dir)] + TINY) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and len(err.strip().splitlines()) == 1


def test_generate_then_solve(run_dir, tmp_path, capsys):
    path = tmp_path / "p.npz"
    assert main(["raven", "generate", "--kind", "2x2", "--n", "3", "--seed", "5", "--out", str(path)]) == 0
    problems = load_problems(str(path))
    assert problems["kind"] == "2x2" and problems["choice_images"].shape == (3, 6, 40, 40)
    assert (tmp_path / "p.png").exists()
    picture = tmp_path / "solved.png"
    assert main(["raven", "solve", str(run_dir), str(path), "--index", "2", "--out", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "chose" in out and picture.exists()
    assert main(["raven", "solve", str(run_dir), "3x3", "--solver", "seed003", "--out", str(picture)]) == 0
    # the same file again is refused without --force
    assert main(["raven", "generate", "--kind", "2x2", "--n", "3", "--out", str(path)]) == 2


def test_evaluate(run_dir, capsys):
    assert main(["raven", "evaluate", str(run_dir), "--n", "4", "--seed", "9"]) == 0
    m = json.loads((run_dir / "evaluation-seed9-n4.json").read_text())
    assert m["eval_problems"] == 4 and "accuracy_3x3" in m
    assert "strong" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["raven", "evaluate", "/no/such/run"], "not a raven run folder"),
    (["raven", "solve", "/no/such/run", "2x2"], "not a raven run folder"),
    (["raven", "generate", "--n", "0"], "--n must be a positive integer"),
    (["raven", "train", "--out", "{tmp}/x", "--encoder-epochs", "0"], "encoder_epochs"),
    (["raven"], "choose an action"),
], ids=["evaluate-missing", "solve-missing", "generate-n", "train-epochs", "no-action"])
def test_user_errors_print_one_line(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_solve_rejects_a_bad_problem_file(run_dir, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    assert main(["raven", "solve", str(run_dir), str(bad)]) == 2
    assert "not a raven problem file" in capsys.readouterr().err
