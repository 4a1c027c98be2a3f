"""No double booking of a patient on PostgreSQL: the same patient never holds two overlapping live appointments
(booked, checked in or completed), whatever the room, device or clinician. The same exclusion constraint as the
room, device and clinician ones (0004_scheduling_no_double_booking). SQLite gets nothing: the booking service
checks there, its transactions serialised by BEGIN IMMEDIATE (settings: transaction_mode)."""

from django.db import migrations

NAME = "appointment_no_patient_overlap"
LIVE = "status IN ('booked', 'checked_in', 'completed')"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE plans_appointment ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f"(patient_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) WHERE ({LIVE})"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE plans_appointment DROP CONSTRAINT IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("plans", "0007_session_sequence_and_window_flags")]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
