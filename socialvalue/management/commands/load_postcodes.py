import time

from socialvalue.management.commands._reference import ReferenceLoadCommand
from socialvalue.models import ReferenceKind


class Command(ReferenceLoadCommand):
    help = (
        "Load the ONS postcode directory (ONSPD or NSPL CSV, or its ZIP) so that full "
        "postcodes resolve to their local authority, then classify every supplier "
        "again if it changed. Streamed; safe to run again."
    )
    kind = ReferenceKind.POSTCODES
    file_help = "ONSPD_….csv, NSPL_….csv or the ZIP"
    reports_matches = False

    def handle(self, *args, file, verbosity=1, **options):
        started = time.monotonic()
        shown = [0]

        def progress(rows: int) -> None:
            if verbosity >= 1 and rows - shown[0] >= 250_000:
                shown[0] = rows
                elapsed = time.monotonic() - started
                self.stderr.write(f"  {rows:,} rows read ({elapsed:.0f} s)")

        self.load(file, options, progress=progress)
        self.stdout.write(f"Took {time.monotonic() - started:.1f} s.")
