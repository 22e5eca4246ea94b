"""print.output_profile: the ICC profile of the PDF/X output intent, from file, env or default."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import resolve_settings


def test_default_is_none_and_the_package_profile_is_used() -> None:
    assert resolve_settings().print.output_profile is None


def test_environment_and_file_set_it(tmp_path: Path) -> None:
    icc = tmp_path / "shop.icc"
    icc.write_bytes(b"x")
    s = resolve_settings(None, {"MYNUMBER_OUTPUT_PROFILE": str(icc)})
    assert s.print.output_profile == str(icc)
    cfg = tmp_path / "mynumber.toml"
    cfg.write_text(f'[print]\noutput_profile = "{icc}"\n', encoding="utf-8")
    assert resolve_settings(None, {}, cfg).print.output_profile == str(icc)


def test_missing_profile_is_refused_before_any_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="print.output_profile"):
        resolve_settings(None, {"MYNUMBER_OUTPUT_PROFILE": str(tmp_path / "gone.icc")})
