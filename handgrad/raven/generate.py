"""Seeded Raven problems: 2x2 analogies (6 choices) and 3x3 row-rule matrices (8 choices).

A problem set is a dict of arrays (one entry per problem):

``context``        int (P, 3 or 8, 5): panels A, B, C (2x2) or the 3x3 matrix row-major, last missing
``choices``        int (P, n, 5): the candidates (n = 6 for 2x2, 8 for 3x3)
``answer``         int (P,): index of the right candidate
``asked``          int (P,): the attribute in which the candidates differ (index into ATTRS)
``rules``          2x2: bool (P, 6), which :data:`TRANSFORMS` the rows apply;
                   3x3: int (P, 4), the rule (index into :data:`RULES_3X3`) of type, count,
                   size and colour
``context_images`` uint8 (P, 3 or 8, S, S) and ``choice_images`` uint8 (P, n, S, S)

Distractors. Every wrong candidate differs from the answer in exactly one attribute, and it is
the same attribute for all of them (``asked``): the candidates are the answer with that
attribute set to n distinct values, drawn uniformly from the values that do *not* complete the
matrix. The answer's value itself is drawn uniformly over the attribute's values before the
rule is built around it, so the answer set alone says nothing about which one is right. (When
different wrong candidates changed different attributes, the answer would be the one candidate
one change away from all others: see docs/raven.md.)
"""

import numpy as np

from .._checks import as_rng, check_positive_int
from .panels import (ANGLE, COLOUR, COUNT, DOMAIN, SIZE, TYPE, random_panels,
                     render_panels, visible)
from .rules import RULES_3X3, RULES_OF, STEPS, completions

KINDS = ("2x2", "3x3")
CHOICES = {"2x2": 6, "3x3": 8}
TRANSFORMS = ("rotation", "reflection", "count", "fill", "shape", "size")
TRANSFORM_ATTR = {"rotation": ANGLE, "reflection": ANGLE, "count": COUNT, "fill": COLOUR,
                  "shape": TYPE, "size": SIZE}
_CLASHES = {frozenset(p) for p in (("rotation", "reflection"), ("rotation", "shape"),
                                   ("reflection", "shape"))}
_MAX_DELTA = {COUNT: 3, SIZE: 2, COLOUR: 3}
_FEW = 4            # 2x2 problems that do not ask for the count show 1-4 copies (larger shapes)
#: angles a 2x2 problem may ask for: a triangle at 90 or 270 degrees is its own mirror image
#: (a reflection would not be seen), so no answer has them, whatever the rule
ANGLES_2X2 = np.array([0, 1, 3, 4, 5, 7])
ROTATING_TYPE = 0   # rotations and reflections turn triangles (8 views 15 degrees apart)


# -- 2x2 ------------------------------------------------------------------------------
def _transform_values(name, rng, answer, few):
    """Values (a, b, c, d) of the transformed attribute; ``answer``: d uniform over the values.

    ``few``: counts stay within 1-4 (the count is not asked).
    """
    if name in ("count", "size", "fill"):
        attr = TRANSFORM_ATTR[name]
        D, m = int(DOMAIN[attr]), _MAX_DELTA[attr]
        if attr == COUNT and few:
            D, m = _FEW, 2
        d = rng.integers(D) if answer else None
        deltas = [s for s in range(-m, m + 1) if s and (d is None or 0 <= d - s < D)]
        s = int(rng.choice(deltas))
        lo, hi = max(0, -s), min(D, D - s)                          # x and x + s in range
        a = int(rng.integers(lo, hi))
        c = d - s if d is not None else int(rng.integers(lo, hi))
        return a, a + s, c, c + s
    if name == "rotation":
        r = int(rng.integers(1, 8))
        d = int(rng.choice(ANGLES_2X2))
        a = int(rng.integers(8))
        return a, (a + r) % 8, (d - r) % 8, d
    if name == "reflection":
        d = int(rng.choice(ANGLES_2X2))
        a = (4 - d) % 8
        return a, d, a, d
    d = int(rng.integers(DOMAIN[TYPE]))                              # shape change
    a = int(rng.choice([t for t in range(DOMAIN[TYPE]) if t != d]))
    return a, d, a, d


def _one_2x2(rng):
    """Panels A, B, C, D (4, 5), the transforms and the asked attribute of one problem."""
    first = TRANSFORMS[rng.integers(len(TRANSFORMS))]
    names = [first]
    if rng.random() < 0.5:
        others = [t for t in TRANSFORMS if t != first and frozenset((first, t)) not in _CLASHES]
        names.append(others[rng.integers(len(others))])
    few = first != "count"
    panels = np.repeat(random_panels(1, rng), 4, axis=0)            # A = B = C = D to start
    if few:
        panels[:, COUNT] = rng.integers(_FEW)
    if {"rotation", "reflection"} & set(names):
        panels[:, TYPE] = ROTATING_TYPE
    for name in names:
        panels[:, TRANSFORM_ATTR[name]] = _transform_values(name, rng, name == first, few)
    free = [a for a in (COUNT, SIZE, COLOUR) if a not in {TRANSFORM_ATTR[t] for t in names}]
    if free and rng.random() < 0.5:                                  # C differs from A down the column
        attr = free[rng.integers(len(free))]
        new = rng.integers((_FEW if attr == COUNT and few else DOMAIN[attr]) - 1)
        new += new >= panels[0, attr]
        panels[2:, attr] = new
    return panels, names, TRANSFORM_ATTR[first]


# -- 3x3 ------------------------------------------------------------------------------
def _rows(attr, rule, rng, answer):
    """(3, 3) values of ``attr`` under ``rule``; ``answer`` fixes the last one; None if impossible."""
    D = int(DOMAIN[attr])
    out = np.zeros((3, 3), np.int64)
    if rule == "constant":
        out[:] = rng.integers(D, size=3)[:, None]
        if answer is not None:
            out[2] = answer
        return out
    if rule == "progression":
        steps = [s for s in STEPS[attr] if answer is None or 0 <= answer - 2 * s < D]
        if not steps:
            return None
        s = steps[rng.integers(len(steps))]
        starts = np.arange(D)[(np.arange(D) + 2 * s >= 0) & (np.arange(D) + 2 * s < D)]
        first = rng.choice(starts, 3)
        if answer is not None:
            first[2] = answer - 2 * s
        return first[:, None] + s * np.arange(3)[None, :]
    if rule == "distribute_three":
        shift = int(rng.integers(1, 3))
        values = rng.permutation(D)[:3]
        if answer is not None:
            values = rng.permutation([v for v in range(D) if v != answer])[:3]
            values[(2 + 2 * shift) % 3] = answer
        return values[(np.arange(3)[None, :] + shift * np.arange(3)[:, None]) % 3]
    # arithmetic on the number of copies n = value + 1
    n_max = D
    ops = [op for op in ("plus", "minus") if answer is None
           or (op == "plus" and answer + 1 >= 2) or (op == "minus" and answer + 1 <= n_max - 1)]
    if not ops:
        return None
    op = ops[rng.integers(len(ops))]
    for r in range(3):
        n3 = answer + 1 if (answer is not None and r == 2) else None
        if op == "plus":
            n3 = n3 if n3 is not None else int(rng.integers(2, n_max + 1))
            n1 = int(rng.integers(1, n3))
            out[r] = (n1, n3 - n1, n3)
        else:
            n3 = n3 if n3 is not None else int(rng.integers(1, n_max))
            n2 = int(rng.integers(1, n_max - n3 + 1))
            out[r] = (n3 + n2, n2, n3)
    return out - 1


def _one_3x3(rng):
    """Panels (9, 5) row-major, rule codes (4,) and the asked attribute of one problem."""
    asked = (COUNT, COLOUR)[rng.integers(2)]
    panels = np.zeros((9, 5), np.int64)
    panels[:, ANGLE] = rng.integers(8)
    codes = np.zeros(4, np.int64)
    for attr in (TYPE, COUNT, SIZE, COLOUR):
        answer = int(rng.integers(DOMAIN[attr])) if attr == asked else None
        rules = list(RULES_OF[attr])
        while True:                                                  # a rule that can give the answer
            rule = rules.pop(rng.integers(len(rules)))
            values = _rows(attr, rule, rng, answer)
            if values is not None:
                break
        panels[:, attr] = values.ravel()
        codes[attr] = RULES_3X3.index(rule)
    return panels, codes, asked


# -- both -----------------------------------------------------------------------------
def _choices(kind, context, answer_panel, asked, rng):
    """Candidates (n, 5) and the answer's index, or None when too few values are wrong."""
    n = CHOICES[kind]
    ok = completions(kind, asked, visible(context)[None])[0]         # values that complete it
    pool = np.arange(DOMAIN[asked])
    if kind == "2x2" and asked == ANGLE:
        pool = ANGLES_2X2
    wrong = pool[~ok[pool]]
    if len(wrong) < n - 1:
        return None
    values = np.concatenate([[answer_panel[asked]], rng.choice(wrong, n - 1, replace=False)])
    order = rng.permutation(n)
    choices = np.repeat(answer_panel[None], n, axis=0)
    choices[:, asked] = values[order]
    return choices, int(np.flatnonzero(order == 0)[0])


def generate(kind, n, rng=None, *, size=40, images=True):
    """``n`` problems of ``kind`` ("2x2" or "3x3") as a dict of arrays (module docstring).

    The same ``rng`` (Generator or int seed) gives the same problems and pictures.
    ``images=False`` skips rendering (attributes only).
    """
    if kind not in KINDS:
        raise ValueError(f"raven expected kind in {KINDS}, got {kind!r}")
    n = check_positive_int(n, "n", "raven.generate")
    rng = as_rng(rng)
    ctx, cho, ans, asked, rules = [], [], [], [], []
    while len(ans) < n:
        if kind == "2x2":
            panels, names, attr = _one_2x2(rng)
            rule = np.array([t in names for t in TRANSFORMS])
            context, answer_panel = panels[:3], panels[3]
        else:
            panels, rule, attr = _one_3x3(rng)
            context, answer_panel = panels[:8], panels[8]
        made = _choices(kind, context, answer_panel, attr, rng)
        if made is None:                                             # ambiguous: draw again
            continue
        ctx.append(context), cho.append(made[0]), ans.append(made[1])
        asked.append(attr), rules.append(rule)
    out = {"kind": kind, "context": np.array(ctx), "choices": np.array(cho),
           "answer": np.array(ans, np.int64), "asked": np.array(asked, np.int64),
           "rules": np.array(rules)}
    if images:
        out["context_images"] = render_panels(out["context"], rng, size=size)
        out["choice_images"] = render_panels(out["choices"], rng, size=size)
    return out


def rule_labels(problems):
    """Per problem, the names of the rules it tests: ``list of list of str``.

    2x2: its transformations (``"rotation"``, ...); 3x3: ``"ATTR:RULE"`` of the asked attribute.
    """
    from .panels import ATTRS
    if problems["kind"] == "2x2":
        return [[t for t, on in zip(TRANSFORMS, row) if on] for row in problems["rules"]]
    return [[f"{ATTRS[a]}:{RULES_3X3[row[a]]}"] for a, row in zip(problems["asked"], problems["rules"])]
