"""`make docs-screenshots`: copy the browser journeys' screenshots the docs use into docs/img/.

The e2e tests (`make test`, tests/e2e/) save full-page screenshots as var/screenshots/NAME.png.
Every docs page that shows one refers to it as ``img/NAME.png`` (``../img/NAME.png`` from a
section's page); this script finds those references, takes each NAME from var/screenshots/,
scales it to at most MAX_WIDTH pixels wide and writes it to docs/img/NAME.png as a palette PNG
(32 colours: a fraction of the original's size, still legible), so that the site can be built
without a browser.
Screenshots in docs/img/ that no page refers to any more are removed. Safe to run again.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMG = DOCS / "img"
SCREENSHOTS = ROOT / "var" / "screenshots"
MAX_WIDTH = 900
REF = re.compile(r"\]\((?:\.\./)*img/([A-Za-z0-9_.-]+\.png)")  # a Markdown image or link
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")


def referenced() -> dict[str, list[str]]:
    """``{NAME.png: [pages that show it]}`` over every Markdown page under docs/."""
    names: dict[str, list[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        text = CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))  # examples in code are not uses
        for name in REF.findall(text):
            names.setdefault(name, []).append(str(page.relative_to(ROOT)))
    return names


def shrink(src: Path, dst: Path) -> None:
    from PIL import Image

    with Image.open(src) as image:
        image = image.convert("RGB")
        if image.width > MAX_WIDTH:
            height = round(image.height * MAX_WIDTH / image.width)
            image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
        image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            dst, optimize=True)


def main() -> int:
    names = referenced()
    missing = [name for name in names if not (SCREENSHOTS / name).is_file()]
    if missing:
        print(f"docs-screenshots: not in var/screenshots/: {', '.join(sorted(missing))} "
              "(run the browser journeys first: make test PYTEST_ARGS=tests/e2e)", file=sys.stderr)
        return 1
    IMG.mkdir(exist_ok=True)
    for name in sorted(names):
        shrink(SCREENSHOTS / name, IMG / name)
    for old in sorted(IMG.glob("*.png")):
        if old.name not in names:
            old.unlink()
            print(f"removed docs/img/{old.name} (no page shows it)")
    total = sum((IMG / name).stat().st_size for name in names)
    print(f"docs/img/: {len(names)} screenshots, {total // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
