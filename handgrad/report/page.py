"""``report.html``: one self-contained page about a run (no network: images are data URIs)."""

import base64
import html
import json
import math
import os

from .._files import atomic_open

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; } td, th { padding: 2px 8px; border: 1px solid #ddd; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; } .note { color: #a60; }
"""


def _cell(value):
    if isinstance(value, float):
        if math.isnan(value):
            return '<td class="num">-</td>'
        text = f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.4f}"
        return f'<td class="num">{text}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    return f"<td>{html.escape('-' if value is None else str(value))}</td>"


def _key_value_table(d):
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th>{_cell(v)}</tr>" for k, v in d.items())
    return f"<table>{rows}</table>"


def _epoch_table(history):
    keys = history.keys()
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    rows = []
    for record in history.epochs:
        cells = [_cell(record.get(k) + 1 if k == "epoch" and isinstance(record.get(k), int) else record.get(k))
                 for k in keys]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def data_uri(png_path):
    """The PNG file as ``data:image/png;base64,...``, for a page that needs no other file."""
    with open(png_path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def render(run, figures, summary_text, notes):
    """The page's HTML text (see :func:`write_page`)."""
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>handgrad run {html.escape(run.name)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>handgrad run <code>{html.escape(run.name)}</code></h1>"]
    if run.metrics:
        parts += ["<h2>Final test metrics</h2>", _key_value_table(run.metrics)]
    if run.config:
        parts += ["<h2>Configuration</h2>", _key_value_table(run.config)]
    if run.history is not None and len(run.history):
        parts += ["<h2>Per epoch</h2>",
                  "<p>Training figures are means over the epoch's steps; validation and test after it.</p>",
                  _epoch_table(run.history)]
    if summary_text:
        parts += ["<h2>Model</h2>", f"<pre>{html.escape(summary_text)}</pre>"]
    if figures:
        parts.append("<h2>Pictures</h2>")
    for fig in figures:
        parts.append(f"<figure><h3>{html.escape(fig.title)}</h3>"
                     f"<img src=\"{data_uri(os.path.join(run.path, fig.file))}\" alt=\"{html.escape(fig.title)}\">"
                     f"<figcaption>{html.escape(fig.caption)} ({html.escape(fig.file)})</figcaption></figure>")
    if notes:
        parts += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li class=\"note\">{html.escape(n)}</li>" for n in notes)
                  + "</ul>"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_page(run, figures, summary_text, notes, name="report.html"):
    """Write the page into the run folder atomically; returns its path."""
    path = os.path.join(run.path, name)
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(render(run, figures, summary_text, notes))
    return path
