"""Recount the dashboard rollups from the spend lines (after a restore or an upgrade)."""

from django.core.management.base import BaseCommand

from councils.models import Council
from spend import rollup


class Command(BaseCommand):
    help = (
        "Recount the monthly rollups the dashboards read, from the spend lines and "
        "the current supplier tags. Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--council", help="Slug of one council (default: every council)."
        )

    def handle(self, *args, council=None, **options):
        councils = Council.objects.order_by("slug")
        if council:
            councils = councils.filter(slug=council)
            if not councils.exists():
                self.stderr.write(f"No council with slug {council!r}.")
                raise SystemExit(2)
        for each in councils:
            rollup.rebuild(each.pk)
            if options["verbosity"]:
                self.stdout.write(f"{each.slug}: rollups recounted.")
