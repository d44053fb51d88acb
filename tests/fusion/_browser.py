"""Open a local HTML file in headless Chromium (Playwright driving Debian's chromium).

The browser is the system's (``apt-get install chromium``; ``$CHROMIUM`` overrides the
path); Playwright's own browser download is never used. Without Playwright or a
Chromium the caller's test is skipped, unless ``NOMOFUSE_REQUIRE_BROWSER=1`` (set by
``.ci/run``), which makes it fail instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    _unavailable("no Chromium executable (apt-get install chromium, or set $CHROMIUM)")


def _unavailable(reason: str):
    if os.environ.get("NOMOFUSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (NOMOFUSE_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


def artifact_dir(tmp_path_factory) -> Path:
    """Where browser tests keep their screenshots: ``$NOMOFUSE_TEST_ARTIFACTS`` or pytest's temp base."""
    base = os.environ.get("NOMOFUSE_TEST_ARTIFACTS")
    path = Path(base) if base else tmp_path_factory.getbasetemp() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_page(html_file: Path, screenshot: Path, *, width: int = 1400, height: int = 1000) -> dict:
    """Load ``html_file`` and report what happened.

    Returns a dict with ``requests`` (every URL the page asked for, the document
    included), ``images`` (``src`` prefix, ``complete``, ``naturalWidth`` of every
    ``<img>``), ``title``, ``console_errors``, ``anchors`` (ids present) and
    ``links`` (every ``href``).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    exe = chromium_path()
    url = Path(html_file).resolve().as_uri()
    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url, wait_until="load")
            page.wait_for_function("Array.from(document.images).every(i => i.complete)")
            images = page.evaluate(
                "Array.from(document.images).map(i => ({src: i.src.slice(0, 30), "
                "complete: i.complete, naturalWidth: i.naturalWidth}))")
            anchors = page.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
            links = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
            title = page.title()
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    return {"requests": requests, "images": images, "title": title, "console_errors": errors,
            "anchors": anchors, "links": links, "url": url}
