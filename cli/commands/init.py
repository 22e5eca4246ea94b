"""`mynumber init`: write a commented settings file to edit (mynumber.toml)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import typer

from core.errors import ConfigError

#: until this line is removed, the sender is the sample's and real runs are refused
SAMPLE_GUARD = ("is_sample = true                   # delete this line once the values above are "
                "your municipality's: until then only demo runs may print")


def template_text() -> str:
    """The Nerima sample with the guard line, so an unedited copy never prints as Nerima."""
    text = files("sample_data").joinpath("mynumber.toml").read_text(encoding="utf-8")
    text = text.replace("# This is the sample for Nerima (練馬区, Tokyo). `mynumber init` writes a copy to edit.",
                        "# Written by `mynumber init` from the Nerima sample: replace the values with yours.")
    return text.replace('counter_hours = "平日 8:30〜17:15"  # shown on the notice: when residents can come\n',
                        'counter_hours = "平日 8:30〜17:15"  # shown on the notice: when residents can come\n'
                        + SAMPLE_GUARD + "\n", 1)


def init(
    path: Path = typer.Argument(Path("mynumber.toml"), help="Where to write the settings file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented settings file (municipality, mail range, ledger, key, print...) to edit."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: edit it, or add --force to overwrite it")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder: give a file name such as {path / 'mynumber.toml'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template_text(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    print(f"wrote {path}: set [municipality] and [mail], delete the is_sample line, then run "
          f"with --config {path} (or MYNUMBER_CONFIG={path})")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
