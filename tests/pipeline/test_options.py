"""Run options never carry a password; bad options are refused with a clear error."""

import pytest

from core.errors import ConfigError
from core.settings import Settings
from pipeline.options import RunOptions, strip_ledger_password


def test_password_moves_from_the_url_to_the_given_environment():
    environ: dict[str, str] = {}
    url = strip_ledger_password("postgresql+psycopg://clerk:s3cret-pw@127.0.0.1:5432/ledger", environ)
    assert "s3cret-pw" not in url and "clerk@127.0.0.1" in url
    assert environ["PGPASSWORD"] == "s3cret-pw"
    opts = RunOptions.of(Settings().with_changes(ledger={"url": url}), "x")
    assert "s3cret-pw" not in repr(opts)


def test_a_url_with_a_password_cannot_become_a_run_option():
    with pytest.raises(ConfigError):
        RunOptions.of(Settings().with_changes(ledger={"url": "postgresql://a:b@h/db"}), "x")


@pytest.mark.parametrize("section,field,value", [
    ("runner", "workers", 0), ("print", "batch_size", 0), ("runner", "task_runner", "gpu"),
    ("print", "issue_date", "26/11/2026"), ("print", "notice_format", "1999-letter"),
])
def test_bad_options_are_refused(section, field, value):
    with pytest.raises(ConfigError):
        RunOptions.of(Settings().with_changes(**{section: {field: value}}), "x")


def test_a_run_needs_a_folder():
    with pytest.raises(ConfigError, match="--out"):
        RunOptions.of(Settings(), "")


def test_sqlite_url_is_kept_as_is():
    environ: dict[str, str] = {}
    assert strip_ledger_password("sqlite:///mynumber-data/ledger.db", environ) == "sqlite:///mynumber-data/ledger.db"
    assert environ == {}
