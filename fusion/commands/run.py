"""``nomofuse run``: a whole study from its study file.

::

    nomofuse run study.yaml --out DIR [--jobs N] [--force] [--quiet]

Reads and checks the study file (every problem is listed at once, with its
line), then runs every stage: patients and exclusions, radiomics and slide
features (parallel, cached per case), the split, the labels (cross-fitted on
the training split), one nomogram per cancer type for each model, their
comparison and validation on every split, the screening bundle and the
report. Writes under DIR: models/ (JSON), tables/ (CSV), figures/ (PNG and
PDF), features/, bundle/, report.html and run.json (settings, input
checksums, versions, seeds, timings).

A re-run of the same DIR recomputes only what changed: a killed run resumes
where it stopped, and a changed model setting refits that model and the
evaluation without extracting any feature again.

Exit status: 0 the study ran (extraction failures, if any, are listed in the
report); 1 the study file or an input is unusable (the message says which and
how to fix it).
"""

from __future__ import annotations

import argparse
import sys

from ._help import description_from_doc

_EPILOG = """\
examples:
  nomofuse run study.yaml --out results/
  nomofuse run study.yaml --out results/ --jobs 8

Documented example study files ship with nomofuse (bone_metastasis.yaml, seed_soil_survival.yaml,
occult_lymph_node.yaml, demo.yaml).

exit status:
    0  the study ran; see DIR/report.html
    1  the study file or an input is unusable
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run", help="run a whole study from its study file (features, models, validation, report)",
        description=description_from_doc(__doc__),
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("study", metavar="study.yaml", help="the study file")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (a previous run's folder is reused)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes for feature extraction (default: the study file's run.jobs)")
    p.add_argument("--force", action="store_true",
                   help="recompute every stage (per-case features still come from the cache)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


def execute(study, out, *, jobs=None, force=False, quiet=False, notes=()) -> int:
    """Run the study and print the summary; the exit status (shared with ``nomofuse demo``)."""
    import matplotlib

    from fusion.study import StudyFileError, load_study
    from fusion.study.pipeline import run_study

    matplotlib.use("Agg")  # a command draws to files only (the library leaves the backend alone)

    try:
        cfg = load_study(study) if not hasattr(study, "models") else study
        result = run_study(cfg, out, jobs=jobs, force=force, progress=not quiet, quiet=quiet, notes=notes)
    except StudyFileError as err:
        print(f"nomofuse run: {err}", file=sys.stderr)
        return 1
    except ImportError as err:
        from nomogram.checks import missing_extra_message

        print(f"nomofuse run: {missing_extra_message(err.name) if err.name else err}", file=sys.stderr)
        return 1
    reused = sum(1 for v in result.stages.values() if v == "reused")
    print(f"\nstudy finished in {result.seconds:.0f} s ({reused} stage(s) reused from a previous run)")
    if result.headline:
        print(result.headline)
    if len(result.failures):
        print(f"{len(result.failures)} scan(s)/slide(s) could not be extracted; listed in the report "
              f"(tables/extraction_failures.csv)")
    print(f"report: {result.report}")
    print(f"models: {result.out / 'models'}   tables: {result.out / 'tables'}   figures: {result.out / 'figures'}")
    print(f"screening bundle: {result.bundle}   (nomofuse screen {result.bundle} --clinical new.csv ...)")
    return 0


def run(args) -> int:
    return execute(args.study, args.out, jobs=args.jobs, force=args.force, quiet=args.quiet)
