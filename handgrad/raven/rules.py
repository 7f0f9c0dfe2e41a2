r"""The rules of the matrices, as sets of allowed value tuples, and scoring against them.

Every rule on one attribute is a set of allowed tuples of that attribute's values:

* 3x3 (rows of three, row-wise rules in RAVEN's style): a *hypothesis* is a set of allowed
  row triples ``(x1, x2, x3)``; a matrix obeys it when all three rows are in the set.

  - ``constant``: ``x1 = x2 = x3`` (each row its own value);
  - ``progression`` with step s in {-2, -1, 1, 2} (one hypothesis per s):
    ``x2 = x1 + s, x3 = x1 + 2s``;
  - ``distribute_three`` over a set S of three distinct values (one hypothesis per S):
    every row is a permutation of S;
  - ``arithmetic`` (count only, on the number of copies ``n = value + 1``), one hypothesis per
    operation: ``n3 = n1 + n2`` or ``n3 = n1 - n2``.

* 2x2 (``A B / C D``): one set of allowed quadruples ``(a, b, c, d)`` per attribute.

  - ordinal attributes (count, size, colour): the parallelogram ``d = c + b - a`` (constant,
    a change along the row, a change down the column, or both);
  - angle: ``d = c + b - a (mod 8)`` (rotations compose) or the mirror pair
    ``b = -a + 4, d = -c + 4 (mod 8)`` (reflection across the vertical axis);
  - type (categorical): ``a = c, d = b`` or ``a = b, d = c``.

Scoring with perception probabilities. Given log-probabilities :math:`\ell_i(v)` of each
context panel's value and :math:`\ell_x(v)` of a candidate's, the candidate's score on one
attribute is the log-likelihood of the best explanation,

.. math::
    s(x) = \max_{h} \Big[ \sum_{r=1}^{2} \max_{t \in h} \sum_{j} \ell_{r j}(t_j)
           + \max_{t \in h} \big( \ell_{31}(t_1) + \ell_{32}(t_2) + \ell_x(t_3) \big) \Big]

(3x3; for 2x2 one max over the allowed quadruples). With exact one-hot perception this is 0
when some rule explains the completed matrix and :math:`-\infty` when none does, so the
same code answers "which values complete the matrix?" for the generator.
"""

from itertools import permutations, combinations

import numpy as np

from .panels import ANGLE, ATTRS, COLOUR, COUNT, DOMAIN, SIZE, TYPE

RULES_3X3 = ("constant", "progression", "distribute_three", "arithmetic")
#: rules each attribute may follow in the 3x3 problems (angle stays constant there)
RULES_OF = {TYPE: ("constant", "progression", "distribute_three"),
            COUNT: ("constant", "progression", "distribute_three", "arithmetic"),
            SIZE: ("constant", "progression", "distribute_three"),
            COLOUR: ("constant", "progression", "distribute_three")}
STEPS = {TYPE: (-1, 1), COUNT: (-2, -1, 1, 2), SIZE: (-2, -1, 1, 2), COLOUR: (-2, -1, 1, 2)}


def row_hypotheses(attr):
    """``(triples, hyp, names)``: allowed rows ``(T, 3)`` sorted by hypothesis id ``hyp (T,)``.

    ``names[h]`` is ``(rule, parameter)`` of hypothesis h.
    """
    D = int(DOMAIN[attr])
    v = np.arange(D)
    groups, names = [], []
    groups.append(np.stack([v, v, v], 1))
    names.append(("constant", 0))
    for s in STEPS[attr]:
        start = v[(v + 2 * s >= 0) & (v + 2 * s < D)]
        groups.append(np.stack([start, start + s, start + 2 * s], 1))
        names.append(("progression", s))
    for S in combinations(range(D), 3):
        groups.append(np.array(list(permutations(S))))
        names.append(("distribute_three", S))
    if "arithmetic" in RULES_OF[attr]:
        a, b = np.meshgrid(v, v, indexing="ij")
        n1, n2 = a.ravel() + 1, b.ravel() + 1                       # numbers of copies
        for op, n3 in (("plus", n1 + n2), ("minus", n1 - n2)):
            ok = (n3 >= 1) & (n3 <= D)
            groups.append(np.stack([n1[ok] - 1, n2[ok] - 1, n3[ok] - 1], 1))
            names.append(("arithmetic", op))
    hyp = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
    return np.concatenate(groups).astype(np.int64), hyp, names


def quad_hypotheses(attr):
    """Allowed 2x2 quadruples ``(Q, 4)`` of attribute ``attr`` (see the module docstring)."""
    D = int(DOMAIN[attr])
    a, b, c = (x.ravel() for x in np.meshgrid(*(np.arange(D),) * 3, indexing="ij"))
    if attr == TYPE:
        return np.unique(np.concatenate([np.stack([a, b, a, b], 1), np.stack([a, a, c, c], 1)]), axis=0)
    if attr == ANGLE:
        rot = np.stack([a, b, c, (c + b - a) % D], 1)
        mirror = np.stack([a, (4 - a) % D, c, (4 - c) % D], 1)
        return np.unique(np.concatenate([rot, mirror]), axis=0)
    d = c + b - a
    ok = (d >= 0) & (d < D)
    return np.stack([a[ok], b[ok], c[ok], d[ok]], 1)


_CACHE = {}


def _cached(kind, attr):
    key = (kind, attr)
    if key not in _CACHE:
        _CACHE[key] = row_hypotheses(attr) if kind == "3x3" else quad_hypotheses(attr)
    return _CACHE[key]


def score_attribute(kind, attr, context_lp, choice_lp):
    """Scores ``(P, n)`` of the choices on one attribute (see the module docstring).

    Parameters
    ----------
    kind : "2x2" or "3x3"
    context_lp : (P, 3, D) for 2x2 (A, B, C) or (P, 8, D) for 3x3 (row-major, last missing)
        log-probabilities of each context panel's value
    choice_lp : (P, n, D) log-probabilities of each choice's value
    """
    P, n, _ = choice_lp.shape
    if kind == "2x2":
        quads = _cached(kind, attr)                                  # (Q, 4)
        ctx = (context_lp[:, 0, quads[:, 0]] + context_lp[:, 1, quads[:, 1]]
               + context_lp[:, 2, quads[:, 2]])                      # (P, Q)
        return np.max(ctx[:, None, :] + choice_lp[:, :, quads[:, 3]], axis=2)
    triples, hyp, _ = _cached(kind, attr)
    starts = np.flatnonzero(np.r_[True, hyp[1:] != hyp[:-1]])       # first triple of each hypothesis

    def row_best(lp0, lp1, lp2):                                     # (..., D) each -> (..., H)
        vals = lp0[..., triples[:, 0]] + lp1[..., triples[:, 1]] + lp2[..., triples[:, 2]]
        return np.maximum.reduceat(vals, starts, axis=-1)

    full = row_best(context_lp[:, 0], context_lp[:, 1], context_lp[:, 2]) \
        + row_best(context_lp[:, 3], context_lp[:, 4], context_lp[:, 5])          # (P, H)
    last = row_best(context_lp[:, None, 6], context_lp[:, None, 7], choice_lp)    # (P, n, H)
    return np.max(full[:, None, :] + last, axis=2)


def one_hot_log(values, D):
    """Exact perception: log-probabilities 0 at ``values`` and -inf elsewhere, ``(..., D)``."""
    out = np.full(np.shape(values) + (D,), -np.inf)
    np.put_along_axis(out, np.asarray(values)[..., None], 0.0, axis=-1)
    return out


def completions(kind, attr, context):
    """Boolean ``(P, D)``: which values of ``attr`` complete each matrix under some rule.

    ``context``: int ``(P, 3 or 8, 5)`` panels.
    """
    D = int(DOMAIN[attr])
    ctx = one_hot_log(context[..., attr], D)
    every = one_hot_log(np.broadcast_to(np.arange(D), (len(context), D)), D)
    return np.isfinite(score_attribute(kind, attr, ctx, every))


def score_panels(kind, context_lp, choice_lp, attrs=None):
    """Sum of :func:`score_attribute` over attributes; ``*_lp`` are lists indexed by attribute."""
    attrs = range(len(ATTRS)) if attrs is None else attrs
    return sum(score_attribute(kind, a, context_lp[a], choice_lp[a]) for a in attrs)
