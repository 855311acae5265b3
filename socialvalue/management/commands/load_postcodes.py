import time

from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused
from socialvalue.models import ReferenceKind
from socialvalue.reference import load_and_classify


class Command(BaseCommand):
    help = (
        "Load the ONS postcode directory (ONSPD or NSPL CSV, or its ZIP) so that full "
        "postcodes resolve to their local authority, then classify every supplier "
        "again if it changed. Streamed; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="ONSPD_….csv, NSPL_….csv or the ZIP")
        parser.add_argument(
            "--no-classify",
            action="store_true",
            help="Do not classify the affected suppliers again (for bulk scripted "
            "loads: run classify_suppliers once at the end).",
        )

    def handle(self, *args, file, verbosity=1, no_classify=False, **options):
        started = time.monotonic()
        shown = [0]

        def progress(rows: int) -> None:
            if verbosity >= 1 and rows - shown[0] >= 250_000:
                shown[0] = rows
                elapsed = time.monotonic() - started
                self.stderr.write(f"  {rows:,} rows read ({elapsed:.0f} s)")

        try:
            loaded = load_and_classify(
                ReferenceKind.POSTCODES,
                file,
                progress=progress,
                classify=not no_classify,
            )
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(loaded.lines()))
        self.stdout.write(f"Took {time.monotonic() - started:.1f} s.")
