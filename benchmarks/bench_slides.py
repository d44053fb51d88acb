"""Benchmark of ``pathology``: end-to-end tile encoding against the encoder alone, and memory.

What it measures, in one run (ratios are meaningful only between numbers
taken together, under the same machine load):

1. ``forward``: tiles/s of the encoder alone on tiles already in memory
   (:func:`pathology.forward_rate`), the ceiling.
2. ``end-to-end``: tiles/s of :func:`pathology.encode_tiles` on the same
   tiles of the same slide: reader process(es) with an OpenSlide handle,
   exact-µm resampling, batching, the model, features out. Target: at
   least 80 % of ``forward`` on the CPU. The two are measured alternately
   ``--rounds`` times; the ratio of the medians is reported, with the time
   split (read / preprocess / model / wait).
3. ``slide_features``: the whole per-slide function (check, tissue, grid,
   encoding into the HDF5, pooling) on that slide, tiles/s.
4. Peak RSS of a fresh process running :func:`pathology.slide_features` on a
   small slide and on one of 4x its area, and RSS after each of 20 slides
   run one after another in one process (``VmHWM`` and ``VmRSS`` of /proc/self/status;
   ``ru_maxrss`` would report the parent's peak, which Linux carries across fork + exec).
   A small encoder is used here (what is measured is reading, tiling and
   writing, not the model).

Usage::

    python benchmarks/bench_slides.py [--work DIR] [--encoder resnet50_trunc] [--rounds 2]
        [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_RSS = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from pathology.encoders import EncoderConfig, register_encoder
from pathology.cohort import slide_features
register_encoder(EncoderConfig(name="bench_small", timm_name="resnet18", feature_dim=256,
                               truncate="layer3", input_size=64))
def status_mb(field):
    # VmHWM (peak) and VmRSS (now) of this process image; unlike ru_maxrss, VmHWM is not
    # inherited from the parent across fork + exec.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
out = []
for path in sys.argv[3:]:
    t = time.perf_counter()
    row = slide_features(os.path.basename(path), path, out_dir=sys.argv[2], encoder="bench_small",
                         random_init=True, num_workers=1, batch_size=32)
    out.append({"slide": os.path.basename(path), "n_tiles": row["n_tiles"],
                "seconds": time.perf_counter() - t, "rss_mb": status_mb("VmRSS"),
                "max_rss_mb": status_mb("VmHWM")})
print(json.dumps(out))
"""


def _write(path, side_um, mpp=0.5, seed=0):
    from pathology.synthetic import write_synthetic_slide

    n = int(round(side_um / mpp))
    return write_synthetic_slide(path, width=n, height=n, mpp=mpp, seed=seed,
                                 tissue=((0.05, 0.05, 0.95, 0.95),))


def _rss_run(slides, out_dir):
    res = subprocess.run([sys.executable, "-c", _RSS, str(ROOT), str(out_dir), *map(str, slides)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _throughput(args, work, results):
    import numpy as np
    import openslide

    from pathology import (check_slide, create_encoder, encode_tiles, forward_rate, read_tile,
                           slide_features, tile_grid, tissue_mask)

    slide = _write(work / "throughput.tif", args.side_um)
    info = check_slide(slide)
    grid = tile_grid(info, tissue_mask(slide, info), target_mpp=0.5, tile_size=224)
    osl = openslide.OpenSlide(str(slide))
    tiles = np.stack([read_tile(osl, grid, i) for i in range(len(grid))])
    enc = create_encoder(args.encoder, random_init=True, device="cpu")
    print(f"slide {info.width}x{info.height} px at {info.mpp} µm/px: {len(grid)} tiles of 224 px "
          f"at 0.5 µm/px; encoder {args.encoder} ({enc.feature_dim}-d), random init, CPU float32")
    fwd, e2e, splits = [], [], []
    for r in range(args.rounds):
        f = forward_rate(enc, tiles, batch_size=args.batch_size)
        _, st = encode_tiles(slide, grid, enc, on_batch=lambda *a: None, batch_size=args.batch_size,
                             num_workers=args.readers)
        fwd.append(f)
        e2e.append(st.tiles_per_s)
        splits.append(st.as_dict())
        print(f"  round {r + 1}: forward {f:.2f} tiles/s, end-to-end {st.tiles_per_s:.2f} tiles/s "
              f"(ratio {st.tiles_per_s / f:.3f}); read {st.read_s:.2f} s, preprocess "
              f"{st.preprocess_s:.2f} s, model {st.model_s:.2f} s, wait {st.wait_s:.2f} s, "
              f"{st.num_threads} threads, {st.num_workers} reader(s)")
    ratio = statistics.median(e2e) / statistics.median(fwd)
    print(f"end-to-end / forward (medians): {ratio:.3f}  (target >= 0.80 on CPU)")
    t = time.perf_counter()
    row = slide_features("throughput", slide, out_dir=work / "h5", encoder=args.encoder,
                         random_init=True, batch_size=args.batch_size, num_workers=args.readers)
    sf_s = time.perf_counter() - t
    print(f"slide_features (check, tissue, grid, encode, HDF5, pooling): {row['n_tiles']} tiles in "
          f"{sf_s:.1f} s = {row['n_tiles'] / sf_s:.2f} tiles/s "
          f"({row['n_tiles'] / sf_s / statistics.median(fwd):.3f} of forward)")
    results.update({"encoder": args.encoder, "n_tiles": len(grid), "forward_tiles_per_s": fwd,
                    "end_to_end_tiles_per_s": e2e, "ratio_of_medians": ratio, "splits": splits,
                    "slide_features_tiles_per_s": row["n_tiles"] / sf_s})

    wait = sum(sp["wait_s"] for sp in splits) / sum(sp["seconds"] for sp in splits)
    print(f"share of end-to-end time the model waited for tiles: {wait:.3%}")
    results["wait_share"] = wait


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--encoder", default="resnet50_trunc")
    ap.add_argument("--side-um", type=float, default=1700.0,
                    help="side of the throughput slide in µm at 0.5 µm/px (default 1700: ~200 tiles)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--readers", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--memory-only", action="store_true", help="skip the throughput part")
    args = ap.parse_args(argv)

    from pathology.inference import available_cores

    work = Path(args.work or tempfile.mkdtemp(prefix="bench_slides_"))
    work.mkdir(parents=True, exist_ok=True)
    results = {"cores": available_cores(), "load_before": os.getloadavg()}
    print(f"cores available: {results['cores']}, load average {os.getloadavg()[0]:.2f}")

    # ---------------------------------------------------------- throughput
    if not args.memory_only:
        _throughput(args, work, results)

    # ---------------------------------------------------------- memory
    small = _write(work / "small.tif", 1500.0, seed=1)
    large = _write(work / "large.tif", 3000.0, seed=2)  # 4x the area
    rs = _rss_run([small], work / "h5")[0]
    rl = _rss_run([large], work / "h5")[0]
    print(f"peak RSS, one slide per fresh process: small {rs['n_tiles']} tiles {rs['max_rss_mb']:.0f} MB, "
          f"4x area {rl['n_tiles']} tiles {rl['max_rss_mb']:.0f} MB "
          f"(ratio {rl['max_rss_mb'] / rs['max_rss_mb']:.3f})")
    many = [_write(work / f"c{i:02d}.tif", 1000.0, seed=10 + i) for i in range(20)]
    run = _rss_run(many, work / "h5")
    for k in (0, 4, 9, 19):
        print(f"  after slide {k + 1:2d} of 20: RSS {run[k]['rss_mb']:.0f} MB, peak {run[k]['max_rss_mb']:.0f} MB")
    print(f"peak RSS after 20 slides / after 1: {run[-1]['max_rss_mb'] / run[0]['max_rss_mb']:.3f}; "
          f"current RSS 20 / 1: {run[-1]['rss_mb'] / run[0]['rss_mb']:.3f}")
    results.update({"rss_small": rs, "rss_large": rl, "rss_20_slides": run,
                    "load_after": os.getloadavg()})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
