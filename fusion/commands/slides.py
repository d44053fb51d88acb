"""``nomofuse slides``: tile features and pooled slide features for every slide of a manifest.

::

    nomofuse slides --manifest slides.csv --out slides.parquet \\
        [--encoder NAME --weights PATH | --random-init] [--mpp 0.5] [--tile 224] \\
        [--jobs N] [--scheduler ADDRESS] [--cache-dir DIR] [--no-cache] [--strict]

The manifest has columns ``slide_id,path`` and optionally ``patient_id``
(copied to the table; the per-patient table pools on it), ``mpp`` (the
slide's µm/px when the file states none) and ``tissue_mask`` (a GeoJSON or
PNG mask replacing tissue detection). Per slide the function
:func:`pathology.cohort.slide_features` writes ``<features-dir>/<slide_id>.h5``
(CLAM/TRIDENT layout) and a tissue overlay PNG, and returns one row of
pooled features; slides that fail (truncated, no µm/px, no tissue...) are
recorded in ``<out>.errors.csv`` with their stage and the fix, and the others
finish. After the run ``<out stem>.patients.parquet`` holds one row per patient.

Everything else (manifest check, cache keyed by slide content + settings +
weights checksum, resume, outputs, summary, exit status) is the
cohort-command skeleton, :mod:`fusion.commands.cohort_command`.
"""

from __future__ import annotations

from pathlib import Path

from ..exceptions import OutputError
from .cohort_command import CohortCommand, CohortJob, UsageError

_EPILOG = """\
The manifest has columns slide_id,path and optionally patient_id, mpp (the
slide's microns per pixel when the file states none; never guessed) and
tissue_mask (GeoJSON in level-0 pixels, or a PNG covering the slide).
Weights come only from a local file (--weights); --random-init is for dry runs.

examples:
  nomofuse slides --manifest slides.csv --out slides.parquet --encoder resnet50_trunc \\
      --weights resnet50_tv_in1k.pth
  nomofuse slides --manifest slides.csv --out s.parquet --encoder uni_vit_large_patch16 \\
      --weights uni/pytorch_model.bin --mpp 0.5 --tile 224 --jobs 2
"""

VERSIONED = ("torch", "timm", "openslide-python", "openslide-bin", "h5py", "numpy", "Pillow")


class SlidesCommand(CohortCommand):
    name = "slides"
    help = "tile features and pooled slide features for every slide (parallel, cached, resumable)"
    description = ("Tile features of every slide of a manifest (one HDF5 per slide, CLAM/TRIDENT "
                   "layout) and a table of pooled slide features (parallel, cached, resumable).")
    epilog = _EPILOG
    function = "pathology.cohort:slide_features"
    id_column = "slide_id"
    required_columns = ("path",)
    file_columns = ("path", "tissue_mask")
    option_columns = {"mpp": float}
    carry_columns = ("patient_id",)
    output_columns = ("h5", "overlay")
    default_stage = "encode"
    manifest_help = "CSV with columns slide_id,path (+ patient_id, mpp, tissue_mask)"

    def add_arguments(self, parser):
        parser.add_argument("--encoder", default="resnet50_trunc", metavar="NAME",
                            help="registered encoder (resnet50_trunc, uni_vit_large_patch16, "
                                 "vit_base_patch16) or any timm name (default: %(default)s)")
        parser.add_argument("--weights", default=None, metavar="PATH",
                            help="local weights file of the encoder (never downloaded)")
        parser.add_argument("--weights-sha256", default=None, metavar="HEX",
                            help="expected SHA-256 of --weights (from the model card)")
        parser.add_argument("--random-init", action="store_true",
                            help="random encoder weights: dry runs and tests only")
        parser.add_argument("--mpp", type=float, default=None, metavar="UM",
                            help="tile resolution in µm/px (default: the encoder's, 0.5)")
        parser.add_argument("--tile", type=int, default=224, metavar="PX",
                            help="tile size in pixels at --mpp (default: %(default)s)")
        parser.add_argument("--overlap", type=int, default=0, metavar="PX",
                            help="pixels shared by neighbouring tiles (default: 0)")
        parser.add_argument("--min-tissue", type=float, default=0.25, metavar="F",
                            help="smallest tissue fraction of a kept tile (default: %(default)s)")
        parser.add_argument("--features-dir", default=None, metavar="DIR",
                            help="folder of the per-slide HDF5 files (default: <out stem>_h5 "
                                 "next to --out)")
        parser.add_argument("--stain-reference", default=None, metavar="JSON",
                            help="Macenko normaliser (MacenkoNormalizer.to_json) to normalise tiles to")
        parser.add_argument("--mpp-override-wins", action="store_true",
                            help="the manifest's mpp column wins over the slide's own metadata")
        parser.add_argument("--batch-size", type=int, default=32, metavar="N",
                            help="tiles per model batch (default: %(default)s)")
        parser.add_argument("--readers", type=int, default=None, metavar="N",
                            help="tile-reading processes per slide (default: 1 on CPU, up to 8 "
                                 "on CUDA)")
        parser.add_argument("--device", default=None, metavar="DEV",
                            help="torch device (default: cuda when available, else cpu)")

    def setup(self, args, cases):
        from pathology.encoders import encoder_config, list_encoders, weights_sha256
        from pathology.inference import available_cores

        # No model is built here: this process forks the workers, and one that has run torch
        # must not fork workers that run torch (GNU OpenMP is not fork-safe).
        if args.encoder in list_encoders():
            cfg = encoder_config(args.encoder)
        else:
            import timm

            if not timm.is_model(args.encoder):
                raise UsageError(f"The '--encoder' option must be a registered encoder {list_encoders()} "
                                 f"or a timm model name. Got {args.encoder!r} instead.")
            cfg = None
        if args.weights is None and not args.random_init:
            raise UsageError(
                f"--encoder {args.encoder} needs --weights PATH (a local checkpoint; nomofuse never "
                "downloads). For a dry run only, pass --random-init (random features carry no "
                "pathology).")
        if args.weights is not None and args.random_init:
            raise UsageError("give --weights or --random-init, not both.")
        weights, digest = None, "random-init:0"
        if args.weights is not None:
            path = Path(args.weights)
            if not path.is_file():
                raise UsageError(f"--weights '{args.weights}' does not exist; give the path of the "
                                 "encoder's local checkpoint.")
            weights, digest = str(path.resolve()), weights_sha256(path)
            if args.weights_sha256 and digest != args.weights_sha256.lower():
                raise UsageError(f"--weights '{args.weights}' has SHA-256 {digest}, not "
                                 f"{args.weights_sha256}; the file is corrupt or another version.")
        for opt, value, ok, allowed in (
                ("--tile", args.tile, args.tile >= 8, "an integer >= 8 pixels"),
                ("--min-tissue", args.min_tissue, 0 <= args.min_tissue <= 1, "a fraction in [0, 1]"),
                ("--batch-size", args.batch_size, args.batch_size >= 1, "an integer >= 1"),
                ("--overlap", args.overlap, 0 <= args.overlap < args.tile, f"in [0, --tile) = [0, {args.tile})"),
                ("--mpp", args.mpp, args.mpp is None or 0 < args.mpp < float("inf"),
                 "a positive number of microns per pixel (e.g. 0.5)")):
            if not ok:
                raise UsageError(f"The '{opt}' option must be {allowed}. Got {value} instead.")
        stain = None
        if args.stain_reference is not None:
            sp = Path(args.stain_reference)
            if not sp.is_file():
                raise UsageError(f"--stain-reference '{sp}' does not exist.")
            stain = {"path": str(sp.resolve()), "text": sp.read_text(encoding="utf-8")}
        out = Path(args.out)
        out_dir = Path(args.features_dir or out.with_name(out.stem + "_h5")).resolve()
        target = args.mpp if args.mpp is not None else ((cfg.mpp if cfg else None) or 0.5)
        several = args.jobs if args.scheduler is None else 1
        kwargs = {"out_dir": str(out_dir), "encoder": args.encoder, "weights": weights,
                  "random_init": bool(args.random_init), "weights_sha256": args.weights_sha256,
                  "target_mpp": float(target), "tile_size": int(args.tile), "overlap": int(args.overlap),
                  "min_tissue": float(args.min_tissue),
                  "prefer_mpp": "override" if args.mpp_override_wins else "slide",
                  "stain_reference": None if stain is None else stain["path"],
                  "batch_size": int(args.batch_size), "num_workers": args.readers,
                  "num_threads": max(1, available_cores() // max(1, several)), "device": args.device}
        key = {k: v for k, v in kwargs.items()
               if k not in ("weights", "weights_sha256", "stain_reference", "batch_size", "num_workers",
                            "num_threads", "device")}
        key.update({"weights_sha256": digest, "stain": None if stain is None else stain["text"],
                    "encoder_config": repr(cfg) if cfg else f"timm:{args.encoder}"})
        return CohortJob(kwargs=kwargs, key_params=key, versions=self.versions(VERSIONED))

    def finish(self, args, result) -> None:
        """Write ``<out stem>.patients.<suffix>`` (one row per patient) under the output lock."""
        import io

        from pathology.cohort import patient_table

        from ..cohort.cache import atomic_write_bytes

        if result.n_succeeded == 0:
            return  # no table written: an earlier run's patient table is left as it was
        out = Path(args.out)
        patients = patient_table(result.features)
        dest = out.with_name(out.stem + ".patients" + out.suffix)
        if dest.suffix.lower() == ".parquet":
            buf = io.BytesIO()
            patients.to_parquet(buf, index=False)
            data = buf.getvalue()
        else:
            data = patients.to_csv(index=False).encode("utf-8")
        try:
            atomic_write_bytes(dest, data)
        except OSError as exc:
            raise OutputError(f"cannot write the patient table '{dest}' ({exc.strerror or exc}); the "
                              "slide table was written, so the same command computes nothing again.") from exc
        print(f"patients: {dest} ({len(patients)} rows)")


COMMAND = SlidesCommand()
add_parser = COMMAND.add_parser
