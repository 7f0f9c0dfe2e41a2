"""The Numba backend's disk cache follows every file of the backend (kernels/numba/_cache.py):
a kernel whose callee changed in another file is compiled again, not loaded stale."""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numba")
from handgrad.kernels.numba import _cache, linear  # noqa: E402

# f (in a.py) calls g and h (in b.py), both cached; the runner stamps the package's files
# as the backend stamps its own (without it, Numba 0.68 loads f stale after b.py changes)
RUNNER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from handgrad.kernels.numba import _cache
    _cache.install(sys.argv[1] + "/pkg")
    from pkg.a import f
    print(f(1))
""")
A = textwrap.dedent("""
    from numba import njit
    from .b import g, h

    @njit(cache=True)
    def f(x):
        return g(x) * 100 + h(x)
""")
B = textwrap.dedent("""
    from numba import njit

    @njit(cache=True, inline="always")
    def g(x):
        return x + {g}

    @njit(cache=True)
    def h(x):
        return x + {h}
""")


def _package(root, g, h):
    pkg = root / "pkg"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(A)
    (pkg / "b.py").write_text(B.format(g=g, h=h))


def _run(root, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, str(root / "runner.py"), str(root)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


def test_a_kernel_is_compiled_again_when_a_callee_in_another_file_changes(tmp_path):
    (tmp_path / "runner.py").write_text(RUNNER)
    _package(tmp_path, g=1, h=10)
    assert _run(tmp_path, tmp_path / "cache") == 2 * 100 + 11
    assert _run(tmp_path, tmp_path / "cache") == 211          # from the cache
    _package(tmp_path, g=2, h=20)                                         # a.py unchanged
    assert _run(tmp_path, tmp_path / "cache") == 3 * 100 + 21


def test_the_stamp_covers_every_python_file_of_a_directory(tmp_path):
    _package(tmp_path, g=1, h=10)
    pkg = tmp_path / "pkg"
    before = _cache.stamp(pkg)
    assert _cache.stamp(pkg) == before
    (pkg / "b.py").write_text(B.format(g=1, h=11))
    changed = _cache.stamp(pkg)
    assert changed != before
    (pkg / "notes.txt").write_text("not code")
    assert _cache.stamp(pkg) == changed
    (pkg / "c.py").write_text("")
    assert _cache.stamp(pkg) != changed


def test_the_backends_kernels_carry_the_stamp_of_their_directory():
    locator = linear.rows_driver._cache._impl._locator
    assert type(locator).__name__.startswith("Stamped")
    assert locator.get_source_stamp() == _cache.stamp(os.path.dirname(linear.__file__))


# a driver made by a factory (a closure over compiled functions), run as every operation
# runs it, then Numba's count of what it found in the cache and what it compiled
FACTORY_RUNNER = textwrap.dedent("""
    import numpy as np
    from handgrad.kernels.numba import _blocks, relu
    x = np.linspace(-1, 1, 4000).astype(np.float32)
    y, mask = np.empty_like(x), np.empty(x.shape, np.bool_)
    _blocks.run_rows(relu._forward, x, y, mask, [(0, 1000), (1000, 4000)], 0)
    assert (y == np.maximum(x, 0)).all()
    driver = _blocks.row_driver(relu._forward, False)              # as run_rows asks for it
    print(sum(driver.stats.cache_hits.values()), sum(driver.stats.cache_misses.values()))
""")


def test_a_kernel_made_by_a_factory_is_found_in_the_cache_by_the_next_process(tmp_path):
    (tmp_path / "runner.py").write_text(FACTORY_RUNNER)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))

    def run():
        out = subprocess.run([sys.executable, str(tmp_path / "runner.py")], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        files = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
        return tuple(map(int, out.stdout.split())), files

    assert run()[0] == (0, 1)                                    # compiled and saved
    (hits, misses), files = run()
    assert (hits, misses) == (1, 0)                              # loaded, not compiled again
    assert run()[1] == files                                     # and nothing more saved


def test_the_closure_digest_names_every_function_and_value_a_kernel_closes_over():
    from handgrad.kernels.numba import _blocks, pooling, relu

    def digest(dispatcher):
        return _cache.closure_digest(dispatcher.py_func)

    assert digest(_blocks.row_driver(relu._forward)) == _cache.closure_digest(
        _blocks.row_driver.__wrapped__(relu._forward).py_func)                # a new closure alike
    assert digest(_blocks.row_driver(relu._forward)) != digest(_blocks.row_driver(relu._backward))
    assert digest(_blocks.row_driver(relu._forward)) != digest(_blocks.row_driver(relu._forward, True))
    assert digest(pooling._interior(2, 2, 2, 0)) != digest(pooling._interior(2, 2, 1, 0))
    assert isinstance(_blocks.row_driver(relu._forward)._cache, _cache.ClosureCache)
    assert not isinstance(relu._forward._cache, _cache.ClosureCache)            # no closure
