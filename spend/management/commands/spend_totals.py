"""Print what the database holds, council by council, to the penny: the figures to
compare before a backup and after a restore (README, "Backup and restore")."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db.models import Count, DecimalField, Exists, OuterRef, Sum, Value
from django.db.models.functions import Coalesce

from councils.models import Council
from procure.models import Contract, Supplier
from socialvalue.models import SupplierTag
from spend.models import SpendLine, SpendUpload, SupplierMonth, TagMonth

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))


def totals() -> dict:
    """Per council: uploads, spend lines and their total, and the totals its
    rollups hold (which should equal the lines'); then the registers' sizes."""
    lines = {
        row["council_id"]: row
        for row in SpendLine.objects.order_by()
        .values("council_id")
        .annotate(lines=Count("id"), total=Coalesce(Sum("amount"), ZERO))
    }
    rolled_up = dict(
        SupplierMonth.objects.order_by()
        .values("council_id")
        .annotate(total=Sum("total"))
        .values_list("council_id", "total")
    )
    tagged = dict(
        TagMonth.objects.filter(directorate__isnull=True)
        .order_by()
        .values("council_id")
        .annotate(total=Sum("total"))
        .values_list("council_id", "total")
    )
    uploads = dict(
        SpendUpload.objects.order_by()
        .values("council_id")
        .annotate(n=Count("id"))
        .values_list("council_id", "n")
    )
    contracts = dict(
        Contract.objects.order_by()
        .values("council_id")
        .annotate(n=Count("id"))
        .values_list("council_id", "n")
    )
    councils = []
    for council in Council.objects.order_by("slug"):
        own = lines.get(council.pk, {"lines": 0, "total": Decimal("0")})
        councils.append(
            {
                "council": council.slug,
                "uploads": uploads.get(council.pk, 0),
                "lines": own["lines"],
                "total": f"{own['total']:.2f}",
                "rolled_up": f"{rolled_up.get(council.pk) or Decimal('0'):.2f}",
                "by_tags": f"{tagged.get(council.pk) or Decimal('0'):.2f}",
                "contracts": contracts.get(council.pk, 0),
            }
        )
    return {
        "councils": councils,
        "suppliers": Supplier.objects.count(),
        "supplier_tags": SupplierTag.objects.count(),
        "contracts": Contract.objects.count(),
        "dangling": dangling(),
    }


# The keys the database does not check (see spend.models.hold_rows): the writers
# check them, and Django's deletes cascade, but a row deleted some other way (SQL
# typed into psql, say) would leave these pointing at nothing.
UNCHECKED_KEYS = [
    (SpendLine, "council", Council),
    (SpendLine, "upload", SpendUpload),
    (SpendLine, "supplier", Supplier),
    (SpendLine, "contract", Contract),
    (SupplierMonth, "council", Council),
    (SupplierMonth, "supplier", Supplier),
    (SupplierTag, "council", Council),
    (SupplierTag, "supplier", Supplier),
]


def dangling() -> dict[str, int]:
    """Rows whose unchecked key points at a row that is not there, per key
    ("spendline.supplier": 0); all should be 0."""
    found = {}
    for model, field, target in UNCHECKED_KEYS:
        column = f"{field}_id"
        found[f"{model._meta.model_name}.{field}"] = (
            model.objects.order_by()
            .filter(**{f"{column}__isnull": False})
            .filter(~Exists(target.objects.filter(pk=OuterRef(column))))
            .count()
        )
    return found


class Command(BaseCommand):
    help = (
        "Print each council's uploads, spend lines and total (to the penny) and "
        "the totals its dashboard rollups hold, then the number of suppliers, tags "
        "and contracts: run it before a backup and after a restore, and compare."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="json: one JSON object, for scripts.",
        )

    def handle(self, *args, format="text", **options):
        figures = totals()
        if format == "json":
            self.stdout.write(json.dumps(figures, sort_keys=True))
            return
        self.stdout.write(
            f"{'council':<24}{'uploads':>8}{'lines':>12}{'total (£)':>18}"
            f"{'rolled up (£)':>18}{'contracts':>10}"
        )
        for row in figures["councils"]:
            self.stdout.write(
                f"{row['council']:<24}{row['uploads']:>8}{row['lines']:>12}"
                f"{row['total']:>18}{row['rolled_up']:>18}{row['contracts']:>10}"
            )
            if not row["total"] == row["rolled_up"] == row["by_tags"]:
                self.stdout.write(
                    f"  {row['council']}: the rollups do not add up to the lines: "
                    "run `manage.py rebuild_rollups`."
                )
        self.stdout.write(
            f"suppliers {figures['suppliers']}, supplier tags "
            f"{figures['supplier_tags']}, contracts {figures['contracts']}"
        )
        for key, count in figures["dangling"].items():
            if count:
                self.stdout.write(
                    f"{count} {key} point at nothing: a row was deleted without "
                    "Django. Restore it, or delete these rows."
                )
