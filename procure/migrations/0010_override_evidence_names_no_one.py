"""An officer's override wrote their username into the tag's evidence ("bob set
this on 01 May 2025: …"). Size, VCSE and Living Wage tags are shared by every
council, and other councils' people are not named to a council: the evidence now
reads "An officer set this on …" (socialvalue.tagging._override_result). Rewrite
the evidence already held, current and past, the same way.

In the procure app because it goes with the merge and supplier page changes that
keep other councils' people and reasons to themselves (procure 0009)."""

import re

from django.db import migrations

NAMED = re.compile(r"^[\w.@+-]+ set this on (\d{1,2} [A-Za-z]+ \d{4}): ")


def unname(apps, schema_editor):
    for model_name in ("SupplierTag", "HistoricalSupplierTag"):
        model = apps.get_model("socialvalue", model_name)
        rows = model.objects.filter(source="officer_override").exclude(
            evidence__startswith="An officer set this on "
        )
        key = "history_id" if model_name.startswith("Historical") else "pk"
        for pk, evidence in rows.values_list(key, "evidence").iterator():
            unnamed = NAMED.sub(r"An officer set this on \1: ", evidence, count=1)
            if unnamed != evidence:
                model.objects.filter(**{key: pk}).update(evidence=unnamed)


class Migration(migrations.Migration):
    dependencies = [
        ("procure", "0009_supplier_merge_council"),
        ("socialvalue", "0009_reference_load_heartbeat"),
    ]

    operations = [migrations.RunPython(unname, migrations.RunPython.noop)]
