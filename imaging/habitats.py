"""Intratumoral habitats: voxel clustering inside the lesion, fitted on training cases.

A tumour is not one tissue. Habitat imaging (Gatenby et al. 2013; Wu et al.
2018) clusters the lesion's voxels on local intensity and texture and
describes each patient by the share of every habitat, or by radiomics of each
habitat. As with every other step of a signature, the clustering must be
learnt on training cases and re-applied unchanged: :class:`HabitatModel`
stores the feature scaler and the cluster centres (JSON, no pickle) and
labels a new lesion by nearest centre.

Per-voxel features (computed with :mod:`scipy.ndimage` on the image grid, in a
cubic window of ``window`` voxels, using only voxels inside the lesion):

* ``intensity`` – the voxel value;
* ``local_mean`` – mean of the lesion voxels in the window;
* ``local_std`` – their standard deviation (population);
* ``local_entropy`` – Shannon entropy (bits) of their grey levels, discretised
  into ``n_bins`` equal-width bins between the 0.5th and 99.5th percentiles of
  the training lesions' intensities (fixed at fit).

Features are z-scored with the pooled training voxels' means and standard
deviations. The number of habitats ``k`` is either given or chosen on the
pooled training voxels (or supervoxels) as the ``k`` in ``k_range`` with the
largest mean silhouette width (default) or Calinski–Harabasz index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from threadpoolctl import threadpool_limits

from nomogram.checks import check_is_fitted, check_option
from nomogram.model_io import ModelFileMixin, ModelReader
from .exceptions import EmptyRegionError, GeometryMismatchError, _where
from .geometry import check_image_mask_geometry

__all__ = ["HabitatModel", "HABITAT_FEATURES"]

#: Per-voxel features a :class:`HabitatModel` can use.
HABITAT_FEATURES = ("intensity", "local_mean", "local_std", "local_entropy")


def _as_arrays(image, mask, label, case_id):
    """(image array float64, boolean lesion array, reference sitk image or None)."""
    ref = image if isinstance(image, sitk.Image) else None
    if ref is not None:
        if isinstance(mask, sitk.Image):
            check_image_mask_geometry(image, mask, case_id=case_id)
            m = sitk.GetArrayFromImage(mask)
        else:
            m = np.asarray(mask)
        img = sitk.GetArrayFromImage(image).astype(float)
    else:
        img = np.asarray(image, dtype=float)
        m = sitk.GetArrayFromImage(mask) if isinstance(mask, sitk.Image) else np.asarray(mask)
    if img.shape != m.shape:
        raise GeometryMismatchError(
            f"mask{_where(None, case_id)} has array shape {m.shape} but image has {img.shape}; "
            "give the mask on the image grid (imaging.resample_mask_to_image)."
        )
    if img.ndim not in (2, 3):
        raise ValueError(f"HabitatModel expects a 2-D or 3-D image{_where(None, case_id)}; got {img.ndim}-D.")
    from .io import as_label_image, check_label

    # the one mask checker: no probability map, no image given as the mask
    as_label_image(mask if isinstance(mask, sitk.Image) else sitk.GetImageFromArray(
        m.astype(np.uint8) if m.dtype == bool else m), case_id=case_id)
    if label is not None:
        label = check_label(label, case_id=case_id)
    lesion = (m > 0) if label is None else (m == label)
    if not lesion.any():
        raise EmptyRegionError(
            f"the lesion{_where(None, case_id)} is empty (no voxel with "
            f"{'mask > 0' if label is None else f'label {label}'}); check the mask and the label."
        )
    if not np.isfinite(img[lesion]).all():
        raise ValueError(f"the image{_where(None, case_id)} has non-finite values inside the lesion.")
    return img, lesion, ref


class HabitatModel(ModelFileMixin):
    """Cluster lesion voxels into habitats on training cases; label new cases unchanged.

    Parameters
    ----------
    n_habitats : int or None, default None
        Number of habitats ``k``. None: chosen over ``k_range`` by ``criterion``.
    k_range : tuple (int, int), default (2, 6)
        Inclusive range of ``k`` tried when ``n_habitats`` is None.
    criterion : {'silhouette', 'calinski_harabasz'}, default 'silhouette'
        Largest value wins: mean silhouette width (on a random subsample of at
        most ``silhouette_sample`` points) or the Calinski–Harabasz index. The
        default is silhouette because on voxel features the Calinski–Harabasz
        index often keeps growing with ``k`` (a lesion's rim and its
        interfaces form extra, smaller clusters), so it picks the largest ``k``
        tried.
    features : sequence of str, default all of :data:`HABITAT_FEATURES`
    window : int or tuple of int, default 3
        Side of the local window in voxels (odd), per array axis if a tuple
        (z, y, x); use a tuple to approximate a cube in mm on anisotropic grids.
    n_bins : int, default 16
        Grey-level bins for ``local_entropy``.
    two_step : bool, default False
        If True, each case is first over-segmented into ``n_supervoxels``
        supervoxels (per-patient k-means on the z-scored voxel features plus
        ``spatial_weight`` × z-scored voxel coordinates, a SLIC-like
        criterion), and the population clustering runs on the supervoxel
        mean features; a voxel takes its supervoxel's habitat.
    n_supervoxels : int, default 30
    spatial_weight : float, default 0.5
    max_voxels_per_case : int, default 2000
        Training voxels sampled per case for clustering (all voxels are used
        for the scaler and at prediction).
    n_init : int, default 10
        k-means restarts.
    silhouette_sample : int, default 2000
    label : int or None, default None
        Mask value of the lesion; None: every non-zero voxel.
    random_state : int, default 0
        Seeds sampling and k-means, so fit and predict are deterministic.

    Attributes
    ----------
    n_habitats_ : int
    centers_ : ndarray (n_habitats, n_features)
        Cluster centres in z-scored feature space, ordered by increasing
        first feature (``intensity`` by default), so habitat 1 is the darkest.
    feature_mean_, feature_sd_ : ndarray (n_features,)
        Training scaler.
    bin_edges_ : ndarray (n_bins + 1,)
    k_scores_ : pandas.DataFrame
        ``k`` and the criterion's value for each ``k`` tried (empty if ``n_habitats`` was given).
    feature_names_in_ : ndarray of str
        The per-voxel features the centres are in (``features``).
    n_features_in_ : int

    References
    ----------
    Gatenby RA, Grove O, Gillies RJ. Quantitative imaging in cancer evolution
    and ecology. Radiology 2013;269:8-15.
    Wu J et al. Intratumoral spatial heterogeneity at perfusion MR imaging
    predicts recurrence-free survival in locally advanced breast cancer
    treated with neoadjuvant chemotherapy. Radiology 2018;288:26-35.
    Caliński T, Harabasz J. A dendrite method for cluster analysis. Commun
    Stat 1974;3:1-27. Rousseeuw PJ. Silhouettes. J Comput Appl Math 1987;20:53-65.
    Achanta R et al. SLIC superpixels compared to state-of-the-art superpixel
    methods. IEEE TPAMI 2012;34:2274-2282.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(100, 5, (20, 20)); img[:, 10:] += 200
    >>> mask = np.zeros((20, 20), int); mask[4:16, 4:16] = 1
    >>> model = HabitatModel(n_habitats=2).fit([(img, mask)])
    >>> labels = model.predict(img, mask)
    >>> sorted(np.unique(labels[mask == 1]).tolist())
    [1, 2]
    """

    _model_format = "nomofuse.imaging.HabitatModel"
    _model_version = 2
    _model_unsigned_versions = (1,)

    def __init__(self, n_habitats=None, *, k_range=(2, 6), criterion="silhouette",
                 features=HABITAT_FEATURES, window=3, n_bins=16, two_step=False, n_supervoxels=30,
                 spatial_weight=0.5, max_voxels_per_case=2000, n_init=10, silhouette_sample=2000,
                 label=None, random_state=0):
        self.n_habitats = n_habitats
        self.k_range = k_range
        self.criterion = criterion
        self.features = features
        self.window = window
        self.n_bins = n_bins
        self.two_step = two_step
        self.n_supervoxels = n_supervoxels
        self.spatial_weight = spatial_weight
        self.max_voxels_per_case = max_voxels_per_case
        self.n_init = n_init
        self.silhouette_sample = silhouette_sample
        self.label = label
        self.random_state = random_state

    def get_params(self, deep=True) -> dict:
        names = ["n_habitats", "k_range", "criterion", "features", "window", "n_bins", "two_step",
                 "n_supervoxels", "spatial_weight", "max_voxels_per_case", "n_init",
                 "silhouette_sample", "label", "random_state"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self):
        return f"HabitatModel(n_habitats={self.n_habitats!r}, two_step={self.two_step!r})"

    # --------------------------------------------------------------- features
    def _check_params(self):
        check_option(self.criterion, ("calinski_harabasz", "silhouette"), name="criterion",
                     caller="HabitatModel")
        for f in self.features:
            check_option(f, HABITAT_FEATURES, name="features", caller="HabitatModel")
        if len(self.features) == 0:
            raise ValueError("HabitatModel needs at least one feature.")
        if self.n_habitats is not None and int(self.n_habitats) < 2:
            raise ValueError(f"HabitatModel: n_habitats must be at least 2; got {self.n_habitats}.")
        lo, hi = self.k_range
        if self.n_habitats is None and not (2 <= lo <= hi):
            raise ValueError(f"HabitatModel: k_range must satisfy 2 <= low <= high; got {self.k_range}.")

    def _window(self, ndim):
        w = self.window
        size = (int(w),) * ndim if np.isscalar(w) else tuple(int(v) for v in w)
        if len(size) != ndim or any(s < 1 or s % 2 == 0 for s in size):
            raise ValueError(
                f"HabitatModel: window must be an odd positive int or one odd int per axis "
                f"({ndim} axes); got {self.window!r}."
            )
        return size

    def _voxel_features(self, img, lesion, bin_edges):
        """Raw features (n_voxels, n_features) and the lesion voxel coordinates."""
        size = self._window(img.ndim)
        half = np.array(size) // 2
        idx = np.argwhere(lesion)
        lo = np.maximum(idx.min(axis=0) - half, 0)
        hi = np.minimum(idx.max(axis=0) + half + 1, img.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        I = img[box]
        m = lesion[box].astype(float)
        inside = lesion[box]
        filt = lambda a: ndimage.uniform_filter(a, size=size, mode="constant", cval=0.0)  # noqa: E731
        cnt = filt(m)
        cols = {}
        need_mean = {"local_mean", "local_std"} & set(self.features)
        if need_mean:
            mean = filt(I * m) / cnt.clip(1e-12)
            cols["local_mean"] = mean[inside]
            if "local_std" in self.features:
                sq = filt(I * I * m) / cnt.clip(1e-12)
                cols["local_std"] = np.sqrt(np.clip(sq - mean**2, 0.0, None))[inside]
        if "intensity" in self.features:
            cols["intensity"] = I[inside]
        if "local_entropy" in self.features:
            bins = np.clip(np.digitize(I, bin_edges[1:-1]), 0, len(bin_edges) - 2)
            ent = np.zeros(int(inside.sum()))
            for b in range(len(bin_edges) - 1):
                pb = (filt(((bins == b) & inside).astype(float)) / cnt.clip(1e-12))[inside]
                nz = pb > 1e-12
                ent[nz] -= pb[nz] * np.log2(pb[nz])
            cols["local_entropy"] = ent
        F = np.column_stack([cols[f] for f in self.features])
        coords = np.argwhere(inside) + lo
        return F, coords

    def _supervoxels(self, Z, coords, rng_seed):
        """Per-case k-means over-segmentation; returns (supervoxel id per voxel, mean features)."""
        n = len(Z)
        k = int(min(self.n_supervoxels, n))
        c = coords.astype(float)
        sd = c.std(axis=0)
        sd[sd == 0] = 1.0
        c = (c - c.mean(axis=0)) / sd * float(self.spatial_weight)
        P = np.hstack([Z, c])
        rng = np.random.default_rng(rng_seed)
        sample = P if n <= self.max_voxels_per_case else P[rng.choice(n, self.max_voxels_per_case, replace=False)]
        km = KMeans(n_clusters=k, n_init=1, random_state=rng_seed).fit(sample)
        sv = _nearest(P, km.cluster_centers_)
        means = np.vstack([Z[sv == j].mean(axis=0) if (sv == j).any() else np.full(Z.shape[1], np.nan)
                           for j in range(k)])
        return sv, means

    # -------------------------------------------------------------------- fit
    def fit(self, cases: Sequence, case_ids: Sequence | None = None) -> "HabitatModel":
        """Learn the scaler, bins, ``k`` and the habitat centres from training cases.

        Parameters
        ----------
        cases : sequence of (image, mask)
            Training cases; images and masks as SimpleITK images or NumPy
            arrays (z, y, x), the mask on the image grid.
        case_ids : sequence of str, optional
            Named in error messages.

        Returns
        -------
        self
        """
        # k-means on a few thousand points is fastest single-threaded; OpenMP
        # threads on a shared or oversubscribed machine make it 10-30x slower.
        with threadpool_limits(1):
            return self._fit(cases, case_ids)

    def _fit(self, cases, case_ids):
        self._check_params()
        cases = list(cases)
        if not cases:
            raise ValueError("HabitatModel.fit needs at least one (image, mask) case.")
        ids = list(case_ids) if case_ids is not None else [f"#{i}" for i in range(len(cases))]
        if len(ids) != len(cases):
            raise ValueError(f"HabitatModel.fit: {len(ids)} case_ids for {len(cases)} cases.")
        arrays = []
        for case, cid in zip(cases, ids):
            if not (isinstance(case, (tuple, list)) and len(case) == 2):
                raise TypeError(
                    f"HabitatModel.fit expects a list of (image, mask) pairs; case {cid!r} is "
                    f"{type(case).__name__}."
                )
            img, lesion, _ = _as_arrays(case[0], case[1], self.label, cid)
            arrays.append((img, lesion))
        pooled = np.concatenate([img[les] for img, les in arrays])
        lo, hi = np.percentile(pooled, [0.5, 99.5])
        if hi <= lo:
            lo, hi = float(pooled.min()), float(pooled.max())
        if hi <= lo:
            hi = lo + 1.0
        self.bin_edges_ = np.linspace(lo, hi, int(self.n_bins) + 1)

        raw = [self._voxel_features(img, les, self.bin_edges_) for img, les in arrays]
        allF = np.vstack([F for F, _ in raw])
        self.feature_mean_ = allF.mean(axis=0)
        sd = allF.std(axis=0)
        if (sd == 0).any():
            bad = [f for f, s in zip(self.features, sd) if s == 0]
            raise ValueError(
                f"HabitatModel.fit: feature(s) {bad} are constant over all training lesions; "
                "drop them from features= or check the images."
            )
        self.feature_sd_ = sd
        self.n_voxels_train_ = int(len(allF))

        rng = np.random.default_rng(self.random_state)
        points = []
        for i, (F, coords) in enumerate(raw):
            Z = (F - self.feature_mean_) / self.feature_sd_
            if self.two_step:
                _, means = self._supervoxels(Z, coords, self._case_seed())
                points.append(means[np.isfinite(means).all(axis=1)])
            else:
                n = len(Z)
                take = Z if n <= self.max_voxels_per_case else Z[rng.choice(n, self.max_voxels_per_case, replace=False)]
                points.append(take)
        P = np.vstack(points)

        rows = []
        if self.n_habitats is None:
            lo_k, hi_k = (int(v) for v in self.k_range)
            best = None
            for k in range(lo_k, hi_k + 1):
                if k >= len(P):
                    break
                km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state).fit(P)
                if len(np.unique(km.labels_)) < 2:
                    continue
                if self.criterion == "calinski_harabasz":
                    score = calinski_harabasz_score(P, km.labels_)
                else:
                    score = silhouette_score(P, km.labels_, sample_size=min(len(P), self.silhouette_sample),
                                             random_state=self.random_state)
                rows.append({"k": k, self.criterion: float(score)})
                if best is None or score > best[0]:
                    best = (score, k, km)
            if best is None:
                raise ValueError(
                    f"HabitatModel.fit: too few training points ({len(P)}) to try k in {self.k_range}."
                )
            k, km = best[1], best[2]
        else:
            k = int(self.n_habitats)
            if len(P) <= k:
                raise ValueError(f"HabitatModel.fit: {len(P)} training points cannot make {k} habitats.")
            km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state).fit(P)
        order = np.argsort(km.cluster_centers_[:, 0], kind="mergesort")
        self.centers_ = km.cluster_centers_[order]
        self.n_habitats_ = k
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        self.n_features_in_ = len(self.features)
        self.k_scores_ = pd.DataFrame(rows, columns=["k", self.criterion])
        self.n_cases_train_ = len(cases)
        return self

    def _case_seed(self):
        # every case is over-segmented with the same seed, at fit and at predict,
        # so a training case predicted later gets the supervoxels it had at fit
        return 0 if self.random_state is None else int(self.random_state)

    # ---------------------------------------------------------------- predict
    def predict(self, image, mask, *, case_id=None):
        """Habitat label of every lesion voxel: 1..k inside, 0 outside.

        Parameters
        ----------
        image, mask : SimpleITK.Image or ndarray
            One case, mask on the image grid.
        case_id : str, optional
            Named in messages.

        Returns
        -------
        SimpleITK.Image (UInt8, the image's geometry) if ``image`` is a
        SimpleITK image, else an ndarray of uint8 with the image's shape.

        Notes
        -----
        Nothing is estimated from the new case except, with ``two_step``, its
        own supervoxels (k-means seeded by ``random_state``); the scaler, the
        bins and the habitat centres are those of :meth:`fit`.
        """
        with threadpool_limits(1):
            return self._predict(image, mask, case_id=case_id)

    def _predict(self, image, mask, *, case_id=None):
        check_is_fitted(self, "centers_")
        img, lesion, ref = _as_arrays(image, mask, self.label, case_id)
        F, coords = self._voxel_features(img, lesion, self.bin_edges_)
        Z = (F - self.feature_mean_) / self.feature_sd_
        if self.two_step:
            sv, means = self._supervoxels(Z, coords, self._case_seed())
            ok = np.isfinite(means).all(axis=1)
            lab_sv = np.zeros(len(means), dtype=int)
            lab_sv[ok] = _nearest(means[ok], self.centers_)
            lab = lab_sv[sv]
        else:
            lab = _nearest(Z, self.centers_)
        out = np.zeros(img.shape, dtype=np.uint8)
        out[tuple(coords.T)] = (lab + 1).astype(np.uint8)
        if ref is not None:
            lab_img = sitk.GetImageFromArray(out)
            lab_img.CopyInformation(ref)
            return lab_img
        return out

    # ---------------------------------------------------------------- outputs
    def habitat_masks(self, labels) -> dict:
        """One binary mask per habitat: ``{"habitat1": mask, ...}``.

        Same type as ``labels`` (SimpleITK UInt8 images with its geometry, or
        boolean arrays). Feed each to radiomics, e.g.
        ``RadiomicsExtractor.extract_region(image, m, name="habitat1")``, to get
        columns ``habitat1_original_firstorder_Mean``...; see :meth:`habitat_features`.
        """
        check_is_fitted(self, "centers_")
        arr = sitk.GetArrayFromImage(labels) if isinstance(labels, sitk.Image) else np.asarray(labels)
        out = {}
        for j in range(1, self.n_habitats_ + 1):
            m = arr == j
            if isinstance(labels, sitk.Image):
                mi = sitk.GetImageFromArray(m.astype(np.uint8))
                mi.CopyInformation(labels)
                out[f"habitat{j}"] = mi
            else:
                out[f"habitat{j}"] = m
        return out

    def volume_fractions(self, labels) -> pd.Series:
        """Share of the lesion in each habitat (``habitat1_fraction``...), plus
        volumes in mm³ (``habitat1_volume_mm3``...) when ``labels`` is a SimpleITK image."""
        check_is_fitted(self, "centers_")
        arr = sitk.GetArrayFromImage(labels) if isinstance(labels, sitk.Image) else np.asarray(labels)
        counts = np.array([(arr == j).sum() for j in range(1, self.n_habitats_ + 1)], dtype=float)
        total = counts.sum()
        if total == 0:
            raise EmptyRegionError("volume_fractions: the label image has no habitat voxel.")
        vals = {f"habitat{j + 1}_fraction": counts[j] / total for j in range(self.n_habitats_)}
        if isinstance(labels, sitk.Image):
            vox = float(np.prod(labels.GetSpacing()))
            vals.update({f"habitat{j + 1}_volume_mm3": counts[j] * vox for j in range(self.n_habitats_)})
        return pd.Series(vals, dtype=float)

    def habitat_fractions(self, cases, case_ids) -> pd.DataFrame:
        """Volume fractions of many cases: one row per case id (index ``case_id``)."""
        cases, case_ids = list(cases), list(case_ids)
        if len(cases) != len(case_ids):
            raise ValueError(f"habitat_fractions: {len(case_ids)} case_ids for {len(cases)} cases.")
        if len(set(case_ids)) != len(case_ids):
            raise ValueError("habitat_fractions: case_ids must be unique.")
        rows = {}
        for (image, mask), cid in zip(cases, case_ids):
            rows[cid] = self.volume_fractions(self.predict(image, mask, case_id=cid))
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "case_id"
        return df

    def habitat_features(self, extractor, image, labels, *, case_id=None, min_voxels=1) -> dict:
        """Radiomics of each habitat with columns ``habitat<j>_<feature>``.

        Parameters
        ----------
        extractor : imaging.RadiomicsExtractor
            Anything with ``extract_region(image, region, name=, case_id=)``.
        image : SimpleITK.Image
        labels : SimpleITK.Image
            Output of :meth:`predict` for this image.
        min_voxels : int, default 1
            A habitat with fewer voxels in this case gets NaN features (it is
            absent, not an error), under the column names of the other habitats.
        """
        check_is_fitted(self, "centers_")
        if not isinstance(image, sitk.Image) or not isinstance(labels, sitk.Image):
            raise TypeError("habitat_features needs SimpleITK images (the radiomics extractor works on them).")
        row, absent, present = {}, [], None
        for name, m in self.habitat_masks(labels).items():
            if int(sitk.GetArrayViewFromImage(m).sum()) < min_voxels:
                absent.append(name)
                continue
            feats = extractor.extract_region(image, m, name=name, case_id=case_id)
            if present is None:
                present = (name, list(feats))
            row.update(feats)
        if present is not None:
            name0, keys = present
            for name in absent:
                for key in keys:
                    row[name + key[len(name0):]] = float("nan")
        return row

    def summary(self) -> pd.DataFrame:
        """Habitat centres in the features' own units: one row per habitat, one column per feature."""
        check_is_fitted(self, "centers_")
        return pd.DataFrame(self.centers_ * self.feature_sd_ + self.feature_mean_,
                            index=pd.Index([f"habitat{j + 1}" for j in range(self.n_habitats_)], name="habitat"),
                            columns=list(self.features))

    # ------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """The model file's content (see :mod:`nomogram.model_io`); ``to_json`` writes it."""
        check_is_fitted(self, "centers_")
        params = self.get_params()
        params["features"] = list(params["features"])
        params["k_range"] = list(params["k_range"])
        if not np.isscalar(params["window"]):
            params["window"] = list(params["window"])
        return {
            **self._model_header(),
            "params": params,
            "n_habitats": int(self.n_habitats_),
            "centers": self.centers_.tolist(),
            "feature_mean": self.feature_mean_.tolist(),
            "feature_sd": self.feature_sd_.tolist(),
            "bin_edges": self.bin_edges_.tolist(),
            "k_scores": self.k_scores_.to_dict(orient="list"),
            "n_cases_train": int(self.n_cases_train_),
            "n_voxels_train": int(self.n_voxels_train_),
        }

    @classmethod
    def _from_model_dict(cls, d: dict, source: str) -> "HabitatModel":
        r = ModelReader(d, source)
        if r.get("version", int) not in (1, cls._model_version):
            r.fail(f"is {d['version']}; this nomofuse reads versions 1 to {cls._model_version}.", "version")
        p = dict(r.get("params", dict))
        for key in ("features", "k_range"):
            if not isinstance(p.get(key), list):
                ModelReader(p, source, "params.").fail("must be a list.", key)
        p["features"] = tuple(p["features"])
        p["k_range"] = tuple(p["k_range"])
        if isinstance(p.get("window"), list):
            p["window"] = tuple(p["window"])
        try:
            obj = cls(**p)
        except TypeError as err:
            r.fail(f"does not fit HabitatModel: {err}.", "params")
        k = r.get("n_habitats", int)
        nf = len(obj.features)
        obj.n_habitats_ = k
        obj.centers_ = r.array("centers", ndim=2, finite=True)
        if obj.centers_.shape != (k, nf):
            r.fail(f"have shape {obj.centers_.shape}, expected ({k}, {nf}).", "centers")
        obj.feature_mean_ = r.array("feature_mean", finite=True, shape=(nf,))
        obj.feature_sd_ = r.array("feature_sd", finite=True, shape=(nf,))
        obj.bin_edges_ = r.array("bin_edges", finite=True)
        obj.k_scores_ = r.frame("k_scores")
        obj.n_cases_train_ = r.get("n_cases_train", int)
        obj.n_voxels_train_ = r.get("n_voxels_train", int)
        obj.feature_names_in_ = np.asarray(obj.features, dtype=object)
        obj.n_features_in_ = nf
        return obj


def _nearest(P, centers):
    """Index of the nearest centre (squared Euclidean distance) for each row of P."""
    d = (P**2).sum(axis=1)[:, None] - 2 * P @ centers.T + (centers**2).sum(axis=1)[None, :]
    return np.argmin(d, axis=1)
