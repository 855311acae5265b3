"""Pagination shared by every list page's table (django-tables2)."""

from __future__ import annotations

import copy

from django.http import HttpRequest
from django_tables2 import RequestConfig, Table

MAX_PER_PAGE = 500


def paginate(request: HttpRequest, table: Table, per_page: int, **options) -> Table:
    """Order and paginate `table` from the address, as `RequestConfig` does, but a
    `per_page` that is not a whole number from 1 to MAX_PER_PAGE falls back to
    `per_page` (django-tables2 would fail on 0 or less and load every row for a
    huge one); a page past the end shows the last page."""
    field = table.prefixed_per_page_field
    asked = request.GET.get(field, "")
    if asked and not (asked.isdecimal() and 1 <= int(asked) <= MAX_PER_PAGE):
        request = copy.copy(request)
        request.GET = request.GET.copy()
        request.GET[field] = str(per_page)
    return RequestConfig(request, paginate={**options, "per_page": per_page}).configure(
        table
    )
