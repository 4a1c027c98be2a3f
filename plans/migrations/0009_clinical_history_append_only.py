"""Clinical history the database refuses to rewrite, on PostgreSQL (clinic/appendonly.py): no DELETE of
assessments, adverse events and notes, consents, photos, completed sessions, amendments, issued aftercare sheets
or any history row; no UPDATE of assessments, history rows, issued sheets' content, or a completed session's
clinical columns without an amendment in the same transaction. Generated from the models' Meta.triggers;
SQLite (the demo) skips these operations and keeps the app-level guards."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('plans', '0008_appointment_no_patient_overlap'),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name='adverseevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: adverse events cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='b10fdc6c463fd3aa64db8e771ef39f86fe16d1f8', operation='DELETE', pgid='pgtrigger_append_only_no_delete_e944f', table='plans_adverseevent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='adverseevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."patient_id" IS DISTINCT FROM NEW."patient_id" OR OLD."plan_id" IS DISTINCT FROM NEW."plan_id" OR OLD."session_id" IS DISTINCT FROM NEW."session_id" OR OLD."recorded_by_id" IS DISTINCT FROM NEW."recorded_by_id" OR OLD."recorded_at" IS DISTINCT FROM NEW."recorded_at")', func="RAISE EXCEPTION 'append-only: an adverse event keeps its patient, plan, session and who recorded it when (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='f259708b408b4af87a4e36697c13342b336c6b09', operation='UPDATE', pgid='pgtrigger_append_only_no_update_94386', table='plans_adverseevent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='adverseeventnote',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: adverse-event notes cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='0ddfaffd6073dcb28a088912f401eeaf2ec1dfc8', operation='DELETE', pgid='pgtrigger_append_only_no_delete_86725', table='plans_adverseeventnote', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='adverseeventnote',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: an adverse-event note cannot be changed; add another note (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='583ba8e582794402bf7e643eafcfefe3c77d8c4f', operation='UPDATE', pgid='pgtrigger_append_only_no_update_2215d', table='plans_adverseeventnote', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='aftercaresheet',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: issued aftercare sheets cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='72f188932f690c1551618956fe390a3c56d74866', operation='DELETE', pgid='pgtrigger_append_only_no_delete_3d896', table='plans_aftercaresheet', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='aftercaresheet',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."session_id" IS DISTINCT FROM NEW."session_id" OR OLD."content" IS DISTINCT FROM NEW."content" OR OLD."text_versions" IS DISTINCT FROM NEW."text_versions" OR OLD."created_by_id" IS DISTINCT FROM NEW."created_by_id" OR OLD."created_at" IS DISTINCT FROM NEW."created_at")', func="RAISE EXCEPTION 'append-only: an issued aftercare sheet cannot be changed; only the time it was emailed is recorded (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='b610158e040cb04f472c3725af1b5be9ed02de5e', operation='UPDATE', pgid='pgtrigger_append_only_no_update_636af', table='plans_aftercaresheet', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='aftercaretext',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: aftercare text versions cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='49d6d6079ab99aeb49028e5de4675673de6fa2b1', operation='DELETE', pgid='pgtrigger_append_only_no_delete_4a5ea', table='plans_aftercaretext', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='aftercaretext',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: an aftercare text version cannot be changed; publish a new version (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='b389fa86c82eee15e0e908415639bd5ebb8d46ab', operation='UPDATE', pgid='pgtrigger_append_only_no_update_57542', table='plans_aftercaretext', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='assessment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: assessments cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='c160441c11bed761ac8d13bc4b3849a2f6326794', operation='DELETE', pgid='pgtrigger_append_only_no_delete_57d52', table='plans_assessment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='assessment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: an assessment cannot be changed; record a new assessment (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='56a1e91fc36dbc5830fda96f4817bc9f15f56b3a', operation='UPDATE', pgid='pgtrigger_append_only_no_update_5ef53', table='plans_assessment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: consents cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='3aba32422c669c655eeaedb8d23418047d014a68', operation='DELETE', pgid='pgtrigger_append_only_no_delete_79fda', table='plans_consent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: a signed consent cannot be changed; record a new consent (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='0fc4e31a1b3ae14dad5db6048ed9f924bfda1dd3', operation='UPDATE', pgid='pgtrigger_append_only_no_update_a70e9', table='plans_consent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consenttext',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: consent text versions cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='5e28c86819c7639cc07f618e94bc5a5d4d533b54', operation='DELETE', pgid='pgtrigger_append_only_no_delete_a60aa', table='plans_consenttext', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consenttext',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: a consent text version cannot be changed; publish a new version (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='56cbdc4d23f63ebc106aa07d34b2e2a8e080eaa4', operation='UPDATE', pgid='pgtrigger_append_only_no_update_d3b71', table='plans_consenttext', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='findingoverride',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: finding overrides cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='0b25dcd27de93e65226855bcb20d2ea99558fd37', operation='DELETE', pgid='pgtrigger_append_only_no_delete_2c8f2', table='plans_findingoverride', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicaladverseevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='2fa3000d883a8a408a7412c1216bf3b29cd87efe', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_cfee5', table='plans_historicaladverseevent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicaladverseevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='61e2ca4bba31a1b39d8f5300e5c4967a06a1e5d5', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_6b906', table='plans_historicaladverseevent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalappointment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='2533434b46877e38d7355601c3c56b1bb7d354a1', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_e15ec', table='plans_historicalappointment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalappointment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='f1bf78ac9402afc7d7dd0d191afd05d335ea2a88', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_d62c6', table='plans_historicalappointment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalassessment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='3a9c0ff901d4940f5d757846a482a75b710b1190', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_69b92', table='plans_historicalassessment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalassessment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='b94d752863bebb1a8bab837d037ffbb419b5f7a0', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_8b4f3', table='plans_historicalassessment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalconsent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='2d5fa69086319d03261f320e201088bf5d66e34a', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_9f022', table='plans_historicalconsent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalconsent',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='5d1fba9513e661dac5c195e0f9cced325e086ac4', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_8c204', table='plans_historicalconsent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalexosomeproduct',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='159c937ff3bd8b3d362f8f6570e7f76954e941d0', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_38cf3', table='plans_historicalexosomeproduct', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalexosomeproduct',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='f3c2d80df3e588d93bf830897df58b69c26d3bb7', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_65ccb', table='plans_historicalexosomeproduct', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalfindingoverride',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='1e81cd509d12b43e48b63aa5f170561f45de68e2', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_7cc1f', table='plans_historicalfindingoverride', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalfindingoverride',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='f62561f58b1f9c31b33b3cce522709ecff33a193', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_59bc3', table='plans_historicalfindingoverride', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicallot',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='034d384f5ae3026f7c570288f5f03894a122f3e7', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_cd58d', table='plans_historicallot', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicallot',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='2c2766aa7eea1f84ee08b30c67c471494afae81a', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_ae4f2', table='plans_historicallot', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalplan',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='c5f0639aa7ee44a915dd48ac4c7e101e97ff0992', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_8442a', table='plans_historicalplan', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalplan',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='67c4e27ec2bacce9b6f8d5471b16e2b2961994d7', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_7df3a', table='plans_historicalplan', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalplanadjunct',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='fcc180af96f7d96f4fd45093e2d5447b3d12e758', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_05430', table='plans_historicalplanadjunct', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalplanadjunct',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='8bd86a67562eb3f8535d68912e2f798c208478b6', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_4cb1b', table='plans_historicalplanadjunct', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalprotocoltemplate',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='3721f8a5d20dc2e582b2ba67c74522f1ec08a8a7', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_b32fd', table='plans_historicalprotocoltemplate', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicalprotocoltemplate',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='eb810bcf536eab006de7018e9eb46d301a73570d', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_20880', table='plans_historicalprotocoltemplate', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicaltreatmentsession',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: history rows cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='cde940c38704eee1dc319cdd8c4fb4ecb1b5391f', operation='DELETE', pgid='pgtrigger_append_only_history_no_delete_459e6', table='plans_historicaltreatmentsession', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='historicaltreatmentsession',
            trigger=pgtrigger.compiler.Trigger(name='append_only_history_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: history rows cannot be changed (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='22e27ff7eca49a427a81b14b52e16474284cbff4', operation='UPDATE', pgid='pgtrigger_append_only_history_no_update_ec286', table='plans_historicaltreatmentsession', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='photo',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: photos cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='19b6d6431932a6735852a2581a23667933327510', operation='DELETE', pgid='pgtrigger_append_only_no_delete_38cac', table='plans_photo', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='photo',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: a clinical photo cannot be changed; upload a new one (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='d76b5007fc05e55fb576389d344c9aecbc8bfa19', operation='UPDATE', pgid='pgtrigger_append_only_no_update_dccf0', table='plans_photo', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='plan',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: plans cannot be deleted; stop them with a reason (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='4f312c7a70bfc9b19aba719413aaaff8fbd8de42', operation='DELETE', pgid='pgtrigger_append_only_no_delete_d82f7', table='plans_plan', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='presessioncheck',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: pre-session checks cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='c36e3bc2444ccd5109f681c324adca3026a4a31d', operation='DELETE', pgid='pgtrigger_append_only_no_delete_0a2c3', table='plans_presessioncheck', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='sessionamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'append-only: session amendments cannot be deleted (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='c6b4c5e0394df9335bbc5296a813e9255f55a550', operation='DELETE', pgid='pgtrigger_append_only_no_delete_94724', table='plans_sessionamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='sessionamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func="RAISE EXCEPTION 'append-only: a session amendment cannot be changed; record another amendment (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='0225261af6753f342371e4791b865893ebea03a8', operation='UPDATE', pgid='pgtrigger_append_only_no_update_36534', table='plans_sessionamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='treatmentsession',
            trigger=pgtrigger.compiler.Trigger(name='append_only_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(condition="WHEN (OLD.status = 'completed')", func="RAISE EXCEPTION 'append-only: completed sessions cannot be deleted; they are corrected by amendment (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='331cd2fa70191f060c8315e56cccb36478680328', operation='DELETE', pgid='pgtrigger_append_only_no_delete_05128', table='plans_treatmentsession', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='treatmentsession',
            trigger=pgtrigger.compiler.Trigger(name='completed_session_keeps_identity', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN ((OLD.status = \'completed\') AND (OLD."plan_id" IS DISTINCT FROM NEW."plan_id" OR OLD."number" IS DISTINCT FROM NEW."number" OR OLD."status" IS DISTINCT FROM NEW."status" OR OLD."modality" IS DISTINCT FROM NEW."modality" OR OLD."completed_at" IS DISTINCT FROM NEW."completed_at"))', func="RAISE EXCEPTION 'append-only: a completed session keeps its plan, number, status, modality and completion time (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';", hash='7d855beca96b8939b40c54a8e9700e4327f2676e', operation='UPDATE', pgid='pgtrigger_completed_session_keeps_identity_8116d', table='plans_treatmentsession', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='treatmentsession',
            trigger=pgtrigger.compiler.Trigger(name='completed_session_needs_amendment', sql=pgtrigger.compiler.UpsertTriggerSql(condition="WHEN (OLD.status = 'completed' AND OLD.* IS DISTINCT FROM NEW.*)", func="IF NOT (EXISTS (SELECT 1 FROM plans_sessionamendment a WHERE a.session_id = NEW.id AND pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32) | a.xmin::text::bigint)::text::xid8) = 'in progress')) THEN RAISE EXCEPTION 'append-only: completed session clinical columns cannot be updated; record an amendment (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END IF; RETURN NEW;", hash='dcc0cf08d7b51fb44b207e190cbe56a975304dad', operation='UPDATE', pgid='pgtrigger_completed_session_needs_amendment_51779', table='plans_treatmentsession', when='BEFORE')),
        ),
    ]
