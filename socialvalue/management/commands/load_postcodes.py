import time

from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused, load_postcodes


class Command(BaseCommand):
    help = (
        "Load the ONS postcode directory (ONSPD or NSPL CSV, or its ZIP) so that full "
        "postcodes resolve to their local authority. Streamed; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="ONSPD_….csv, NSPL_….csv or the ZIP")

    def handle(self, *args, file, verbosity=1, **options):
        started = time.monotonic()
        shown = [0]

        def progress(rows: int) -> None:
            if verbosity >= 1 and rows - shown[0] >= 250_000:
                shown[0] = rows
                elapsed = time.monotonic() - started
                self.stderr.write(f"  {rows:,} rows read ({elapsed:.0f} s)")

        try:
            report = load_postcodes(file, progress=progress)
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(report.lines()))
        self.stdout.write(f"Took {time.monotonic() - started:.1f} s.")
