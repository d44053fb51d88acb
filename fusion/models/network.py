"""Early fusion: one network that pools each modality, fuses along channels, and scores.

The design of the bone-metastasis studies (seed 004): the deep features of
the primary lesion's image and of its pathology slide are each reduced by
**global max pooling**, projected, and **concatenated along the channel
axis**; a shared head gives the fused score, and one head per modality gives
the **imaging label** and the **pathology label**.

::

    imaging  [n_vox, C] ─ z-score ─ (instance layer) ─ max over voxels ─ proj ─ h_img ─┬─ head_img  → imaging label
    (a vector is a bag of one; a map [C, D, H, W] or [C, H, W] is a bag of voxels)     │
                                                                                        ├─ concat [h_img·m_img, h_path·m_path, m_img, m_path] ─ head → fused score
    pathology [n_tiles, dim] ─ z-score ─ (instance layer) ─ max over tiles ─ proj ─ h_path ┴─ head_path → pathology label

Missing modality (the stated rule, by masking): a patient without imaging (or
without slides) has ``m_img = 0`` (``m_path = 0``): that branch's projection is
multiplied by 0, the presence indicators enter the shared head as two extra
channels, the modality's own head gives no label (NaN) and its loss term
skips the patient. A patient with neither modality is an error (named).
Nobody is dropped silently.

Training (:class:`EarlyFusion`): the per-channel z-scoring is fitted on the
training patients only (on the max-pooled features, or on every instance when
an instance layer is used); Adam on the fused loss plus the two
modality-head losses (binary cross-entropy, or the Cox partial likelihood for
survival); early stopping on an inner split of the training patients
(stratified, ``validation_fraction``), keeping the weights of the best inner
loss. Seeded and deterministic on CPU (same seed, same data, same thread
count: same weights). ``fit_transform`` gives cross-fitted labels (each
patient scored by a network trained on the other folds), ``transform`` the
full-training network's labels. Saved as a torch state dict (tensors only,
loaded with ``weights_only=True``) beside a JSON config; never pickled.

References
----------
Chen RJ et al. Pathomic Fusion. IEEE TMI 2022 (multimodal fusion of histology
and genomics); Ilse M et al. Attention-based deep multiple instance learning.
ICML 2018 (max pooling as the MIL baseline). Katzman JL et al. DeepSurv. BMC
Med Res Methodol 2018 (Cox partial-likelihood loss).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from nomogram.checks import check_is_fitted, check_option
from nomogram.model_io import ModelFileMixin, ModelReader, load_state_dict, save_state_dict, write_model
from ._patients import patient_folds, patient_outcome

__all__ = ["EarlyFusion", "build_network", "LABEL_COLUMNS"]


#: Columns of :meth:`EarlyFusion.transform`.
LABEL_COLUMNS = ("imaging_label", "pathology_label", "fused_score")


# ------------------------------------------------------------------ inputs
def _as_bags(data, name: str, n: int | None, caller: str):
    """A modality's input as a list of float32 [n_instances, channels] arrays (None = missing).

    Accepted: None (modality absent for everyone); an array (n, C) of vectors
    (an all-NaN row = missing); an array (n, C, *spatial) of feature maps
    (channels first, flattened to voxels); a list of per-patient arrays
    ([C] vector, [C, *spatial] map for imaging; [n_tiles, dim] for pathology)
    or None. ``name`` selects the layout of list items: imaging items are
    channels-first, pathology items are [n_tiles, dim].
    """
    if data is None:
        return None
    bags = []
    if isinstance(data, np.ndarray) or hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        arr = np.asarray(data, dtype=np.float32)
        if arr.ndim < 2:
            raise ValueError(f"{caller}: '{name}' must have one row per patient; got shape {arr.shape}.")
        if name == "pathology" and arr.ndim == 3:
            items = list(arr)  # (n, n_tiles, dim)
        elif name == "pathology":
            raise ValueError(
                f"{caller}: 'pathology' as an array must be (n_patients, n_tiles, dim); got shape {arr.shape}. "
                "Pass a list of [n_tiles, dim] arrays when patients have different tile counts."
            )
        else:
            items = list(arr)
    else:
        items = list(data)
    if n is not None and len(items) != n:
        raise ValueError(f"{caller}: '{name}' has {len(items)} patients but y has {n}.")
    for i, item in enumerate(items):
        if item is None:
            bags.append(None)
            continue
        a = np.asarray(item, dtype=np.float32)
        if name == "imaging":
            bag = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], -1).T  # voxels x channels
        else:
            if a.ndim != 2:
                raise ValueError(f"{caller}: pathology of patient {i} must be [n_tiles, dim]; got shape {a.shape}.")
            bag = a
        if bag.shape[0] == 0 or np.isnan(bag).all():
            bags.append(None)
            continue
        if not np.isfinite(bag).all():
            raise ValueError(
                f"{caller}: {name} features of patient {i} have {int((~np.isfinite(bag)).sum())} missing or "
                "infinite value(s); a patient's features are either complete or absent (None / an all-NaN row)."
            )
        bags.append(np.ascontiguousarray(bag))
    dims = {b.shape[1] for b in bags if b is not None}
    if len(dims) > 1:
        raise ValueError(f"{caller}: {name} features have different channel counts across patients: {sorted(dims)}.")
    return bags


def _bag_dim(bags):
    if bags is None:
        return None
    for b in bags:
        if b is not None:
            return int(b.shape[1])
    return None


# ------------------------------------------------------------------ network
def build_network(config: dict):
    """The torch module for a config (see :class:`EarlyFusion`); imports torch lazily."""
    import torch
    from torch import nn

    class _Branch(nn.Module):
        """z-score, optional per-instance layer, global max pooling over instances, projection."""

        def __init__(self, in_dim, instance_dim, hidden, dropout):
            super().__init__()
            self.register_buffer("mean", torch.zeros(in_dim))
            self.register_buffer("scale", torch.ones(in_dim))
            self.instance = nn.Linear(in_dim, instance_dim) if instance_dim else None
            self.project = nn.Linear(instance_dim or in_dim, hidden)
            self.dropout = nn.Dropout(dropout)

        def forward(self, bags, valid):
            # bags [B, T, C]; valid [B, T] bool
            z = (bags - self.mean) / self.scale
            if self.instance is not None:
                z = torch.relu(self.instance(z))
            z = z.masked_fill(~valid[..., None], float("-inf"))
            pooled = z.amax(dim=1)  # global max pooling over instances
            pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
            return torch.relu(self.project(self.dropout(pooled)))

    class EarlyFusionNet(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            h = int(cfg["hidden"])
            self.imaging = (_Branch(cfg["imaging_dim"], cfg["instance_dim"], h, cfg["dropout"])
                            if cfg["imaging_dim"] else None)
            self.pathology = (_Branch(cfg["pathology_dim"], cfg["instance_dim"], h, cfg["dropout"])
                              if cfg["pathology_dim"] else None)
            n_branches = (self.imaging is not None) + (self.pathology is not None)
            self.head = nn.Linear(n_branches * (h + 1), 1)
            self.head_imaging = nn.Linear(h, 1) if self.imaging is not None else None
            self.head_pathology = nn.Linear(h, 1) if self.pathology is not None else None

        def forward(self, img=None, img_valid=None, path=None, path_valid=None):
            channels, out = [], {}
            for key, branch, head, bags, valid in (
                ("imaging_label", self.imaging, self.head_imaging, img, img_valid),
                ("pathology_label", self.pathology, self.head_pathology, path, path_valid),
            ):
                if branch is None:
                    continue
                present = valid.any(dim=1).to(bags.dtype)[:, None]
                h = branch(bags, valid) * present  # masking: an absent modality contributes zeros
                channels += [h, present]
                out[key] = head(h)[:, 0]
            out["fused_score"] = self.head(torch.cat(channels, dim=1))[:, 0]  # channel-axis concatenation
            return out

    return EarlyFusionNet(config)


def _pad(bags, idx, dim):
    """Padded tensor [len(idx), T, dim] and validity mask [len(idx), T] of the selected bags."""
    import torch

    sel = [bags[i] for i in idx]
    T = max([b.shape[0] for b in sel if b is not None] or [1])
    x = np.zeros((len(sel), T, dim), dtype=np.float32)
    valid = np.zeros((len(sel), T), dtype=bool)
    for k, b in enumerate(sel):
        if b is not None:
            x[k, : b.shape[0]] = b
            valid[k, : b.shape[0]] = True
    return torch.from_numpy(x), torch.from_numpy(valid)


def _bce(score, target, mask):
    import torch

    if mask is not None:
        if not bool(mask.any()):
            return score.sum() * 0.0
        score, target = score[mask], target[mask]
    return torch.nn.functional.binary_cross_entropy_with_logits(score, target)


def _cox_nll(score, time, event, mask):
    """Negative Breslow partial log-likelihood per event (ties: Breslow's approximation)."""
    import torch

    if mask is not None:
        score, time, event = score[mask], time[mask], event[mask]
    if score.numel() == 0 or float(event.sum()) == 0.0:
        return score.sum() * 0.0
    order = torch.argsort(time, descending=True, stable=True)
    s, e = score[order], event[order]
    log_risk = torch.logcumsumexp(s, dim=0)
    return -((s - log_risk) * e).sum() / e.sum()


# ------------------------------------------------------------------ estimator
class EarlyFusion(ModelFileMixin, BaseEstimator):
    """Early-fusion network: max-pooled imaging and pathology branches, channel concat, three heads.

    Parameters
    ----------
    outcome : {"binary", "survival"}, default "binary"
    hidden : int, default 16
        Width of each branch's projection (the channels concatenated).
    instance_dim : int or None, default None
        If set, a linear layer + ReLU maps every instance (tile, voxel) to
        this many channels before the max pooling (a learned embedding);
        None pools the z-scored input features directly.
    dropout : float, default 0.1
        Dropout on the pooled features during training.
    head_weight : float, default 1.0
        Weight of each modality head's loss relative to the fused head's.
    lr : float, default 1e-2
    weight_decay : float, default 1e-4
    max_epochs : int, default 300
    patience : int, default 20
        Early stopping: epochs without a better inner-validation loss.
    batch_size : int or None, default 64
        None trains on all training patients at once.
    validation_fraction : float, default 0.2
        Share of the training patients held out (stratified) for early stopping.
    cv : int, default 5
        Folds of the cross-fitting in :meth:`fit_transform`.
    random_state : int, default 0
    n_jobs : int, default 1
        Torch threads while training and predicting (restored afterwards).
        A network this small trains fastest on one thread, and a fixed
        thread count keeps the results bit-identical.

    Attributes
    ----------
    config_ : dict
        Input dimensions and architecture (what :func:`build_network` needs).
    network_ : torch.nn.Module
        The network trained on all training patients (after early stopping).
    n_epochs_ : int
        Epoch of the best inner-validation loss.
    history_ : pandas.DataFrame
        ``epoch``, ``train_loss``, ``validation_loss``.
    cross_fitted_ : pandas.DataFrame
        After :meth:`fit_transform`: out-of-fold labels of the training patients.

    Examples
    --------
    >>> net = EarlyFusion(hidden=16)                                  # doctest: +SKIP
    >>> oof = net.fit_transform(ct_maps, tile_features, y)            # cross-fitted labels
    >>> test_labels = net.transform(ct_maps_test, tile_features_test)
    >>> net.to_json("fusion_net.json")        # + fusion_net.pt (state dict)
    """

    def __init__(self, *, outcome="binary", hidden=16, instance_dim=None, dropout=0.1, head_weight=1.0,
                 lr=1e-2, weight_decay=1e-4, max_epochs=300, patience=20, batch_size=64,
                 validation_fraction=0.2, cv=5, random_state=0, n_jobs=1):
        self.outcome = outcome
        self.hidden = hidden
        self.instance_dim = instance_dim
        self.dropout = dropout
        self.head_weight = head_weight
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ checks
    def _check_params(self, caller):
        check_option(self.outcome, ("binary", "survival"), name="outcome", caller=caller)
        for name in ("hidden", "max_epochs", "patience", "n_jobs"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"The '{name}' parameter of {caller} must be an integer >= 1. Got {v!r} instead.")
        if not 0 < float(self.validation_fraction) < 0.5:
            raise ValueError(
                f"The 'validation_fraction' parameter of {caller} must be in (0, 0.5). "
                f"Got {self.validation_fraction!r} instead.")
        if not 0 <= float(self.dropout) < 1:
            raise ValueError(f"The 'dropout' parameter of {caller} must be in [0, 1). Got {self.dropout!r} instead.")
        if not isinstance(self.random_state, (int, np.integer)):
            raise TypeError(
                f"The 'random_state' parameter of {caller} must be an int (the network is seeded). "
                f"Got {self.random_state!r} instead.")

    def _inputs(self, imaging, pathology, n, caller, *, fitting):
        img = _as_bags(imaging, "imaging", n, caller)
        path = _as_bags(pathology, "pathology", n, caller)
        if img is None and path is None:
            raise ValueError(f"{caller}: give imaging, pathology or both; got neither.")
        n = len(img if img is not None else path)
        if img is not None and path is not None and len(img) != len(path):
            raise ValueError(f"{caller}: imaging has {len(img)} patients but pathology has {len(path)}.")
        if fitting:
            dims = {"imaging_dim": _bag_dim(img), "pathology_dim": _bag_dim(path)}
        else:
            dims = {k: self.config_[k] for k in ("imaging_dim", "pathology_dim")}
            for key, bags in (("imaging_dim", img), ("pathology_dim", path)):
                got = _bag_dim(bags)
                if got is not None and got != dims[key]:
                    raise ValueError(f"{caller}: {key[:-4]} features have {got} channels; the network was "
                                     f"trained on {dims[key]}.")
                if got is not None and dims[key] is None:
                    raise ValueError(f"{caller}: the network was trained without {key[:-4]}; do not pass it.")
        none = [i for i in range(n) if (img is None or img[i] is None) and (path is None or path[i] is None)]
        if none:
            raise ValueError(
                f"{caller}: patient(s) at position(s) {none[:10]} have neither imaging nor pathology features; "
                "the network cannot score them. Remove them or supply a modality."
            )
        if dims["imaging_dim"] is None:
            img = None
        if dims["pathology_dim"] is None:
            path = None
        if self.instance_dim is None:
            # max pooling commutes with the per-channel z-scoring (a positive affine map):
            # pool each bag once here; the network's own max over a bag of one is the same value
            img = None if img is None else [None if b is None else b.max(axis=0, keepdims=True) for b in img]
            path = None if path is None else [None if b is None else b.max(axis=0, keepdims=True) for b in path]
        return img, path, dims, n

    # ------------------------------------------------------------ fit
    def fit(self, imaging=None, pathology=None, y=None) -> "EarlyFusion":
        """Train on all training patients (with early stopping on an inner split).

        Parameters
        ----------
        imaging : array (n, C), array (n, C, *spatial), list of arrays/None, or None
            Deep imaging features per patient: a vector, or a channels-first 2.5D/3D map.
        pathology : array (n, n_tiles, dim), list of [n_tiles, dim] arrays/None, or None
            Tile features per patient (the HDF5 ``features`` of the patient's slide(s)).
        y : array-like (n,) or DataFrame [time, event]

        Returns
        -------
        self
        """
        caller = f"{type(self).__name__}.fit"
        self._check_params(caller)
        if y is None:
            raise ValueError(f"{caller}: y is required.")
        n = len(y)
        yy = patient_outcome(y, None, n, outcome=self.outcome, caller=caller)
        img, path, dims, _ = self._inputs(imaging, pathology, n, caller, fitting=True)
        self.config_ = {**dims, "hidden": int(self.hidden), "instance_dim": self.instance_dim,
                        "dropout": float(self.dropout), "outcome": self.outcome}
        with _torch_threads(self.n_jobs):
            self.network_, self.n_epochs_, self.history_ = self._train(img, path, yy, np.arange(n),
                                                                       int(self.random_state))
        self.n_patients_ = n
        return self

    def fit_transform(self, imaging=None, pathology=None, y=None, *, patients=None) -> pd.DataFrame:
        """Train on all patients and return **cross-fitted** labels of the training patients.

        Each patient's labels come from a network trained (z-scoring and
        early stopping included) on the other ``cv`` - 1 folds of patients.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`LABEL_COLUMNS` (NaN for a modality the patient lacks),
            index ``patients`` (or 0..n-1).
        """
        caller = f"{type(self).__name__}.fit_transform"
        self.fit(imaging, pathology, y)
        n = len(y)
        yy = patient_outcome(y, None, n, outcome=self.outcome, caller=caller)
        img, path, _, _ = self._inputs(imaging, pathology, n, caller, fitting=False)
        strata = yy if self.outcome == "binary" else yy[1]
        folds = patient_folds(strata, self.cv, self.random_state, caller=type(self).__name__)
        out = np.full((n, 3), np.nan)
        with _torch_threads(self.n_jobs):
            for k in range(int(self.cv)):
                train, test = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
                net, _, _ = self._train(img, path, yy, train, int(self.random_state) + 1000 * (k + 1))
                out[test] = self._predict(net, img, path, test)
        self.cross_fitted_ = pd.DataFrame(out, columns=list(LABEL_COLUMNS), index=_index(patients, n, caller))
        self.folds_ = pd.Series(folds, index=self.cross_fitted_.index, name="fold")
        return self.cross_fitted_.copy()

    def transform(self, imaging=None, pathology=None, *, patients=None) -> pd.DataFrame:
        """Labels from the network trained on all training patients (for test and external patients)."""
        caller = f"{type(self).__name__}.transform"
        check_is_fitted(self, "network_")
        img, path, _, n = self._inputs(imaging, pathology, None, caller, fitting=False)
        with _torch_threads(self.n_jobs):
            out = self._predict(self.network_, img, path, np.arange(n))
        return pd.DataFrame(out, columns=list(LABEL_COLUMNS), index=_index(patients, n, caller))

    def predict_proba(self, imaging=None, pathology=None) -> np.ndarray:
        """(n, 2) probabilities from the fused score (binary outcome only)."""
        if self.outcome != "binary":
            raise ValueError("EarlyFusion.predict_proba is defined for outcome='binary' only.")
        s = self.transform(imaging, pathology)["fused_score"].to_numpy()
        p = 1.0 / (1.0 + np.exp(-s))
        return np.column_stack([1 - p, p])

    # ------------------------------------------------------------ training
    def _targets(self, yy, idx):
        import torch

        if self.outcome == "binary":
            return (torch.from_numpy(np.asarray(yy, dtype=np.float32)[idx]),)
        return (torch.from_numpy(np.asarray(yy[0], dtype=np.float32)[idx]),
                torch.from_numpy(np.asarray(yy[1], dtype=np.float32)[idx]))

    def _loss(self, out, targets, masks):
        def one(score, mask):
            if self.outcome == "binary":
                return _bce(score, targets[0], mask)
            return _cox_nll(score, targets[0], targets[1], mask)

        loss = one(out["fused_score"], None)
        for key, mask in masks.items():
            loss = loss + float(self.head_weight) * one(out[key], mask)
        return loss

    def _batch(self, img, path, idx):
        import torch

        kw, masks = {}, {}
        if img is not None:
            kw["img"], kw["img_valid"] = _pad(img, idx, self.config_["imaging_dim"])
            masks["imaging_label"] = kw["img_valid"].any(dim=1)
        if path is not None:
            kw["path"], kw["path_valid"] = _pad(path, idx, self.config_["pathology_dim"])
            masks["pathology_label"] = kw["path_valid"].any(dim=1)
        return kw, {k: torch.as_tensor(v) for k, v in masks.items()}

    def _train(self, img, path, yy, train_idx, seed):
        """Train one network on ``train_idx`` with early stopping on an inner split of it."""
        import torch
        from sklearn.model_selection import train_test_split

        strata = (yy if self.outcome == "binary" else yy[1])[train_idx].astype(int)
        inner_tr, inner_val = train_test_split(train_idx, test_size=float(self.validation_fraction),
                                               random_state=seed, stratify=strata)
        inner_tr, inner_val = np.sort(inner_tr), np.sort(inner_val)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = build_network(self.config_)
            for key, bags in (("imaging", img), ("pathology", path)):
                if bags is not None:
                    mean, scale = _channel_scaling([bags[i] for i in inner_tr])
                    branch = getattr(net, key)
                    branch.mean.copy_(torch.from_numpy(mean))
                    branch.scale.copy_(torch.from_numpy(scale))
            gen = torch.Generator().manual_seed(seed)
            opt = torch.optim.Adam(net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
            val_kw, val_masks = self._batch(img, path, inner_val)
            val_t = self._targets(yy, inner_val)
            bs = len(inner_tr) if self.batch_size is None else int(self.batch_size)
            full = None
            if bs >= len(inner_tr):
                full = (self._batch(img, path, inner_tr), self._targets(yy, inner_tr))
            best, best_state, best_epoch, wait, rows = np.inf, None, 0, 0, []
            for epoch in range(1, int(self.max_epochs) + 1):
                net.train()
                perm = inner_tr[torch.randperm(len(inner_tr), generator=gen).numpy()]
                total = 0.0
                for start in range(0, len(perm), bs):
                    idx = perm[start : start + bs]
                    if full is not None:
                        (kw, masks), t = full
                    else:
                        kw, masks = self._batch(img, path, idx)
                        t = self._targets(yy, idx)
                    opt.zero_grad()
                    loss = self._loss(net(**kw), t, masks)
                    loss.backward()
                    opt.step()
                    total += loss.item() * len(idx)
                net.eval()
                with torch.no_grad():
                    vloss = float(self._loss(net(**val_kw), val_t, val_masks))
                rows.append((epoch, total / len(inner_tr), vloss))
                if vloss < best - 1e-6:
                    best, best_state, best_epoch, wait = vloss, copy.deepcopy(net.state_dict()), epoch, 0
                else:
                    wait += 1
                    if wait >= int(self.patience):
                        break
            net.load_state_dict(best_state)
            net.eval()
        history = pd.DataFrame(rows, columns=["epoch", "train_loss", "validation_loss"])
        return net, best_epoch, history

    def _predict(self, net, img, path, idx) -> np.ndarray:
        import torch

        out = np.full((len(idx), 3), np.nan)
        step = 256
        for start in range(0, len(idx), step):
            sel = idx[start : start + step]
            kw, masks = self._batch(img, path, sel)
            with torch.no_grad():
                res = net(**kw)
            for j, key in enumerate(LABEL_COLUMNS):
                if key in res:
                    v = res[key].double().numpy()
                    if key in masks:
                        v = np.where(masks[key].numpy(), v, np.nan)
                    out[start : start + len(sel), j] = v
        return out

    # ------------------------------------------------------------ files
    _model_format = "nomofuse.fusion.EarlyFusion"
    _model_version = 2
    _model_unsigned_versions = (1,)  # version 1: the same fields, written before checksums
    _model_wants_path = True  # the weights file lies beside the JSON

    def to_dict(self, weights=None) -> dict:
        """The model-file content; ``weights`` is the ``"weights"`` entry :meth:`to_json` made."""
        check_is_fitted(self, "network_")
        if weights is None:
            raise ValueError("EarlyFusion.to_dict: a network's model file names its weights file; save it with "
                             "to_json(path), which writes both.")
        return {
            **self._model_header(),
            "params": self.get_params(),
            "config": self.config_,
            "n_patients": int(self.n_patients_),
            "n_epochs": int(self.n_epochs_),
            "weights": dict(weights),
        }

    def to_json(self, path) -> Path:
        """Write the JSON config to ``path`` and the state dict beside it (``<stem>.pt``); returns ``path``.

        The JSON (a model file of :mod:`nomogram.model_io`, with its checksum)
        holds the parameters, the architecture config, the weights file's name
        and SHA-256; the ``.pt`` holds tensors only (``torch.save(state_dict)``),
        read back with ``weights_only=True``. Load with :func:`nomogram.load_model`
        or :meth:`from_json`.
        """
        check_is_fitted(self, "network_")
        if path is None:
            raise ValueError("EarlyFusion.to_json: give a path; the weights are written beside it (<stem>.pt).")
        path = Path(path)
        return write_model(self.to_dict(save_state_dict(self.network_, path)), path)

    @classmethod
    def _from_model_dict(cls, data: dict, source: str, path=None) -> "EarlyFusion":
        r = ModelReader(data, source)
        try:
            obj = cls(**r.get("params", dict))
        except TypeError as err:
            r.fail(f"does not fit {cls.__name__} ({err}).", "params")
        obj.config_ = dict(r.get("config", dict))
        net = build_network(obj.config_)
        load_state_dict(r, path, net)
        obj.network_ = net
        obj.n_patients_ = int(r.get("n_patients", int))
        obj.n_epochs_ = int(r.get("n_epochs", int))
        return obj


@contextmanager
def _torch_threads(n):
    """Run torch with ``n`` intra-op threads, restoring the previous setting."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _channel_scaling(bags):
    """Per-channel mean and sd (ddof=0, floored) over every instance of the training bags."""
    present = [b for b in bags if b is not None]
    if not present:
        raise ValueError("EarlyFusion: a modality has no patient with features in the training split.")
    total = sum(b.shape[0] for b in present)
    s1 = sum(b.sum(axis=0, dtype=np.float64) for b in present)
    mean = s1 / total
    s2 = sum(((b - mean) ** 2).sum(axis=0, dtype=np.float64) for b in present)
    sd = np.sqrt(s2 / total)
    sd = np.where(sd > 1e-8, sd, 1.0)
    return mean.astype(np.float32), sd.astype(np.float32)


def _index(patients, n, caller):
    if patients is None:
        return pd.RangeIndex(n, name="patient")
    idx = pd.Index(patients, name="patient")
    if len(idx) != n:
        raise ValueError(f"{caller}: 'patients' has {len(idx)} ids for {n} patients.")
    return idx


