"""Progress of a cohort run: a tqdm bar, or a counter on stderr without tqdm."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """tqdm progress bar when tqdm is installed, else a counter on stderr.

    Counts from the first update but shows nothing until :meth:`start`:
    tqdm starts a monitor thread, and worker processes are best forked from a
    parent that has no thread yet.

    A bar never stops a run: if stderr cannot be written (closed, as in
    ``nomofuse ... 2>&1 | head``), the bar turns itself off and the run goes on.
    """

    def __init__(self, total: int, desc: str, enabled: bool = True):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.n = self.failed = 0
        self._bar = None
        self._started = False
        self._last = 0.0

    def start(self) -> None:
        if self._started or not self.enabled:
            self._started = True
            return
        self._started = True
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._guard(self._show)
            return
        self._guard(self._start_bar, tqdm)

    def _start_bar(self, tqdm) -> None:
        self._bar = tqdm(total=self.total, initial=self.n, desc=self.desc, unit="case",
                         file=sys.stderr, dynamic_ncols=True)
        if self.failed:
            self._bar.set_postfix(failed=self.failed)

    def _guard(self, step, *args) -> None:
        """Run one drawing step; on a closed or broken stderr, turn the bar off for good."""
        try:
            step(*args)
        except (OSError, ValueError):  # BrokenPipeError, "I/O operation on closed file"
            self.enabled = False
            bar, self._bar = self._bar, None
            if bar is not None:
                try:
                    bar.disable = True
                except Exception:  # noqa: BLE001 - only switching it off
                    pass

    def update(self, failed: bool = False) -> None:
        self.n += 1
        self.failed += bool(failed)
        if not self.enabled or not self._started:
            return
        if self._bar is not None:
            self._guard(self._update_bar, failed)
            return
        now = time.monotonic()
        if now - self._last > 0.5 or self.n == self.total:
            self._last = now
            self._guard(self._show)

    def _update_bar(self, failed: bool) -> None:
        if failed:
            self._bar.set_postfix(failed=self.failed, refresh=False)
        self._bar.update(1)

    def _show(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} ({self.failed} failed)")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.start()
        if self._bar is not None:
            self._guard(self._bar.close)
        elif self.enabled:
            self._guard(self._show_last)

    def _show_last(self) -> None:
        self._show()
        sys.stderr.write("\n")
