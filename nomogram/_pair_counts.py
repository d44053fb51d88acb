"""Concordant, discordant and tied pairs of a score with a censored outcome, in O(n log n).

The one counting routine behind Harrell's and Uno's C with their
infinitesimal-jackknife standard errors (:mod:`nomogram.metrics._concordance`),
the C of a Cox fit (:func:`nomogram._indexes.harrell_c_survival`) and the
resampled ``Dxy`` of ``validate`` (:func:`nomogram._resample.weighted_cox_dxy`).

Pairs (survival's definitions): the pair (i, j) is *comparable* when i has an
event at :math:`t_i` and :math:`t_j > t_i`, or :math:`t_j = t_i` and j is
censored (a censoring at an event time happens after the event); two events
at the same time are tied in time and not comparable. Each comparable pair
has the weight :math:`v_i w_i w_j` (:math:`w` frequency or case weights,
:math:`v_i` the time weight of the event: 1 for Harrell's C,
:math:`1/\\hat G(t_i-)^2` for Uno's, 0 after ``tau``) and is concordant when
:math:`x_i > x_j`, discordant when :math:`x_i < x_j`, tied in ``x`` otherwise.

Algorithm (as ``survival::concordance``, which keeps a balanced binary tree):
rows are visited from the last time to the first, and a Fenwick tree (binary
indexed tree) indexed by the rank of ``x`` holds the weights of the rows
already visited. At each distinct time the censored rows are added first,
then every event of that time queries the tree -- its comparable partners are
exactly the rows in it -- and then the events are added. The weight below the
event's rank is its concordant weight, the weight at its rank its tied weight,
the rest its discordant weight: O(log n) per event. For the influence of each
observation the second member of the pairs is needed too: a second visit from
the first time to the last keeps the events' weights :math:`v_i w_i` in a tree
and queries it for every row (an event before adding the events of its own
time, a censored row after them).

The kernels are compiled with numba on first use (cached on disk).

References
----------
Therneau T, Atkinson E. The concordance statistic. Vignette of the R package
survival (``concordance``, ``concordance3.c``). Fenwick PM (1994). A new data
structure for cumulative frequency tables. Software: Practice and Experience
24:327-336.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["dense_ranks", "concordance_counts", "concordance_totals_batch", "tied_time_pairs"]


def dense_ranks(x: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """1-based dense ranks along the last axis (ties share a rank), int64.

    ``order``: ``argsort(x, axis=-1)`` if already known (any order among ties).
    """
    x = np.asarray(x, dtype=float)
    # the order among ties does not change dense ranks: no stable sort needed
    o = np.argsort(x, axis=-1) if order is None else order
    xs = np.take_along_axis(x, o, axis=-1)
    new = np.ones(x.shape, dtype=np.int64)
    new[..., 1:] = xs[..., 1:] != xs[..., :-1]
    ranks = np.empty_like(new)
    np.put_along_axis(ranks, o, np.cumsum(new, axis=-1), axis=-1)
    return ranks


def _time_order(time, event):
    """Rows by time ascending, events before censorings at a tied time; starts of equal-time groups."""
    order = np.lexsort((-np.asarray(event, float), time))
    ts = np.asarray(time, float)[order]
    starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]]).astype(np.int64)
    return order.astype(np.int64), np.r_[starts, len(ts)].astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _fenwick_add(tree, pos, value):
    size = tree.shape[0] - 1
    while pos <= size:
        tree[pos] += value
        pos += pos & -pos


@numba.njit(cache=True, nogil=True)
def _fenwick_prefix(tree, pos):
    s = 0.0
    while pos > 0:
        s += tree[pos]
        pos -= pos & -pos
    return s


@numba.njit(cache=True, nogil=True)
def _count_pairs(order, bounds, event, xr, w, vw, n_ranks, tree, at, influence, per):
    """One score: totals (concordant, discordant, tied in x) and, if ``influence``, ``per`` (n, 3).

    ``order``/``bounds``: rows by time (events first at a tie) and the starts
    of the equal-time groups; ``xr`` 1-based ranks of the score; ``w`` row
    weights; ``vw`` time weight of each event row. ``tree``/``at`` are work
    arrays of size ``n_ranks + 1``.
    """
    tree[:] = 0.0
    at[:] = 0.0
    conc = 0.0
    disc = 0.0
    tie = 0.0
    total = 0.0
    n_groups = bounds.shape[0] - 1
    for g in range(n_groups - 1, -1, -1):
        a = bounds[g]
        b = bounds[g + 1]
        # censored rows of this time sort after its events: they are partners of those events
        for k in range(b - 1, a - 1, -1):
            i = order[k]
            if event[i] != 0:
                break
            if w[i] != 0.0:
                _fenwick_add(tree, xr[i], w[i])
                at[xr[i]] += w[i]
                total += w[i]
        for k in range(a, b):
            i = order[k]
            if event[i] == 0:
                break
            f = vw[i] * w[i]
            if f == 0.0:
                continue
            less = _fenwick_prefix(tree, xr[i] - 1)
            same = at[xr[i]]
            more = total - less - same
            conc += f * less
            disc += f * more
            tie += f * same
            if influence:
                per[i, 0] += f * less
                per[i, 1] += f * more
                per[i, 2] += f * same
        for k in range(a, b):
            i = order[k]
            if event[i] == 0:
                break
            if w[i] != 0.0:
                _fenwick_add(tree, xr[i], w[i])
                at[xr[i]] += w[i]
                total += w[i]
    if influence:
        # second members: every row against the events before it (a censored row also
        # against the events at its own time); tree of event weights v_i w_i
        tree[:] = 0.0
        at[:] = 0.0
        total = 0.0
        for g in range(n_groups):
            a = bounds[g]
            b = bounds[g + 1]
            for phase in range(2):
                for k in range(a, b):
                    j = order[k]
                    if (event[j] != 0) != (phase == 0):
                        continue
                    if w[j] == 0.0 or total == 0.0:
                        continue
                    less = _fenwick_prefix(tree, xr[j] - 1)
                    same = at[xr[j]]
                    more = total - less - same
                    # the event partner has the higher score: concordant
                    per[j, 0] += w[j] * more
                    per[j, 1] += w[j] * less
                    per[j, 2] += w[j] * same
                if phase == 0:
                    for k in range(a, b):
                        i = order[k]
                        if event[i] == 0:
                            break
                        f = vw[i] * w[i]
                        if f != 0.0:
                            _fenwick_add(tree, xr[i], f)
                            at[xr[i]] += f
                            total += f
    return conc, disc, tie


@numba.njit(cache=True, nogil=True)
def _count_pairs_batch(order, bounds, event, xr, w, n_ranks):
    B = xr.shape[0]
    out = np.zeros((B, 3))
    tree = np.zeros(n_ranks + 1)
    at = np.zeros(n_ranks + 1)
    per = np.zeros((1, 3))
    vw = np.ones(xr.shape[1])
    for b in range(B):
        c, d, t = _count_pairs(order, bounds, event, xr[b], w[b], vw, n_ranks, tree, at, False, per)
        out[b, 0] = c
        out[b, 1] = d
        out[b, 2] = t
    return out


def concordance_counts(time, event, x, time_weight=None, weights=None, *, influence=True):
    """Weighted pair counts of one score (module docstring), O(n log n).

    Parameters
    ----------
    time, event, x : ndarray of shape (n,)
    time_weight : ndarray of shape (n,), optional
        :math:`v_i` of each event row (1 by default; ignored for censored rows).
    weights : ndarray of shape (n,), optional
        Row weights :math:`w` (1 by default).
    influence : bool, default True
        Also return the weighted pairs each observation is in.

    Returns
    -------
    total : ndarray of shape (3,)
        Concordant, discordant, tied-in-x weight.
    per_obs : ndarray of shape (n, 3) or None
        The same for the pairs each observation is a member of (either role).
    """
    time = np.asarray(time, float)
    ev = (np.asarray(event, float) > 0).astype(np.int8)
    n = len(time)
    vw = np.ones(n) if time_weight is None else np.ascontiguousarray(time_weight, dtype=float)
    w = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=float)
    order, bounds = _time_order(time, ev)
    xr = dense_ranks(x)
    R = int(xr.max()) if n else 0
    per = np.zeros((n if influence else 1, 3))
    tot = _count_pairs(order, bounds, ev, xr, w, vw, R, np.zeros(R + 1), np.zeros(R + 1), influence, per)
    return np.array(tot), (per if influence else None)


def concordance_totals_batch(time, event, x, weights, *, ranks=None) -> np.ndarray:
    """Concordant, discordant and tied weight of each row of scores ``x`` (B, n) under ``weights`` (B, n).

    Unit time weights (Harrell); rows are independent resamples of the same
    patients. ``ranks``: :func:`dense_ranks` of ``x`` if already known (one
    score counted under several weightings). Returns an array of shape (B, 3).
    """
    time = np.asarray(time, float)
    ev = (np.asarray(event, float) > 0).astype(np.int8)
    x = np.atleast_2d(x)
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(weights, float), x.shape))
    order, bounds = _time_order(time, ev)
    xr = np.ascontiguousarray(dense_ranks(x) if ranks is None else np.broadcast_to(ranks, x.shape), dtype=np.int64)
    return _count_pairs_batch(order, bounds, ev, xr, w, int(xr.max()))


def tied_time_pairs(time, event, x) -> tuple[float, float]:
    """Pairs of events at the same time: (tied in time only, tied in time and x); unweighted."""
    d = np.asarray(event, float) > 0
    t = np.asarray(time, float)[d]
    xs = np.asarray(x, float)[d]
    if len(t) < 2:
        return 0.0, 0.0
    _, ct = np.unique(t, return_counts=True)
    same_t = float(np.sum(ct * (ct - 1)) / 2)
    o = np.lexsort((xs, t))
    ts, xo = t[o], xs[o]
    new = np.r_[True, (ts[1:] != ts[:-1]) | (xo[1:] != xo[:-1])]
    cxy = np.diff(np.r_[np.flatnonzero(new), len(ts)])
    same_txy = float(np.sum(cxy * (cxy - 1)) / 2)
    return same_t - same_txy, same_txy
