"""Ordering and pagination shared by every list page's table (django-tables2)."""

from __future__ import annotations

import copy

from django.http import HttpRequest
from django_tables2 import RequestConfig, Table

MAX_PER_PAGE = 500


def _tidied(request: HttpRequest, table: Table, per_page: int | None) -> HttpRequest:
    """The request with what django-tables2 would mishandle left out: a `per_page`
    that is not a whole number from 1 to MAX_PER_PAGE (it fails on 0 or less and
    loads every row for a huge one) becomes `per_page`; a sort by a column the
    table cannot sort by (which would leave the rows in no order) is dropped, so
    the table's own order stands."""
    changes = {}
    field = table.prefixed_per_page_field
    asked = request.GET.get(field, "")
    if (
        per_page
        and asked
        and not (asked.isdecimal() and 1 <= int(asked) <= MAX_PER_PAGE)
    ):
        changes[field] = str(per_page)
    sort_field = table.prefixed_order_by_field
    sort = request.GET.get(sort_field, "")
    sortable = {name for name, column in table.columns.items() if column.orderable}
    if sort and any(key.lstrip("-") not in sortable for key in sort.split(",")):
        changes[sort_field] = None
    if not changes:
        return request
    request = copy.copy(request)
    request.GET = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            del request.GET[name]
        else:
            request.GET[name] = value
    return request


def paginate(request: HttpRequest, table: Table, per_page: int, **options) -> Table:
    """Order and paginate `table` from the address, as `RequestConfig` does (see
    `_tidied` for what is left out); a page past the end shows the last page."""
    request = _tidied(request, table, per_page)
    return RequestConfig(request, paginate={**options, "per_page": per_page}).configure(
        table
    )


def order(request: HttpRequest, table: Table) -> Table:
    """Order `table` from the address, every row on one page (a download)."""
    return RequestConfig(_tidied(request, table, None), paginate=False).configure(table)
