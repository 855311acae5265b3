"""Company numbers typed before `tidy_company_number` padded two-letter prefixes
were kept short ("SC12345"), while the registry loaders keep the full 8 characters
("SC012345"), so the supplier never met its registry facts. Write the numbers held
in full, as the form now does; a number of nothing but zeros (a placeholder) is
cleared. A number that, written in full, another supplier already holds is left as
it is: the two are the same company, for an officer to merge."""

from django.db import migrations
from django.db.models import Q

from spend.values import tidy_company_number


def in_full(apps, schema_editor):
    Supplier = apps.get_model("procure", "Supplier")
    held = Supplier.objects.exclude(company_number="")
    short = held.filter(
        Q(company_number__regex=r"^[A-Za-z]{2}[0-9]{1,5}$")
        | Q(company_number__regex=r"^[0-9]{1,7}$")
        | Q(company_number__regex=r"^0+$")
    )
    for pk, number in short.values_list("pk", "company_number").iterator():
        full = tidy_company_number(number)
        if full == number:
            continue
        if full and held.filter(company_number=full).exclude(pk=pk).exists():
            continue
        Supplier.objects.filter(pk=pk).update(company_number=full)


class Migration(migrations.Migration):
    dependencies = [("procure", "0010_override_evidence_names_no_one")]

    operations = [migrations.RunPython(in_full, migrations.RunPython.noop)]
