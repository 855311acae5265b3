"""What the four reference data commands share: the file, --dry-run,
--near-matches and --no-classify, and loading through `load_and_classify`."""

from django.core.management.base import BaseCommand, CommandError

from socialvalue.loaders import LoaderRefused
from socialvalue.reference import load_and_classify


class ReferenceLoadCommand(BaseCommand):
    kind: str  # a socialvalue.models.ReferenceKind
    file_help = "the file to load"
    reports_matches = True  # offers --dry-run and --near-matches

    def add_arguments(self, parser):
        parser.add_argument("file", help=self.file_help)
        if self.reports_matches:
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

    def handle(self, *args, file, **options):
        self.load(file, options)

    def load(self, file, options, **given):
        """Load `file`, print the report, write the near matches if asked."""
        if self.reports_matches:
            given["dry_run"] = options.get("dry_run", False)
        try:
            loaded = load_and_classify(
                self.kind, file, classify=not options.get("no_classify"), **given
            )
        except LoaderRefused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write("\n".join(loaded.lines()))
        if options.get("near_matches"):
            loaded.report.write_near_matches(options["near_matches"])
        return loaded
