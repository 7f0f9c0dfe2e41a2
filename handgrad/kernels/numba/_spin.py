"""The hand-off between the threads of one operation, as compiled atomic operations.

A thread of handgrad's team (:mod:`._team`) learns of new work, takes blocks and reports
them done through one small int64 array ``ctl`` that every thread of the team reads:

- ``ctl[WORD]``: the operation's number (its *epoch*) in the high 32 bits and the next
  block to take in the low 32. A thread takes block ``i`` by raising ``i`` to ``i + 1``
  with compare-and-swap, and only while the high bits still name its own operation: a
  thread that arrives late can never take a block of the next one.
- ``ctl[DONE]``: blocks finished (the caller sets it to 0 before it publishes the epoch).

Waiting is a loop over an atomic load, bounded by a number of tries, so the waiting thread
answers within nanoseconds and gives up (then sleeps) when the next operation is long in
coming. The main thread, waiting for its operation's last blocks, offers its CPU to any
other thread waiting for one (``sched_yield``) every :data:`YIELD_EVERY` loads once it
has waited :data:`SPIN_FIRST`: on a machine that another process keeps busy, it must not
hold the core that the helper with the last block needs (see also :func:`._team.crowded`).
The loads and stores are atomic (acquire/release): a thread that sees an epoch also sees
everything the caller wrote before publishing it.
"""

import ctypes
import ctypes.util
import sys

import llvmlite.binding as llvm
from numba import cfunc, njit, types
from numba.extending import intrinsic

#: indices into ``ctl``, on separate 64-byte cache lines
WORD, DONE = 0, 8
CTL_SIZE = 16
_LOW = (1 << 32) - 1
#: loads the main thread spins for its last blocks before it starts offering its CPU to
#: others, and then the loads between two offers (offering at once, and in the helpers'
#: watch too, made one image's pass through the Keras CNN 0.39 -> 0.51 ms, quiet machine)
SPIN_FIRST, YIELD_EVERY = 1 << 15, 256


@cfunc(types.int32())
def _no_yield():
    return 0


def _bind_yield():
    """Bind ``handgrad_yield`` to the system's "let another thread run now" (``sched_yield``;
    ``SwitchToThread`` on Windows; a no-op where neither is found). Bound by name, as
    :mod:`._gemm` binds BLAS, so the kernels that call it can still be cached."""
    try:
        if sys.platform == "win32":
            fn = ctypes.windll.kernel32.SwitchToThread
        else:
            fn = ctypes.CDLL(ctypes.util.find_library("c") or None).sched_yield
        address = ctypes.cast(fn, ctypes.c_void_p).value
    except (OSError, AttributeError):
        address = _no_yield.address
    llvm.add_symbol("handgrad_yield", address)


_bind_yield()
_yield = types.ExternalFunction("handgrad_yield", types.int32())


def _address(context, builder, sig, args):
    ary = context.make_array(sig.args[0])(context, builder, args[0])
    return builder.gep(ary.data, [args[1]])


@intrinsic
def load(typingctx, cell, index):
    """``cell[index]``, an atomic load (acquire)."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_address(context, builder, sig, args), "acquire", 8)
    return types.int64(cell, index), codegen


@intrinsic
def store(typingctx, cell, index, value):
    """``cell[index] = value``, an atomic store (release)."""
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[2], _address(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()
    return types.void(cell, index, types.int64), codegen


@intrinsic
def compare_swap(typingctx, cell, index, expected, new):
    """``cell[index] = new`` if it is ``expected`` (atomically); whether it was."""
    def codegen(context, builder, sig, args):
        pair = builder.cmpxchg(_address(context, builder, sig, args), args[2], args[3],
                               "acq_rel", "acquire")
        return builder.extract_value(pair, 1)
    return types.boolean(cell, index, types.int64, types.int64), codegen


@intrinsic
def fetch_add(typingctx, cell, index, value):
    """``cell[index] += value`` (atomically); the value before."""
    def codegen(context, builder, sig, args):
        return builder.atomic_rmw("add", _address(context, builder, sig, args), args[2], "acq_rel")
    return types.int64(cell, index, types.int64), codegen


@njit(cache=True, nogil=True)
def publish(ctl, epoch):
    """Open operation ``epoch`` (block 0 next) to the team."""
    store(ctl, WORD, epoch << 32)


@njit(cache=True, nogil=True)
def claim(ctl, epoch, count):
    """The next block of operation ``epoch`` (of ``count``) for this thread, or -1."""
    while True:
        word = load(ctl, WORD)
        if word >> 32 != epoch or word & _LOW >= count:
            return -1
        if compare_swap(ctl, WORD, word, word + 1):
            return word & _LOW


@njit(cache=True, nogil=True)
def block_done(ctl):
    fetch_add(ctl, DONE, 1)


@njit(cache=True, nogil=True)
def await_done(ctl, count, tries):
    """Wait (at most ``tries`` loads) for ``count`` blocks done; whether they are."""
    for i in range(tries):
        if load(ctl, DONE) >= count:
            return True
        if i >= SPIN_FIRST and i % YIELD_EVERY == 0:
            _yield()
    return load(ctl, DONE) >= count


@njit(cache=True, nogil=True)
def await_next(ctl, epoch, tries):
    """Wait (at most ``tries`` loads) for an operation other than ``epoch``; its epoch,
    or ``epoch`` if none came."""
    for _ in range(tries):
        word = load(ctl, WORD)
        if word >> 32 != epoch:
            return word >> 32
    return load(ctl, WORD) >> 32


@njit(cache=True, nogil=True)
def finish(ctl, epoch, main, count, tries):
    """The end of a driver: the main thread waits for all ``count`` blocks (returns whether
    they are done); a helper watches for the next operation."""
    if main:
        return await_done(ctl, count, tries)
    await_next(ctl, epoch, tries)
    return True
