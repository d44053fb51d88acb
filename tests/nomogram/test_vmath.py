"""The vectorisable exp and log of nomogram._vmath are within 1 ulp of the C library's."""

import numba
import numpy as np
import pytest

from nomogram._vmath import sum4, vexp, vlog


@numba.njit(error_model="numpy")
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


@numba.njit(error_model="numpy")
def _log_all(x, out):
    for i in range(x.shape[0]):
        out[i] = vlog(x[i])


def _ulps(got, ref):
    return np.max(np.abs(got - ref) / np.spacing(np.abs(ref)))


def _apply(fn, x):
    out = np.empty_like(x)
    fn(x, out)
    return out


@pytest.mark.parametrize("low, high", [(-30.0, 30.0), (-1.0, 1.0), (-708.0, 709.0), (-1e-8, 1e-8)])
def test_exp_within_one_ulp(low, high):
    x = np.random.default_rng(0).uniform(low, high, 2_000_000)
    assert _ulps(_apply(_exp_all, x), np.exp(x)) <= 1.0


@pytest.mark.parametrize("low, high", [(-35.0, 0.7), (-700.0, 700.0), (-1e-6, 1e-6)])
def test_log_within_one_ulp(low, high):
    x = np.exp(np.random.default_rng(1).uniform(low, high, 2_000_000))
    assert _ulps(_apply(_log_all, x), np.log(x)) <= 1.0


def test_exp_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.78, 709.79, -745.1, -745.2, -800.0, 1e-20,
                  -708.5, -720.0])
    with np.errstate(over="ignore", under="ignore"):
        ref = np.exp(x)
    got = _apply(_exp_all, x)
    normal = ref > 2.2250738585072014e-308
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[normal], ref[normal], rtol=2.3e-16)
    # subnormal results: right to the precision a subnormal has
    np.testing.assert_allclose(got[~normal & ~np.isnan(ref)], ref[~normal & ~np.isnan(ref)], rtol=1e-10, atol=0)


def test_log_edges():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 5e-324, 1e-310, 1.0, 2.0, 1e308,
                  np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0), np.nextafter(1.0, 0.0), np.nextafter(1.0, 2.0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.log(x)
    got = _apply(_log_all, x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(ref)], ref[~finite & ~np.isnan(ref)])
    assert _ulps(got[finite & (ref != 0)], ref[finite & (ref != 0)]) <= 1.0
    assert got[x == 1.0][0] == 0.0


@pytest.mark.parametrize("n", [0, 1, 3, 4, 7, 1001])
def test_sum4_adds_every_term(n):
    a = np.random.default_rng(n).normal(size=n)
    assert sum4(a, n) == pytest.approx(float(np.sum(a)), rel=1e-13, abs=1e-13)
    assert sum4(np.ones(n + 5), n) == n        # only the first n
