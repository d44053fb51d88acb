r"""Slide-level pooling of tile features: mean, max, and gated attention MIL.

Mean and max pooling give one row per slide (columns ``mean_0000``...,
``max_0000``...); :class:`RunningPool` computes them batch by batch so a
slide's features never need to sit in memory at once. Max pooling is the
reduction the fusion models' early-fusion branch uses.

:class:`AttentionMIL` is the gated attention multiple-instance model of
Ilse et al. (2018) ("ABMIL", as in CLAM): each tile's feature ``x_k`` is
embedded ``h_k = ReLU(W x_k + b)``; its attention score is

.. math::

    a_k = \frac{\exp\{w^\top(\tanh(V h_k) \odot \sigma(U h_k))\}}
               {\sum_j \exp\{w^\top(\tanh(V h_j) \odot \sigma(U h_j))\}}

and the slide score is ``c^T sum_k a_k h_k + c_0`` (log-odds for a binary
outcome, a log relative hazard for survival: Cox partial likelihood with
Breslow ties over the training slides). It is trained with Adam on the
training split only, with early stopping on an inner validation split
(stratified, seeded), and saved as a tensor-only state dict beside a JSON
configuration (no pickle).

References
----------
Ilse M, Tomczak JM, Welling M. Attention-based deep multiple instance
learning. ICML 2018:2127-2136.
Lu MY et al. Data-efficient and weakly supervised computational pathology on
whole-slide images. Nat Biomed Eng 2021;5:555-570.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from nomogram.checks import check_binary_y, check_is_fitted, check_option, check_survival_y
from nomogram.model_io import ModelFileMixin, ModelReader, load_state_dict, save_state_dict, write_model

from .exceptions import PathologyError

__all__ = ["RunningPool", "pool_features", "AttentionMIL", "POOLING_METHODS"]

POOLING_METHODS = ("mean", "max")


class RunningPool:
    """Mean and max of tile features, updated batch by batch (memory: two vectors).

    Examples
    --------
    >>> pool = RunningPool(3)
    >>> pool.update(np.array([[1., 2., 3.], [3., 2., 1.]]))
    >>> pool.mean.tolist(), pool.max.tolist()
    ([2.0, 2.0, 2.0], [3.0, 2.0, 3.0])
    """

    def __init__(self, dim: int):
        self.n = 0
        self._sum = np.zeros(int(dim), np.float64)
        self.max = np.full(int(dim), -np.inf, np.float64)

    def update(self, features) -> None:
        f = np.asarray(features, dtype=np.float64)
        if f.size == 0:
            return
        self.n += len(f)
        self._sum += f.sum(axis=0)
        np.maximum(self.max, f.max(axis=0), out=self.max)

    @property
    def mean(self) -> np.ndarray:
        return self._sum / max(self.n, 1)

    def row(self, methods=POOLING_METHODS) -> dict:
        """``{"mean_0000": ..., "max_0000": ...}`` for the chosen methods."""
        return _row({"mean": self.mean, "max": self.max}, methods)


def _row(vectors: dict, methods) -> dict:
    out = {}
    for m in methods:
        check_option(m, POOLING_METHODS, name="methods", caller="pool_features")
        for i, v in enumerate(vectors[m]):
            out[f"{m}_{i:04d}"] = float(v)
    return out


def pool_features(features, methods=POOLING_METHODS) -> dict:
    """One row (dict) of pooled features of a slide: ``mean_<i>`` and/or ``max_<i>``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) == 0:
        raise PathologyError(f"pool_features expects (n_tiles >= 1, dim) features; got shape {f.shape}.")
    return _row({"mean": f.mean(axis=0), "max": f.max(axis=0)}, methods)


def _gated_attention_module(dim, hidden, attention, dropout):
    import torch
    from torch import nn

    class GatedAttentionMIL(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout))
            self.attn_v = nn.Linear(hidden, attention)
            self.attn_u = nn.Linear(hidden, attention)
            self.attn_w = nn.Linear(attention, 1)
            self.classifier = nn.Linear(hidden, 1)

        def forward(self, x, mask=None):
            """x: (bags, tiles, dim) padded, mask: (bags, tiles) True on real tiles.

            Returns (scores (bags,), attention (bags, tiles)); padding gets attention 0.
            """
            h = self.embed(x)
            a = self.attn_w(torch.tanh(self.attn_v(h)) * torch.sigmoid(self.attn_u(h))).squeeze(-1)
            if mask is not None:
                a = a.masked_fill(~mask, float("-inf"))
            a = torch.softmax(a, dim=1)
            z = (a.unsqueeze(-1) * h).sum(dim=1)
            return self.classifier(z).squeeze(-1), a

    return GatedAttentionMIL()


def _padded(tensors):
    """Stack (n_k, dim) tensors into (bags, max n_k, dim) with a mask of real rows."""
    import torch

    n = max(len(t) for t in tensors)
    x = torch.zeros((len(tensors), n, tensors[0].shape[1]), dtype=torch.float32)
    mask = torch.zeros((len(tensors), n), dtype=torch.bool)
    for i, t in enumerate(tensors):
        x[i, :len(t)] = t
        mask[i, :len(t)] = True
    return x, mask


def _chunks(tensors, max_rows: int = 65536):
    """Consecutive groups of bags whose padded size stays under ``max_rows`` tiles."""
    group, longest = [], 0
    for t in tensors:
        longest2 = max(longest, len(t))
        if group and longest2 * (len(group) + 1) > max_rows:
            yield group
            group, longest2 = [], len(t)
        group.append(t)
        longest = longest2
    if group:
        yield group


def _scores(model, tensors):
    """Scores of many bags, in chunks of padded batches (keeps the autograd graph)."""
    import torch

    out = []
    for group in _chunks(tensors):
        x, mask = _padded(group)
        out.append(model(x, mask)[0])
    return torch.cat(out)


def _as_bag(bag):
    """A bag as a float32 array: an array, a SlideFeatures or a feature-file path."""
    if isinstance(bag, (str, Path)):
        from .features_h5 import load_features

        return load_features(bag).features
    if hasattr(bag, "features") and not isinstance(bag, np.ndarray):
        return np.asarray(bag.features, np.float32)
    arr = np.asarray(bag, dtype=np.float32)
    return arr


class AttentionMIL(ModelFileMixin):
    """Gated attention MIL (ABMIL) slide model: a slide score and per-tile attention.

    Parameters
    ----------
    outcome : {"binary", "survival"}, default "binary"
    hidden_dim : int, default 128
    attention_dim : int, default 64
    dropout : float, default 0.25
    lr : float, default 1e-3
    weight_decay : float, default 1e-4
    max_epochs : int, default 100
    patience : int, default 10
        Stop when the inner-validation loss has not improved for this many
        epochs; the weights of the best epoch are kept.
    validation_fraction : float, default 0.2
        Share of the training slides held out (stratified by outcome or event)
        for early stopping.
    max_tiles : int or None, default 4096
        Tiles sampled per slide and epoch during training (all at prediction).
    batch_size : int, default 16
        Slides per optimisation step (shuffled each epoch); for survival the
        partial likelihood of each step is over its slides' risk sets.
    random_state : int, default 0
        Seeds the split, the initialisation, dropout and tile sampling.

    Attributes
    ----------
    model_ : torch.nn.Module
    feature_dim_ : int
    history_ : pandas.DataFrame
        ``epoch``, ``train_loss``, ``val_loss``.
    best_epoch_ : int
    n_train_, n_val_ : int

    Examples
    --------
    >>> mil = AttentionMIL(max_epochs=50).fit(bags, y)       # doctest: +SKIP
    >>> mil.decision_function(test_bags)                     # slide scores
    >>> mil.attention(test_bags[0])                          # per-tile weights, sum 1
    """

    _model_format = "nomofuse.pathology.AttentionMIL"
    _model_version = 1
    _model_wants_path = True  # the weights file lies beside the JSON

    def __init__(self, *, outcome="binary", hidden_dim=128, attention_dim=64, dropout=0.25, lr=1e-3,
                 weight_decay=1e-4, max_epochs=100, patience=10, validation_fraction=0.2,
                 max_tiles=4096, batch_size=16, random_state=0):
        self.outcome = outcome
        self.hidden_dim = hidden_dim
        self.attention_dim = attention_dim
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.max_tiles = max_tiles
        self.batch_size = batch_size
        self.random_state = random_state

    def get_params(self, deep=True) -> dict:
        return {k: getattr(self, k) for k in ("outcome", "hidden_dim", "attention_dim", "dropout", "lr",
                                              "weight_decay", "max_epochs", "patience",
                                              "validation_fraction", "max_tiles", "batch_size",
                                              "random_state")}

    # ------------------------------------------------------------ training
    def _loss(self, scores, y):
        import torch

        if self.outcome == "binary":
            return torch.nn.functional.binary_cross_entropy_with_logits(scores, y[:, 0])
        time, event = y[:, 0], y[:, 1]
        order = torch.argsort(time, descending=True)
        s, e, t = scores[order], event[order], time[order]
        log_risk = torch.logcumsumexp(s, dim=0)
        # Breslow ties: the risk set of a time includes every subject with that time.
        uniq, inverse = torch.unique_consecutive(t, return_inverse=True)
        last = torch.zeros(len(uniq), dtype=torch.long).scatter_reduce(
            0, inverse, torch.arange(len(t)), reduce="amax", include_self=False)
        log_risk = log_risk[last[inverse]]
        n_events = torch.clamp(e.sum(), min=1.0)
        return -((s - log_risk) * e).sum() / n_events

    def fit(self, bags, y) -> "AttentionMIL":
        """Train on the training split: ``bags`` (list of (n_k, dim) arrays, SlideFeatures or
        feature-file paths) and ``y`` (0/1, or a [time, event] DataFrame for survival)."""
        import torch
        from sklearn.model_selection import train_test_split

        check_option(self.outcome, ("binary", "survival"), name="outcome", caller="AttentionMIL")
        bags = list(bags)
        n = len(bags)
        if self.outcome == "binary":
            yy = check_binary_y(y, n=n, caller="AttentionMIL.fit")[:, None]
            strat = yy[:, 0]
        else:
            t, e = check_survival_y(y, n=n, caller="AttentionMIL.fit")
            yy = np.column_stack([t, e])
            strat = e
        if not 0 < float(self.validation_fraction) < 0.5:
            raise ValueError(f"The 'validation_fraction' parameter of AttentionMIL must be in (0, 0.5). "
                             f"Got {self.validation_fraction!r} instead.")
        n_val = max(2, int(round(n * self.validation_fraction)))
        if not (isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 2):
            raise ValueError(f"The 'batch_size' parameter of AttentionMIL must be an int >= 2. "
                             f"Got {self.batch_size!r} instead.")
        counts = np.bincount(strat.astype(int), minlength=2)
        few = counts.min() < 2 if self.outcome == "binary" else counts[1] < 2
        if n - n_val < 4 or few:
            raise ValueError(f"AttentionMIL.fit needs at least 6 slides with 2 of each outcome class "
                             f"(or 2 events); got {n} slides, class counts {counts.tolist()}.")
        arrays = [_as_bag(b) for b in bags]
        dims = {a.shape[1] if a.ndim == 2 else -1 for a in arrays}
        if len(dims) != 1 or -1 in dims or any(len(a) == 0 for a in arrays):
            raise ValueError(f"AttentionMIL.fit: every bag must be a non-empty (n_tiles, dim) array of "
                             f"one dim; got dims {sorted(dims)}.")
        dim = dims.pop()
        tr, va = train_test_split(np.arange(n), test_size=n_val, random_state=self.random_state,
                                  stratify=strat.astype(int) if counts.min() >= 2 else None)
        rng = np.random.default_rng(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            model = _gated_attention_module(dim, int(self.hidden_dim), int(self.attention_dim),
                                            float(self.dropout))
        opt = torch.optim.Adam(model.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        tensors = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in arrays]
        target = torch.from_numpy(yy.astype(np.float32))
        best, best_state, history, stale = math.inf, None, [], 0
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small matrices: one thread is fastest and never oversubscribes
        try:
            for epoch in range(1, int(self.max_epochs) + 1):
                model.train()
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(self.random_state) * 100003 + epoch)
                    order = rng.permutation(tr)
                    losses = []
                    for b0 in range(0, len(order), int(self.batch_size)):
                        step = order[b0:b0 + int(self.batch_size)]
                        if self.outcome == "survival" and yy[step, 1].sum() == 0:
                            continue  # no event: no partial likelihood
                        batch = []
                        for i in step:
                            x = tensors[i]
                            if self.max_tiles is not None and len(x) > int(self.max_tiles):
                                x = x[torch.from_numpy(rng.choice(len(x), int(self.max_tiles),
                                                                  replace=False))]
                            batch.append(x)
                        loss = self._loss(_scores(model, batch), target[step])
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                        losses.append(float(loss.detach()) * len(step))
                    loss = sum(losses) / max(len(order), 1)
                val = self._eval_loss(model, [tensors[i] for i in va], target[va])
                history.append((epoch, loss, val))
                if val < best - 1e-6:
                    best, stale = val, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    self.best_epoch_ = epoch
                else:
                    stale += 1
                    if stale >= int(self.patience):
                        break
        finally:
            torch.set_num_threads(threads)
        model.load_state_dict(best_state)
        model.eval()
        self.model_ = model
        self.feature_dim_ = int(dim)
        self.history_ = pd.DataFrame(history, columns=["epoch", "train_loss", "val_loss"])
        self.n_train_, self.n_val_ = len(tr), len(va)
        return self

    def _eval_loss(self, model, tensors, target) -> float:
        import torch

        model.eval()
        with torch.no_grad():
            return float(self._loss(_scores(model, tensors), target))

    # ------------------------------------------------------------ outputs
    def _run(self, bag):
        import torch

        check_is_fitted(self, "model_")
        x = _as_bag(bag)
        if x.ndim != 2 or x.shape[1] != self.feature_dim_ or len(x) == 0:
            raise ValueError(f"AttentionMIL: a bag must be (n_tiles >= 1, {self.feature_dim_}); got {x.shape}.")
        with torch.no_grad():
            s, a = self.model_(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])
        return float(s[0]), a[0].numpy().astype(np.float64)

    def decision_function(self, bags) -> np.ndarray:
        """Slide scores (log-odds, or log relative hazard), one per bag."""
        return np.array([self._run(b)[0] for b in bags])

    def predict_proba(self, bags) -> np.ndarray:
        """(n, 2) probabilities (binary outcome only)."""
        if self.outcome != "binary":
            raise ValueError("predict_proba is only defined for outcome='binary'.")
        p = 1.0 / (1.0 + np.exp(-self.decision_function(bags)))
        return np.column_stack([1 - p, p])

    def attention(self, bag) -> np.ndarray:
        """Attention weight of every tile of one bag (non-negative, sum 1)."""
        return self._run(bag)[1]

    def transform(self, bags) -> pd.DataFrame:
        """Slide scores as a one-column DataFrame ``mil_score``."""
        return pd.DataFrame({"mil_score": self.decision_function(bags)})

    # ------------------------------------------------------------ files
    def to_dict(self, weights=None) -> dict:
        """The model-file content; ``weights`` is the ``"weights"`` entry :meth:`to_json` made."""
        check_is_fitted(self, "model_")
        if weights is None:
            raise ValueError("AttentionMIL.to_dict: the model file names its weights file; save it with "
                             "to_json(path), which writes <stem>.pt beside the JSON.")
        return {**self._model_header(), "params": self.get_params(),
                "feature_dim": int(self.feature_dim_), "best_epoch": int(self.best_epoch_),
                "n_train": int(self.n_train_), "n_val": int(self.n_val_),
                "history": self.history_.to_dict(orient="list"),
                "weights": dict(weights)}

    def to_json(self, path):
        """Write ``path`` (versioned, checksummed JSON) and ``<stem>.pt`` beside it (tensor-only state dict).

        Load it with :func:`nomogram.load_model` (or :meth:`from_json`); the
        state dict is read with ``weights_only=True``. Returns the path.
        """
        check_is_fitted(self, "model_")
        if path is None or _is_json_text(path):
            raise ValueError("AttentionMIL.to_json: give a path; the weights are written beside it (<stem>.pt).")
        path = Path(path)
        return write_model(self.to_dict(save_state_dict(self.model_, path)), path)

    @classmethod
    def _from_model_dict(cls, data: dict, source: str, path=None) -> "AttentionMIL":
        r = ModelReader(data, source)
        params = r.get("params", dict)
        try:
            obj = cls(**params)
        except TypeError as err:
            r.fail(f"does not fit AttentionMIL: {err}.", "params")
        dim = r.get("feature_dim", int)
        if dim < 1:
            r.fail(f"must be >= 1; got {dim}.", "feature_dim")
        model = _gated_attention_module(dim, int(obj.hidden_dim), int(obj.attention_dim), float(obj.dropout))
        load_state_dict(r, path, model)
        obj.model_, obj.feature_dim_ = model, dim
        obj.best_epoch_, obj.n_train_, obj.n_val_ = (r.get("best_epoch", int), r.get("n_train", int),
                                                     r.get("n_val", int))
        obj.history_ = r.frame("history")
        return obj


def _is_json_text(source) -> bool:
    return isinstance(source, str) and source.lstrip()[:1] in ("{", "[")


