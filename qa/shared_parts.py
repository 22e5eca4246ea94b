"""Split a batch PDF into its pages' own content and its shared static parts, in memory.

Why: the renderer draws each sheet's static furniture (labels, frames, the form's
instructions) once per batch as a form XObject that every page invokes. PDFium parses an
invoked form again on every page, so re-reading 6,000 pages spends most of its time on the
same two or three forms (measured: 0.67 ms a page with the forms, 0.29 ms without; see
README › Measured speed). QA reads the pages' own content from a copy whose forms are
emptied, and reads each form's text once from a copy whose only pages draw one form each.
The checks then hold more strictly than on whole pages: a name, address or number drawn
inside a form does not count as printed on the page, and any name or My Number in a form
fails the batch (:func:`qa.checks.check_shared_parts`).

Both copies are the file's own bytes plus an incremental update (ISO 32000-2 §7.5.6): new
versions of some objects, a cross-reference section for them and a trailer whose /Prev
points at the file's own cross-reference table. The file on disk is never changed, and the
digests QA checks are of the file as written.

Only what the renderer writes is split: one classic cross-reference table (no /Prev, no
/XRefStm, no encryption) and forms with their own /Resources. Anything else returns None,
and QA reads whole pages as before (slower, never weaker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SIZE = re.compile(rb"/Size\s+(\d+)")
_ROOT = re.compile(rb"/Root\s+(\d+)\s+(\d+)\s+R")
_FORM = re.compile(rb"/Subtype\s*/Form\b")
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_RESOURCES = re.compile(rb"/Resources\b")
#: trailers of files read whole: an earlier update, a hybrid file's second table, encryption
_NOT_SPLIT = (b"/Prev", b"/XRefStm", b"/Encrypt")
#: how far into an object its dictionary is looked for (ours are well under 1 KiB)
HEAD_BYTES = 8192
#: the page each form is drawn on in the forms-only copy (A4; text is read, never clipped)
_MEDIA_BOX = b"[ 0 0 595.2756 841.8898 ]"


@dataclass(frozen=True)
class XrefTable:
    """The one classic cross-reference table of a file: where it starts, the trailer's
    /Size and /Root, and each object in use → (byte offset, generation)."""

    at: int
    size: int
    root: tuple[int, int]
    objects: dict[int, tuple[int, int]]


@dataclass(frozen=True)
class SplitPdf:
    """The file with every form emptied, and the forms alone (page k draws ``forms[k]``)."""

    own_content: bytes
    forms_alone: bytes
    forms: tuple[int, ...]


def read_xref(data: bytes) -> XrefTable | None:
    """The file's only cross-reference table, or None when it is not one classic table."""
    tail = _STARTXREF.search(data[-1024:])
    if tail is None:
        return None
    at = int(tail.group(1))
    if data[at:at + 4] != b"xref":
        return None                            # a cross-reference stream
    trailer_at = data.find(b"trailer", at)
    end = data.find(b"startxref", trailer_at)
    if trailer_at < 0 or end < 0:
        return None
    trailer = data[trailer_at:end]
    size, root = _SIZE.search(trailer), _ROOT.search(trailer)
    if size is None or root is None or any(key in trailer for key in _NOT_SPLIT):
        return None
    objects: dict[int, tuple[int, int]] = {}
    tokens = data[at + 4:trailer_at].split()
    try:
        i = 0
        while i < len(tokens):
            first, count = int(tokens[i]), int(tokens[i + 1])
            i += 2
            for k in range(count):
                offset, gen, kind = tokens[i:i + 3]
                i += 3
                if kind == b"n":
                    objects[first + k] = (int(offset), int(gen))
                elif kind != b"f":
                    return None
    except (ValueError, IndexError):
        return None
    return XrefTable(at, int(size.group(1)), (int(root.group(1)), int(root.group(2))), objects)


def form_objects(data: bytes, xref: XrefTable) -> tuple[int, ...] | None:
    """Object numbers of the form XObjects (their dictionaries say /Subtype /Form).

    None when an offset does not hold the object the table says (a damaged file), or a
    form has no /Resources of its own: it would draw with the fonts of the page that
    invokes it, which the forms-alone copy does not have, so its text could go unread.
    """
    forms = []
    for number, (offset, gen) in sorted(xref.objects.items()):
        head = _OBJ.match(data, offset)
        if head is None or (int(head.group(1)), int(head.group(2))) != (number, gen):
            return None
        window = data[offset:offset + HEAD_BYTES]
        cut = [i for i in (window.find(b"stream"), window.find(b"endobj")) if i >= 0]
        dictionary = window[:min(cut)] if cut else window
        if _FORM.search(dictionary):
            if not _RESOURCES.search(dictionary):
                return None
            forms.append(number)
    return tuple(forms)


def _update(data: bytes, xref: XrefTable, objects: list[tuple[int, int, bytes]],
            root: tuple[int, int], size: int) -> bytes:
    """``data`` with an incremental update holding ``objects`` (number, generation, body)."""
    parts, entries, pos = [], [], len(data)
    if not data.endswith(b"\n"):
        parts.append(b"\n")
        pos += 1
    for number, gen, body in objects:
        chunk = b"%d %d obj\n%s\nendobj\n" % (number, gen, body)
        entries.append(b"%d 1\n%010d %05d n \n" % (number, pos, gen))
        parts.append(chunk)
        pos += len(chunk)
    parts.append(b"xref\n" + b"".join(entries))
    parts.append(b"trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
                 % (size, root[0], root[1], xref.at, pos))
    return data + b"".join(parts)


def _stream(content: bytes, extra: bytes = b"") -> bytes:
    return b"<< %s/Length %d >>\nstream\n%s\nendstream" % (extra, len(content), content)


def split(data: bytes) -> SplitPdf | None:
    """The two copies QA reads, or None when the file is not one QA can split safely."""
    xref = read_xref(data)
    if xref is None:
        return None
    forms = form_objects(data, xref)
    if not forms:
        return None
    gens = {n: xref.objects[n][1] for n in forms}
    emptied = [(n, gens[n], _stream(b"", b"/Type /XObject /Subtype /Form /BBox [ 0 0 0 0 ] "))
               for n in forms]
    own_content = _update(data, xref, emptied, xref.root, xref.size)
    # forms alone: new objects after the last one — a page per form, a page tree, a catalogue
    first = xref.size
    pages_tree, catalogue = first + 2 * len(forms), first + 2 * len(forms) + 1
    added: list[tuple[int, int, bytes]] = []
    kids = []
    for k, n in enumerate(forms):
        page, content = first + 2 * k, first + 2 * k + 1
        added.append((content, 0, _stream(b"q /F Do Q")))
        added.append((page, 0, b"<< /Type /Page /Parent %d 0 R /MediaBox %s /Resources << "
                                b"/XObject << /F %d %d R >> >> /Contents %d 0 R >>"
                      % (pages_tree, _MEDIA_BOX, n, gens[n], content)))
        kids.append(b"%d 0 R" % page)
    added.append((pages_tree, 0, b"<< /Type /Pages /Kids [ %s ] /Count %d >>"
                  % (b" ".join(kids), len(forms))))
    added.append((catalogue, 0, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_tree))
    forms_alone = _update(data, xref, added, (catalogue, 0), catalogue + 1)
    return SplitPdf(own_content, forms_alone, forms)
