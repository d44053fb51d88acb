"""The survival building blocks of nomogram._survival against brute force.

One Kaplan–Meier (counts, curve, Greenwood, censoring survival, batched
subsets / frequency weights), one step-function rule past follow-up, one
set of Cox risk-set sums.
"""

import numpy as np
import pytest

from nomogram._survival import (
    RiskSets,
    censoring_survival,
    km_at_by_group,
    km_steps,
    km_survival_at,
    step_function_at,
)


def _brute_km(time, event, t):
    """Product-limit S(t) by the definition, NaN past the last observed time."""
    if len(time) == 0 or t > time.max():
        return np.nan
    s = 1.0
    for u in np.unique(time[(event == 1) & (time <= t)]):
        s *= 1 - np.sum((time == u) & (event == 1)) / np.sum(time >= u)
    return s


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 25, n).astype(float)  # many ties
    event = (rng.random(n) < 0.6).astype(float)
    return time, event


def test_km_at_many_times_equals_definition_and_rule_past_follow_up():
    time, event = _data()
    t = np.r_[0.5, np.unique(time), time.max() + 0.5, 1e9, np.linspace(0, 30, 41)]
    got = km_survival_at(time, event, t)
    want = np.array([_brute_km(time, event, u) for u in t])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    assert np.isnan(got[t > time.max()]).all() and not np.isnan(got[t <= time.max()]).any()
    ext = km_survival_at(time, event, t, extend=True)
    last = km_steps(time, event).surv[-1]
    np.testing.assert_array_equal(ext[t > time.max()], last)
    np.testing.assert_array_equal(ext[t <= time.max()], got[t <= time.max()])


def test_last_time_is_inside_follow_up_even_when_censored():
    time = np.array([1.0, 2.0, 3.0])
    event = np.array([1.0, 0.0, 0.0])
    assert km_survival_at(time, event, 3.0)[0] == pytest.approx(2 / 3, abs=1e-15)
    assert np.isnan(km_survival_at(time, event, 3.0 + 1e-9)[0])
    assert km_survival_at(time, event, 3.0 + 1e-9, tol=1e-6)[0] == pytest.approx(2 / 3, abs=1e-15)


def test_batched_subsets_and_frequency_weights_equal_single_curves():
    time, event = _data(80, seed=1)
    rng = np.random.default_rng(2)
    masks = rng.random((9, len(time))) < 0.35
    masks[0] = False  # an empty subset: NaN, or 1 (empty product) with extend
    masks[1] = time <= 10  # follow-up stops before some t
    t = np.array([0.5, 5.0, 12.0, 24.0])
    got = km_survival_at(time, event, t, weights=masks, chunk=4)
    got_ext = km_survival_at(time, event, t, weights=masks, extend=True)
    for i, m in enumerate(masks):
        np.testing.assert_allclose(got[i], [_brute_km(time[m], event[m], u) for u in t], atol=1e-14)
        if m.any():
            np.testing.assert_allclose(got_ext[i], km_survival_at(time[m], event[m], t, extend=True), atol=1e-14)
    assert np.isnan(got[0]).all() and (got_ext[0] == 1).all()
    counts = rng.integers(0, 3, len(time)).astype(float)  # a bootstrap draw as copies
    rows = np.repeat(np.arange(len(time)), counts.astype(int))
    a, b = km_steps(time, event, counts), km_steps(time[rows], event[rows])
    np.testing.assert_allclose(a.at(t), b.at(t), atol=1e-14)
    np.testing.assert_allclose(a.at(t, np.sqrt(a.var_cumhaz())), b.at(t, np.sqrt(b.var_cumhaz())), atol=1e-14)


def test_censoring_survival_lets_deaths_leave_first():
    # at t=2 one death and one censoring: the censoring's risk set excludes the death
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    event = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    G = censoring_survival(time, event)
    g2 = 1 - 1 / 3  # 4 at risk at 2, minus the death
    g3 = g2 * (1 - 1 / 2)
    np.testing.assert_allclose(G.at([0.5, 1.0, 2.0, 2.5, 3.0, 4.0]), [1, 1, g2, g2, g3, g3], atol=1e-15)
    np.testing.assert_allclose(G.at([2.0, 3.0], left=True), [1, g2], atol=1e-15)


def test_step_function_values_before_and_after():
    x = np.array([1.0, 2.0])
    v = np.array([[10.0, 20.0], [30.0, 40.0]])
    got = step_function_at(x, v, [0.0, 1.0, 1.5, 2.0, 3.0], end=np.array([2.5, 3.0]), before=-1.0)
    np.testing.assert_array_equal(got, [[-1, 10, 10, 20, np.nan], [-1, 30, 30, 40, 40]])


def test_risk_set_sums_equal_definition_with_one_tie_ordering():
    time, event = _data(50, seed=3)
    rs = RiskSets(time, event)
    # deaths before censorings at a tied time, by time
    key = list(zip(rs.time, -rs.event))
    assert key == sorted(key)
    a = np.random.default_rng(4).random((len(time), 3))
    a_sorted = a[rs.order]
    S = rs.at_risk_sum(a_sorted)
    D = rs.death_sum(a_sorted)
    for j, u in enumerate(rs.event_times):
        np.testing.assert_allclose(S[j], a[time >= u].sum(axis=0), rtol=1e-13)
        np.testing.assert_allclose(D[j], a[(time == u) & (event == 1)].sum(axis=0), rtol=1e-13)
    np.testing.assert_array_equal(rs.n_deaths, [np.sum((time == u) & (event == 1)) for u in rs.event_times])
    # a batch (one resample per row) on axis 1 gives the same sums
    batch = np.stack([a_sorted[:, 0], 2 * a_sorted[:, 0]])
    np.testing.assert_allclose(rs.at_risk_sum(batch, axis=1), np.stack([S[:, 0], 2 * S[:, 0]]), rtol=1e-13)
    inc = 1.0 / S[:, 0]
    cum = rs.cumulative_at_rows(inc)
    np.testing.assert_allclose(cum, [inc[rs.event_times <= u].sum() for u in rs.time], rtol=1e-13)


@pytest.mark.parametrize("t", [0.5, 7.0, 12.3, 24.0, 30.0])
@pytest.mark.parametrize("extend", [False, True, "at_zero"])
def test_km_at_by_group_equals_one_curve_per_group(t, extend):
    time, event = _data(n=400, seed=3)
    rng = np.random.default_rng(4)
    groups = rng.integers(0, 9, len(time))
    groups[groups == 7] = 6                      # group 7 empty
    w = rng.integers(0, 3, len(time)).astype(float)
    event[(groups == 2) & (time > 15)] = 1.0     # group 2's curve may reach 0
    surv, se = km_at_by_group(time, event, groups, 9, t, weights=w, tol=1e-6, extend=extend)
    for g in range(9):
        s = (groups == g) & (w > 0)
        if not s.any():
            assert np.isnan(surv[g]) and np.isnan(se[g])
            continue
        steps = km_steps(time[s], event[s], w[s])
        ext = bool(steps.surv[-1] == 0) if extend == "at_zero" else extend
        want = steps.at(t, extend=ext, tol=1e-6)[0]
        want_se = steps.at(t, np.sqrt(steps.var_cumhaz()), extend=ext, tol=1e-6, before=0.0)[0]
        np.testing.assert_allclose(surv[g], want, rtol=1e-14, atol=0)
        np.testing.assert_allclose(se[g], want_se, rtol=1e-13, atol=0)


@pytest.mark.parametrize("t", [6.0, 15.0, 24.0, 40.0])
@pytest.mark.parametrize("extend", [False, True])
def test_km_at_nested_equals_one_curve_per_subset(t, extend):
    from nomogram._nested_km import km_at_nested

    time, event = _data(n=300, seed=8)
    score = np.random.default_rng(9).integers(0, 25, len(time))
    order = np.argsort(-score, kind="stable")
    sizes = np.r_[0, 1, 2, np.arange(5, 301, 9), 300]
    got = km_at_nested(time, event, order, sizes, t, extend=extend)
    for m, g in zip(sizes, got):
        w = np.zeros(len(time))
        w[order[:m]] = 1.0
        want = km_survival_at(time, event, t, weights=w[None], extend=extend)[0, 0]
        if np.isnan(want):
            assert np.isnan(g)
        else:
            assert g == want            # the same factors multiplied in the same order
