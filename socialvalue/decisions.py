"""Who may change an officer's decision on a supplier's tag.

Here, not in `socialvalue.views`, so that merging suppliers (`procure.merging`,
which `procure.views` imports, which `socialvalue.views` imports) can ask the same
question without an import cycle."""

from __future__ import annotations

from councils.access import members_elsewhere, names_as_administrator
from councils.models import Council, Membership
from socialvalue.models import TagOverride


def decided_elsewhere(override: TagOverride | None, council: Council, user) -> bool:
    """Whether `override` is a decision on what every council shares (size, VCSE,
    Living Wage) made by an officer who may have made it for another council:
    this council's officers may not change or remove it (security review: a
    council's officers undid another's decisions, and with them its figures). Its
    maker, and a LocalSpend administrator, may; a decision by no one known may be
    changed by any officer."""
    if override is None or override.council_id is not None:
        return False  # none, or a location decision: this council's own
    maker = override.created_by_id
    if maker is None or maker == user.pk or names_as_administrator(user):
        return False
    if names_as_administrator(override.created_by):
        return True  # a LocalSpend administrator's, for every council
    # A member here now or before, and never elsewhere, made it for this council
    # (review: a leaver's decisions were locked for good).
    been_here = (
        Membership.objects.filter(user_id=maker, council=council).exists()
        or Membership.history.filter(user_id=maker, council_id=council.pk).exists()
    )
    return not been_here or bool(members_elsewhere([maker], council))


DECIDED_ELSEWHERE = (
    "This decision may have been made for another council, and it applies for "
    "every council that pays this supplier, so it can be changed or removed only "
    "by the officer who made it or by a LocalSpend administrator (whoever runs "
    "LocalSpend for your council). If you think it is wrong, ask the "
    "administrator, saying why."
)
