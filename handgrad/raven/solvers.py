r"""The solvers: each maps a problem set to scores ``(P, n)``; the highest score is its choice.

* :func:`perception_scores` (the strong solver): the panel encoder reads every panel's five
  attributes as probabilities; :mod:`handgrad.raven.rules` scores each choice by the
  log-likelihood of the best rule explanation of the completed matrix, summed over attributes.
* :func:`transformation_scores` (seed 003's design): the pair network predicts the
  transformation between two panels; a choice x scores minus the disagreement between the
  transformations it makes with the context and the ones the context shows (rows and columns).
* :func:`blind_scores`: the answers-only network, on the choices alone.
* :func:`heuristic_scores`: no learning; ink (mean intensity) of each panel, extrapolated.

Pair targets (what the pair network learns) are :func:`pair_targets`.
"""

import numpy as np

from ..data.shape_render import SYMMETRY
from ..training import predict
from .networks import ENCODER_HEADS, PAIR_HEADS, log_softmax, split_heads
from .panels import ANGLE, ATTRS, COLOUR, COUNT, SIZE, TYPE, TYPES, view

K_OF_TYPE = np.array([SYMMETRY[t] for t in TYPES])
FLOOR = 1e-3                         # perception probabilities are mixed with 1e-3 of uniform


def _as_input(images):
    """uint8 ``(..., S, W)`` -> float32 ``(M, 1, S, W)`` in [0, 1]."""
    x = np.asarray(images)
    return (x.reshape((-1, 1) + x.shape[-2:]).astype(np.float32) / 255)


def encoder_targets(panels):
    """Targets of the panel encoder: the attributes ``(N, 5)`` with the angle as its view."""
    out = np.array(panels, dtype=np.float32, copy=True)
    out[:, ANGLE] = view(panels)
    return out


def perceive(encoder, images, batch_size=64):
    """Log-probabilities of each attribute for panels ``(..., S, S)``: list of ``(..., D)``."""
    lead = np.shape(images)[:-2]
    out = predict(encoder, _as_input(images), batch_size=batch_size)
    parts = split_heads(out, ENCODER_HEADS)[:len(ENCODER_HEADS)]
    lps = []
    for z in parts:
        p = np.exp(log_softmax(z.astype(np.float64)))
        lps.append(np.log((1 - FLOOR) * p + FLOOR / z.shape[1]).reshape(lead + (z.shape[1],)))
    return lps


def varied_attributes(choice_lp):
    """Per problem, which attributes the choices differ in, as perceived: bool ``(P, 5)``.

    The attribute(s) with the most distinct perceived values among the choices (the
    distractors all change one attribute of the answer, so that one is asked about).
    """
    distinct = np.stack([np.array([len(np.unique(row)) for row in lp.argmax(-1)]) for lp in choice_lp], 1)
    return distinct == distinct.max(axis=1, keepdims=True)


def perception_scores(problems, encoder=None, perceived=None, focus=True):
    """Strong solver: ``(P, n)`` scores from the rules applied to perceived attributes.

    ``perceived`` (optional): ``(context_lp, choice_lp)`` lists already computed by :func:`perceive`.
    ``focus``: score only the attribute(s) the choices differ in (:func:`varied_attributes`);
    otherwise sum over every attribute.
    """
    from .rules import score_attribute

    kind = problems["kind"]
    if perceived is None:
        perceived = perceive(encoder, problems["context_images"]), perceive(encoder, problems["choice_images"])
    ctx, cho = perceived
    attrs = range(len(ATTRS)) if kind == "2x2" else (TYPE, COUNT, SIZE, COLOUR)  # 3x3: angle constant
    use = varied_attributes(cho) if focus else np.ones((len(cho[0]), len(ATTRS)), bool)
    return sum(np.where(use[:, a, None], score_attribute(kind, a, ctx[a], cho[a]), 0.0) for a in attrs)


# -- seed 003: transformations between two panels ----------------------------------------
def pair_targets(p, q):
    """Targets ``(N, 7)`` of the pair network for panels ``p -> q`` ``(N, 5)`` each.

    Columns: type changed, count change + 8, size change + 5, colour change + 7, mirror image
    (same type, q's view is p's reflected and differs from p's), then cos and sin of
    ``k * (angle_q - angle_p) * 45 degrees`` (k the type's symmetry order; 0, 0 when the type
    changed or for the circle).
    """
    p, q = np.asarray(p), np.asarray(q)
    same = p[:, TYPE] == q[:, TYPE]
    mirror_view = (4 - p[:, ANGLE]) % 8 % np.array([8, 2, 8, 4, 1, 8])[p[:, TYPE]]
    mirrored = same & (view(q) == mirror_view) & (view(q) != view(p))
    k = K_OF_TYPE[p[:, TYPE]]
    turn = np.deg2rad(k * 45.0 * (q[:, ANGLE] - p[:, ANGLE]))
    keep = same & (k > 0)
    return np.stack([~same, q[:, COUNT] - p[:, COUNT] + 8, q[:, SIZE] - p[:, SIZE] + 5,
                     q[:, COLOUR] - p[:, COLOUR] + 7, mirrored,
                     np.where(keep, np.cos(turn), 0), np.where(keep, np.sin(turn), 0)], 1).astype(np.float32)


def pair_images(left, right):
    """Panels side by side: ``(..., S, S)`` twice -> ``(..., S, 2S)``."""
    return np.concatenate([left, right], axis=-1)


def transformations(network, left, right, batch_size=64):
    """Predicted transformations ``left -> right``: (list of head probabilities, rotation (…, 2))."""
    lead = np.shape(left)[:-2]
    out = predict(network, _as_input(pair_images(left, right)), batch_size=batch_size)
    parts = split_heads(out.astype(np.float64), PAIR_HEADS)
    probs = [np.exp(log_softmax(z)).reshape(lead + (z.shape[1],)) for z in parts[:-1]]
    return probs, parts[-1].reshape(lead + (2,))


def disagreement(t1, t2):
    r"""Distance of two predicted transformations: :math:`\sum_h (1 - p_h \cdot q_h) + \tfrac12 |u - v|^2`."""
    (p1, u1), (p2, u2) = t1, t2
    d = sum(1 - np.sum(a * b, axis=-1) for a, b in zip(p1, p2))
    return d + 0.5 * np.sum((u1 - u2) ** 2, axis=-1)


# the 3x3 comparisons: (context pair the choice x makes: panel index -> x) against context pairs
_PAIRS_3X3 = ((7, ((1, 2), (4, 5))),      # row: H -> x  vs  B -> C, E -> F
              (6, ((0, 2), (3, 5))),      # row: G -> x  vs  A -> C, D -> F
              (5, ((3, 6), (4, 7))),      # column: F -> x  vs  D -> G, E -> H
              (2, ((0, 6), (1, 7))))      # column: C -> x  vs  A -> G, B -> H
_PAIRS_2X2 = ((2, ((0, 1),)),             # C -> x  vs  A -> B
              (1, ((0, 2),)))             # B -> x  vs  A -> C


def agent_scores(kind, context, choices, transform):
    """Seed 003's agent: minus the summed disagreement of each choice's transformations.

    ``context`` (P, m, ...) and ``choices`` (P, n, ...) are panels in whatever form
    ``transform(left, right) -> (head probabilities, rotation)`` reads (images for the pair
    network, attributes for :func:`exact_transformations`).
    """
    P, n = choices.shape[:2]
    scores = np.zeros((P, n))
    for src, refs in (_PAIRS_2X2 if kind == "2x2" else _PAIRS_3X3):
        t_choice = transform(np.broadcast_to(context[:, src, None], choices.shape), choices)   # per (P, n)
        for a, b in refs:
            p, u = transform(context[:, a], context[:, b])                                    # per (P,)
            scores -= disagreement(t_choice, ([x[:, None] for x in p], u[:, None]))
    return scores


def transformation_scores(problems, network):
    """Seed 003's design: :func:`agent_scores` with the pair network's transformations."""
    return agent_scores(problems["kind"], problems["context_images"], problems["choice_images"],
                        lambda left, right: transformations(network, left, right))


def exact_transformations(left, right):
    """The true transformations between panels given as attributes ``(..., 5)`` (one-hot heads)."""
    lead = np.shape(left)[:-1]
    t = pair_targets(np.reshape(left, (-1, 5)), np.reshape(right, (-1, 5)))
    probs = [np.eye(h)[t[:, i].astype(np.int64)].reshape(lead + (h,)) for i, h in enumerate(PAIR_HEADS)]
    return probs, t[:, len(PAIR_HEADS):].reshape(lead + (2,))


# -- baselines ----------------------------------------------------------------------------
def heuristic_scores(problems):
    r"""No learning: ink (mean intensity) extrapolated along the rows; minus the distance to it.

    2x2: :math:`\hat x = B + C - A`. 3x3: the nearer of :math:`H + (H - G)` (a progression)
    and the mean ink of rows 1-2 minus :math:`G + H` (rows of equal total).
    """
    ink = lambda x: np.asarray(x, np.float64).mean(axis=(-2, -1))     # noqa: E731
    c, x = ink(problems["context_images"]), ink(problems["choice_images"])
    if problems["kind"] == "2x2":
        return -np.abs(x - (c[:, 1] + c[:, 2] - c[:, 0])[:, None])
    progression = 2 * c[:, 7] - c[:, 6]
    total = (c[:, 0:3].sum(1) + c[:, 3:6].sum(1)) / 2 - c[:, 6] - c[:, 7]
    return -np.minimum(np.abs(x - progression[:, None]), np.abs(x - total[:, None]))


def blind_scores(problems, scorer, batch_size=256):
    """The answers-only network's scores of the choices ``(P, n)``."""
    cho = problems["choice_images"]
    x = cho[:, :, None].astype(np.float32) / 255                       # (P, n, 1, S, S)
    return predict(scorer, x, batch_size=batch_size)


def accuracy(scores, problems):
    """Fraction of problems whose highest-scoring choice is the answer (ties count as wrong)."""
    best = scores.max(axis=1, keepdims=True)
    unique = (scores == best).sum(axis=1) == 1
    return float(np.mean(unique & (scores.argmax(axis=1) == problems["answer"])))


__all__ = ["perceive", "perception_scores", "transformation_scores", "heuristic_scores",
           "blind_scores", "pair_targets", "encoder_targets", "accuracy", "ATTRS"]
