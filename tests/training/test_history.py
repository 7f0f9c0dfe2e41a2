import numpy as np
import pytest

from handgrad.training import History


def _history():
    h = History()
    h.append_epoch({"epoch": 0, "loss": 0.75, "accuracy": 0.5, "val_loss": 0.8, "lr": 0.1, "time": 1.25})
    h.append_epoch({"epoch": 1, "loss": 0.3333333333333333, "accuracy": 0.875, "val_loss": 0.5,
                    "lr": 0.05, "time": 1.5})
    h.append_epoch({"epoch": 2, "loss": 0.25, "accuracy": 0.9, "lr": 0.025, "time": 1.0})   # no val
    for step, loss in enumerate([1.0, 0.5, 0.25]):
        h.append_step({"epoch": 0, "step": step, "loss": loss, "lr": 0.1})
    return h


def test_json_round_trip(tmp_path):
    h = _history()
    back = History.from_json(h.to_json(tmp_path / "h.json"))
    assert back == h and back.steps == h.steps


def test_csv_round_trip_keeps_floats_exactly_and_missing_values(tmp_path):
    h = _history()
    h.to_csv(tmp_path / "h.csv", tmp_path / "steps.csv")
    back = History.from_csv(tmp_path / "h.csv", tmp_path / "steps.csv")
    assert back == h
    assert back["val_loss"] == [0.8, 0.5, None]
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,loss,accuracy,val_loss,lr,time"


def test_columns_best_and_errors():
    h = _history()
    assert h["loss"] == [0.75, 0.3333333333333333, 0.25]
    assert h.best("val_loss") == (1, 0.5)
    assert h.best("accuracy", mode="max") == (2, 0.9)
    assert "val_loss" in h and "val_accuracy" not in h
    with pytest.raises(KeyError, match="History has no entry 'val_accuracy'"):
        h["val_accuracy"]
    with pytest.raises(ValueError, match="no values for 'x'"):
        History([{"x": None}]).best("x")


def test_numpy_floats_are_not_needed():
    h = History()
    h.append_epoch({"epoch": 0, "loss": float(np.float32(0.5))})
    assert h.to_dict() == {"epochs": [{"epoch": 0, "loss": 0.5}], "steps": []}


def test_a_failed_write_keeps_the_previous_history_file(tmp_path, monkeypatch):
    import json
    from handgrad.training import History
    h = History([{"epoch": 0, "loss": 1.0}], [{"epoch": 0, "step": 0, "loss": 1.5, "lr": 0.1}])
    h.to_json(tmp_path / "h.json")
    h.append_epoch({"epoch": 1, "loss": 0.5})

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(json, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        h.to_json(tmp_path / "h.json")
    assert len(History.from_json(tmp_path / "h.json")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.json"]
