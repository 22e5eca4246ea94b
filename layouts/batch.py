"""Print batches: cards.pdf, manifest.parquet, manifest.csv and SHA256SUMS in one folder.

A batch is a pure function of its plan rows, numbers and settings: the same input gives
byte-identical files, so a batch can be reproduced and a single envelope reprinted. A
batch whose files exist and verify against SHA256SUMS is skipped. Every file is written
to a temporary name and renamed, and SHA256SUMS is written last, so a killed render
never leaves a batch that verifies.

Manual handling at draw time (defence in depth; the plan's ``is_manual`` comes first):
a member whose name, kana or alias has a character no font draws is not printed and
counts in ``manual_members``. If the head's name or the address cannot be drawn, the
envelope cannot be addressed: it gets no pages (``first_page``/``last_page`` null,
``members`` 0) and all its members are manual.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import polars as pl

from core.private import private_dir, write_private
from layouts.address_sheet import draw_address_sheet
from layouts.document import Document, draw_demo_watermark
from layouts.fit import member_texts, misfits
from layouts.fonts import FontSet, undrawable_characters
from layouts.marks import mark_ops, mark_payload
from layouts.member_sheet import draw_member_sheet, draw_sheet_back
from layouts.print_settings import PrintSettings as PrintSettings  # re-exported: the public entry point
from layouts.records import Household, households_from_plan, mask_my_number
from layouts.spec import DEFAULT_SPEC, PrintSpec
from transforms.csv_cells import LIST_SEPARATOR, neutralise_cell
from transforms.customer_barcode import encode as encode_customer_barcode

BATCH_FILES = ("cards.pdf", "manifest.parquet", "manifest.csv")
SUMS_FILE = "SHA256SUMS"
#: (first_page, last_page) of an envelope; (None, None) when it has no printed page
PageRange = tuple[int | None, int | None]


@dataclass(frozen=True)
class ManualEntry:
    """A member sent separately: where, and which code points (never the name).

    The resident code is kept for the manual-handling list but left out of the repr, so a
    logged result carries no personal identifier.
    """

    resident_code: str = field(repr=False)
    envelope_seq: int
    code_points: tuple[str, ...]


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    batch_dir: Path
    skipped: bool
    envelopes: int
    pages: int
    members_printed: int
    manual_members: int
    manual: tuple[ManualEntry, ...] = ()
    sha256: Mapping[str, str] = field(default_factory=dict)


# --- manual handling ----------------------------------------------------------------------
def _apply_glyph_checks(hh: Household, fonts: FontSet,
                        spec: PrintSpec = DEFAULT_SPEC) -> tuple[Household, list[ManualEntry]]:
    entries, members = [], []
    addr_bad = undrawable_characters(hh.full_address, fonts)
    for m in hh.members:
        bad = undrawable_characters(
            "".join((m.family_name, m.given_name, m.family_name_kana, m.given_name_kana,
                     m.alias or "", m.full_address)), fonts)
        bad += [f.field for f in misfits(member_texts(
            spec, name=m.name, kana=m.kana, alias=m.alias, address=m.full_address,
            head=m.is_head), fonts)]
        members.append(replace(m, is_manual=m.is_manual or bool(bad),
                               manual_reason=tuple(bad)))
    head = next((m for m in members if m.is_head), members[0])
    if addr_bad or head.is_manual:
        members = [replace(m, is_manual=True,
                           manual_reason=tuple(dict.fromkeys((*m.manual_reason, *addr_bad))))
                   for m in members]
    for m in members:
        if m.is_manual:
            entries.append(ManualEntry(m.resident_code, hh.envelope_seq, m.manual_reason))
    return replace(hh, members=tuple(members)), entries


# --- rendering ----------------------------------------------------------------------------
def footer_text(hh: Household, k: int, n: int) -> str:
    return f"BATCH {hh.batch_id} ENV {hh.envelope_seq:06d} HH {hh.household_id} P {k}/{n}"


def render_pdf(households: list[Household], settings: PrintSettings, *,
               spec: PrintSpec = DEFAULT_SPEC, batch_id: str = "") -> tuple[bytes, list[PageRange]]:
    """cards.pdf as bytes, and (first_page, last_page) per envelope (None if not printed)."""
    fonts = settings.fonts()
    buf = io.BytesIO()
    title = f"{settings.municipality} 通知カード {batch_id}" + (" DEMO" if settings.demo else "")
    doc = Document(buf, spec, fonts, title=title, author=settings.municipality,
                   compress=settings.compress, output_profile=settings.output_profile)
    ranges: list[PageRange] = []
    for hh in households:
        if not hh.printed:
            ranges.append((None, None))
            continue
        first, n = doc.page_count + 1, hh.pages * (2 if settings.duplex else 1)
        step = 2 if settings.duplex else 1
        bars = None
        if hh.postal_code not in settings.no_barcode_postcodes:
            bars = encode_customer_barcode(hh.postal_code, hh.full_address).bars
        if settings.demo:
            doc.furniture("Demo", draw_demo_watermark)
        draw_address_sheet(doc, spec, hh, settings, bars, footer_text(hh, 1, n))
        doc.literal(mark_ops(mark_payload(hh.batch_id, hh.envelope_seq, 1, n), spec.page_height))
        doc.end_page()
        if settings.duplex:
            if settings.demo:
                doc.furniture("Demo", draw_demo_watermark)
            draw_sheet_back(doc, settings, None, footer_text(hh, 2, n))
            doc.literal(mark_ops(mark_payload(hh.batch_id, hh.envelope_seq, 2, n), spec.page_height))
            doc.end_page()
        for k, member in enumerate(hh.printed, 1):
            if settings.demo:
                doc.furniture("Demo", draw_demo_watermark)
            payload = settings.qr_template.format(application_id=member.application_id)
            page = 1 + k * step  # the k-th member's front page among the envelope's n pages
            draw_member_sheet(doc, spec, hh, member, settings, payload, footer_text(hh, page, n))
            doc.literal(mark_ops(mark_payload(hh.batch_id, hh.envelope_seq, page, n),
                                 spec.page_height))
            doc.end_page()
            if settings.duplex:
                if settings.demo:
                    doc.furniture("Demo", draw_demo_watermark)
                draw_sheet_back(doc, settings, member, footer_text(hh, page + 1, n))
                doc.literal(mark_ops(mark_payload(hh.batch_id, hh.envelope_seq, page + 1, n),
                                     spec.page_height))
                doc.end_page()
        ranges.append((first, doc.page_count))
    if doc.page_count == 0:          # a PDF needs a page: say why it is empty
        doc.footer(f"BATCH {batch_id} NO PRINTABLE ENVELOPES")
        doc.end_page()
    doc.save()
    return buf.getvalue(), ranges


def build_manifest(households: list[Household], ranges: list[PageRange]) -> pl.DataFrame:
    """One row per envelope; numbers masked to the last four digits."""
    rows = []
    for hh, (first, last) in zip(households, ranges, strict=True):
        printed = hh.printed
        rows.append({
            "batch_id": hh.batch_id, "envelope_seq": hh.envelope_seq,
            "household_id": hh.household_id, "postal_code": hh.postal_code,
            "registered_mail_number": hh.registered_mail_number,
            "first_page": first, "last_page": last,
            "members": len(printed), "manual_members": len(hh.manual),
            "resident_codes": [m.resident_code for m in printed],
            "member_names": [m.name for m in printed],
            "application_ids": [m.application_id for m in printed],
            "my_numbers_masked": [mask_my_number(m.my_number or "") for m in printed],
            "head_name": hh.head.name,
            "manual_resident_codes": [m.resident_code for m in hh.manual],
            # 通称 printed on each member's card ("" for none): an alias may be another
            # household's real name, and QA without the plan must know it is this member's
            "member_aliases": [m.alias or "" for m in printed],
        })
    lst = pl.List(pl.Utf8)
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "batch_id": pl.Utf8, "envelope_seq": pl.UInt32, "household_id": pl.Utf8,
        "postal_code": pl.Utf8, "registered_mail_number": pl.Utf8,
        "first_page": pl.UInt32, "last_page": pl.UInt32, "members": pl.UInt16,
        "manual_members": pl.UInt16, "resident_codes": lst, "member_names": lst,
        "application_ids": lst, "my_numbers_masked": lst, "head_name": pl.Utf8,
        "manual_resident_codes": lst, "member_aliases": lst}
    return pl.DataFrame(rows, schema=schema)


def manifest_csv_bytes(manifest: pl.DataFrame) -> bytes:
    """Lists joined with ';', every text cell (and every ';' part) neutralised, UTF-8 with
    BOM for Excel (transforms.csv_cells)."""
    flat = manifest.with_columns(
        [pl.col(c).list.join(LIST_SEPARATOR) for c, t in manifest.schema.items() if isinstance(t, pl.List)])
    flat = flat.with_columns(
        [pl.col(c).map_elements(neutralise_cell, return_dtype=pl.Utf8)
         for c, t in flat.schema.items() if t == pl.Utf8])
    return b"\xef\xbb\xbf" + flat.write_csv().encode("utf-8")


def _parquet_bytes(manifest: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    manifest.write_parquet(buf, compression="zstd", statistics=True)
    return buf.getvalue()


# --- files --------------------------------------------------------------------------------
def _write_atomic(path: Path, data: bytes) -> None:
    """Write whole or not at all, mode 0600 from creation (cards and manifests hold full
    numbers: core.private)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write_private(tmp, data)  # 0600 from creation, fsynced
        os.replace(tmp, path)
    except BaseException:  # disk full, permission denied, killed: no partial file survives
        tmp.unlink(missing_ok=True)
        raise


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sums(batch_dir: Path) -> dict[str, str]:
    sums = {}
    for line in (Path(batch_dir) / SUMS_FILE).read_text(encoding="ascii").splitlines():
        digest, _, name = line.partition("  ")
        sums[name.lstrip("*")] = digest
    return sums


def batch_is_complete(batch_dir: str | os.PathLike[str]) -> bool:
    """True when SHA256SUMS lists every batch file and each file matches it."""
    batch_dir = Path(batch_dir)
    try:
        sums = read_sums(batch_dir)
        return set(BATCH_FILES) <= set(sums) and all(
            _sha256_file(batch_dir / name) == sums[name] for name in BATCH_FILES)
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def write_batch(batch_dir: str | os.PathLike[str], plan_rows: pl.DataFrame, numbers: pl.DataFrame,
                settings: PrintSettings, *, spec: PrintSpec = DEFAULT_SPEC) -> BatchResult:
    """Render one print batch into batch_dir (skipped when it already verifies)."""
    batch_dir = Path(batch_dir)
    batch_id = plan_rows["batch_id"][0] if plan_rows.height else batch_dir.name
    if batch_is_complete(batch_dir):
        manifest = pl.read_parquet(batch_dir / "manifest.parquet")
        pages = int(cast("int | None", manifest["last_page"].max()) or 0)  # a UInt32 column
        return BatchResult(batch_id, batch_dir, True, manifest.height, pages,
                           int(manifest["members"].sum()), int(manifest["manual_members"].sum()),
                           sha256=read_sums(batch_dir))
    fonts = settings.fonts()
    households, manual = [], []
    for hh in households_from_plan(plan_rows, numbers):
        checked, entries = _apply_glyph_checks(hh, fonts, spec)
        households.append(checked)
        manual += entries
    pdf, ranges = render_pdf(households, settings, spec=spec, batch_id=batch_id)
    manifest = build_manifest(households, ranges)
    blobs = {"cards.pdf": pdf, "manifest.parquet": _parquet_bytes(manifest),
             "manifest.csv": manifest_csv_bytes(manifest)}
    private_dir(batch_dir)
    (batch_dir / SUMS_FILE).unlink(missing_ok=True)   # invalid until all files are new
    digests = {}
    for name in BATCH_FILES:
        _write_atomic(batch_dir / name, blobs[name])
        digests[name] = hashlib.sha256(blobs[name]).hexdigest()
    _write_atomic(batch_dir / SUMS_FILE,
                  "".join(f"{digests[n]}  {n}\n" for n in BATCH_FILES).encode("ascii"))
    pages = max((last for _, last in ranges if last), default=0)
    return BatchResult(batch_id, batch_dir, False, len(households), pages,
                       sum(len(h.printed) for h in households),
                       sum(len(h.manual) for h in households), tuple(manual), digests)
