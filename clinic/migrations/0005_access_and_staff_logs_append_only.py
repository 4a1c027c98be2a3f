"""The access log and the staff-account log are append-only on PostgreSQL: triggers refuse UPDATE and DELETE
(clinic/appendonly.py). SQLite (the demo) skips these operations; the models' and querysets' delete() raise there."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0004_access_log_filters_and_staff_changes'),
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
        pgtrigger.migrations.AddTrigger(
            model_name='staffchange',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: staff-account log rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='32d7bea8239a96e1b186a731ee74a635bb149f44', operation='DELETE', pgid='pgtrigger_append_only_no_delete_c901b', table='clinic_staffchange', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='staffchange',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: staff-account log rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='80f124e5e71a594391549409668a3968531402b0', operation='UPDATE', pgid='pgtrigger_append_only_no_update_52a25', table='clinic_staffchange', when='BEFORE')),
        ),
    ]
