"""Run options never carry a password; bad options are refused with a clear error."""

import os

import pytest

from mynumber.errors import ConfigError
from pipeline.options import RunOptions, strip_ledger_password


def test_password_moves_from_the_url_to_the_environment(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = strip_ledger_password("postgresql+psycopg://clerk:s3cret-pw@127.0.0.1:5432/ledger")
    assert "s3cret-pw" not in url and "clerk@127.0.0.1" in url
    assert os.environ["PGPASSWORD"] == "s3cret-pw"
    assert "s3cret-pw" not in repr(RunOptions(out_dir="x", ledger_url=url))


def test_a_url_with_a_password_cannot_become_a_run_option():
    with pytest.raises(ConfigError):
        RunOptions(out_dir="x", ledger_url="postgresql://a:b@h/db")


@pytest.mark.parametrize("field,value", [("workers", 0), ("batch_size", 0), ("task_runner", "gpu"),
                                         ("issue_date", "26/11/2026")])
def test_bad_options_are_refused(field, value):
    with pytest.raises(ConfigError):
        RunOptions(out_dir="x", **{field: value})


def test_sqlite_default_is_kept(monkeypatch):
    monkeypatch.delenv("MYNUMBER_LEDGER", raising=False)
    assert strip_ledger_password(None) == "sqlite:///mynumber-data/ledger.db"
