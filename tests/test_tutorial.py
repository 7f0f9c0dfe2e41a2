"""docs/tutorial.md runs: every ```python block, in order, in one interpreter (a subprocess,
started in an empty folder with MNIST found through HANDGRAD_DATA)."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(ROOT, "docs", "tutorial.md")

# runs the blocks one after the other in one namespace; a failure names the block's first line
RUNNER = r"""
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
namespace = {"__name__": "__tutorial__"}
for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
    line = text.count("\n", 0, match.start()) + 2
    exec(compile(match.group(1), f"{sys.argv[1]}, block at line {line}", "exec"), namespace)
print("TUTORIAL OK")
"""


def python_blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_tutorial_has_the_promised_steps():
    text = open(TUTORIAL, encoding="utf-8").read()
    blocks = python_blocks(text)
    assert len(blocks) >= 10
    code = "\n".join(blocks)
    for piece in ("L.Conv2d(1, 1, kernel_size=2", "handgrad.gradcheck(", "L.MaxPool2d(", ".summary((1, 28, 28))",
                  "fit(", "plot_feature_maps(", "handgrad.save(", "handgrad.load(", "predict("):
        assert piece in code, piece


def test_every_code_block_runs_in_order(mnist_dir, tmp_path):
    env = dict(os.environ, HANDGRAD_DATA=str(mnist_dir.parent), MPLBACKEND="Agg",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", RUNNER, TUTORIAL], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "TUTORIAL OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("curves.png", "filters.png", "feature_maps.png", "confusion.png", "misclassified.png",
                 "lenet.npz"):
        assert (tmp_path / "tutorial-run" / name).is_file(), name
