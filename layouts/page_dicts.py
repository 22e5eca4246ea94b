"""Page dictionaries written from a template instead of formatted afresh for every page.

reportlab formats each page's dictionary from scratch when it saves: the three boxes, the
resource dictionary, the parent, the transition. On a 6,000-page batch that was ~15 % of
rendering (py-spy, bench/bulk.py). The pages of one document differ only in their content
stream and in the forms they place, so the first page with a given key (forms, boxes,
size, rotation, images) is formatted by reportlab itself with a marker where its
/Contents reference goes, and every later page with the same key reuses those bytes
around its own reference. The output is byte-identical to reportlab's: a test renders
batches both ways and compares the files.

A page with anything else set (annotations, graphics states, colour spaces, shadings, a
duration, a preset /Resources, …) is formatted by reportlab as usual.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from reportlab.pdfbase import pdfdoc

from core.errors import ConfigError

_MARK = b"\x00mn-page-contents\x00"
#: page keys the template does not cover: a page with any of them set (not None: reportlab
#: writes ``/Dur 0``) is left to reportlab; annotations count when the list is not empty
#: (the canvas gives every page an empty one, which reportlab leaves out)
_UNCOVERED = ("Thumb", "B", "Dur", "Hid", "AA", "PieceInfo", "LastModified",
              "SeparationInfo", "ID", "PZ", "Resources", "Contents", "ExtGState")
_BOXES = ("MediaBox", "CropBox", "ArtBox", "TrimBox", "BleedBox")
_CACHE_ATTR = "_mn_page_templates"


_SCALARS = frozenset({int, float, str, bytes, bool, type(None)})


def _plain(value: Any) -> Hashable:
    """A hashable stand-in for a box, transition or form dictionary, by exact type (a
    subclass may format itself differently); TypeError for anything else."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is pdfdoc.PDFArray:
        return (kind, tuple(map(_plain, value.sequence)))
    if kind is pdfdoc.PDFDictionary:
        return (kind, tuple(sorted((k, _plain(v)) for k, v in value.dict.items())))
    if kind is pdfdoc.PDFObjectReference:
        return (kind, value.name)
    raise TypeError(f"no template key for {kind.__name__}")


def template_key(page: Any) -> Hashable | None:
    """What a page's dictionary depends on besides /Contents; None: let reportlab format it."""
    if page.Override_default_compilation or page.stream is None:
        return None
    if page.Annots or any(getattr(page, name, None) is not None for name in _UNCOVERED):
        return None
    if getattr(page, "_colorsUsed", None) or getattr(page, "_shadingUsed", None):
        return None
    try:
        return (page.pagewidth, page.pageheight, _plain(page.Rotate), bool(page.hasImages),
                tuple(_plain(getattr(page, box, None)) for box in _BOXES),
                _plain(page.XObjects), _plain(page.Trans))
    except TypeError:
        return None


class TemplatePage(pdfdoc.PDFPage):  # type: ignore[misc]
    """A reportlab page whose dictionary comes from its document's template for its key."""

    def format(self, document: Any) -> bytes:
        key = template_key(self)
        if key is None:
            return bytes(super().format(document))
        templates: dict[Hashable, tuple[bytes, bytes]] = document.__dict__.setdefault(_CACHE_ATTR, {})
        parts = templates.get(key)
        try:
            if parts is not None:        # in the template already: not built again for this page
                setattr(self, "Resources", _MARK)  # noqa: B010 (reportlab sets it untyped)
            self.check_format(document)     # builds /Contents as reportlab does
        finally:
            if getattr(self, "Resources") is _MARK:  # noqa: B009
                setattr(self, "Resources", None)  # noqa: B010 (formatted again: reportlab builds it)
        real: Any = getattr(self, "Contents")  # noqa: B009 (reportlab sets it untyped)
        contents = document.Reference(real)   # registered here, as reportlab does
        if parts is None:
            setattr(self, "Contents", _MARK)  # noqa: B010
            try:
                whole = bytes(super().format(document))
            finally:
                setattr(self, "Contents", real)  # noqa: B010
            head, mark, tail = whole.partition(_MARK)
            if not mark or _MARK in tail:
                raise ConfigError("reportlab wrote a page dictionary without exactly one /Contents")
            parts = templates[key] = (head, tail)
        return parts[0] + bytes(pdfdoc.format(contents, document)) + parts[1]


def use_template(page: Any) -> None:
    """Have this page (a plain reportlab PDFPage) written from its document's template."""
    if type(page) is not pdfdoc.PDFPage:
        raise ConfigError(f"page templates need reportlab's PDFPage, not {type(page).__name__}")
    page.__class__ = TemplatePage
