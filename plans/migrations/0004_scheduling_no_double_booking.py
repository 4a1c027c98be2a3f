"""No double booking on PostgreSQL: the same room, device or clinician never holds two overlapping live
appointments (booked, checked in or completed). Exclusion constraints over tstzrange(start, "end") need the
btree_gist extension for the "=" part. SQLite gets nothing: the booking service checks there."""

from django.db import migrations

LIVE = "status IN ('booked', 'checked_in', 'completed')"
CONSTRAINTS = {
    "appointment_no_room_overlap": "room_id",
    "appointment_no_device_overlap": "device_id",
    "appointment_no_clinician_overlap": "clinician_id",
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, column in CONSTRAINTS.items():
        schema_editor.execute(
            f'ALTER TABLE plans_appointment ADD CONSTRAINT {name} EXCLUDE USING gist '
            f'({column} WITH =, tstzrange(start, "end", \'[)\') WITH &&) WHERE ({LIVE})'
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE plans_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("plans", "0003_aftercare_texts_v1")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
