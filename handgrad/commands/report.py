"""``handgrad report RUN_DIR``: redraw a run's pictures and write its ``report.html``.

Everything comes from the run folder's saved files (config, history with every step's
loss, metrics, model, test outputs), so it works for an old run without its data set.
"""

from ._common import CommandError, report as report_error


def add_parser(sub):
    p = sub.add_parser("report", help="redraw a run folder's plots and write its report.html",
                       description="Redraw the plots of a run folder from its saved files and write "
                                   "report.html: one self-contained page (configuration, per-epoch "
                                   "table, final metrics, model summary, every plot).")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by handgrad train")
    return p


def run(args):
    from ..report import write_report
    try:
        path, figures, notes = _write(write_report, args.run_dir)
    except CommandError as e:
        return report_error("report", e)
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {path} ({len(figures)} plots: {', '.join(f.file for f in figures) or 'none'})")
    return 0


def _write(write_report, run_dir):
    try:
        return write_report(run_dir)
    except (FileNotFoundError, ValueError) as e:
        raise CommandError(str(e)) from e
