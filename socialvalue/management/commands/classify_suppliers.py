from django.core.management.base import BaseCommand, CommandError

from councils.models import Council
from socialvalue.tagging import classify_suppliers


class Command(BaseCommand):
    help = (
        "Tag every supplier: location (for each council that deals with it), size, "
        "VCSE and Living Wage. Officer overrides are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", help="Only this council's location tags.")

    def handle(self, *args, council=None, **options):
        councils = None
        if council:
            councils = list(Council.objects.filter(slug=council))
            if not councils:
                raise CommandError(f"No council with the slug {council!r}.")
        result = classify_suppliers(councils=councils)
        self.stdout.write(
            f"Classified {result.suppliers:,} suppliers: {result.created:,} tags new, "
            f"{result.changed:,} changed, {result.unchanged:,} unchanged."
        )
        for key, count in sorted(result.by_value.items()):
            self.stdout.write(f"  {key:<28} {count:>8,}")
