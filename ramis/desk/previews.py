"""Inline previews of uploaded documents for the clerk's review page (R10).

Images are shown as they are. A PDF's first page is rendered to PNG by poppler's ``pdftoppm``
(installed with the runtime packages), so the preview does not depend on the browser's PDF
viewer, which the uploads' ``Content-Security-Policy: sandbox`` (X8) keeps from running. The
PDF is fed on stdin and the PNG read from stdout: no temporary files; a time limit bounds it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

log = logging.getLogger(__name__)
PREVIEW_WIDTH = 900
TIMEOUT_SECONDS = 15


def pdf_first_page_png(data: bytes, *, width: int = PREVIEW_WIDTH) -> bytes | None:
    """The first page as PNG, or None (no pdftoppm, no pages, a broken or hostile file)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        log.warning("pdftoppm not found: PDF previews are off (install poppler-utils)")
        return None
    try:
        proc = subprocess.run(
            [tool, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to-x", str(width), "-scale-to-y", "-1", "-"],
            input=data, capture_output=True, timeout=TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning("pdftoppm took longer than %ss: no preview", TIMEOUT_SECONDS)
        return None
    if proc.returncode != 0 or not proc.stdout.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    return proc.stdout
