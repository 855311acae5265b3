from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused, load_charities


class Command(BaseCommand):
    help = (
        "Match the Charity Commission register extract (publicextract.charity, text "
        "or ZIP) to the supplier register: by charity number, company number, then "
        "exact name; near matches are listed for an officer to confirm."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="publicextract.charity.txt or .zip")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report, but change nothing."
        )
        parser.add_argument(
            "--near-matches", metavar="CSV", help="Write every near match to CSV."
        )

    def handle(self, *args, file, dry_run=False, near_matches=None, **options):
        try:
            report = load_charities(file, dry_run=dry_run)
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(report.lines()))
        if near_matches:
            report.write_near_matches(near_matches)
