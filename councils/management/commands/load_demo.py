from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from councils.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from councils.models import Council, Membership, Role
from councils.templatetags.money import gbp


class Command(BaseCommand):
    help = (
        "Create or refresh the demo data for one preset council: suppliers, 24 months "
        "of spend, contracts, targets and one demo user per role. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--council", default="luton", help="Preset council slug.")
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--lines-per-month", type=int, default=3000)

    def handle(self, *args, council, months, lines_per_month, **options):
        if not Council.objects.filter(slug=council).exists():
            raise CommandError(
                f"No council {council!r}: run `python manage.py load_councils` first."
            )
        if months < 1 or lines_per_month < 1:
            raise CommandError("--months and --lines-per-month must be at least 1.")
        result = load_demo(
            council_slug=council,
            today=timezone.localdate(),
            months=months,
            lines_per_month=lines_per_month,
        )
        self.stdout.write(
            f"Demo for {result['council'].name}: {result['suppliers']} suppliers, "
            f"{result['lines']} spend lines from {result['first']:%d %b %Y} to "
            f"{result['last']:%d %b %Y}, total {gbp(result['total'])} "
            f"({result['credits']} credit notes, {gbp(result['redacted'])} redacted)."
        )
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD}):")
        # Each demo user's role as it is now: an administrator may have changed
        # it, or removed the member (QA: the roles were printed from the code).
        roles = dict(
            Membership.objects.filter(
                council=result["council"], user__username__in=DEMO_USERS
            ).values_list("user__username", "role")
        )
        for username in DEMO_USERS:
            role = roles.get(username)
            shown = (
                Role(role).label
                if role
                else f"no longer a member of {result['council'].short_name}"
            )
            self.stdout.write(f"  {username:<14} {shown}")
