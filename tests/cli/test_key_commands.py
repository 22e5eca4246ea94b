"""`mynumber key rotate` and `mynumber key list`: rotation needs the current key and a reason,
is audited, and afterwards only the new key issues."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from core.errors import KeyMismatch
from core.keys import generate_key_file
from ledger import keys, open_ledger


def _app() -> typer.Typer:
    from cli.commands.keys import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from flattening the app
        pass

    return app


def test_rotate_and_list(tmp_path):
    a, b, demo = (generate_key_file(tmp_path / f"{n}.json", demo=(n == "demo"))
                  for n in ("a", "b", "demo"))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    led = open_ledger(url, operator="setup", create=True)
    keys.bind_key(led, a)
    runner, app = CliRunner(), _app()

    def run(*args: str):
        return runner.invoke(app, list(args))

    wrong = run("key", "rotate", "--key", str(tmp_path / "b.json"), "--new-key",
                str(tmp_path / "b.json"), "--reason", "x", "--ledger", url)
    assert wrong.exit_code != 0
    mixed = run("key", "rotate", "--key", str(tmp_path / "a.json"), "--new-key",
                str(tmp_path / "demo.json"), "--reason", "x", "--ledger", url)
    assert mixed.exit_code != 0
    ok = run("key", "rotate", "--key", str(tmp_path / "a.json"), "--new-key",
             str(tmp_path / "b.json"), "--reason", "annual rotation", "--ledger", url,
             "--operator", "keeper")
    assert ok.exit_code == 0, ok.output
    assert f"key {a.key_id} retired; key {b.key_id} is now current" in ok.output
    listed = run("key", "list", "--ledger", url)
    assert listed.exit_code == 0 and a.key_id in listed.output and b.key_id in listed.output
    assert "retired" in listed.output and "current" in listed.output
    for key in (a, b, demo):
        assert key.secret.hex()[:16] not in ok.output + listed.output
    keys.bind_key(led, b)
    with pytest.raises(KeyMismatch, match="retired key"):
        keys.bind_key(led, a)
