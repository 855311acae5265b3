"""Company numbers typed before `tidy_company_number` padded two-letter prefixes
were kept short ("SC12345"), while the registry loaders keep the full 8 characters
("SC012345"), so the supplier never met its registry facts. Write the numbers held
in full, as the form now does; a number of nothing but zeros (a placeholder) is
cleared; each change is in the supplier's history. A number that, written in full,
another supplier already holds is left as it is: the two are the same company, for
an officer to merge (the supplier review suggests such pairs by name). Run the
registry loaders again (`load_companies_house`) to bring in the facts of the
numbers now in full."""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

from spend.values import tidy_company_number

REASON = "Company number written in full (LocalSpend 0011)"


def _record(History, supplier) -> None:
    """The change in the supplier's history, as a save would write it (no user:
    LocalSpend itself)."""
    values = {
        field.attname: getattr(supplier, field.attname)
        for field in History._meta.concrete_fields
        if not field.name.startswith("history_")
    }
    History.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=REASON,
        history_user=None,
    )


def in_full(apps, schema_editor):
    Supplier = apps.get_model("procure", "Supplier")
    History = apps.get_model("procure", "HistoricalSupplier")
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
        _record(History, Supplier.objects.get(pk=pk))


class Migration(migrations.Migration):
    dependencies = [("procure", "0010_override_evidence_names_no_one")]

    operations = [migrations.RunPython(in_full, migrations.RunPython.noop)]
