"""Fonts: find, check and register IPAmj Mincho and IPAex; tell what they cannot draw.

Only TrueType outlines: reportlab cannot embed CFF (``OTTO``) fonts, so a CFF file is
refused with FontMissing rather than silently replaced by a base-14 font that is never
embedded. Search order: explicit paths (PrintSettings), ``$MYNUMBER_FONT_DIR``, the
Debian package locations (``fonts-ipamj-mincho``, ``fonts-ipaexfont``).

IPAmj Mincho is preferred for names (it covers the MJ character set of the register);
IPAex covers JIS X 0208/0213 and the symbols IPAmj lacks. A code point that no registered
font has, and every ideographic variation selector (reportlab cannot select the variant
glyph; it would draw the base glyph and a box), is *undrawable*: the resident goes to
manual handling instead of getting a card with a blank box on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from core.errors import ConfigError, FontMissing
from layouts.reportlab_compat import check_reportlab_version

#: logical role → (reportlab font name, file name, package that installs it)
FONT_FILES: dict[str, tuple[str, str, str]] = {
    "mincho_mj": ("IPAmjMincho", "ipamjm.ttf", "fonts-ipamj-mincho"),
    "gothic": ("IPAexGothic", "ipaexg.ttf", "fonts-ipaexfont-gothic"),
    "mincho": ("IPAexMincho", "ipaexm.ttf", "fonts-ipaexfont-mincho"),
}
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts/truetype/ipamj",
    "/usr/share/fonts/opentype/ipamj",
    "/usr/share/fonts/opentype/ipaexfont-gothic",
    "/usr/share/fonts/opentype/ipaexfont-mincho",
    "/usr/share/fonts/truetype/ipaexfont-gothic",
    "/usr/share/fonts/truetype/ipaexfont-mincho",
    "/usr/share/fonts/truetype/ipaexfont",
    "/usr/share/fonts/opentype/ipaexfont",
    "/usr/local/share/fonts",
)
#: variation selectors: VS1-16 (U+FE00-FE0F) and the ideographic VS17-256 (U+E0100-E01EF)
VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))
#: fallback order when drawing: names prefer IPAmj Mincho, other text IPAex Gothic
NAME_CHAIN = ("mincho_mj", "mincho", "gothic")
TEXT_CHAIN = ("gothic", "mincho_mj", "mincho")
_TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true")


@dataclass(frozen=True, eq=False)   # identity hash: one FontSet per set of paths
class FontSet:
    """Registered fonts: role → reportlab name, plus the cmaps for glyph checks."""

    names: Mapping[str, str]
    paths: Mapping[str, str]
    cmaps: Mapping[str, frozenset[int]]

    @cached_property
    def drawable(self) -> frozenset[int]:
        """Every code point some registered font has (the glyph check's one set lookup)."""
        return frozenset().union(*self.cmaps.values())

    def runs(self, text: str, chain: tuple[str, ...] = TEXT_CHAIN) -> list[tuple[str, str]]:
        """Split text into (font name, substring) runs: first font in chain with the glyph."""
        return list(_runs_cached(self, text, chain))   # the caller's own list


def _utf16_hex(cp: int) -> str:
    """A code point as the UTF-16BE hex a ToUnicode CMap wants (surrogates above the BMP)."""
    return ch.encode("utf-16-be").hex().upper() if (ch := chr(cp)) else ""


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap with UTF-16 for code points above U+FFFF.

    reportlab 5.1 writes ``<%04X>`` of the code point, so 𠮷 (U+20BB7) becomes the odd
    ``<20BB7>`` and text extraction (QA, screen readers, search) reads U+20BB instead.
    """
    cmap = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo", f"<< /Registry ({fontname})", f"/Ordering ({fontname})",
            "/Supplement 0", ">> def", f"/CMapName /{fontname} def", "/CMapType 2 def",
            "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
            f"{len(subset)} beginbfchar"]
    cmap += [f"<{i:02X}> <{_utf16_hex(v)}>" for i, v in enumerate(subset)]
    cmap += ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop",
             "end", "end"]
    return "\n".join(cmap)


def _patch_reportlab() -> None:
    import inspect

    from reportlab.pdfbase import ttfonts

    original = getattr(ttfonts, "makeToUnicodeCMap", None)
    if original is _to_unicode_cmap:
        return
    check_reportlab_version()
    if original is None or list(inspect.signature(original).parameters) != ["fontname", "subset"]:
        raise ConfigError(
            "reportlab's ttfonts.makeToUnicodeCMap(fontname, subset) is not the function "
            "layouts/fonts.py replaces: install the version from the lock file")
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _long_hmetrics(path: str) -> int:
    """``hhea.numberOfHMetrics``, read by fontTools (only the hhea table is decoded)."""
    from fontTools.ttLib import TTFont as FontToolsFont

    with FontToolsFont(path, lazy=True) as font:
        if "hhea" not in font:
            raise FontMissing(f"font {path} has no hhea table")
        return int(font["hhea"].numberOfHMetrics)


def fix_subset_advances(face: Any, path: str) -> int:
    """Repair the advance widths reportlab copies into embedded subsets; returns how many.

    reportlab 5.1 (``TTFontFile.extractInfo``) keeps each glyph's advance in font units
    for the subset's hmtx, but for glyphs past ``numberOfHMetrics`` (the font lists only
    their side bearings; they share the last advance) it stores the advance already
    scaled to 1000/em. IPAmj Mincho has 1,960 long metrics for 61,179 glyphs and 2,048
    units per em, so most kanji were embedded 1000 units wide on a 2048 em (488/1000)
    while /W says 1000: validators report "width inconsistent" (PDF/A 6.3.6, PDF/X) and
    a RIP that trusts the font spaces them at half width. The shared advance is the last
    long metric, in font units.
    """
    n = _long_hmetrics(path)
    metrics = face.hmetrics
    if not 0 < n <= len(metrics):
        return 0
    shared = metrics[n - 1][0]
    fixed = 0
    for g in range(n, len(metrics)):
        if metrics[g][0] != shared:
            metrics[g] = (shared, metrics[g][1])
            fixed += 1
    return fixed


def _is_truetype(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) in _TRUETYPE_MAGIC


def find_font(role: str, explicit: Mapping[str, str] | None = None, font_dir: str | None = None) -> Path:
    """Path of the font file for a role, or FontMissing saying what to install.

    Looked for in ``explicit`` paths, then ``font_dir`` (setting ``print.font_dir`` or
    $MYNUMBER_FONT_DIR, resolved by the CLI) and its subfolders, then Debian's folders.
    """
    _, filename, package = FONT_FILES[role]
    candidates: list[Path] = []
    if explicit and explicit.get(role):
        candidates.append(Path(explicit[role]))
    if font_dir:
        candidates += [Path(font_dir) / filename, *Path(font_dir).glob(f"*/{filename}")]
    candidates += [Path(d) / filename for d in SYSTEM_FONT_DIRS]
    for path in candidates:
        if path.is_file():
            if not _is_truetype(path):
                raise FontMissing(f"font {path} is not TrueType (CFF/OTF cannot be embedded)")
            return path
    raise FontMissing(
        f"font {filename} not found: install the Debian package {package} "
        f"(`make` does) or set print.font_dir (MYNUMBER_FONT_DIR) to the folder that holds it")


@lru_cache(maxsize=8)
def _load(paths: tuple[tuple[str, str], ...]) -> FontSet:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    _patch_reportlab()
    names, cmaps = {}, {}
    for role, path in paths:
        base = FONT_FILES[role][0]
        registered = pdfmetrics.getRegisteredFontNames()
        name = base
        # another path under the same name (tests with a font dir): register a new name
        suffix = 1
        while name in registered and getattr(pdfmetrics.getFont(name), "_mn_path", path) != path:
            suffix += 1
            name = f"{base}-{suffix}"
        if name not in registered:
            try:
                font = TTFont(name, path)
            except (TTFError, OSError) as exc:
                raise FontMissing(f"font {path} cannot be loaded: {type(exc).__name__}") from None
            font._mn_path = path
            fix_subset_advances(font.face, path)
            pdfmetrics.registerFont(font)
        font = pdfmetrics.getFont(name)
        names[role] = name
        cmaps[role] = frozenset(font.face.charToGlyph)
    return FontSet(names=names, paths=dict(paths), cmaps=cmaps)


def load_fonts(explicit: Mapping[str, str] | None = None, font_dir: str | None = None) -> FontSet:
    """Find, check and register all three fonts (cached per set of paths)."""
    paths = tuple((role, str(find_font(role, explicit, font_dir))) for role in FONT_FILES)
    return _load(paths)


#: every variation selector, as one set
_SELECTORS = frozenset(cp for r in VARIATION_SELECTORS for cp in r)


@lru_cache(maxsize=1 << 16)
def _undrawable_cached(fontset: FontSet, text: str) -> tuple[str, ...]:
    codes = set(map(ord, text))       # set operations in C: almost every text is all drawable
    if codes <= fontset.drawable and codes.isdisjoint(_SELECTORS):
        return ()
    out: dict[str, None] = {}
    for ch in text:
        cp = ord(ch)
        if cp in _SELECTORS or cp not in fontset.drawable:
            out[f"U+{cp:04X}"] = None
    return tuple(out)


def undrawable_characters(text: str | None, fontset: FontSet | None = None) -> list[str]:
    """Code points (``U+20BB7`` form, first occurrence order) that cannot be printed.

    A variation selector is always reported, because reportlab cannot select the variant.
    """
    if not text:
        return []
    return list(_undrawable_cached(fontset or load_fonts(), text))


@lru_cache(maxsize=1 << 16)
def _runs_cached(fontset: FontSet, text: str, chain: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Cached per text: a text is measured to fit it, then measured and encoded to draw it."""
    first = fontset.cmaps[chain[0]]
    if first.issuperset(map(ord, text)):      # the common case: one run (a C-level loop)
        return ((fontset.names[chain[0]], text),)
    runs: list[tuple[str, str]] = []
    for ch in text:
        cp = ord(ch)
        role = next((r for r in chain if cp in fontset.cmaps[r]), chain[0])
        name = fontset.names[role]
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + ch)
        else:
            runs.append((name, ch))
    return tuple(runs)


@lru_cache(maxsize=1 << 16)
def advance_units(font_name: str, text: str) -> float:
    """Sum of the characters' advance widths in 1/1000 em (the font's default width for a
    character it has no width for), summed in text order.

    Shared by fitting (layouts.fit) and drawing (layouts.document), which measure the same
    texts: cached per (font, text), the same float either way.
    """
    from reportlab.pdfbase.pdfmetrics import getFont

    face = getFont(font_name).face
    widths, default = face.charWidths, face.defaultWidth
    return float(sum([widths.get(ord(c), default) for c in text]))
