"""Preflight: each unusable condition is found before any work, named with its fix, and
nothing is written; a CLI run refused by preflight exits 2 with one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.errors import InputError, KeyFileError, MyNumberError, SchemaTooNew
from core.keys import generate_key_file
from core.settings import resolve_settings
from ledger import mailings
from pipeline.options import RunOptions
from pipeline.preflight import run_preflight
from tests.cli.test_contract import mynumber, one_line
from tests.helpers.disks import tmpfs

SENDER = {"name": "テスト市", "lg_code": "999990", "mayor_title": "テスト市長",
          "postal_code": "1000001", "address": "東京都テスト市1-1", "telephone": "03-0000-0000"}


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:
    from sample_data.generate import SampleParams, generate_register, write_export

    path = tmp_path_factory.mktemp("reg") / "register.csv"
    write_export(generate_register(SampleParams(rows=300, seed=3)), path)
    return path


@pytest.fixture(scope="module")
def real_key(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "key.json"
    generate_key_file(path)
    return path


def opts_for(tmp: Path, key: Path, *, out: Path | None = None, demo: bool = False, **sections) -> RunOptions:
    flags = {"ledger": {"url": f"sqlite:///{tmp / 'ledger.db'}", "operator": "pytest"},
             "key": {"ref": str(key)}, "municipality": dict(SENDER),
             "mail": {"mail_range": "3706000000-3706099999"}}
    for name, values in sections.items():
        flags.setdefault(name, {}).update(values)
    return RunOptions.of(resolve_settings(flags, {}, demo=demo), out or tmp / "out")


def refused(opts: RunOptions, path: Path, kind: str = "bulk") -> MyNumberError:
    with pytest.raises(MyNumberError) as exc:
        run_preflight(opts, path, kind)
    assert exc.value.exit_code == 2
    return exc.value


def test_a_good_run_passes_quickly_and_writes_nothing(tmp_path, register, real_key):
    opts = opts_for(tmp_path, real_key)
    run_preflight(opts, register, "bulk")  # warm the imports it needs
    start = time.perf_counter()
    seen = run_preflight(opts, register, "bulk")
    assert time.perf_counter() - start < 1.0
    assert seen.input_rows == 300 and 0 < seen.expected_envelopes <= 300
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no ledger, no run folder


def test_input_problems(tmp_path, real_key):
    opts = opts_for(tmp_path, real_key)
    assert "file not found" in str(refused(opts, tmp_path / "missing.csv"))
    (tmp_path / "folder.csv").mkdir()
    assert "not a regular file" in str(refused(opts, tmp_path / "folder.csv"))
    (tmp_path / "register.xlsx").write_bytes(b"PK\x03\x04")
    assert "unknown kind of file .xlsx" in str(refused(opts, tmp_path / "register.xlsx"))
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "empty" in str(refused(opts, tmp_path / "empty.csv"))
    (tmp_path / "fake.parquet").write_text("a,b\n")
    assert isinstance(refused(opts, tmp_path / "fake.parquet"), InputError)


def test_out_is_a_file(tmp_path, register, real_key):
    (tmp_path / "out").write_text("")
    error = refused(opts_for(tmp_path, real_key), register)
    assert "is a file, not a folder" in str(error) and "--out" in str(error)
    error = refused(opts_for(tmp_path, real_key, out=tmp_path / "out" / "run"), register)
    assert "is a file, not a folder" in str(error)


def test_key_problems(tmp_path, register, real_key):
    assert isinstance(refused(opts_for(tmp_path, tmp_path / "nokey.json"), register), KeyFileError)
    loose = tmp_path / "loose.json"
    generate_key_file(loose)
    loose.chmod(0o644)
    assert isinstance(refused(opts_for(tmp_path, loose), register), KeyFileError)


def test_the_sample_sender_is_refused_outside_demo_runs(tmp_path, register, real_key):
    settings = resolve_settings({"ledger": {"url": f"sqlite:///{tmp_path / 'l.db'}"},
                                 "key": {"ref": str(real_key)},
                                 "mail": {"mail_range": "3706000000-3706099999"}}, {})
    assert settings.municipality.is_sample
    error = refused(RunOptions.of(settings, tmp_path / "out"), register)
    assert "built-in sample municipality" in str(error) and "mynumber init" in str(error)


def test_a_real_run_without_a_mail_range_is_refused(tmp_path, register, real_key):
    opts = opts_for(tmp_path, real_key, mail={"mail_range": None})
    error = refused(opts, register)
    assert "no registered-mail" in str(error) and "mail-range" in str(error)


def test_a_mail_range_too_small_for_the_run_is_refused(tmp_path, register, real_key):
    opts = opts_for(tmp_path, real_key, mail={"mail_range": "3706000000-3706000009"})
    error = refused(opts, register)
    assert "registered-mail numbers left: 10" in str(error)


def test_numbers_left_count_what_the_ledger_has_used(tmp_path, register, real_key):
    from ledger import open_ledger

    opts = opts_for(tmp_path, real_key, mail={"mail_range": "3706000000-3706000199"})
    assert run_preflight(opts, register, "bulk").mail_numbers_left == 200
    led = open_ledger(opts.ledger.url, operator="unknown", create=True)
    mailings.allocate(led, 100, configured_range="3706000000-3706000199")
    led.close()
    error = refused(opts, register)  # 100 left, ~165 expected
    assert "left: 100" in str(error)


def test_a_too_new_ledger_is_refused(tmp_path, register, real_key):
    import sqlalchemy as sa

    from ledger import open_ledger

    opts = opts_for(tmp_path, real_key)
    led = open_ledger(opts.ledger.url, operator="unknown", create=True)
    with led.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    led.close()
    assert isinstance(refused(opts, register), SchemaTooNew)


def test_an_unreachable_postgres_ledger_is_named(tmp_path, register, real_key):
    opts = opts_for(tmp_path, real_key, ledger={"url": "postgresql+psycopg://clerk@127.0.0.1:1/nowhere"})
    error = refused(opts, register)
    assert "cannot be reached" in str(error)


def test_fonts_missing(tmp_path, register, real_key, monkeypatch):
    from layouts import fonts

    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", (str(tmp_path / "no-fonts"),))
    error = refused(opts_for(tmp_path, real_key), register)
    assert "install the Debian package" in str(error)


@pytest.fixture
def tiny_disk(tmp_path):
    with tmpfs(tmp_path / "tiny", "size=256k") as where:
        yield where


@pytest.fixture
def read_only_disk(tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as where:
        yield where


def test_disk_too_small_for_the_batches(tmp_path, register, real_key, tiny_disk):
    error = refused(opts_for(tmp_path, real_key, out=tiny_disk / "run"), register)
    assert str(error).startswith("disk full") and "MiB free" in str(error)
    assert list(tiny_disk.iterdir()) == []


def test_read_only_out(tmp_path, register, real_key, read_only_disk):
    error = refused(opts_for(tmp_path, real_key, out=read_only_disk / "run"), register)
    assert "not writable" in str(error) or "read-only" in str(error)


def test_cli_refusals_exit_2_with_one_line_and_write_nothing(tmp_path, register, real_key):
    config = tmp_path / "mynumber.toml"
    config.write_text("[municipality]\n" + "".join(f'{k} = "{v}"\n' for k, v in SENDER.items()),
                      encoding="utf-8")
    common = ["--ledger", f"sqlite:///{tmp_path / 'ledger.db'}", "--key", str(real_key),
              "--config", str(config)]
    cases = [
        (["bulk", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out"), *common], "file not found"),
        (["bulk", str(register), "--out", str(tmp_path / "out"), *common], "no registered-mail"),
        (["bulk", str(register), "--out", str(tmp_path / "out"), "--ledger", f"sqlite:///{tmp_path / 'l.db'}",
          "--key", str(real_key)], "built-in sample municipality"),
        (["daily", str(register), "--date", "2026-12-02", "--out", str(tmp_path / "out"), *common,
          "--key", str(tmp_path / "missing-key.json")], "missing-key.json"),
    ]
    for args, words in cases:
        done = mynumber(*args, env={"MYNUMBER_PREFECT_HOME": str(tmp_path / "prefect")})
        assert done.returncode == 2, (args, done.stderr[-1500:])
        assert words in one_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mynumber.toml"]
