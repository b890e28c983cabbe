"""The command line: create-admin, list, set-role; clear one-line errors; no Reflex import."""

import subprocess
import sys

from tests.conftest import ROOT, run_cli


def test_create_admin_then_list(db_url):
    created = run_cli(
        "users",
        "create-admin",
        "--email",
        "Root@Example.com",
        "--name",
        "Root",
        db_url=db_url,
        stdin="correct horse 42\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin root@example.com" in created.stdout
    listed = run_cli("users", "list", db_url=db_url)
    assert "root@example.com" in listed.stdout and "admin" in listed.stdout


def test_bad_input_is_one_clear_line_and_nothing_is_written(db_url):
    weak = run_cli("users", "create-admin", "--email", "root@example.com", db_url=db_url, stdin="short\n")
    assert weak.returncode == 2 and weak.stderr.strip() == "error: Password must be at least 10 characters long."
    assert "root@example.com" not in run_cli("users", "list", db_url=db_url).stdout


def test_set_role(db_url):
    run_cli("users", "create-admin", "--email", "a@example.com", db_url=db_url, stdin="correct horse 42\n")
    changed = run_cli("users", "set-role", "a@example.com", "viewer", db_url=db_url)
    assert changed.returncode == 0 and "admin -> viewer" in changed.stdout


def test_unreachable_database_is_one_line(tmp_path):
    result = run_cli("users", "list", db_url="postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "hunter2" not in lines[0]


def test_cli_does_not_import_reflex():
    code = "import sys, investment_app.cli; assert 'reflex' not in sys.modules, 'reflex imported'"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
