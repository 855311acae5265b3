"""Write suppliers' VAT numbers as the register keeps them ("GB123456789"), so a
spend file's "123 4567 89" finds its supplier. Values that are not VAT numbers
("N/A", "0") are left as they were: they match nothing."""

from django.db import migrations

from spend.values import vat_number_or_blank


def tidy(apps, schema_editor):
    Supplier = apps.get_model("procure", "Supplier")
    for pk, number in (
        Supplier.objects.exclude(vat_number="").values_list("pk", "vat_number")
    ).iterator():
        tidied = vat_number_or_blank(number)
        if tidied and tidied != number:
            Supplier.objects.filter(pk=pk).update(vat_number=tidied)


class Migration(migrations.Migration):
    dependencies = [("procure", "0007_constraint_messages_reference_any_case")]

    operations = [migrations.RunPython(tidy, migrations.RunPython.noop)]
