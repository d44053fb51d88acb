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

Everything else (manifest check, cache, interrupt, outputs, summary, exit
status) is the cohort-command skeleton, :mod:`fusion.commands.cohort_command`.
"""

from __future__ import annotations

from pathlib import Path

from .cohort_command import CohortCommand, CohortJob, UsageError, parse_flag

_EPILOG = """\
The manifest has columns case_id,image,mask and optionally label (the lesion's
value in the mask, default 1), organ_mask (for the soil region), ring_within,
resample_mask (true/false) and the PET fields suv_factor, suv_dicom,
pet_metrics, mtv_relative, mtv_absolute. Relative paths are relative to the
manifest's folder. Per-case results are cached, so a re-run, or a run after a
crash, computes only what is missing.

examples:
  nomofuse radiomics --manifest cases.csv --out features.parquet --params CT --jobs 4
  nomofuse radiomics --manifest cases.csv --out f.parquet --regions lesion,ring5,soil
  nomofuse radiomics --manifest cases.csv --out f.parquet --scheduler tcp://head:8786

On SLURM, start a cluster with dask-jobqueue (SLURMCluster(...).scale(jobs=N))
and pass its scheduler address with --scheduler.
"""

#: Libraries whose versions make a cached radiomics result reusable (part of the key).
VERSIONED = ("pyradiomics-bhklab", "pyradiomics", "numpy", "SimpleITK", "PyWavelets", "scipy")


def _presets() -> tuple[str, ...]:
    from imaging.presets import PRESETS  # light: no SimpleITK

    return PRESETS


def _default_preset() -> str:
    from imaging.presets import DEFAULT_PRESET

    return DEFAULT_PRESET


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
    ``None`` stands for the default preset.
    """
    from imaging.presets import DEFAULT_PRESET, PRESETS, preset_path

    if params is None:
        params = DEFAULT_PRESET
    if params in PRESETS:
        return {"preset": params, "text": Path(preset_path(params)).read_text(encoding="utf-8")}
    path = Path(params)
    if not path.is_file():
        raise FileNotFoundError(
            f"--params {params!r} is neither a preset ({', '.join(PRESETS)}) nor an existing "
            "parameter file; give one of the presets or the path of a pyradiomics YAML file."
        )
    return {"file_text": path.read_text(encoding="utf-8")}


class RadiomicsCommand(CohortCommand):
    name = "radiomics"
    help = "radiomics features for every case of a manifest (parallel, cached, resumable)"
    description = "Radiomics features for every case of a manifest (parallel, cached, resumable)."
    epilog = _EPILOG
    function = "imaging.radiomics:extract_case"
    required_columns = ("image", "mask")
    file_columns = ("image", "mask", "organ_mask", "ring_within", "suv_dicom")
    option_columns = {"label": int, "resample_mask": parse_flag, "suv_factor": float,
                      "pet_metrics": parse_flag, "mtv_relative": float, "mtv_absolute": float}
    default_stage = "extract"
    manifest_help = "CSV with columns case_id,image,mask (+ label, organ_mask, PET fields)"

    def add_arguments(self, parser):
        presets = "|".join(_presets())
        parser.add_argument("--params", default=None, metavar=f"{presets}|FILE",
                            help=f"a preset ({', '.join(_presets())}) or a pyradiomics parameter "
                                 f"file (YAML/JSON) (default: {_default_preset()})")
        parser.add_argument("--regions", default="lesion", metavar="LIST",
                            help="comma-separated regions: lesion, ringN (a ring of N mm around "
                                 "the lesion; several allowed), soil (needs organ_mask) "
                                 "(default: lesion)")
        parser.add_argument("--resample-mask", action="store_true",
                            help="resample a mask that is not on its image's grid (nearest "
                                 "neighbour) instead of failing the case")

    def setup(self, args, cases):
        from imaging.presets import read_params  # light: PyYAML only

        regions, rings = parse_regions(args.regions)
        params_id = params_identity(args.params)
        read_params(args.params if args.params is not None else _default_preset())  # shape, now
        params = args.params
        if params is not None and params not in _presets():  # absolute: workers may run elsewhere
            params = str(Path(params).resolve())
        if "soil" in regions and "organ_mask" not in cases.columns:
            raise UsageError(
                "region 'soil' needs an organ_mask column in the manifest (the organ's mask of "
                "each case); add it, or drop soil from --regions."
            )
        kwargs = {"regions": regions}
        if rings:
            kwargs["ring_mm"] = rings if len(rings) > 1 else rings[0]
        if params is not None:
            kwargs["params"] = params
        if args.resample_mask:
            kwargs["resample_mask"] = True
        key_params = {"params": params_id, **{k: v for k, v in kwargs.items() if k != "params"}}
        # ITK filters use every core by default: one thread each when workers share the machine.
        several = args.jobs > 1 or args.scheduler is not None
        # pyradiomics' schema (and the filters' packages) are checked before the first case
        # is computed, by pyradiomics itself; a fully cached re-run does not load it.
        return CohortJob(kwargs=kwargs, key_params=key_params, versions=self.versions(VERSIONED),
                         worker_init="imaging.radiomics:limit_itk_threads" if several else None,
                         check="imaging.radiomics:check_settings")


COMMAND = RadiomicsCommand()
add_parser = COMMAND.add_parser
