"""Clinical history the database itself refuses to rewrite (PostgreSQL triggers, via django-pgtrigger).

The clinical models' ``delete()`` and their querysets' ``delete()`` raise on any database: that is the app-level
guard, and all the demo's SQLite has. On PostgreSQL the triggers declared with these helpers refuse the same writes from every
path -- raw SQL, ``QuerySet.update()``, ``Model.history.all().delete()`` -- and the error names the rule
(``append-only: ...``, SQLSTATE 23001 restrict_violation, so Django raises ``IntegrityError``).

What the app legitimately changes later stays possible, and keeps its history: a session is completed once, and
after that its clinical columns change only together with a SessionAmendment written in the same transaction;
an adverse event's review, outcome and corrections; the time an aftercare sheet was emailed.

The only way past a trigger is ``pgtrigger.ignore("<app>.<Model>:<trigger name>")`` naming the trigger, which
bench/seed.py does for one named maintenance step (back-dating seeded rows). Nothing in the app does, and a test
refuses ``pgtrigger.ignore`` with no names (every trigger at once) anywhere in the code.
"""

import pgtrigger
from simple_history.models import HistoricalRecords

RULE_PREFIX = "append-only"


def _raise(rule: str) -> str:
    if "'" in rule:
        raise ValueError("a rule is quoted into SQL: no single quotes")
    return f"RAISE EXCEPTION '{RULE_PREFIX}: {rule} (table %)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';"


def refuse_delete(what: str, *, condition: str | None = None, instead: str = "",
                  name: str = "append_only_no_delete"):
    """Refuse DELETE of every row (or of the rows matching ``condition``, SQL over OLD)."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Delete,
        condition=pgtrigger.Condition(condition) if condition else None,
        func=_raise(f"{what} cannot be deleted" + (f"; {instead}" if instead else "")),
    )


def refuse_update(rule: str, *, columns: list[str] | None = None, only_if: str | None = None,
                  name: str = "append_only_no_update"):
    """Refuse an UPDATE that changes any column (or any of ``columns``), of the rows matching ``only_if``."""
    if columns:
        changed = " OR ".join(f'OLD."{column}" IS DISTINCT FROM NEW."{column}"' for column in columns)
    else:
        changed = "OLD.* IS DISTINCT FROM NEW.*"
    condition = f"(({only_if}) AND ({changed}))" if only_if else changed
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Condition(condition),
        func=_raise(rule),
    )


def refuse_unless(rule: str, *, when: str, allowed_if: str, name: str):
    """Refuse an UPDATE matching ``when`` (SQL over OLD/NEW) unless ``allowed_if`` (SQL, may query) holds.

    A trigger's WHEN clause cannot hold a subquery, so ``allowed_if`` is checked in the function body."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Condition(when),
        func=f"IF NOT ({allowed_if}) THEN {_raise(rule)} END IF; RETURN NEW;",
    )


# A row written by the current transaction: visible to us while its transaction is still in progress (rows of
# other transactions in progress are invisible, and rows of a rolled-back savepoint too). xmin is a 32-bit xid;
# pg_xact_status wants it with the epoch, taken from our own transaction id (a row of ours can only be in a later
# epoch if the xid counter wraps during this very transaction: then the check fails closed, refusing).
WRITTEN_IN_THIS_TRANSACTION = (
    "pg_xact_status((((pg_current_xact_id()::text::bigint >> 32) << 32) | {alias}.xmin::text::bigint)::text::xid8)"
    " = 'in progress'"
)


def _history_triggers():
    return [
        refuse_delete("history rows", name="append_only_history_no_delete"),
        refuse_update("history rows cannot be changed", name="append_only_history_no_update"),
    ]


class AppendOnlyHistory(HistoricalRecords):
    """django-simple-history whose historical table refuses UPDATE and DELETE on PostgreSQL.

    Every ``history = ...`` in the project uses this (tests/clinic/test_append_only.py checks that every
    historical model carries the triggers)."""

    def get_meta_options(self, model):
        return {**super().get_meta_options(model), "triggers": _history_triggers()}
