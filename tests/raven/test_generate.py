"""The generator: rules reproduce the answer, distractors differ from it in exactly one attribute."""

import numpy as np
import pytest

from handgrad.raven.generate import CHOICES, TRANSFORMS, generate, rule_labels
from handgrad.raven.panels import ANGLE, COUNT, DOMAIN, TYPE, render_panels, view, visible
from handgrad.raven.rules import RULES_3X3, completions


@pytest.fixture(scope="module", params=["2x2", "3x3"])
def problems(request):
    return generate(request.param, 300, np.random.default_rng(7), images=False)


def test_shapes_and_ranges(problems):
    P, n = len(problems["answer"]), CHOICES[problems["kind"]]
    assert problems["choices"].shape == (P, n, 5)
    assert problems["context"].shape == (P, 3 if problems["kind"] == "2x2" else 8, 5)
    assert np.all((problems["context"] >= 0) & (problems["context"] < DOMAIN))
    assert np.all((problems["choices"] >= 0) & (problems["choices"] < DOMAIN))
    assert set(np.unique(problems["answer"])) == set(range(n))       # the answer sits anywhere


def test_every_distractor_differs_from_the_answer_in_exactly_one_attribute(problems):
    P = len(problems["answer"])
    answer = problems["choices"][np.arange(P), problems["answer"]]            # (P, 5)
    diff = problems["choices"] != answer[:, None, :]                           # (P, n, 5)
    wrong = np.ones(diff.shape[:2], bool)
    wrong[np.arange(P), problems["answer"]] = False
    assert np.all(diff[wrong].sum(axis=1) == 1)
    # ... always the asked attribute, and the choices are pairwise distinct
    changed = diff[wrong].argmax(axis=1).reshape(P, -1)
    assert np.all(changed == problems["asked"][:, None])
    # ... and every choice looks different (a changed angle is a changed view)
    seen = visible(problems["choices"])
    assert all(len({tuple(c) for c in row}) == len(row) for row in seen)


def test_the_rules_applied_to_the_context_give_the_answer_and_no_distractor(problems):
    kind, P = problems["kind"], len(problems["answer"])
    for attr in range(5):
        if kind == "3x3" and attr == ANGLE:
            continue
        ok = completions(kind, attr, visible(problems["context"]))               # (P, D)
        values = visible(problems["choices"])[..., attr]                          # (P, n)
        fits = ok[np.arange(P)[:, None], values]                                  # (P, n)
        assert np.all(fits[np.arange(P), problems["answer"]]), f"answer breaks the rule on attribute {attr}"
        asked = problems["asked"] == attr
        assert np.all(fits[asked].sum(axis=1) == 1), f"a distractor also fits on attribute {attr}"


def test_3x3_rows_follow_their_recorded_rules():
    p = generate("3x3", 200, np.random.default_rng(3), images=False)
    full = np.concatenate([p["context"], p["choices"][np.arange(200), p["answer"]][:, None]], 1)
    for attr in range(4):
        rows = full[:, :, attr].reshape(-1, 3, 3)
        for rule_index, rule in enumerate(RULES_3X3):
            m = rows[p["rules"][:, attr] == rule_index]
            if rule == "constant":
                assert np.all(m == m[:, :, :1])
            elif rule == "progression":
                step = m[:, :, 1] - m[:, :, 0]
                assert np.all(m[:, :, 2] - m[:, :, 1] == step) and np.all(step == step[:, :1]) and np.all(step)
            elif rule == "distribute_three":
                sets = np.sort(m, axis=2)
                assert np.all(sets == sets[:, :1]) and np.all(np.diff(sets, axis=2) > 0)
            else:                                                               # counts n = value + 1
                n = m + 1
                assert np.all((n[:, :, 2] == n[:, :, 0] + n[:, :, 1]).all(1) | (n[:, :, 2] == n[:, :, 0] - n[:, :, 1]).all(1))


def test_2x2_transformations_are_what_the_record_says():
    p = generate("2x2", 300, np.random.default_rng(4), images=False)
    A, B = p["context"][:, 0], p["context"][:, 1]
    for name_index, name in enumerate(TRANSFORMS):
        on = p["rules"][:, name_index]
        attr = {"rotation": ANGLE, "reflection": ANGLE, "count": COUNT, "fill": 3, "shape": TYPE, "size": 2}[name]
        assert np.all(view(B[on]) != view(A[on])) if attr == ANGLE else np.all(B[on, attr] != A[on, attr])
    mirrored = p["rules"][:, TRANSFORMS.index("reflection")]
    assert np.all(B[mirrored, ANGLE] == (4 - A[mirrored, ANGLE]) % 8)
    assert all(1 <= len(labels) <= 2 for labels in rule_labels(p))


def test_same_seed_same_problems_and_pictures():
    a, b = generate("2x2", 5, 11), generate("2x2", 5, 11)
    for key in ("context", "choices", "answer", "context_images", "choice_images"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["choices"], generate("2x2", 5, 12)["choices"])


def test_render_counts_beyond_six():
    """Seven to nine copies (two renderer calls) fill that many cells of the 3x3 grid."""
    rng = np.random.default_rng(0)
    panels = np.array([[1, c, 5, 7, 0] for c in range(9)])            # solid white squares, 1-9 copies
    images = render_panels(panels, rng, size=39)                       # 3x3 cells of 13 pixels
    cells = images[4:].reshape(5, 3, 13, 3, 13).max(axis=(2, 4)) > 128
    assert cells.sum(axis=(1, 2)).tolist() == [5, 6, 7, 8, 9]


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        generate("4x4", 3)
    with pytest.raises(ValueError, match="type in"):
        render_panels(np.array([[9, 0, 0, 0, 0]]), np.random.default_rng(0))
