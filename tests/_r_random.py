"""R's random number stream, for tests that replay rms's resamples exactly.

``set.seed(seed); sample(n, replace = TRUE)`` in R >= 3.6 (default kinds
"Mersenne-Twister", "Rejection") is reproduced here, so a test can refit on
exactly the bootstrap samples (or cross-validation groups) rms's
``predab.resample`` drew and compare the whole ``validate``/``calibrate``
table with R's, resample decisions included.

- ``set.seed(s)`` (R ``src/main/RNG.c``, ``RNG_Init``): ``seed = s``, 50 times
  ``seed = 69069 seed + 1`` (mod 2^32), then 625 more such values: the first
  is the Mersenne-Twister position (set to 624), the other 624 its state.
- ``unif_rand()`` = ``fixup(genrand_int32() / 2^32)``: the standard MT19937
  output, which numpy's :class:`numpy.random.MT19937` produces from that state.
- ``R_unif_index(dn)``: rejection sampling of ``bits = ceil(log2(dn))`` random
  bits, drawn 16 at a time as ``floor(unif_rand() * 65536)``.
- ``sample(n, replace = TRUE)``: ``R_unif_index(n) + 1`` for each draw;
  ``sample(n)``: draw ``j = R_unif_index(m)`` for ``m = n, n - 1, ...``, take
  ``x[j]`` and move ``x[m - 1]`` into its place.

The module's own test compares draws with R's (``tests/reference/validation/
resampling_r_draws.csv``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RRandom", "r_bootstrap_plan", "r_crossvalidation_plan"]


class RRandom:
    """R's default generator after ``set.seed(seed)``."""

    def __init__(self, seed: int):
        s = int(seed) & 0xFFFFFFFF
        for _ in range(50):
            s = (69069 * s + 1) & 0xFFFFFFFF
        state = np.empty(625, dtype=np.uint32)
        for j in range(625):
            s = (69069 * s + 1) & 0xFFFFFFFF
            state[j] = s
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": state[1:], "pos": 624}}
        self._buffer = np.zeros(0)
        self._pos = 0

    def _chunks16(self, k: int) -> np.ndarray:
        """The next ``k`` values of ``floor(unif_rand() * 65536)``."""
        if self._pos + k > len(self._buffer):
            fresh = self._bits.random_raw(max(4096, k)).astype(np.float64) * 2.3283064365386963e-10
            fresh = np.where(fresh <= 0.0, 0.5 * 2.328306437080797e-10, fresh)
            self._buffer = np.concatenate([self._buffer[self._pos:], fresh])
            self._pos = 0
        out = np.floor(self._buffer[self._pos:self._pos + k] * 65536).astype(np.int64)
        self._pos += k
        return out

    def unif_index(self, dn: int) -> int:
        """R ``R_unif_index(dn)``: a uniform integer in ``[0, dn)``."""
        if dn <= 0:
            return 0
        bits = int(np.ceil(np.log2(dn)))
        per = bits // 16 + 1
        while True:
            v = 0
            for c in self._chunks16(per):
                v = 65536 * v + int(c)
            v &= (1 << bits) - 1
            if v < dn:
                return v

    def sample_replace(self, n: int, size: int) -> np.ndarray:
        """R ``sample(n, size, replace = TRUE)`` (1-based)."""
        bits = int(np.ceil(np.log2(n))) if n > 1 else 0
        if n > 1 and bits <= 16:
            # one 16-bit chunk per candidate: draw candidates in blocks, keep the accepted ones
            out = []
            need = size
            while need:
                block = self._chunks16(max(2 * need, 64)) & ((1 << bits) - 1)
                acc = np.flatnonzero(block < n)
                take = acc[:need]
                out.append(block[take])
                used = take[-1] + 1 if len(take) == need else len(block)
                self._pos -= len(block) - used          # give back the candidates not examined
                need -= len(take)
            return np.concatenate(out) + 1
        return np.array([self.unif_index(n) for _ in range(size)]) + 1

    def sample(self, n: int) -> np.ndarray:
        """R ``sample(n)``: a random permutation of ``1..n``."""
        x = list(range(n))
        out = np.empty(n, dtype=np.int64)
        m = n
        for i in range(n):
            j = self.unif_index(m)
            out[i] = x[j] + 1
            m -= 1
            x[j] = x[m]
        return out


def r_bootstrap_plan(n: int, B: int, seed: int, method: str = "boot"):
    """The resamples of rms ``predab.resample(method = "boot" or ".632")`` after ``set.seed(seed)``."""
    from nomogram._resample import ResamplePlan

    rng = RRandom(seed)
    idx = [rng.sample_replace(n, n) - 1 for _ in range(B)]
    train = np.stack([np.bincount(i, minlength=n) for i in idx]).astype(float)
    if method == "boot":
        return ResamplePlan("boot", train, np.ones((B, n)), idx)
    omitted = train == 0
    w632 = (omitted / omitted.sum(axis=0)).sum(axis=1) / n
    return ResamplePlan(".632", train, omitted.astype(float), idx, w632)


def r_crossvalidation_plan(n: int, B: int, seed: int):
    """The groups of rms ``predab.resample(method = "crossvalidation")`` after ``set.seed(seed)``."""
    from nomogram._resample import ResamplePlan

    sb = RRandom(seed).sample(n) - 1
    per = n / B
    train = np.ones((B, n))
    test = np.zeros((B, n))
    for i in range(1, B + 1):
        start = 1 + int(np.round((i - 1) * per))
        end = min(n, int(np.round(start + per - 1)))
        rows = sb[start - 1:end]
        train[i - 1, rows] = 0.0
        test[i - 1, rows] = 1.0
    return ResamplePlan("crossvalidation", train, test, [np.flatnonzero(t > 0) for t in train])
