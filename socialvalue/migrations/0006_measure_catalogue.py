"""Load the starter catalogue of social value measures (fixtures/measures.json).

Idempotent: each measure is created or brought up to date by its code, so running
it again, or after `loaddata measures`, changes nothing. Measures a council has
added are left alone, and nothing is ever deleted.
"""

import json
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "measures.json"


def load_catalogue(apps, schema_editor):
    Measure = apps.get_model("socialvalue", "Measure")
    known = {f.name for f in Measure._meta.get_fields()}
    for row in json.loads(CATALOGUE.read_text(encoding="utf-8")):
        fields = {k: v for k, v in row["fields"].items() if k in known}
        code = fields.pop("code")
        Measure.objects.update_or_create(code=code, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("socialvalue", "0005_social_value")]

    operations = [migrations.RunPython(load_catalogue, migrations.RunPython.noop)]
