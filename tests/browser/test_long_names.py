"""A very long unbroken name does not widen the page past the screen.

QA: a supplier named with 300 letters and no space made its page 3,980px wide
at 1280px and at 390px: the "see all payments to …" sentence, the names in the
council's files and the history lines would not wrap.
"""

from __future__ import annotations

import pytest
from django.db.models import Count

from procure.models import Supplier, SupplierAlias
from spend.models import SpendLine

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [390, 1280])
def test_a_supplier_with_a_300_letter_name_fits_the_screen(
    demo, live_server, page, log_in, width
):
    supplier = (
        Supplier.objects.filter(spend_lines__council__slug="luton")
        .annotate(lines=Count("spend_lines"))
        .order_by("-lines", "pk")
        .first()
    )
    long = "W" * 300
    supplier.name = long
    supplier.save()
    SupplierAlias.objects.filter(supplier=supplier).update(name=long)
    assert SpendLine.objects.filter(supplier=supplier).count() > 20
    base = live_server.url
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base, "demo-officer")
    page.goto(f"{base}/c/luton/suppliers/{supplier.pk}/")
    page.get_by_role("heading", level=1).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
