"""The run report: pictures and report.html drawn from a run folder's files, redrawn by
``handgrad report`` for an old run, and opened in a real browser (headless Chromium)."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from handgrad.report import TEST_OUTPUTS, read_run, write_report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PICTURES = ["curves.png", "confusion_matrix.png", "filters.png", "feature_maps.png", "misclassified.png"]
pytest.importorskip("matplotlib")


def handgrad(*args, env=None):
    env = dict(os.environ, **(env or {}), MPLBACKEND="Agg",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "handgrad", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """One tiny MNIST run (2 epochs on 300 images), shared by the tests; they work on copies."""
    from tests.conftest import MNIST_DIR
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    run = tmp_path_factory.mktemp("runs") / "mnist-tiny"
    proc = handgrad("train", "--data-dir", MNIST_DIR, "--limit", 300, "--test-limit", 200, "--epochs", 2,
                    "--batch-size", 50, "--out", run, "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return run, proc


@pytest.fixture
def run_copy(mnist_run, tmp_path):
    return shutil.copytree(mnist_run[0], tmp_path / "run")


def _images(page):
    return re.findall(r'<img src="([^"]*)"', page)


def test_train_writes_every_picture_and_a_self_contained_page(mnist_run):
    run, proc = mnist_run
    for name in PICTURES + ["report.html", TEST_OUTPUTS]:
        assert (run / name).is_file(), f"{name} missing from {sorted(os.listdir(run))}"
    lines = proc.stdout.splitlines()
    first_epoch = next((i for i, line in enumerate(lines) if line.startswith("epoch ")), len(lines))
    before = "\n".join(lines[:first_epoch])
    assert re.search(r"compute: (backend \w+( on \d+ threads?)?, )?NumPy \S+, .* with (\d+ threads?|its default number of threads)", before), before
    assert re.search(r"model: [\d,]+ parameters", before) and f"run folder: {run}" in before
    page = (run / "report.html").read_text(encoding="utf-8")
    sources = _images(page)
    assert len(sources) == len(PICTURES) and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not reach the network"
    for text in ("Configuration", "Per epoch", "Final test metrics", "Model", "fast-cnn",
                 "Conv2d", "test_accuracy", "207,098"):              # 207,098: fast-cnn's parameter count
        assert text in page, text


def test_history_keeps_every_step_and_the_test_curve(mnist_run):
    run, _ = mnist_run
    history = json.loads((run / "history.json").read_text())
    assert len(history["steps"]) == 2 * 300 // 50
    assert all(np.isfinite(s["loss"]) and s["lr"] > 0 for s in history["steps"])
    assert all(0 <= e["test_accuracy"] <= 1 and e["test_loss"] > 0 for e in history["epochs"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert history["epochs"][-1]["test_accuracy"] == pytest.approx(metrics["accuracy"])


def test_report_command_redraws_an_old_run(run_copy):
    for name in PICTURES + ["report.html"]:
        os.remove(run_copy / name)
    proc = handgrad("report", run_copy)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {run_copy / 'report.html'} (5 plots" in proc.stdout
    assert all((run_copy / name).is_file() for name in PICTURES)


def test_report_of_a_run_without_test_outputs_leaves_out_what_needs_them(run_copy):
    os.remove(run_copy / TEST_OUTPUTS)
    path, figures, notes = write_report(str(run_copy))
    assert [f.file for f in figures] == ["curves.png", "filters.png"]
    assert any(TEST_OUTPUTS in note for note in notes)
    assert "test_outputs.npz is missing" in open(path, encoding="utf-8").read()


def test_test_outputs_hold_labels_predictions_and_the_wrong_images(mnist_run):
    run = read_run(str(mnist_run[0]))
    t = run.test
    assert t["y_true"].shape == t["y_pred"].shape == (200,)
    wrong = np.flatnonzero(t["y_true"] != t["y_pred"])
    np.testing.assert_array_equal(t["wrong_index"], wrong[:25])
    assert t["wrong_images"].shape == (len(t["wrong_index"]), 1, 28, 28)
    assert run.class_names == list("0123456789")


@pytest.mark.parametrize("files, message", [
    ([], "is not a run folder: it holds none of config.json"),
    (None, "no such run folder"),
])
def test_report_errors(tmp_path, files, message):
    target = tmp_path / "nothing"
    if files is not None:
        target.mkdir()
    proc = handgrad("report", target)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("handgrad report: error: ") and message in proc.stderr


# -- the page in a browser ---------------------------------------------------------------
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--virtual-time-budget=10000"]
# appended to a copy of the page: after loading, write what every image did into the DOM
PROBE = """<script>window.addEventListener("load", function () {
  var imgs = Array.from(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var out = document.createElement("div"); out.id = "image-check";
  out.textContent = "images " + ok + " of " + imgs.length + " loaded; widths " +
    imgs.map(function (i) { return i.naturalWidth; }).join(",");
  document.body.appendChild(out);
});</script>"""


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium_with_every_image_loaded(mnist_run, tmp_path):
    if chromium() is None:
        if os.environ.get("HANDGRAD_REQUIRE_CHROMIUM"):                # set by .ci/run
            pytest.fail("chromium is not installed but HANDGRAD_REQUIRE_CHROMIUM is set")
        pytest.skip("chromium not installed (apt-get install chromium; CI installs it)")
    page = (mnist_run[0] / "report.html").read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    match = re.search(r'<div id="image-check">images (\d+) of (\d+) loaded; widths ([\d,]*)</div>', dom)
    assert match, f"no image check in the DOM (exit {proc.returncode}):\n{dom[-2000:]}\n{proc.stderr[-2000:]}"
    assert int(match[1]) == int(match[2]) == len(PICTURES), match[0]
    assert all(int(w) > 100 for w in match[3].split(",")), match[0]
    assert "handgrad run" in dom and "Per epoch" in dom
