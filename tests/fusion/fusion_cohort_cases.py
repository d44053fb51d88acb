"""Per-case functions and a synthetic cohort for the cohort-runner tests.

They live in an importable module (not in a test file) because worker
processes receive the per-case function by reference and import it.

``toy_features`` reads an image and a mask with SimpleITK like a radiomics
step does, fails the way real cases fail (unreadable file, geometry mismatch,
empty mask) and leaves one marker file per call so tests can count how many
times each case was really computed.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import SimpleITK as sitk


class CaseError(Exception):
    """A per-case failure that names its stage, as the runner expects."""

    def __init__(self, message: str, stage: str):
        super().__init__(message)
        self.stage = stage


def toy_features(case_id, image, mask, *, label=1, scale=1.0, marker_dir=None, sleep=0.0,
                 exit_on=None):
    """Mean and volume of the labelled region (a stand-in for ``extract_case``)."""
    if marker_dir is not None:
        Path(marker_dir, f"{case_id}.{uuid.uuid4().hex}").touch()
    if exit_on is not None and case_id == exit_on:
        os._exit(3)  # simulates a crash in native code: the worker process dies
    try:
        img = sitk.ReadImage(str(image))
        msk = sitk.ReadImage(str(mask))
    except RuntimeError as exc:
        raise CaseError(str(exc).strip().splitlines()[-1], "read") from exc
    if img.GetSize() != msk.GetSize() or not np.allclose(img.GetSpacing(), msk.GetSpacing()):
        raise CaseError(
            f"mask has size {msk.GetSize()} spacing {msk.GetSpacing()} but image has "
            f"size {img.GetSize()} spacing {img.GetSpacing()}", "geometry")
    a = sitk.GetArrayFromImage(img).astype(float)
    m = sitk.GetArrayFromImage(msk) == int(label)
    if not m.any():
        raise CaseError(f"mask has no voxel with label {label}", "extract")
    if sleep:
        time.sleep(sleep)
    voxel = float(np.prod(img.GetSpacing()))
    return {"mean": float(a[m].mean()) * scale, "volume_mm3": float(m.sum()) * voxel,
            "n_voxels": int(m.sum())}


def write_case(folder, case_id, *, size=(12, 12, 8), spacing=(1.0, 1.0, 2.0), seed=0,
               mask_spacing=None, empty=False, label=1):
    """Write ``<case_id>_image.nrrd`` and ``<case_id>_mask.nrrd``; return their names."""
    rng = np.random.default_rng(seed)
    arr = rng.normal(100 + seed, 10, size=size[::-1]).astype(np.float32)
    m = np.zeros(size[::-1], dtype=np.uint8)
    if not empty:
        m[2:6, 3:9, 3:9] = label
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    msk = sitk.GetImageFromArray(m)
    msk.SetSpacing(mask_spacing or spacing)
    folder = Path(folder)
    sitk.WriteImage(img, str(folder / f"{case_id}_image.nrrd"))
    sitk.WriteImage(msk, str(folder / f"{case_id}_mask.nrrd"))
    return f"{case_id}_image.nrrd", f"{case_id}_mask.nrrd"


def calls(marker_dir) -> dict[str, int]:
    """Case id -> number of times ``toy_features`` ran for it."""
    out: dict[str, int] = {}
    for p in Path(marker_dir).iterdir():
        cid = p.name.rsplit(".", 1)[0]
        out[cid] = out.get(cid, 0) + 1
    return out


def thread_settings(case_id):
    """What a worker process was set up with: thread variables, BLAS and ITK threads."""
    import SimpleITK as sitk
    from threadpoolctl import threadpool_info

    blas = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return {"omp": float(os.environ.get("OMP_NUM_THREADS", "nan")),
            "openblas": float(os.environ.get("OPENBLAS_NUM_THREADS", "nan")),
            "blas_threads": float(max(blas)) if blas else float("nan"),
            "itk_threads": float(sitk.ProcessObject.GetGlobalDefaultNumberOfThreads())}


def summarise_file(case_id, path, *, out_dir, scale=1.0, marker_dir=None, sleep=0.0,
                   fail_on=None, gate_dir=None):
    """A stand-in for a per-slide function: reads one input, writes one output file per case.

    Returns the input's size (times ``scale``) and the path of
    ``<out_dir>/<case_id>.txt``, written atomically, which holds the input's
    SHA-256. ``fail_on`` raises an error with a ``stage`` for that case; with
    ``gate_dir`` the case leaves ``started.<case>.<pid>`` there and waits for
    a file ``open`` (at most 60 s) before it finishes, then leaves
    ``done.<case>.<pid>``: a test can then act while cases are running.
    """
    import hashlib

    if marker_dir is not None:
        Path(marker_dir, f"{case_id}.{uuid.uuid4().hex}").touch()
    if gate_dir is not None:
        Path(gate_dir, f"started.{case_id}.{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while not Path(gate_dir, "open").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"case {case_id!r}: the test never opened the gate")
            time.sleep(0.02)
    if fail_on is not None and case_id == fail_on:
        raise CaseError(f"case {case_id!r}: no tissue found in '{path}'", "tissue")
    if sleep:
        time.sleep(sleep)
    data = Path(path).read_bytes()
    out = Path(out_dir) / f"{case_id}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(hashlib.sha256(data).hexdigest() + "\n")
    os.replace(tmp, out)
    if gate_dir is not None:
        Path(gate_dir, f"done.{case_id}.{os.getpid()}").touch()
    return {"n_bytes": len(data) * float(scale), "summary_path": str(out)}


def lying_function(case_id, path):
    """Reports an output file it never wrote."""
    return {"n_bytes": 1.0, "summary_path": f"/nonexistent/{case_id}.txt"}


def summary_command():
    """A slides-like command built on the skeleton (what ``nomofuse slides`` will look like)."""
    from fusion.commands.cohort_command import CohortCommand, CohortJob, UsageError

    class SummaryCommand(CohortCommand):
        name = "summaries"
        help = "one summary file per input file"
        function = "fusion_cohort_cases:summarise_file"
        id_column = "slide_id"
        required_columns = ("path",)
        file_columns = ("path",)
        option_columns = {"scale": float}
        carry_columns = ("patient_id",)
        output_columns = ("summary_path",)
        default_stage = "summarise"
        manifest_help = "CSV with columns slide_id,path (+ patient_id, scale)"

        def add_arguments(self, parser):
            parser.add_argument("--summaries-dir", default=None, metavar="DIR")
            parser.add_argument("--fail-on", default=None)
            parser.add_argument("--sleep", type=float, default=0.0)
            parser.add_argument("--gate-dir", default=None)

        def setup(self, args, cases):
            if args.fail_on == "everything":
                raise UsageError("The '--fail-on' option cannot be 'everything'.")
            out_dir = Path(args.summaries_dir or Path(args.out).parent / "summaries").resolve()
            kwargs = {"out_dir": str(out_dir), "fail_on": args.fail_on, "sleep": args.sleep,
                      "gate_dir": args.gate_dir}
            return CohortJob(kwargs=kwargs, key_params={"out_dir": str(out_dir)},
                             versions=self.versions(["numpy"]))

    return SummaryCommand()


def broken_init():
    """A worker initialiser that fails (a GPU or a library that is missing on a node)."""
    raise RuntimeError("no GPU on this node")


def worker_pid(case_id, sleep=0.3):
    """The pid of the process that ran the case (after a pause, so several workers get cases)."""
    time.sleep(sleep)
    return {"pid": float(os.getpid())}


def exploding_setup_command():
    """The summaries command, with a set-up that fails the way a bug does (not a user error)."""
    cmd = summary_command()

    def setup(args, cases):
        return {}["no such key"]

    cmd.setup = setup
    return cmd
