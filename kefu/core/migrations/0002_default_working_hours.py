import datetime

from django.db import migrations

# DESIGN.md / issue: default Monday–Friday 09:00–12:00 and 13:00–18:00.
DEFAULT_RANGES = [(datetime.time(9), datetime.time(12)), (datetime.time(13), datetime.time(18))]


def add_defaults(apps, schema_editor):
    WorkingPeriod = apps.get_model("core", "WorkingPeriod")
    if WorkingPeriod.objects.exists():
        return
    WorkingPeriod.objects.bulk_create(
        [WorkingPeriod(weekday=day, start=start, end=end) for day in range(5) for start, end in DEFAULT_RANGES]
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
