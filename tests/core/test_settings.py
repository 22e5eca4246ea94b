"""Settings resolve once, in one order: flags > environment > settings file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import DEFAULT_KEY_REF, DEFAULT_LEDGER_URL, Settings, resolve_settings


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mynumber.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_anything() -> None:
    s = resolve_settings()
    assert s == Settings()
    assert s.ledger.url == DEFAULT_LEDGER_URL and s.key.ref == DEFAULT_KEY_REF
    assert not s.demo and s.effective_mail_range is None  # no demo range in a real run


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    cfg = _file(tmp_path, '[ledger]\nurl = "sqlite:///file.db"\noperator = "file"\n'
                          '[print]\nbatch_size = 7\n')
    env = {"MYNUMBER_LEDGER": "sqlite:///env.db", "MYNUMBER_CONFIG": str(cfg)}
    s = resolve_settings({"ledger": {"url": None}}, env)
    assert s.ledger.url == "sqlite:///env.db"  # env over file; a None flag is "not given"
    assert s.ledger.operator == "file" and s.print.batch_size == 7
    s = resolve_settings({"ledger": {"url": "sqlite:///flag.db"}, "print": {"batch_size": 3}}, env)
    assert s.ledger.url == "sqlite:///flag.db" and s.print.batch_size == 3


def test_config_path_argument_wins_over_env_variable(tmp_path: Path) -> None:
    a = _file(tmp_path, '[runner]\nworkers = 3\n')
    b = tmp_path / "other.toml"
    b.write_text('[runner]\nworkers = 5\n', encoding="utf-8")
    assert resolve_settings(None, {"MYNUMBER_CONFIG": str(b)}, a).runner.workers == 3


@pytest.mark.parametrize("text, words", [
    ('[printing]\nbatch_size = 1\n', "unknown section [printing]"),
    ('[print]\nbatchsize = 1\n', "unknown setting print.batchsize"),
    ('[print]\nbatch_size = "many"\n', "print.batch_size must be a whole number"),
    ('[print]\nbatch_size = 0\n', "--batch-size must be at least 1"),
    ('[runner]\ntask_runner = "ray"\n', "--task-runner must be one of process, thread, dask"),
    ('[print]\nissue_date = "2026/12/02"\n', "--issue-date must be a date written YYYY-MM-DD"),
    ('[print\n', "is not valid TOML"),
])
def test_bad_settings_name_the_setting(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        resolve_settings(None, {}, _file(tmp_path, text))


def test_missing_settings_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_settings(None, {"MYNUMBER_CONFIG": str(tmp_path / "nope.toml")})


def test_notice_format_follows_the_issue_date() -> None:
    before = resolve_settings({"print": {"issue_date": "2020-05-24"}})
    after = resolve_settings({"print": {"issue_date": "2020-05-25"}})
    assert before.print.effective_notice_format == "2015-card"
    assert after.print.effective_notice_format == "2020-notice"
    forced = resolve_settings({"print": {"issue_date": "2026-10-05", "notice_format": "2015-card"}})
    assert forced.print.effective_notice_format == "2015-card"


def test_demo_mail_range_only_in_demo_runs() -> None:
    assert resolve_settings(demo=True).effective_mail_range == "3606000000-3606999999"
    assert resolve_settings({"mail": {"mail_range": "3607000000-3607000099"}}).effective_mail_range \
        == "3607000000-3607000099"


def test_the_cli_moves_a_ledger_password_out_of_the_settings(monkeypatch) -> None:
    from cli.options import load_settings

    monkeypatch.delenv("PGPASSWORD", raising=False)
    s = load_settings(None, ledger="postgresql+psycopg://u:secret@h/db")
    assert "secret" not in repr(s) and s.ledger.url == "postgresql+psycopg://u@h/db"
    import os
    assert os.environ["PGPASSWORD"] == "secret"


def test_environment_text_becomes_typed_values() -> None:
    s = resolve_settings(None, {"MYNUMBER_NOTICE_FORMAT": "2015-card"})
    assert s.print.notice_format == "2015-card"
