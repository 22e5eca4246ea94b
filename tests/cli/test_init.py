"""`mynumber init` and the Nerima sample settings file: both pass the settings schema."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import read_settings_file, resolve_settings
from tests.cli.test_contract import mynumber, one_line


def test_the_nerima_sample_is_a_valid_real_sender():
    path = Path(str(files("sample_data").joinpath("mynumber.toml")))
    settings = resolve_settings(None, {}, path)
    assert settings.municipality.name == "練馬区" and settings.municipality.lg_code == "131202"
    assert not settings.municipality.is_sample
    assert settings.mail.mail_range is None  # never a made-up range for a real municipality


def test_init_writes_a_commented_file_that_refuses_real_runs_until_edited(tmp_path):
    target = tmp_path / "conf" / "mynumber.toml"
    done = mynumber("init", str(target))
    assert done.returncode == 0, done.stderr
    text = target.read_text(encoding="utf-8")
    assert text.count("#") > 20 and "[municipality]" in text and "[mail]" in text
    sections = read_settings_file(target)
    assert set(sections) == {"municipality", "mail", "ledger", "key", "print", "check", "qa", "runner"}
    settings = resolve_settings(None, {}, target)
    assert settings.municipality.is_sample  # unedited: only demo runs may print with it
    edited = text.replace(text[text.index("is_sample"):text.index("\n", text.index("is_sample")) + 1], "")
    target.write_text(edited, encoding="utf-8")
    assert not resolve_settings(None, {}, target).municipality.is_sample
    again = mynumber("init", str(target))
    assert again.returncode == 2 and "--force" in one_line(again)


@pytest.mark.parametrize(("snippet", "words"), [
    ("[municipality]\nmayor = \"x\"\n", "municipality.mayor"),
    ("[print]\nbatch_size = \"many\"\n", "print.batch_size"),
    ("[runner]\nworkers = 0\n", "--workers"),
    ("[sender]\nname = \"x\"\n", "[sender]"),
    ("[print]\nnotice_format = \"1999\"\n", "--notice-format"),
    ("[municipality]\nname = 7\n", "municipality.name"),
])
def test_bad_settings_are_named(tmp_path, snippet, words):
    path = tmp_path / "mynumber.toml"
    path.write_text(snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        resolve_settings(None, {}, path)
