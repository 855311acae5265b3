"""The supplier rollup counts credit notes, so that a year's headline figures
(the overview and home pages) can be read from it rather than from the lines.

The rows already there are counted again from the spend lines: the same sums,
with the new count (the other rollups are made from these sums and do not change).
"""

from django.db import migrations, models


def recount(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        month = "CAST(date_trunc('month', payment_date) AS date)"
    else:
        month = "date(payment_date, 'start of month')"
    directorate = "COALESCE(NULLIF(department, ''), service_area)"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM spend_suppliermonth")
        cursor.execute(
            "INSERT INTO spend_suppliermonth (council_id, month, supplier_id, "
            "directorate, redacted, total, lines, credits) "
            f"SELECT council_id, {month}, supplier_id, {directorate}, redacted, "
            "SUM(amount), COUNT(*), SUM(CASE WHEN amount < 0 THEN 1 ELSE 0 END) "
            "FROM spend_spendline "
            f"GROUP BY council_id, {month}, supplier_id, {directorate}, redacted"
        )


class Migration(migrations.Migration):
    dependencies = [("spend", "0010_suppliermonth_write_indexes")]

    operations = [
        migrations.AddField(
            model_name="suppliermonth",
            name="credits",
            field=models.PositiveIntegerField(
                default=0, help_text="Of the lines, those below zero (credit notes)."
            ),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
