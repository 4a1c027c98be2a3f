"""Create the three staff roles as groups. Their permissions are synced after every migrate from
clinic/roles.py (clinic.apps._sync_roles), so permissions of models added later reach them too."""

from django.db import migrations

ROLE_NAMES = ["clinician", "front_desk", "manager"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
