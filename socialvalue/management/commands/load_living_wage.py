from datetime import date

from django.core.management.base import CommandError

from socialvalue.management.commands._reference import ReferenceLoadCommand
from socialvalue.models import ReferenceKind


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--date must be a date written YYYY-MM-DD, not {value!r}."
        ) from None


class Command(ReferenceLoadCommand):
    help = (
        "Load the Living Wage Foundation's accredited-employer list (CSV with an "
        "Employer column, optionally Location) as the snapshot of --date, and report "
        "which suppliers it names; then classify every supplier again if it changed."
    )
    kind = ReferenceKind.LIVING_WAGE
    file_help = "CSV of accredited employers"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--date", required=True, help="When the list was taken, YYYY-MM-DD."
        )

    def handle(self, *args, file, date, **options):
        self.load(file, options, taken_on=_day(date))
