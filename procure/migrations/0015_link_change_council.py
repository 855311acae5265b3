import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_councils(apps, schema_editor):
    """Each link change's council, from its contract (those whose contract is
    already gone keep none: their reference alone names it)."""
    ContractLinkChange = apps.get_model("procure", "ContractLinkChange")
    Contract = apps.get_model("procure", "Contract")
    ContractLinkChange.objects.filter(contract__isnull=False).update(
        council=Subquery(
            Contract.objects.filter(pk=OuterRef("contract_id")).values("council")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("councils", "0001_initial"),
        ("procure", "0014_link_history_kept_when_contracts_go"),
    ]

    operations = [
        migrations.AddField(
            model_name="contractlinkchange",
            name="council",
            field=models.ForeignKey(
                blank=True,
                help_text="The contract's council.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="councils.council",
            ),
        ),
        migrations.RunPython(fill_councils, migrations.RunPython.noop),
    ]
