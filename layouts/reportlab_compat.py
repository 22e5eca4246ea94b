"""The one version check for every reach into reportlab internals (fonts' ToUnicode patch,
pdfx's endstream EOL, page_dicts' template pages): the range pyproject supports.

A patch of a private function is only known right for the versions it was checked against;
another version is refused at first use with one clear error instead of printing wrong PDFs.
"""

from __future__ import annotations

from core.errors import ConfigError

#: [low, high) of reportlab versions, as in pyproject's ``reportlab>=4.2,<6``
SUPPORTED_REPORTLAB = ((4, 2), (6, 0))


def _version_tuple(version: str) -> tuple[int, int]:
    parts = (version.split(".") + ["0", "0"])[:2]
    try:
        return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    except ValueError:
        return (0, 0)


def check_reportlab_version() -> None:
    """Refuse a reportlab outside the supported range (ConfigError naming the version)."""
    import reportlab

    low, high = SUPPORTED_REPORTLAB
    if not low <= _version_tuple(str(reportlab.Version)) < high:
        raise ConfigError(
            f"reportlab {reportlab.Version} is not a version layouts was checked against "
            f"(>={low[0]}.{low[1]},<{high[0]}): install the version from the lock file")
