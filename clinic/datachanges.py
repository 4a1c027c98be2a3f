"""Versions of what a page shows, moved by the database itself (issue 13: fragments kept under the version of the
rows they show).

Every INSERT, UPDATE or DELETE statement on a table listed here writes one ``clinic_datachange`` row per patient
whose rows it touched (``PATIENT_TABLES``: how to find the patient from a changed row), or one row with no patient
for the shared rows pages show beside a patient's (``SHARED_TABLES``: staff names, rooms, devices, products, lots,
consent texts, templates). PostgreSQL statement-level triggers write them, so no write path can forget to;
`tests/clinic/test_fragments.py` checks that every table a cached fragment reads is listed here.

A patient's version is (how many change rows, the newest id). Rows are only ever added, so a commit always
raises the count, whatever order ids were handed out in; a page reads the versions *before* its data, so a fragment is
never kept under a version older than what it shows. SQLite (the demo) has no triggers, so nothing is cached there.
"""

from django.db import connection

# table -> SQL selecting the patient ids of the changed rows, which are in a transition table called `changed`.
_VIA_PLAN = "SELECT p.patient_id FROM changed c JOIN plans_plan p ON p.id = c.plan_id"
_VIA_SESSION = (
    "SELECT p.patient_id FROM changed c JOIN plans_treatmentsession s ON s.id = c.session_id "
    "JOIN plans_plan p ON p.id = s.plan_id"
)
PATIENT_TABLES = {
    "patients_patient": "SELECT c.id FROM changed c",
    "plans_plan": "SELECT c.patient_id FROM changed c",
    "plans_appointment": "SELECT c.patient_id FROM changed c",
    "plans_assessment": "SELECT c.patient_id FROM changed c",
    "plans_adverseevent": "SELECT c.patient_id FROM changed c",
    "plans_photo": "SELECT c.patient_id FROM changed c",
    "plans_treatmentsession": _VIA_PLAN,
    "plans_consent": _VIA_PLAN,
    "plans_planadjunct": _VIA_PLAN,
    "plans_findingoverride": _VIA_PLAN,
    "plans_sessionamendment": _VIA_SESSION,
    "plans_presessioncheck": _VIA_SESSION,
    "plans_aftercaresheet": _VIA_SESSION,
}
# table -> the columns pages show (an UPDATE changing none of them is not a change), or None for every column.
SHARED_TABLES = {
    "auth_user": ["first_name", "last_name", "username", "is_active"],  # not last_login: every sign-in updates it
    "plans_room": None,
    "plans_device": None,
    "plans_exosomeproduct": None,
    "plans_lot": None,
    "plans_consenttext": None,
    "plans_protocoltemplate": None,
}
COVERED_TABLES = frozenset(PATIENT_TABLES) | frozenset(SHARED_TABLES)
_PREFIX = "clinic_dv"


def _trigger_sql(table: str, operation: str, name: str) -> str:
    if operation == "INSERT":
        referencing, sources = "NEW TABLE AS new_rows", ["new_rows"]
    elif operation == "DELETE":
        referencing, sources = "OLD TABLE AS old_rows", ["old_rows"]
    else:
        referencing, sources = "OLD TABLE AS old_rows NEW TABLE AS new_rows", ["old_rows", "new_rows"]
    if table in PATIENT_TABLES:
        select = " UNION ".join(
            f"({PATIENT_TABLES[table].replace('FROM changed c', f'FROM {source} c')})" for source in sources
        )
        body = (
            f"INSERT INTO clinic_datachange (patient_id, at) "
            f"SELECT DISTINCT x.pid, now() FROM ({select}) AS x(pid) WHERE x.pid IS NOT NULL;"
        )
    else:
        columns = SHARED_TABLES[table]
        if operation == "UPDATE" and columns:
            old = ", ".join(f"o.{c}" for c in columns)
            new = ", ".join(f"n.{c}" for c in columns)
            changed = f"SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new})"
        else:
            changed = f"SELECT 1 FROM {sources[-1]}"
        body = f"INSERT INTO clinic_datachange (patient_id, at) SELECT NULL, now() WHERE EXISTS ({changed});"
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$;\n"
        f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
        f"CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
    )


def _each_trigger(schema_editor, statement) -> None:
    conn = schema_editor.connection if schema_editor else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        for table in sorted(COVERED_TABLES):
            for operation in ("INSERT", "UPDATE", "DELETE"):
                cursor.execute(statement(table, operation, f"{_PREFIX}_{table}_{operation.lower()}"))


def install_triggers(schema_editor=None) -> None:
    """Create (or replace) every trigger; PostgreSQL only. Called by the migration; safe to run again."""
    _each_trigger(schema_editor, _trigger_sql)


def remove_triggers(schema_editor=None) -> None:
    _each_trigger(schema_editor, lambda table, operation, name: (
        f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
    ))


def tracked() -> bool:
    """Whether this database keeps versions (PostgreSQL with the triggers; not SQLite)."""
    return connection.vendor == "postgresql"


_VERSIONS_SQL = """
SELECT ids.pid, count(c.id), max(c.id)
FROM unnest(%s::bigint[]) AS ids(pid) LEFT JOIN clinic_datachange c ON c.patient_id = ids.pid
GROUP BY ids.pid
UNION ALL
SELECT NULL, count(*), max(id) FROM clinic_datachange WHERE patient_id IS NULL
"""

_DAY_VERSIONS_SQL = """
SELECT ids.pid, count(c.id), max(c.id)
FROM (SELECT DISTINCT patient_id FROM plans_appointment WHERE start >= %s AND start < %s) AS ids(pid)
LEFT JOIN clinic_datachange c ON c.patient_id = ids.pid
GROUP BY ids.pid
UNION ALL
SELECT NULL, count(*), max(id) FROM clinic_datachange WHERE patient_id IS NULL
"""


def _fetch(sql: str, params: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(sorted(cursor.fetchall(), key=lambda row: (row[0] is not None, row[0] or 0)))


def versions(patient_ids) -> tuple:
    """((patient id or None for the shared rows, change count, newest change id), ...) in one query."""
    return _fetch(_VERSIONS_SQL, [sorted(set(patient_ids))])


def versions_of_day(start, end) -> tuple:
    """The same for every patient with an appointment starting in [start, end), found by the database."""
    return _fetch(_DAY_VERSIONS_SQL, [start, end])
