from datetime import date

from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused
from socialvalue.models import ReferenceKind
from socialvalue.reference import load_and_classify


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--date must be a date written YYYY-MM-DD, not {value!r}."
        ) from None


class Command(BaseCommand):
    help = (
        "Load the Living Wage Foundation's accredited-employer list (CSV with an "
        "Employer column, optionally Location) as the snapshot of --date, and report "
        "which suppliers it names; then classify every supplier again if it changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV of accredited employers")
        parser.add_argument(
            "--date", required=True, help="When the list was taken, YYYY-MM-DD."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report, but change nothing."
        )
        parser.add_argument(
            "--near-matches", metavar="CSV", help="Write every near match to CSV."
        )
        parser.add_argument(
            "--no-classify",
            action="store_true",
            help="Do not classify the affected suppliers again (for bulk scripted "
            "loads: run classify_suppliers once at the end).",
        )

    def handle(
        self,
        *args,
        file,
        date,
        dry_run=False,
        near_matches=None,
        no_classify=False,
        **options,
    ):
        taken_on = _day(date)
        try:
            loaded = load_and_classify(
                ReferenceKind.LIVING_WAGE,
                file,
                taken_on=taken_on,
                dry_run=dry_run,
                classify=not no_classify,
            )
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(loaded.lines()))
        if near_matches:
            loaded.report.write_near_matches(near_matches)
