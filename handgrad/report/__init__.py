"""The report of a training run: its pictures and one self-contained ``report.html``.

Everything is drawn from the run folder's saved files (:mod:`handgrad.report.run_files`), so
``handgrad report RUN_DIR`` redraws the report of any finished (or interrupted) run.

Example: ``handgrad.report.write_report("runs/mnist-fast-cnn-20260101-120000")``.
"""

from .figures import Figure, draw_figures, probe_shape
from .page import render, write_page
from .run_files import TEST_OUTPUTS, RunFiles, read_run, save_test_outputs


def write_report(run_dir):
    """Redraw the run's PNGs and write ``report.html``; returns ``(html_path, figures, notes)``.

    Without matplotlib the page is still written (tables and summary, no pictures) and a
    note says how to get them.
    """
    from ..training.plots import MatplotlibMissing

    run = read_run(run_dir)
    notes = list(run.notes)
    try:
        figures, more = draw_figures(run)
        notes += more
    except MatplotlibMissing as e:
        figures = []
        notes.append(f"no plots written: {e}; then: handgrad report {run_dir}")
    summary_text = None
    shape = probe_shape(run)
    if run.model is not None and shape is not None:
        from ..summary import summary
        try:
            summary_text = str(summary(run.model, shape))
        except ValueError as e:
            notes.append(f"no model summary for input shape {shape}: {e}")
    return write_page(run, figures, summary_text, notes), figures, notes


__all__ = ["write_report", "read_run", "save_test_outputs", "draw_figures", "render", "write_page",
           "RunFiles", "Figure", "TEST_OUTPUTS", "probe_shape"]
