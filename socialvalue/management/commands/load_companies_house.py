from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused
from socialvalue.models import ReferenceKind
from socialvalue.reference import load_and_classify


class Command(BaseCommand):
    help = (
        "Match Companies House basic company data (BasicCompanyData CSV, or its ZIP) "
        "to the supplier register: by company number, then exact name; near matches "
        "are listed for an officer to confirm. The suppliers whose facts changed are "
        "classified again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="BasicCompanyDataAsOneFile-….csv or .zip")
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
        dry_run=False,
        near_matches=None,
        no_classify=False,
        **options,
    ):
        try:
            loaded = load_and_classify(
                ReferenceKind.COMPANIES_HOUSE,
                file,
                dry_run=dry_run,
                classify=not no_classify,
            )
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(loaded.lines()))
        if near_matches:
            loaded.report.write_near_matches(near_matches)
