"""Patients are never deleted and their change history is never rewritten, on PostgreSQL: triggers refuse
DELETE of a patient and UPDATE/DELETE of historicalpatient rows (clinic/appendonly.py). SQLite skips them."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0003_patient_search_indexes'),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name='historicalpatient',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='6ce502641db3394d39742a41af5fef99189f30d9', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_81eed', table='patients_historicalpatient', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalpatient',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='5cdf7c24c5e3d46de400dad29c63027ba2a453ba', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_24771', table='patients_historicalpatient', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='patient',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: patients cannot be deleted; archive them (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='04cbd4ea7682f58d36cac82e7261fad9f6d5213d', operation='DELETE', pgid='pgtrigger_append_only_no_delete_7f8b7', table='patients_patient', when='BEFORE')),
        ),
    ]
