"""GPU check: end-to-end tile encoding against the encoder's pure forward rate on CUDA.

Self-contained (run from the repository root, no weights, no download):
builds the ViT-L/16 (``uni_vit_large_patch16``) and CLAM's ResNet-50 trunc
(``resnet50_trunc``) with random weights, synthesises one pyramidal TIFF
slide, lays the 224-px tile grid at 0.5 µm/px, and for each encoder prints

* ``forward``: tiles/s of the model alone on the tiles already in (pinned)
  memory, bf16 autocast, channels-last;
* ``end-to-end``: tiles/s of :func:`pathology.encode_tiles` (reader
  processes with one OpenSlide handle each, prefetching) on the same tiles;
* their ratio and the time split (read / preprocess / model / wait).

Meant to finish within about 3 minutes on one modern GPU::

    python benchmarks/gpu_encoder_throughput.py results.json [--side-um 6000] [--readers N]

The results are also written to the JSON path given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", help="where to write the results")
    ap.add_argument("--side-um", type=float, default=6000.0,
                    help="side of the synthetic slide in µm at 0.5 µm/px (6000: ~2500 tiles)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--readers", type=int, default=None, help="reader processes (default: min(8, cores-1))")
    ap.add_argument("--encoders", default="uni_vit_large_patch16,resnet50_trunc")
    args = ap.parse_args(argv)

    import numpy as np
    import openslide
    import torch

    from pathology import (check_slide, create_encoder, encode_tiles, forward_rate, read_tile,
                           tile_grid, tissue_mask)
    from pathology.inference import available_cores
    from pathology.synthetic import write_synthetic_slide

    t0 = time.perf_counter()
    out = {"cuda": torch.cuda.is_available(), "cores": available_cores(), "torch": torch.__version__}
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
        torch.backends.cudnn.benchmark = True
    else:
        print("warning: no CUDA device; measuring on the CPU", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="gpu_bench_"))
    n = int(args.side_um / 0.5)
    slide = write_synthetic_slide(work / "slide.tif", width=n, height=n, mpp=0.5,
                                  tissue=((0.03, 0.03, 0.97, 0.97),))
    info = check_slide(slide)
    grid = tile_grid(info, tissue_mask(slide, info), target_mpp=0.5, tile_size=224)
    osl = openslide.OpenSlide(str(slide))
    tiles = np.stack([read_tile(osl, grid, i) for i in range(len(grid))])
    out.update({"n_tiles": len(grid), "slide_px": n, "setup_s": time.perf_counter() - t0})
    print(f"{len(grid)} tiles of 224 px at 0.5 µm/px from a {n}x{n} slide "
          f"(setup {out['setup_s']:.0f} s)")
    out["encoders"] = {}
    for name in args.encoders.split(","):
        enc = create_encoder(name, random_init=True)
        fwd = forward_rate(enc, tiles, batch_size=args.batch_size)
        _, st = encode_tiles(slide, grid, enc, on_batch=lambda *a: None, batch_size=args.batch_size,
                             num_workers=args.readers)
        fwd2 = forward_rate(enc, tiles, batch_size=args.batch_size)
        f = max(fwd, fwd2)
        res = {"forward_tiles_per_s": [fwd, fwd2], "end_to_end_tiles_per_s": st.tiles_per_s,
               "ratio": st.tiles_per_s / f, "stats": st.as_dict()}
        out["encoders"][name] = res
        print(f"{name}: forward {fwd:.0f} / {fwd2:.0f} tiles/s, end-to-end {st.tiles_per_s:.0f} tiles/s, "
              f"ratio {res['ratio']:.3f}; read {st.read_s:.1f} s, preprocess {st.preprocess_s:.1f} s "
              f"(summed over {st.num_workers} readers), model {st.model_s:.1f} s, wait {st.wait_s:.1f} s")
        del enc
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    out["total_s"] = time.perf_counter() - t0
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(f"total {out['total_s']:.0f} s; results in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
