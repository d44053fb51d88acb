"""``nomofuse radiomics``: radiomics features for every case of a manifest.

::

    nomofuse radiomics --manifest cases.csv --out features.parquet \\
        [--params CT|MR|PET|file.yaml] [--regions lesion,ring5,soil] \\
        [--jobs N] [--scheduler ADDRESS] [--cache-dir DIR] [--no-cache] [--strict]

The manifest has columns ``case_id,image,mask`` and optionally ``label`` (the
lesion's value in the mask, default 1), ``organ_mask`` (for the ``soil``
region), ``ring_within`` (a mask the ring is restricted to), ``resample_mask``
(true/false) and the PET fields of :func:`imaging.radiomics.extract_case`:
``suv_factor``, ``suv_dicom`` (a PET DICOM file or folder), ``pet_metrics``,
``mtv_relative``, ``mtv_absolute``. Relative paths are relative to the
manifest's folder; a blank cell leaves extract_case's default.

Output: ``features.parquet`` (``case_id`` first, one row per successful
case), ``features.parquet.errors.csv`` (one row per failed case: case id, row,
stage, error type, message) and a summary on stdout. Per-case results are
cached in ``--cache-dir`` (default ``.nomofuse_cache`` next to the output),
so a re-run, or a run after a crash, computes only what is missing.

Exit status: 0 when every case succeeded, 2 when some failed (the table of
the others is written), 1 when none succeeded or the input is unusable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PRESETS = ("CT", "MR", "PET")

_EPILOG = """\
examples:
  nomofuse radiomics --manifest cases.csv --out features.parquet --params CT --jobs 4
  nomofuse radiomics --manifest cases.csv --out f.parquet --regions lesion,ring5,soil
  nomofuse radiomics --manifest cases.csv --out f.parquet --scheduler tcp://head:8786

On SLURM, start a cluster with dask-jobqueue (SLURMCluster(...).scale(jobs=N))
and pass its scheduler address with --scheduler.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "radiomics",
        help="radiomics features for every case of a manifest (parallel, cached, resumable)",
        description="Radiomics features for every case of a manifest (parallel, cached, resumable).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--manifest", required=True, metavar="CSV",
                   help="CSV with columns case_id,image,mask (+ label, organ_mask, PET fields)")
    p.add_argument("--out", required=True, metavar="PARQUET",
                   help="output feature table; failures go to <out>.errors.csv beside it")
    p.add_argument("--params", default=None, metavar="CT|MR|PET|FILE",
                   help="a preset (CT, MR, PET) or a pyradiomics parameter file (YAML/JSON); "
                        "default: extract_case's default")
    p.add_argument("--regions", default="lesion", metavar="LIST",
                   help="comma-separated regions: lesion, ringN (a ring of N mm around the "
                        "lesion; several allowed), soil (needs organ_mask) (default: lesion)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="local worker processes (default 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address (e.g. tcp://host:8786): run on that cluster")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="per-case result cache (default: .nomofuse_cache next to --out)")
    p.add_argument("--no-cache", action="store_true", help="compute every case, cache nothing")
    p.add_argument("--resample-mask", action="store_true",
                   help="resample a mask that is not on its image's grid (nearest neighbour) "
                        "instead of failing the case")
    p.add_argument("--strict", action="store_true",
                   help="stop before computing if any manifest file is missing "
                        "(default: record those cases as failed and run the others)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def parse_regions(text: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """``"lesion,ring3,ring5,soil"`` -> ``(("lesion", "ring", "soil"), (3.0, 5.0))``.

    ``ringN`` (or ``ringNmm``) is a peritumoral ring of N mm; several rings give
    several regions (columns ``ring3mm_...``, ``ring5mm_...``).
    """
    import re

    names, rings, bad = [], [], []
    for part in (r.strip() for r in text.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"ring(\d+(?:\.\d+)?)(?:mm)?", part)
        if m:
            rings.append(float(m.group(1)))
            part = "ring"
        elif part not in ("lesion", "soil"):
            bad.append(part)
            continue
        if part not in names:
            names.append(part)
    if not names or bad:
        raise ValueError(
            "The '--regions' option must be a comma-separated list of lesion, ringN (a ring of "
            f"N mm around the lesion, e.g. ring5) and soil. Got {text!r} instead"
            + (f" (unknown: {bad})." if bad else ".")
        )
    return tuple(names), tuple(dict.fromkeys(rings))


def params_identity(params: str | None):
    """What identifies ``--params`` in the cache key: the parameter file's *text*.

    A preset name is replaced by the text of its file, and a user file is read,
    so editing a parameter file invalidates the cache although its name stays.
    """
    if params is None:
        return {"preset": None}
    if params in PRESETS:
        from imaging.radiomics import preset_path

        return {"preset": params, "text": Path(preset_path(params)).read_text(encoding="utf-8")}
    path = Path(params)
    if not path.is_file():
        raise FileNotFoundError(
            f"--params {params!r} is neither a preset ({', '.join(PRESETS)}) nor an existing "
            "parameter file; give one of the presets or the path of a pyradiomics YAML file."
        )
    return {"file_text": path.read_text(encoding="utf-8")}


def library_versions() -> dict[str, str]:
    """Versions that make a cached radiomics result reusable (part of the key)."""
    from importlib import metadata

    out = {}
    for dist in ("pyradiomics-bhklab", "pyradiomics", "numpy", "SimpleITK", "PyWavelets",
                 "scipy", "nomofuse"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    if "nomofuse" not in out:  # run from a checkout: the version in pyproject.toml
        try:
            import tomllib

            root = Path(__file__).resolve().parents[2]
            out["nomofuse"] = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
                "version"]
        except (OSError, KeyError, ValueError):
            out["nomofuse"] = "unknown"
    return out


def _flag(value) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "yes", "y"):
        return True
    if text in ("0", "0.0", "false", "no", "n"):
        return False
    raise ValueError(value)


#: Manifest columns holding files (content-hashed for the cache key).
FILE_COLUMNS = ("image", "mask", "organ_mask", "ring_within", "suv_dicom")
#: Other manifest columns passed to extract_case, with their types.
OPTION_COLUMNS = {"label": int, "resample_mask": _flag, "suv_factor": float,
                  "pet_metrics": _flag, "mtv_relative": float, "mtv_absolute": float}


def _typed_options(cases, problems: list[str]) -> list[str]:
    """Convert the option columns present in ``cases`` in place; return their names."""
    present = [c for c in OPTION_COLUMNS if c in cases.columns]
    for col in present:
        conv = OPTION_COLUMNS[col]
        values = []
        for i, v in cases[col].items():
            if v is None or (isinstance(v, float) and v != v):
                values.append(None)
                continue
            try:
                values.append(int(float(v)) if conv is int else conv(v))
            except (TypeError, ValueError):
                problems.append(
                    f"row {i + 2} (case {cases.at[i, 'case_id']!r}): column {col!r} must be "
                    f"{'true/false' if conv is _flag else 'a number'}; got {v!r}."
                )
                values.append(None)
        cases[col] = _object_series(values, cases.index)
    return present


def _object_series(values, index):
    import pandas as pd

    return pd.Series(values, index=index, dtype=object)


def _stages():
    from imaging import exceptions as ex

    pairs = [("ImageReadError", "read"), ("DicomTagError", "read"),
             ("GeometryMismatchError", "geometry"), ("EmptyRegionError", "region")]
    return [(getattr(ex, n), s) for n, s in pairs if hasattr(ex, n)]


def run(args) -> int:
    from imaging.radiomics import extract_case

    from ..cohort import run_cohort
    from ..manifest import ManifestError, check_manifest

    try:
        regions, rings = parse_regions(args.regions)
        if args.jobs < 1:
            raise ValueError(f"The '--jobs' option must be >= 1. Got {args.jobs} instead.")
        params = args.params
        if params is not None and params not in PRESETS:  # absolute: workers may run elsewhere
            params_id = params_identity(params)
            params = str(Path(params).resolve())
        else:  # no --params: key on the text of extract_case's default preset
            import inspect

            default = inspect.signature(extract_case).parameters["params"].default
            params_id = params_identity(params if params is not None else default)
        cases = check_manifest(args.manifest, path_columns=FILE_COLUMNS,
                               missing_files="raise" if args.strict else "keep")
        if "soil" in regions and "organ_mask" not in cases.columns:
            raise ManifestError(
                "region 'soil' needs an organ_mask column in the manifest (the organ's mask of "
                "each case); add it, or drop soil from --regions."
            )
        problems: list[str] = []
        options = _typed_options(cases, problems)
        if problems:
            raise ManifestError(f"manifest '{args.manifest}' has {len(problems)} problem(s):\n  "
                                + "\n  ".join(problems), problems)
    except (ManifestError, ValueError, FileNotFoundError) as exc:
        print(f"nomofuse radiomics: error: {exc}", file=sys.stderr)
        return 1
    ignored = [c for c in cases.columns
               if c != "case_id" and c not in FILE_COLUMNS and c not in OPTION_COLUMNS]
    if ignored:
        print(f"note: manifest columns {ignored} are not inputs of extract_case; ignored.",
              file=sys.stderr)

    kwargs = {"regions": regions}
    if rings:
        kwargs["ring_mm"] = rings if len(rings) > 1 else rings[0]
    if params is not None:
        kwargs["params"] = params
    if args.resample_mask:
        kwargs["resample_mask"] = True
    key_params = {"params": params_id, **{k: v for k, v in kwargs.items() if k != "params"}}
    out = Path(args.out)
    cache_dir = None if args.no_cache else Path(args.cache_dir or out.parent / ".nomofuse_cache")
    try:
        result = run_cohort(
            extract_case, cases,
            file_columns=FILE_COLUMNS,
            option_columns=options,
            kwargs=kwargs,
            key_params=key_params,
            versions=library_versions(),
            jobs=args.jobs,
            scheduler=args.scheduler,
            cache_dir=cache_dir,
            progress=not args.quiet,
            desc="radiomics",
            default_stage="extract",
            stages=_stages(),
        )
    except KeyboardInterrupt:
        print("\nnomofuse radiomics: interrupted. Cases finished so far are in the cache "
              f"({cache_dir}); run the same command again to compute only the rest.",
              file=sys.stderr)
        return 130
    result.write(out)
    print(result.report("nomofuse radiomics"))
    if result.n_succeeded == 0:
        return 1
    return 2 if result.n_failed else 0
