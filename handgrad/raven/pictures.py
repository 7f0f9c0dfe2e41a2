"""Pictures: a sheet of problems, one solved problem with its scores, accuracy per rule."""

import numpy as np

from .._files import atomic_path
from .generate import rule_labels


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    """Save atomically (a temporary PNG renamed over ``path``)."""
    plt = _pyplot()
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
    return path


def _grid(problems, i):
    """The context as a matrix: list of rows, the missing panel as None."""
    ctx = list(problems["context_images"][i])
    side = 2 if problems["kind"] == "2x2" else 3
    ctx.append(None)
    return [ctx[r * side:(r + 1) * side] for r in range(side)]


def _draw_problem(fig, gs, problems, i, scores=None, chosen=None, title=None):
    """Matrix on the left, the choices on the right (in two rows), optional scores and frame."""
    plt = _pyplot()
    rows = _grid(problems, i)
    side = len(rows)
    choices = problems["choice_images"][i]
    n = len(choices)
    per_row = n // 2
    sub = gs.subgridspec(max(side, 2), side + 1 + per_row, wspace=0.08, hspace=0.3)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            ax = fig.add_subplot(sub[r, c])
            if title and r == 0 and c == 0:
                ax.set_title(title, loc="left", fontsize=8)
            if img is None:
                ax.text(0.5, 0.5, "?", ha="center", va="center", fontsize=16, transform=ax.transAxes)
                ax.set_facecolor("0.85")
            else:
                ax.imshow(img, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
    for j, img in enumerate(choices):
        ax = fig.add_subplot(sub[j // per_row, side + 1 + j % per_row])
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([]), ax.set_yticks([])
        label = f"{j + 1}"
        if scores is not None:
            label += f": {scores[j]:.1f}"
        ax.set_title(label, fontsize=7)
        colour = None
        if chosen is not None and j == chosen:
            colour = "tab:green" if j == problems["answer"][i] else "tab:red"
        elif chosen is None and j == problems["answer"][i]:
            colour = "tab:green"
        if colour:
            for spine in ax.spines.values():
                spine.set_edgecolor(colour), spine.set_linewidth(3)


def problem_sheet(problems, path, max_problems=6):
    """PNG of the first problems of a set, the answers framed in green, the rules as titles."""
    plt = _pyplot()
    k = min(max_problems, len(problems["answer"]))
    fig = plt.figure(figsize=(10, 2.3 * k))
    gs = fig.add_gridspec(k, 1, hspace=0.5)
    labels = rule_labels(problems)
    for i in range(k):
        _draw_problem(fig, gs[i], problems, i, title=f"problem {i}: {', '.join(labels[i])}")
    return _save(fig, path)


def solved_picture(problems, i, scores, path, solver="strong"):
    """PNG: problem ``i``, each choice's score, the chosen one framed (green right, red wrong)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(10, 3))
    gs = fig.add_gridspec(1, 1)
    chosen = int(np.argmax(scores))
    verdict = "right" if chosen == problems["answer"][i] else f"wrong (answer {problems['answer'][i] + 1})"
    _draw_problem(fig, gs[0], problems, i, scores=scores, chosen=chosen,
                  title=f"{problems['kind']} {', '.join(rule_labels(problems)[i])}: "
                        f"{solver} chose {chosen + 1}, {verdict}")
    return _save(fig, path)


def plot_per_rule(metrics, path):
    """Bar chart: accuracy per rule of every solver, one panel per problem kind."""
    plt = _pyplot()
    table = metrics["accuracy_per_rule"]
    fig, axes = plt.subplots(1, len(table), figsize=(7 * len(table), 3.6), squeeze=False)
    solvers = ("strong", "seed003", "context_blind", "heuristic")
    for ax, (kind, rules) in zip(axes[0], table.items()):
        names = list(rules)
        x = np.arange(len(names))
        for j, s in enumerate(solvers):
            ax.bar(x + (j - 1.5) * 0.2, [rules[r][s] for r in names], 0.2, label=s)
        ax.axhline(metrics[f"chance_{kind}"], color="k", ls=":", lw=1, label="chance")
        ax.set_xticks(x), ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 1), ax.set_title(f"{kind} accuracy per rule")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
