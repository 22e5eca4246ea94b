"""What the municipality prints as sender, and how: the settings every sheet drawer reads.

Its own module so the sheet drawers (address_sheet, member_sheet) and the batch writer that
calls them all import it from below, without a cycle through layouts.batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Municipality
from layouts.fonts import FontSet, load_fonts

_SAMPLE = Municipality()


@dataclass(frozen=True)
class PrintSettings:
    """What the municipality prints as sender, and how."""

    # defaults: the sample sender of core.settings (the demo); runs fill them from settings
    municipality: str = _SAMPLE.name
    sender_postcode: str = f"{_SAMPLE.postal_code[:3]}-{_SAMPLE.postal_code[3:]}"
    sender_address: str = _SAMPLE.address
    office_title: str = _SAMPLE.mayor_title
    office_name: str = _SAMPLE.office_name
    telephone: str = _SAMPLE.telephone
    notice_format: str = "2015-card"       # or "2020-notice" (core.settings: print.notice_format)
    duplex: bool = False                   # a back page after every sheet (the card's 追記欄)
    no_barcode_postcodes: frozenset[str] = frozenset({"1760000"})
    qr_template: str = "{application_id}"
    demo: bool = False
    font_paths: tuple[tuple[str, str], ...] = ()   # (role, path): mincho_mj, gothic, mincho
    font_dir: str | None = None
    compress: bool = True
    output_profile: str | None = None   # ICC CMYK profile for the PDF/X output intent

    def fonts(self) -> FontSet:
        return load_fonts(dict(self.font_paths) or None, self.font_dir)
