"""Text for patients follows what was recorded and carries no source keys (issue 12 §4).

- The exosome aftercare text says when the product was applied as the clinician recorded it ({applied_when}):
  a new version of the current text, so sheets already given keep the words they were given with.
- The shipped protocol templates lose their source keys (S14 …): plans copy these notes and the sheet prints the
  sun-protection note. The keys stay in the code comments of migration 0006 and plans/rules.
"""

from django.db import migrations

from plans.rules.text import without_source_keys

OLD_PHRASE = "during your treatment"
NEW_PHRASE = "{applied_when}"


def exosome_text_follows_the_record(apps, schema_editor):
    AftercareText = apps.get_model("plans", "AftercareText")
    latest = AftercareText.objects.filter(section="exosome", modality="").order_by("-version").first()
    if latest is None or NEW_PHRASE in latest.body or OLD_PHRASE not in latest.body:
        return
    AftercareText.objects.create(
        section="exosome", modality="", version=latest.version + 1, title=latest.title,
        body=latest.body.replace(OLD_PHRASE, NEW_PHRASE),
    )


def templates_without_source_keys(apps, schema_editor):
    ProtocolTemplate = apps.get_model("plans", "ProtocolTemplate")
    for template in ProtocolTemplate.objects.all():
        template.notes = without_source_keys(template.notes)
        template.sun_notes = without_source_keys(template.sun_notes)
        settings = dict(template.device_settings or {})
        if isinstance(settings.get("note"), str):
            settings["note"] = without_source_keys(settings["note"])
        template.device_settings = settings
        template.adjuncts = [
            {**row, "notes": without_source_keys(row.get("notes") or "")} if isinstance(row, dict) else row
            for row in (template.adjuncts or [])
        ]
        template.save(update_fields=["notes", "sun_notes", "device_settings", "adjuncts"])


class Migration(migrations.Migration):
    dependencies = [("plans", "0009_clinical_history_append_only")]

    operations = [
        migrations.RunPython(exosome_text_follows_the_record, migrations.RunPython.noop),
        migrations.RunPython(templates_without_source_keys, migrations.RunPython.noop),
    ]
