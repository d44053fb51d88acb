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
            self._show()
            return
        self._bar = tqdm(total=self.total, initial=self.n, desc=self.desc, unit="case",
                         file=sys.stderr, dynamic_ncols=True)
        if self.failed:
            self._bar.set_postfix(failed=self.failed)

    def update(self, failed: bool = False) -> None:
        self.n += 1
        self.failed += bool(failed)
        if not self.enabled or not self._started:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last > 0.5 or self.n == self.total:
            self._last = now
            self._show()

    def _show(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} ({self.failed} failed)")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.start()
        if self._bar is not None:
            self._bar.close()
        else:
            self._show()
            sys.stderr.write("\n")
