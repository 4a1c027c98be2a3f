"""The access log is append-only on PostgreSQL: triggers refuse UPDATE and DELETE (clinic/appendonly.py).
SQLite (the demo) skips these operations; the model's and queryset's delete() raise there."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0003_accesslog_without_row_locks'),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name='accesslog',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: access-log rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='2b79ac5a7437e737ca9a13604e3f086513f70053', operation='DELETE', pgid='pgtrigger_append_only_no_delete_79de7', table='clinic_accesslog', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='accesslog',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: access-log rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='6cad50a26975431905581136046228c84beaafa3', operation='UPDATE', pgid='pgtrigger_append_only_no_update_1b653', table='clinic_accesslog', when='BEFORE')),
        ),
    ]
