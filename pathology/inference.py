"""Encode the tiles of a slide: parallel readers feeding the model, streamed out.

:func:`encode_tiles` runs a :class:`torch.utils.data.DataLoader` whose
worker processes each hold one OpenSlide handle and produce whole batches
(read, resample to the target resolution, optional stain normalisation, as
a ``(b, h, w, 3)`` uint8 array); ``prefetch_factor`` batches per worker wait
ready so the model does not. On CUDA the model runs under bfloat16 autocast
in channels-last layout, one batch ahead of the copy back; on the CPU in
float32 with ``num_threads`` intra-op threads (default: the cores this
process may use).

Features leave batch by batch through ``on_batch`` (e.g.
:meth:`~pathology.features_h5.FeatureFileWriter.append`), so memory does not
grow with the number of tiles. The returned :class:`EncodingStats` says
tiles/s and where the time went: reading, preprocessing (both summed over
the workers), the model, and the main process waiting for data.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .exceptions import EncoderError, SlideReadError
from .slide import read_region_rgb
from .tiling import TileGrid

__all__ = ["EncodingStats", "encode_tiles", "forward_rate", "available_cores", "TileBatches"]


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@dataclass
class EncodingStats:
    """Throughput of one :func:`encode_tiles` run.

    Attributes
    ----------
    n_tiles : int
    seconds : float
        Wall time, first batch requested to last feature out.
    tiles_per_s : float
    read_s, preprocess_s : float
        Time the readers spent in OpenSlide and in resampling/normalising,
        summed over workers (with several workers it can exceed ``seconds``).
    model_s : float
        Time in the model (including the copy of features back to the CPU).
    wait_s : float
        Time the main process waited for a batch (near 0 when readers keep up).
    num_workers, batch_size, num_threads : int
    device : str
    """

    n_tiles: int
    seconds: float
    tiles_per_s: float
    read_s: float
    preprocess_s: float
    model_s: float
    wait_s: float
    num_workers: int
    batch_size: int
    num_threads: int
    device: str

    def as_dict(self) -> dict:
        return asdict(self)


class TileBatches:
    """Map-style dataset of whole batches of tiles of one slide (a DataLoader worker's job).

    Item ``k`` is ``(tiles uint8 (b, h, w, 3), k, read_seconds, preprocess_seconds)``.
    The OpenSlide handle is opened lazily, once per process (each worker its own).
    """

    def __init__(self, path, grid: TileGrid, batch_size: int, normalizer=None):
        self.path = str(path)
        self.grid = grid
        self.batch_size = int(batch_size)
        self.normalizer = normalizer
        self._slide = None
        self._pid = None

    def __len__(self) -> int:
        return math.ceil(len(self.grid) / self.batch_size)

    def _handle(self):
        if self._slide is None or self._pid != os.getpid():
            import openslide

            self._slide = openslide.OpenSlide(self.path)
            self._pid = os.getpid()
        return self._slide

    def __getitem__(self, k: int):
        from PIL import Image

        g = self.grid
        i0, i1 = k * self.batch_size, min(len(g), (k + 1) * self.batch_size)
        out = np.empty((i1 - i0, g.tile_size, g.tile_size, 3), np.uint8)
        slide = self._handle()
        d = g.downsample
        side = g.size0 / d
        read_s = pre_s = 0.0
        for j, i in enumerate(range(i0, i1)):
            t0 = time.perf_counter()
            x0, y0 = (int(v) for v in g.coords[i])
            lx, ly = x0 / d, y0 / d
            ix, iy = int(math.floor(lx)), int(math.floor(ly))
            bx, by = lx - ix, ly - iy
            n = int(math.ceil(bx + side)) + 1
            try:
                block = read_region_rgb(slide, (round(ix * d), round(iy * d)), g.level, (n, n))
            except Exception as exc:  # noqa: BLE001 - OpenSlideError in a worker
                raise SlideReadError(f"Reading tile {i} at level-0 ({x0}, {y0}) failed ({exc}) "
                                     f"(file {self.path!r}); the slide is corrupt or truncated: "
                                     "copy it again from the source.") from exc
            t1 = time.perf_counter()
            if abs(side - g.tile_size) < 1e-9 and bx == 0 and by == 0:
                tile = block[:g.tile_size, :g.tile_size]
            else:
                tile = np.asarray(Image.fromarray(block).resize(
                    (g.tile_size, g.tile_size), Image.Resampling.BILINEAR,
                    box=(bx, by, bx + side, by + side)))
            if self.normalizer is not None:
                tile = self.normalizer.transform(tile)
            out[j] = tile
            read_s += t1 - t0
            pre_s += time.perf_counter() - t1
        return out, k, read_s, pre_s


def _collate(item):
    import torch

    tiles, k, r, p = item
    return torch.from_numpy(tiles), k, r, p


def _default_workers(device_type: str) -> int:
    if multiprocessing.current_process().daemon:
        return 0  # a daemonic process (e.g. a one-case runner process) may not have children
    cores = available_cores()
    if device_type == "cuda":
        return max(1, min(8, cores - 1))
    return 1 if cores >= 2 else 0


def encode_tiles(slide_path, grid: TileGrid, encoder, *, on_batch=None, batch_size: int = 32,
                 num_workers: int | None = None, prefetch_factor: int = 2, normalizer=None,
                 num_threads: int | None = None):
    """Features of every tile of ``grid``, read from ``slide_path`` and encoded by ``encoder``.

    Parameters
    ----------
    slide_path : path
    grid : TileGrid
    encoder : TileEncoder
        From :func:`~pathology.encoders.create_encoder`.
    on_batch : callable, optional
        ``on_batch(features (b, dim) float32, coords (b, 2), tissue_fraction (b,))``
        receives each batch in grid order. Without it the features are
        collected and returned (small slides, tests).
    batch_size : int, default 32
    num_workers : int, optional
        Reader processes. Default: on CUDA ``min(8, cores - 1)``; on the CPU 1
        (0, reading in this process, on one core or inside a daemonic process).
    prefetch_factor : int, default 2
        Batches each reader keeps ready.
    normalizer : MacenkoNormalizer, optional
        Stain normalisation applied to every tile by the readers.
    num_threads : int, optional
        Torch intra-op threads on the CPU. Default: the cores this process may use.

    Returns
    -------
    (features, stats)
        ``features`` is ``(n_tiles, dim)`` float32 without ``on_batch``, else None;
        ``stats`` is an :class:`EncodingStats`.
    """
    import torch
    from torch.utils.data import DataLoader

    if len(grid) == 0:
        raise EncoderError("encode_tiles: the tile grid is empty.")
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise EncoderError(f"The 'batch_size' parameter of encode_tiles must be an int >= 1. "
                           f"Got {batch_size!r} instead.")
    device = encoder.device
    if num_workers is None:
        num_workers = _default_workers(device.type)
    if num_workers > 0 and multiprocessing.current_process().daemon:
        num_workers = 0
    threads_before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(int(num_threads or available_cores()))
    n_threads = torch.get_num_threads()
    dataset = TileBatches(slide_path, grid, batch_size, normalizer)
    loader = DataLoader(
        dataset, batch_size=None, shuffle=False, num_workers=int(num_workers), collate_fn=_collate,
        pin_memory=device.type == "cuda",
        prefetch_factor=int(prefetch_factor) if num_workers > 0 else None,
        persistent_workers=False,
    )
    collected = [] if on_batch is None else None
    read_s = pre_s = model_s = wait_s = 0.0
    pending = None  # (features on device, batch index) of the batch launched last

    def finish(item):
        nonlocal model_s
        feats, k = item
        t = time.perf_counter()
        arr = feats.float().cpu().numpy()
        model_s += time.perf_counter() - t
        i0 = k * batch_size
        i1 = i0 + len(arr)
        if collected is not None:
            collected.append(arr)
        else:
            on_batch(arr, grid.coords[i0:i1], grid.tissue_fraction[i0:i1])

    t_start = time.perf_counter()
    try:
        it = iter(loader)
        while True:
            t = time.perf_counter()
            try:
                tiles, k, r, p = next(it)
            except StopIteration:
                break
            wait_s += time.perf_counter() - t
            read_s += r
            pre_s += p
            t = time.perf_counter()
            feats = encoder.forward(tiles.permute(0, 3, 1, 2))
            model_s += time.perf_counter() - t
            if pending is not None:
                finish(pending)
            pending = (feats, k)
        if pending is not None:
            finish(pending)
    finally:
        if device.type == "cpu":
            torch.set_num_threads(threads_before)
    seconds = time.perf_counter() - t_start
    stats = EncodingStats(
        n_tiles=len(grid), seconds=seconds, tiles_per_s=len(grid) / max(seconds, 1e-9),
        read_s=read_s, preprocess_s=pre_s, model_s=model_s, wait_s=wait_s,
        num_workers=int(num_workers), batch_size=int(batch_size), num_threads=n_threads,
        device=str(device),
    )
    features = np.concatenate(collected) if collected is not None else None
    return features, stats


def forward_rate(encoder, tiles: np.ndarray, *, batch_size: int = 32, repeats: int = 1,
                 num_threads: int | None = None) -> float:
    """Tiles per second of the encoder alone on ``tiles`` (already in memory, uint8 (n, h, w, 3)).

    The reference for :func:`encode_tiles`' end-to-end rate: same model,
    same batches, same normalisation, no reading.
    """
    import torch

    before = torch.get_num_threads()
    if encoder.device.type == "cpu":
        torch.set_num_threads(int(num_threads or available_cores()))
    try:
        x = torch.from_numpy(np.ascontiguousarray(tiles)).permute(0, 3, 1, 2)
        if encoder.device.type == "cuda":
            x = x.pin_memory()
        encoder.forward(x[:batch_size]).cpu()  # warm-up
        n = 0
        t = time.perf_counter()
        for _ in range(int(repeats)):
            for i in range(0, len(x), batch_size):
                encoder.forward(x[i:i + batch_size]).cpu()
                n += len(x[i:i + batch_size])
        return n / (time.perf_counter() - t)
    finally:
        torch.set_num_threads(before)
