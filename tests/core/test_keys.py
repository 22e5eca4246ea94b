"""Key files: created 0600 without overwriting, loaded only when private and well-formed,
and the key never shows in a repr, an exception, a log record or CLI output."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import stat
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.commands import keys as keys_command
from core.errors import ConfigError, KeyFileError
from core.keys import (
    KeyMaterial,
    ensure_demo_key,
    generate_key_file,
    load_key,
)


def _secret_texts(key: KeyMaterial) -> list[str]:
    """Forms in which key material could leak: hex (both cases), a fragment, raw bytes."""
    h = key.secret.hex()
    return [h, h.upper(), h[:16], h[-16:], repr(key.secret), str(key.secret)]


def _assert_clean(text: str, key: KeyMaterial) -> None:
    for secret in _secret_texts(key):
        assert secret not in text


def test_generate_writes_private_json(tmp_path):
    path = tmp_path / "sub" / "key.json"
    key = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"key_id", "key_hex", "created", "demo"}
    assert data["key_id"] == key.key_id and data["key_id"].startswith("k-")
    assert bytes.fromhex(data["key_hex"]) == key.secret and len(key.secret) == 32
    assert data["demo"] is False and not key.is_demo
    assert data["created"] == key.created and "T" in key.created
    assert key.secret.hex() not in key.key_id
    assert sorted(p.name for p in path.parent.iterdir()) == ["key.json"]  # no temp file left
    assert load_key(path) == key


def test_mode_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "key.json"
        generate_key_file(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_differ(tmp_path):
    a = generate_key_file(tmp_path / "a.json")
    b = generate_key_file(tmp_path / "b.json", demo=True)
    assert a.secret != b.secret and b.is_demo


def test_refuses_to_overwrite(tmp_path):
    path = tmp_path / "key.json"
    generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        generate_key_file(path)
    assert path.read_bytes() == before
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")  # a dangling symlink is not followed
    with pytest.raises(KeyFileError):
        generate_key_file(link)
    assert not (tmp_path / "elsewhere.json").exists()


def test_concurrent_generation_creates_one_key(tmp_path):
    path = tmp_path / "key.json"
    results: list[object] = []

    def attempt():
        try:
            results.append(generate_key_file(path))
        except KeyFileError as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r for r in results if isinstance(r, KeyMaterial)]
    assert len(made) == 1 and load_key(path) == made[0]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o620, 0o644, 0o700 | 0o040])
def test_refuses_group_or_world_access(tmp_path, mode):
    path = tmp_path / "key.json"
    key = generate_key_file(path)
    path.chmod(mode)
    with pytest.raises(KeyFileError) as info:
        load_key(path)
    message = str(info.value)
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    _assert_clean(message, key)
    path.chmod(0o600)
    assert load_key(path) == key
    path.chmod(0o400)
    assert load_key(path) == key


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


GOOD_HEX = "aa" * 32
BAD_FILES = {
    "not-json": ("{key_hex: " + GOOD_HEX, "malformed JSON"),
    "empty": ("", "malformed JSON"),
    "list": (json.dumps([GOOD_HEX]), "JSON object"),
    "no-key-id": (json.dumps({"key_hex": GOOD_HEX}), "key_id"),
    "no-key": (json.dumps({"key_id": "k-1"}), "key_hex"),
    "short": (json.dumps({"key_id": "k-1", "key_hex": GOOD_HEX[:-2]}), "64 hex digits"),
    "long": (json.dumps({"key_id": "k-1", "key_hex": GOOD_HEX + "bb"}), "64 hex digits"),
    "aes128": (json.dumps({"key_id": "k-1", "key_hex": "cd" * 16}), "64 hex digits"),
    "non-hex": (json.dumps({"key_id": "k-1", "key_hex": GOOD_HEX[:-1] + "g"}),
                "not hexadecimal"),
    "spaces": (json.dumps({"key_id": "k-1", "key_hex": "aa " * 21 + "a"}), "not hexadecimal"),
    "hex-int": (json.dumps({"key_id": "k-1", "key_hex": 12}), "key_hex"),
    "demo-string": (json.dumps({"key_id": "k-1", "key_hex": GOOD_HEX, "demo": "yes"}), "demo"),
    "latin1": ('{"key_id": "\xe9"}', "UTF-8"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_refuses_malformed_files(tmp_path, name):
    text, expected = BAD_FILES[name]
    path = tmp_path / "key.json"
    if name == "latin1":
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, text.encode("latin-1"))
        os.close(fd)
    else:
        _write_private(path, text)
    with pytest.raises(KeyFileError) as info:
        load_key(path)
    message = str(info.value)
    assert expected in message and str(path) in message
    assert "aa" * 8 not in message and "cd" * 8 not in message


def test_missing_and_odd_paths(tmp_path):
    with pytest.raises(KeyFileError, match="mynumber keygen"):
        load_key(tmp_path / "none.json")
    with pytest.raises(KeyFileError, match="not a regular file"):
        (tmp_path / "dir").mkdir(mode=0o700)
        load_key(tmp_path / "dir")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_key(fifo)  # does not block waiting for a writer
    assert issubclass(KeyFileError, ConfigError)


def test_key_hidden_in_repr_str_format_and_pickle(tmp_path):
    key = generate_key_file(tmp_path / "key.json", demo=True)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", f"{[key]}", f"{ {'k': key} }"):
        _assert_clean(text, key)
        assert key.key_id in text and "hidden" in text
    assert "DEMO" in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert copy.deepcopy(key) is key and copy.copy(key) is key
    with pytest.raises(KeyFileError):
        KeyMaterial("k-x", b"short")


def test_nothing_leaks_into_logs_or_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "key.json"
    key = generate_key_file(path)
    load_key(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError) as info:
        load_key(path)
    with pytest.raises(KeyFileError) as info2:
        generate_key_file(path)
    texts = [r.getMessage() for r in caplog.records] + [str(info.value), str(info2.value)]
    assert any(key.key_id in t for t in texts)  # the log names the key id …
    for text in texts:
        _assert_clean(text, key)  # … and never the key


def _cli() -> typer.Typer:
    app = typer.Typer()
    keys_command.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command, so typer keeps sub-command names
        """Nothing."""

    return app


def test_cli_keygen_prints_id_and_path_only(tmp_path):
    path = tmp_path / "k.json"
    result = CliRunner().invoke(_cli(), ["keygen", str(path), "--demo"])
    assert result.exit_code == 0, result.output
    key = load_key(path)
    assert key.is_demo
    assert key.key_id in result.output and str(path) in result.output
    _assert_clean(result.output, key)
    again = CliRunner().invoke(_cli(), ["keygen", str(path)])
    assert again.exit_code != 0 and isinstance(again.exception, KeyFileError)
    _assert_clean(again.output + str(again.exception), key)
    assert load_key(path) == key


def test_cli_keygen_default_path_from_env(tmp_path, monkeypatch):
    path = tmp_path / "env-key.json"
    monkeypatch.setenv("MYNUMBER_KEY_FILE", str(path))
    result = CliRunner().invoke(_cli(), ["keygen"])
    assert result.exit_code == 0, result.output
    assert path.exists() and str(path) in result.output


def test_cli_help():
    result = CliRunner().invoke(_cli(), ["keygen", "--help"])
    assert result.exit_code == 0 and "--demo" in result.output


def test_ensure_demo_key(tmp_path):
    path = tmp_path / "demo" / "key.json"
    first = ensure_demo_key(path)
    assert first.is_demo and ensure_demo_key(path) == first
    prod = tmp_path / "prod.json"
    generate_key_file(prod)
    with pytest.raises(KeyFileError, match="not a DEMO key"):
        ensure_demo_key(prod)
