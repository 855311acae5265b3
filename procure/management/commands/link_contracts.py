from django.core.management.base import BaseCommand, CommandError

from councils.models import Council
from procure.linking import link_spend


class Command(BaseCommand):
    help = (
        "Link spend lines to contracts: same supplier, paid inside the contract's "
        "period (the latest-starting contract wins). Lines an officer linked or "
        "unlinked by hand are left alone. Safe to run again. What it moves is told "
        "in each contract's history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--council", help="Council slug; every council when left out."
        )

    def handle(self, *args, council, **options):
        councils = Council.objects.all()
        if council:
            councils = councils.filter(slug=council)
            if not councils.exists():
                raise CommandError(f"No council {council!r}.")
        for each in councils:
            result = link_spend(each, cause="when the link_contracts command was run")
            self.stdout.write(
                f"{each.name}: {result.linked} lines linked to a contract, "
                f"{result.unlinked} with none, {result.manual} set by an officer."
            )
