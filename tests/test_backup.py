"""`make backup` and `make restore`: a dump restored into a new database exports the same agreements."""

import io
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import AgreementFactory

ROOT = Path(__file__).resolve().parent.parent


def database_url(name):
    settings = connection.settings_dict
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{credentials}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{name}"


def make(*args, database=None):
    """Run a make target with DATABASE_URL pointing at this database (or unset)."""
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    if database:
        environment["DATABASE_URL"] = database_url(database)
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )


def export(database, path):
    """The pacts/1 export of a database, by `manage.py export_agreements` as an operator would run it."""
    environment = {**os.environ, "DATABASE_URL": database_url(database), "DJANGO_SETTINGS_MODULE": "pacts.settings"}
    subprocess.run([sys.executable, "manage.py", "export_agreements", path], cwd=ROOT, env=environment, check=True)
    return path.read_text(encoding="utf-8")


def row_counts(database):
    """Rows in every table of the database, history, users and sessions included."""
    with psycopg2.connect(database_url(database)) as db, db.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [table for (table,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def server():
    """An autocommit connection to the server's maintenance database, for CREATE and DROP DATABASE."""
    db = psycopg2.connect(database_url("postgres"))
    db.autocommit = True
    return db


@pytest.fixture
def new_database():
    """An empty database beside the test database, dropped afterwards."""
    name = connection.settings_dict["NAME"] + "_restored"
    db = server()
    with db.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with db.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    db.close()


# transaction=True: the data is committed, so pg_dump (another connection) sees it.
@pytest.mark.django_db(transaction=True)
def test_a_restored_dump_exports_the_same_agreements(tmp_path, new_database, make_user):
    call_command("load_demo", stdout=io.StringIO())
    AgreementFactory(title="General Security of Military Information Agreement — 군사정보보호협정")
    make_user("editor", username="alice")
    original = connection.settings_dict["NAME"]

    backup = make("backup", f"BACKUP_DIR={tmp_path}", database=original)
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip().splitlines()[-1])
    assert dump.parent == tmp_path
    assert dump.name.startswith("pacts-")
    assert dump.suffix == ".dump"
    assert dump.stat().st_size > 0

    restore = make("restore", f"DUMP={dump}", database=new_database)
    assert restore.returncode == 0, restore.stderr

    exported = export(original, tmp_path / "original.json")
    assert '"agreements"' in exported
    assert "군사정보보호협정" in exported
    assert export(new_database, tmp_path / "restored.json") == exported
    counts = row_counts(original)
    assert counts["pacts_historicalevent"] > 0
    assert row_counts(new_database) == counts

    # Restoring again over the restored database replaces rather than duplicates.
    again = make("restore", f"DUMP={dump}", database=new_database)
    assert again.returncode == 0, again.stderr
    assert row_counts(new_database) == counts


def test_restore_refuses_without_a_dump():
    result = make("restore")
    assert result.returncode != 0
    assert "make restore DUMP=" in result.stderr


def test_restore_refuses_a_missing_dump(tmp_path):
    result = make("restore", f"DUMP={tmp_path / 'nothing.dump'}")
    assert result.returncode != 0
    assert "No such dump" in result.stderr


def test_a_failed_backup_leaves_no_dump(tmp_path):
    result = make("backup", f"BACKUP_DIR={tmp_path}", database="no_such_database_for_pacts")
    assert result.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_backup_refuses_without_a_database():
    result = make("backup")
    assert result.returncode != 0
    assert "Set DATABASE_URL" in result.stderr
