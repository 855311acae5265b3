"""Column choices remembered for files with no header row are forgotten: such a
file is known only by its width, so a later file of the same width with its
columns in another order was read with the wrong columns, without asking. Their
columns are now guessed from the values each time, and shown on the preview."""

from django.db import migrations


def forget_headerless(apps, schema_editor):
    RememberedMapping = apps.get_model("spend", "RememberedMapping")
    RememberedMapping.objects.filter(layout__startswith="no-header:").delete()


class Migration(migrations.Migration):
    dependencies = [("spend", "0013_remembered_mapping_header")]

    operations = [migrations.RunPython(forget_headerless, migrations.RunPython.noop)]
