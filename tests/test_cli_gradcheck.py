"""``handgrad gradcheck``: every built-in layer and loss passes; filters and errors."""

import re

import pytest

from handgrad.cli import main


def test_all_cases_pass(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for name in ["Softmax", "Dropout", "BatchNorm2d-eval", "CrossEntropyLoss-smooth", "BCEWithLogitsLoss"]:
        assert f"\n{name} " in out
    assert "FAILED" not in out and " 0 failed" in out


def test_only_filters(capsys):
    assert main(["gradcheck", "--only", "Dropout", "MSELoss"]) == 0
    out = capsys.readouterr().out
    assert "2 passed, 0 failed" in out and "Linear" not in out


def test_unknown_name(capsys):
    assert main(["gradcheck", "--only", "Nope"]) == 2
    assert re.match(r"handgrad gradcheck: error: unknown layer\(s\) \['Nope'\]", capsys.readouterr().err)
