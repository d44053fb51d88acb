"""``exp`` and ``log`` that the compiler can vectorise, for the compiled loops of ``nomogram``.

Inside a numba loop, ``np.exp`` and ``np.log`` are calls into the C library,
one number at a time (about 9 ns each here); the loops of the logistic
refits and of ``validate``'s indexes spend most of their time in them. The two
functions below are written with arithmetic, comparisons and bit moves only,
so that LLVM vectorises a loop that calls them (4 numbers per AVX2
instruction): about 2 ns a number, accurate to 1 unit in the last place
(tests/nomogram/test_vmath.py checks 10^7 arguments of each against numpy).

Algorithms: Sun's fdlibm ``e_exp.c`` and ``e_log.c`` (the method and its
published minimax coefficients): ``exp`` reduces ``x = k ln2 + r`` with
``|r| <= ln2 / 2`` and evaluates a rational form of ``e^r``; ``log`` splits
``x = 2^k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` and evaluates
``log(m) = 2s + s R(s^2)`` with ``s = (m - 1) / (m + 1)``. fdlibm's branches are
replaced by selects; ``2^k`` and ``k`` move between integers and floats through
bit casts (:func:`f2i`, :func:`i2f`) with the ``1.5 * 2^52`` shifter, because
AVX2 has no vector conversion between int64 and float64.

Loops that call them must be compiled with ``error_model="numpy"`` (a
division is otherwise checked for zero, which stops vectorisation) and must
not carry a floating-point sum from one patient to the next (such a loop is
not reordered, hence not vectorised): write the terms to a buffer and add
them with :func:`sum4`. Imported on first use, so that ``import nomogram``
does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["f2i", "i2f", "vexp", "vlog", "sum4"]

_SHIFTER = 6755399441055744.0          # 1.5 * 2^52: adding it rounds to an integer kept in the low bits
_SHIFTER_BITS = 0x4338000000000000     # its bit pattern
_LN2_HI = 6.93147180369123816490e-01   # ln 2 in two parts (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00


@intrinsic
def f2i(typingctx, x):
    """The bits of a float64 as an int64 (a bit cast, no conversion)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def i2f(typingctx, x):
    """An int64's bits as a float64 (a bit cast, no conversion)."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@numba.njit(cache=True, nogil=True, error_model="numpy")
def vexp(x):
    """``e^x``, within 1 ulp; 0 below -745.2, inf above 709.8, NaN for NaN."""
    xc = min(max(x, -746.0), 710.0)
    t = xc * _INV_LN2 + _SHIFTER                # k = round(x / ln 2), as a float and as an integer
    kf = t - _SHIFTER
    k = f2i(t) - _SHIFTER_BITS
    hi = xc - kf * _LN2_HI
    lo = kf * _LN2_LO
    r = hi - lo
    z = r * r
    c = r - z * (1.66666666666666019037e-01 + z * (-2.77777777770155933842e-03 + z * (
        6.61375632143793436117e-05 + z * (-1.65339022054652515390e-06 + z * 4.13813679705723846039e-08))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    k1 = k >> 1                                 # 2^k as two factors, each a normal number
    y = y * i2f((k1 + 1023) << 52) * i2f((k - k1 + 1023) << 52)
    return y if x == x else x


@numba.njit(cache=True, nogil=True, error_model="numpy")
def vlog(x):
    """Natural logarithm, within 1 ulp; -inf at 0, NaN below 0 and for NaN, inf at inf."""
    tiny = x < 2.2250738585072014e-308          # subnormal: scale by 2^54 first
    xs = x * 18014398509481984.0 if tiny else x
    bits = f2i(xs)
    k = (bits >> 52) - (1023 + 54 if tiny else 1023)
    mbits = (bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000   # m in [1, 2)
    big = mbits > 0x3FF6A09E667F3BCD                          # m > sqrt(2): use m / 2
    mbits = mbits - (0x0010000000000000 if big else 0)
    k = k + (1 if big else 0)
    f = i2f(mbits) - 1.0
    dk = i2f(k + _SHIFTER_BITS) - _SHIFTER
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (
        1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    R = t2 + t1
    hfsq = 0.5 * f * f
    out = dk * _LN2_HI - ((hfsq - (s * (hfsq + R) + dk * _LN2_LO)) - f)
    out = np.inf if x == np.inf else out
    return out if x > 0.0 else (-np.inf if x == 0.0 else np.nan)


@numba.njit(cache=True, nogil=True)
def sum4(a, n):
    """``a[0] + ... + a[n - 1]`` with four running sums (fixed order: the same result on every run)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    m = n - n % 4
    for i in range(0, m, 4):
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
    for i in range(m, n):
        s0 += a[i]
    return (s0 + s1) + (s2 + s3)
