"""Signature (the modality-free rad-score / path-score builder) on a real feature table, and its LASSO against R glmnet.

* LASSO paths: tests/reference/imaging/lasso_glmnet.R (glmnet 4.1, thresh 1e-14)
  on z-scored real data (WDBC for the logistic model, GBSG2 for Cox).
* End to end: scikit-learn's ``load_breast_cancer`` (569 patients, 30 real
  image features of fine-needle aspirates) split 70/30, fitted on the
  training split only.
"""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from nomogram.features.signature import (
    Signature,
    _binomial_deviance,
    _cox_loglik,
    _cox_prep,
    lasso_cox_path,
    lasso_logistic_path,
)
from nomogram.exceptions import ModelFileError, NotFittedError

from tests._reference import reference_csv, reference_data, reference_json  # noqa: E402



# ------------------------------------------------------------------ glmnet
@pytest.fixture(scope="module")
def lambdas():
    return reference_json("imaging/lasso_lambdas.json")


def test_logistic_lasso_path_matches_glmnet(lambdas):
    b = reference_csv("imaging/lasso_binomial_input.csv")
    ref = reference_csv("imaging/lasso_glmnet_binomial.csv")
    X, y = b.drop(columns="y").to_numpy(), b["y"].to_numpy().astype(float)
    n = len(y)
    np.testing.assert_allclose(ref["lambda"], lambdas["binomial"], rtol=1e-12)
    B0, B = lasso_logistic_path(X, y, lambdas["binomial"])
    RB0, RB = ref["intercept"].to_numpy(), ref.iloc[:, 2:].to_numpy()
    np.testing.assert_array_equal(B != 0, RB != 0)  # same features enter at the same lambda
    for i, lam in enumerate(lambdas["binomial"]):
        ours = _binomial_deviance(y, B0[i] + X @ B[i]) / (2 * n) + lam * np.abs(B[i]).sum()
        theirs = _binomial_deviance(y, RB0[i] + X @ RB[i]) / (2 * n) + lam * np.abs(RB[i]).sum()
        assert ours <= theirs + 1e-13  # at least as good an optimum
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    # the mean-feature block is nearly collinear (radius/perimeter/area), so single
    # coefficients are loosely determined; glmnet stops with KKT residuals ~1e-8.
    np.testing.assert_allclose(B, RB, atol=5e-4)
    np.testing.assert_allclose(B0[:, None] + B @ X.T, RB0[:, None] + RB @ X.T, atol=5e-4)


def _cox_objective(X, t, e, beta, lam):
    return -_cox_loglik(X @ beta, e, _cox_prep(t, e)) / len(t) + lam * np.abs(beta).sum()


def test_cox_lasso_path_matches_glmnet_without_ties(lambdas):
    c = reference_csv("imaging/lasso_cox_untied_input.csv")
    ref = reference_csv("imaging/lasso_glmnet_cox_untied.csv")
    X = c.drop(columns=["time", "event"]).to_numpy()
    B = lasso_cox_path(X, c["time"].to_numpy(), c["event"].to_numpy(), lambdas["cox"])
    np.testing.assert_allclose(B, ref.iloc[:, 1:].to_numpy(), atol=1e-6)


def test_cox_lasso_with_ties_is_breslow_and_near_glmnet(lambdas):
    """With tied times glmnet's likelihood is not exactly Breslow's; ours is.

    Checked against statsmodels PHReg(ties='breslow') log-likelihood, then
    the path is compared with glmnet at a looser tolerance.
    """
    from statsmodels.duration.hazard_regression import PHReg

    c = reference_csv("imaging/lasso_cox_input.csv")
    ref = reference_csv("imaging/lasso_glmnet_cox.csv")
    X, t, e = c.drop(columns=["time", "event"]).to_numpy(), c["time"].to_numpy(), c["event"].to_numpy()
    beta = np.linspace(-0.3, 0.3, X.shape[1])
    np.testing.assert_allclose(_cox_loglik(X @ beta, e, _cox_prep(t, e)),
                               PHReg(t, X, status=e, ties="breslow").loglike(beta), rtol=1e-12)
    B = lasso_cox_path(X, t, e, lambdas["cox"])
    RB = ref.iloc[:, 1:].to_numpy()
    for i, lam in enumerate(lambdas["cox"]):
        assert _cox_objective(X, t, e, B[i], lam) <= _cox_objective(X, t, e, RB[i], lam) + 1e-12
    np.testing.assert_allclose(B, RB, atol=2e-3)


# --------------------------------------------------------- breast cancer
@pytest.fixture(scope="module")
def split():
    d = load_breast_cancer(as_frame=True)
    y = pd.Series(1 - d.target, index=d.data.index, name="malignant")
    return train_test_split(d.data, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def fitted(split):
    Xtr, Xte, ytr, yte = split
    return Signature(random_state=0).fit(Xtr, ytr)


def _evaluate_formula(text, X):
    lhs, rhs = text.split(" = ", 1)
    assert lhs == "Signature"
    tokens = re.split(r" ([+−]) ", rhs)
    total = np.full(len(X), float(tokens[0]))
    for sign, term in zip(tokens[1::2], tokens[2::2]):
        coef, name = term.split(" × ", 1)
        total += (-1 if sign == "−" else 1) * float(coef) * X[name].to_numpy()
    return total


def test_rad_score_on_test_split_equals_formula_by_hand(fitted, split):
    _, Xte, _, _ = split
    score = fitted.transform(Xte)["signature"].to_numpy()
    by_hand = fitted.intercept_ + sum(c * Xte[f].to_numpy() for f, c in fitted.coef_.items())
    np.testing.assert_allclose(score, by_hand, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_evaluate_formula(fitted.formula(digits=None), Xte), score, rtol=1e-12, atol=1e-10)
    printed = fitted.formula()  # 3 significant digits, as a paper prints it
    assert printed.startswith("Signature = ")
    assert all(f in printed for f in fitted.features_)
    np.testing.assert_allclose(_evaluate_formula(printed, Xte), score, atol=0.05 * np.abs(score).max())


def test_original_scale_coefficients_follow_from_standardised(fitted, split):
    Xtr = split[0]
    f = fitted.features_
    np.testing.assert_allclose(fitted.mean_[f], Xtr[f].mean(), rtol=1e-14)
    np.testing.assert_allclose(fitted.scale_[f], Xtr[f].std(ddof=1), rtol=1e-14)
    np.testing.assert_allclose(fitted.coef_, fitted.coef_standardized_ / Xtr[f].std(ddof=1), rtol=1e-12)
    z = (Xtr[f] - Xtr[f].mean()) / Xtr[f].std(ddof=1)
    np.testing.assert_allclose(fitted.decision_function(Xtr),
                               fitted.intercept_standardized_ + z.to_numpy() @ fitted.coef_standardized_.to_numpy(),
                               rtol=1e-10, atol=1e-10)


def test_test_auc_is_sensible(fitted, split):
    _, Xte, _, yte = split
    auc = roc_auc_score(yte, fitted.transform(Xte)["signature"])
    assert auc > 0.9
    p = fitted.predict_proba(Xte)[:, 1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-fitted.decision_function(Xte))))


def test_no_leakage_from_test_data(fitted, split):
    Xtr, Xte, ytr, _ = split
    before = fitted.to_json()
    s1 = fitted.transform(Xte)["signature"]
    changed = Xte * 5.0 + 100.0
    fitted.transform(changed)
    assert fitted.to_json() == before  # transforming other data changes no fitted parameter
    alone = fitted.transform(Xte.iloc[[7]])["signature"].iloc[0]
    np.testing.assert_allclose(alone, s1.iloc[7], rtol=1e-13)  # no dependence on other test rows
    # refitting with the test rows present elsewhere (not passed to fit) gives the same model
    again = Signature(random_state=0).fit(Xtr.copy(), ytr.copy())
    assert again.to_json() == before


def test_one_se_rule_is_largest_lambda_within_one_se(fitted):
    cv = fitted.cv_results_
    i_min = int(cv["mean_deviance"].idxmin())
    limit = cv.loc[i_min, "mean_deviance"] + cv.loc[i_min, "se_deviance"]
    eligible = cv[cv["mean_deviance"] <= limit]
    assert fitted.lambda_1se_ == eligible["lambda"].max()
    assert fitted.lambda_min_ == cv.loc[i_min, "lambda"]
    assert fitted.lambda_1se_ >= fitted.lambda_min_
    np.testing.assert_allclose(cv["C"], 1 / (fitted.n_train_ * cv["lambda"]))
    assert fitted.lambda_ == fitted.lambda_1se_  # cap not binding here
    n_at = cv.loc[cv["lambda"] == fitted.lambda_, "n_nonzero"].iloc[0]
    assert n_at == len(fitted.features_)


def test_selection_report_counts(fitted):
    rep = fitted.selection_report()
    assert rep["step"].tolist() == ["input", "variance_filter", "redundancy_filter", "univariate_screen",
                                    "mrmr", "lasso", "max_features"]
    assert rep["n_features"].iloc[0] == 30
    assert (np.diff(rep["n_features"].to_numpy()) <= 0).all()
    assert rep["n_features"].iloc[-1] == len(fitted.features_) > 0
    assert rep["n_features"].iloc[2] < 30  # the WDBC table is highly redundant
    assert "1-SE" in rep["rule"].iloc[5]


def test_json_round_trip_and_clone(fitted, split, tmp_path):
    _, Xte, _, _ = split
    path = tmp_path / "sig.json"
    fitted.to_json(path)
    back = Signature.from_json(path)
    np.testing.assert_array_equal(back.decision_function(Xte), fitted.decision_function(Xte))
    assert back.formula() == fitted.formula()
    pd.testing.assert_frame_equal(back.selection_report(), fitted.selection_report())
    assert clone(fitted).get_params() == fitted.get_params()
    with pytest.raises(ModelFileError, match="not a nomofuse model file"):
        Signature.from_json('{"format": "x"}')


def test_icc_filter_and_feature_cap(split):
    Xtr, Xte, ytr, yte = split
    icc = pd.Series(0.9, index=Xtr.columns)
    unstable = ["worst concave points", "mean concave points", "worst perimeter"]
    icc[unstable] = 0.5
    sig = Signature(icc_table=icc, max_features=2, cv=5, random_state=1).fit(Xtr, ytr)
    rep = sig.selection_report().set_index("step")
    assert rep.loc["icc_filter", "n_features"] == 27
    assert not set(unstable) & set(sig.features_)
    assert len(sig.features_) <= 2
    assert "lambda raised" in rep.loc["max_features", "rule"]
    assert sig.lambda_ > sig.lambda_1se_
    assert roc_auc_score(yte, sig.transform(Xte)["signature"]) > 0.85
    back = Signature.from_json(sig.to_json())
    assert back.get_params()["icc_table"].equals(icc)


def test_bad_input_messages(split):
    Xtr, _, ytr, _ = split
    with pytest.raises(NotFittedError, match="Signature instance is not fitted yet"):
        Signature().transform(Xtr)
    with pytest.raises(ValueError, match=r"no ICC for 1 feature\(s\) of X, e.g. \['worst symmetry'\]"):
        Signature(icc_table=pd.Series(0.9, index=Xtr.columns[:-2])).fit(Xtr.iloc[:, :-1], ytr)
    with pytest.raises(ValueError, match="The 'univariate_test' parameter of Signature"):
        Signature(univariate_test="mannwhitney", outcome="survival").fit(
            Xtr, pd.DataFrame({"t": np.arange(1, len(Xtr) + 1), "e": ytr.to_numpy()}))
    with pytest.raises(ValueError, match="y must be binary"):
        Signature().fit(Xtr, np.arange(len(Xtr)))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        Signature().fit(Xtr.to_numpy(), ytr)
    few = pd.concat([Xtr[ytr == 0], Xtr[ytr == 1].iloc[:4]])
    with pytest.raises(ValueError, match="cv=10 folds need at least 10 patients of each outcome class"):
        Signature(univariate_test=None).fit(few, np.r_[np.zeros((ytr == 0).sum()), np.ones(4)])
    sig = Signature(n_mrmr=5, cv=5).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="lacks the Signature feature"):
        sig.transform(Xtr.drop(columns=sig.features_[0]))


def test_survival_signature_on_gbsg2():
    from lifelines.utils import concordance_index

    g = reference_data("gbsg2")
    X = pd.DataFrame({"age": g.age, "tsize": g.tsize, "pnodes": g.pnodes, "progrec": g.progrec,
                      "estrec": g.estrec, "horTh_yes": (g.horTh == "yes").astype(float),
                      "menostat_pre": (g.menostat == "Pre").astype(float),
                      "tgrade": g.tgrade.map({"I": 1, "II": 2, "III": 3})}).astype(float)
    y = pd.DataFrame({"time": g.time.astype(float), "event": g.cens.astype(float)})
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y.event)
    sig = Signature(outcome="survival", univariate_test="cox", cv=5, random_state=0).fit(Xtr, ytr)
    score = sig.transform(Xte)["signature"]
    cidx = concordance_index(yte.time, -score, yte.event)
    assert cidx > 0.6
    assert "pnodes" in sig.features_
    np.testing.assert_allclose(sig.decision_function(Xtr).mean(), 0.0, atol=1e-10)  # centred on training
    assert sig.selection_report()["step"].iloc[-2] == "lasso"


def test_icc_table_from_feature_icc_is_accepted(split):
    """The ICC filter takes ``feature_icc(...).table`` directly (column ``icc_kind``)."""
    from nomogram.features.stability import feature_icc

    Xtr, Xte, ytr, yte = split
    rng = np.random.default_rng(0)
    noise = Xtr.std() * rng.uniform(0.05, 2.0, size=Xtr.shape[1])  # some features re-segment badly
    reader2 = Xtr + rng.normal(size=Xtr.shape) * noise.to_numpy()
    table = feature_icc([Xtr, reader2]).table
    stable = set(table.index[table["ICC(3,1)"] >= 0.75])
    assert 0 < len(stable) < 30
    sig = Signature(icc_table=table, cv=5, n_mrmr=10).fit(Xtr, ytr)
    assert set(sig.features_) <= stable
    assert sig.selection_report().set_index("step").loc["icc_filter", "n_features"] == len(stable)
    with pytest.raises(ValueError, match="icc_table has no column 'ICC\\(1,1\\)'"):
        Signature(icc_table=table, icc_kind="ICC(1,1)").fit(Xtr, ytr)


def test_univariate_cox_wald_matches_statsmodels():
    from statsmodels.duration.hazard_regression import PHReg

    from nomogram.features.signature import _cox_univariate

    c = reference_csv("imaging/lasso_cox_input.csv")
    t, e = c["time"].to_numpy(), c["event"].to_numpy()
    for col in ["pnodes", "progrec", "age"]:
        x = c[col].to_numpy()
        z, p = _cox_univariate(x, t, e, _cox_prep(t, e))
        r = PHReg(t, x[:, None], status=e, ties="breslow").fit()
        np.testing.assert_allclose(z, r.tvalues[0], rtol=1e-6)
        np.testing.assert_allclose(p, r.pvalues[0], rtol=1e-5)


def test_mrmr_is_greedy_relevance_over_mean_redundancy(split):
    """FCQ mRMR by brute force: first the largest F, then each step the largest F / mean |r|."""
    from nomogram.features.signature import _f_classif

    Xtr, _, ytr, _ = split
    Z = ((Xtr - Xtr.mean()) / Xtr.std()).to_numpy()
    y = ytr.to_numpy().astype(float)
    F, _ = _f_classif(Z, y)
    from sklearn.feature_selection import f_classif

    np.testing.assert_allclose(F, f_classif(Z, y)[0], rtol=1e-10)
    got = Signature._mrmr(Z, F, np.arange(Z.shape[1]), 5)
    R = np.abs(np.corrcoef(Z, rowvar=False))
    chosen = [int(np.argmax(F))]
    while len(chosen) < 5:
        rest = [j for j in range(Z.shape[1]) if j not in chosen]
        chosen.append(max(rest, key=lambda j: F[j] / R[j, chosen].mean()))
    assert got.tolist() == sorted(chosen)


def test_default_screen_follows_the_outcome_and_cv_below_2_is_named():
    g = reference_data("gbsg2")
    X = pd.DataFrame({"age": g.age, "tsize": g.tsize, "pnodes": g.pnodes, "progrec": g.progrec,
                      "estrec": g.estrec}).astype(float)
    y = pd.DataFrame({"time": g.time.astype(float), "event": g.cens.astype(float)})
    auto = Signature(outcome="survival", cv=5, random_state=0).fit(X, y)  # no screen named: Cox Wald
    cox = Signature(outcome="survival", univariate_test="cox", cv=5, random_state=0).fit(X, y)
    assert auto.features_ == cox.features_
    np.testing.assert_allclose(auto.decision_function(X), cox.decision_function(X))
    assert "Cox Wald" in " ".join(auto.selection_report()["rule"].astype(str))
    with pytest.raises(ValueError, match="The 'cv' parameter of Signature must be at least 2"):
        Signature(cv=1, univariate_test=None).fit(X, (g.cens == 1).astype(int))
