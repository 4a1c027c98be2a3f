"""Backup and restore (issue 7): dump a seeded database and restore it into an empty one, every record intact.

PostgreSQL uses the real tools the README documents (pg_dump -Fc / pg_restore). SQLite uses its online
backup API, which is what `sqlite3 db.sqlite3 ".backup file"` does."""

import shutil
import sqlite3
import subprocess
import uuid

import pytest
from django.apps import apps
from django.db import connection

from clinic.demo import build_demo

pytestmark = pytest.mark.django_db(transaction=True)


def _table_fingerprint(cursor, table: str, quote) -> tuple[int, str]:
    cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
    count = cursor.fetchone()[0]
    cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY 1")
    # str() of each value, booleans as 0/1: the live SQLite connection converts types, the raw one does not.
    rows = [tuple(str(int(v) if isinstance(v, bool) else v) for v in row) for row in cursor.fetchall()]
    # Sorted here too: history tables' first column is not unique enough to fix the order of ties.
    return count, repr(sorted(rows))


def _model_tables():
    return sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy})


def test_dump_and_restore_keeps_every_record(tmp_path):
    build_demo()
    tables = _model_tables()
    with connection.cursor() as cursor:
        before = {t: _table_fingerprint(cursor, t, connection.ops.quote_name) for t in tables}
    assert before["patients_patient"][0] >= 40
    assert sum(count for count, _ in before.values()) > 200

    if connection.vendor == "postgresql":
        after = _postgres_round_trip(tmp_path, tables)
    else:
        after = _sqlite_round_trip(tmp_path, tables)
    assert after == before


def _postgres_round_trip(tmp_path, tables):
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        assert shutil.which(tool), f"{tool} is needed (postgresql-client)"
    params = connection.settings_dict
    base = ["-h", params.get("HOST") or "127.0.0.1", "-p", str(params.get("PORT") or 5432), "-U", params["USER"]]
    dump = tmp_path / "clinic.dump"
    subprocess.run(["pg_dump", *base, "-Fc", "-f", str(dump), params["NAME"]], check=True, timeout=120)
    target = f"restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", *base, target], check=True, timeout=60)
    try:
        subprocess.run(["pg_restore", *base, "--no-owner", "-d", target, str(dump)], check=True, timeout=120)
        import psycopg

        from psycopg.types.string import TextLoader

        with psycopg.connect(host=base[1], port=base[3], user=params["USER"], dbname=target) as conn:
            for json_type in ("json", "jsonb"):  # read JSON as PostgreSQL's text, as Django's connection does
                conn.adapters.register_loader(json_type, TextLoader)
            with conn.cursor() as cursor:
                return {t: _table_fingerprint(cursor, t, connection.ops.quote_name) for t in tables}
    finally:
        subprocess.run(["dropdb", *base, "--if-exists", target], check=False, timeout=60)


def _sqlite_round_trip(tmp_path, tables):
    backup_file = tmp_path / "backup.sqlite3"
    source = connection.connection  # the live sqlite3 connection Django uses
    with sqlite3.connect(backup_file) as target:
        source.backup(target)
    restored = sqlite3.connect(backup_file)
    try:
        cursor = restored.cursor()
        return {t: _table_fingerprint(cursor, t, connection.ops.quote_name) for t in tables}
    finally:
        restored.close()
