"""Add the preset councils (fixtures/councils.json) that are not here yet.

`loaddata councils` overwrote every preset council and its target on each run
(so each `make run` undid an administrator's local area, public pages and
target, with no history); this command adds only what is missing and leaves
every council already here as it is.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from councils.models import FIRST_RECORDED, PRESET_LOADED, Council

PRESETS = Path(settings.BASE_DIR) / "fixtures" / "councils.json"


def load_councils(path: Path = PRESETS) -> dict[str, list[str]]:
    """Create each preset council not yet here, with the targets the presets give
    it, each with a "created" history record; councils already here are left as
    they are (a council kept before its history was recorded gets a first record
    of how it stands, so the first change to it can say what it was before).
    Returns the slugs added, kept and first recorded."""
    from spend.importer import copy_into_history

    added: dict[int, str] = {}  # pk -> slug
    kept: list[str] = []
    recorded: list[str] = []
    with transaction.atomic(), path.open(encoding="utf-8") as stream:
        for item in serializers.deserialize("json", stream):
            obj = item.object
            if isinstance(obj, Council):
                if obj.pk is None:  # not found by its slug (natural key)
                    obj._change_reason = PRESET_LOADED
                    obj.save()
                    added[obj.pk] = obj.slug
                    continue
                kept.append(obj.slug)
                if not Council.history.filter(id=obj.pk).exists():
                    # As it is held, not as the presets have it.
                    copy_into_history(Council, [obj.pk], reason=FIRST_RECORDED)
                    recorded.append(obj.slug)
            elif getattr(obj, "council_id", None) is not None:
                # A council's own record (its target): only with a council added now.
                if obj.council_id in added:
                    obj.pk = None
                    obj._change_reason = PRESET_LOADED
                    obj.save()
            else:
                raise CommandError(f"{path.name}: unexpected record {obj!r}")
    return {"added": list(added.values()), "kept": kept, "recorded": recorded}


class Command(BaseCommand):
    help = (
        "Add the preset councils (Luton, Milton Keynes, Knowsley, Preston) that are "
        "not here yet. Councils already here, and their targets, are left as they are."
    )

    def handle(self, *args, **options):
        result = load_councils()
        if result["added"]:
            self.stdout.write(
                f"Added the preset councils: {', '.join(result['added'])}."
            )
        if result["kept"]:
            self.stdout.write(
                f"Already here, left as they are: {', '.join(result['kept'])}."
            )
        if result["recorded"]:
            self.stdout.write(
                "Their settings history starts now, with how they stand: "
                f"{', '.join(result['recorded'])}."
            )
