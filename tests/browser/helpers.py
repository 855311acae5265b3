"""What the browser journeys share: screenshots, and reading money and CSV files.

Each journey saves numbered screenshots of its key steps in pytest-playwright's
folder for the test (`test-results/<test id>/`, made afresh by each run), so a
person can see what the browser saw without running it again.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit


def money(text: str) -> Decimal:
    """£1,234.56 or −£12.00 (a real minus sign, as the pages write it) as a Decimal."""
    text = text.strip().replace("\u2212", "-").replace("£", "").replace(",", "")
    return Decimal(text)


def read_csv(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


class Screens:
    """`screens.take(page, "uploaded")` saves `01-uploaded.png`, `02-…`, in order."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.taken: list[Path] = []

    def take(self, page, name: str, *, full_page: bool = True) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        assert path.stat().st_size > 0, f"an empty screenshot: {path}"
        self.taken.append(path)
        return path


AXE = "/static/vendor/axe/axe.min.js"  # as tests/browser/test_accessibility.py


def serious_axe_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    # Judge the page as it is read, not with the link just clicked still focused:
    # GOV.UK's focus style swaps the underline for a thick bar that axe's
    # link-in-text-block rule does not see.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.add_script_tag(url=origin + AXE)
    violations = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(results => results.violations)"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; "
        f"{[node['html'][:200] for node in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]
