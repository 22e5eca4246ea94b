"""Print-QA checks: pure functions over what was read back (texts, hashes, decoded QR codes).

Every check returns a list of :class:`Finding` (empty = pass). A finding names the check,
the envelope and page and a rule — never a value: qa.json must carry no My Number, name or
resident code, so operators find the envelope by its sequence number in the manifest.

Page model (docs/architecture.md, "Page contract"): page ``first_page`` of an envelope is
the address sheet, followed by one sheet per printed member in manifest list order, so an
envelope has ``1 + members`` pages. Names are compared as sequences of word tokens
(``\\w+`` runs), which is robust to line breaks and spacing, and does not see 林 一 inside
小林 一郎. Addresses are compared with all whitespace removed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from core.page_contract import page_contract
from transforms.csv_cells import unneutralise_cell

# check names, in the order qa.json lists them
SHA256SUMS = "sha256sums"
MANIFEST = "manifest"
PAGE_COUNT = "page_count"
PAGE_RANGES = "page_ranges"
FOOTERS = "footers"
NAMES = "names"
OTHER_HOUSEHOLDS = "other_households"
ADDRESS = "address"
REGISTERED_MAIL = "registered_mail"
APPLICATION_IDS = "application_ids"
MASKED_NUMBERS = "masked_numbers"
LEDGER_NUMBERS = "ledger_numbers"
QR_CODES = "qr_codes"
PLAN = "plan"
LAYOUT = "layout"
ANNOTATIONS = "annotations"
ALL_CHECKS = (SHA256SUMS, MANIFEST, PAGE_COUNT, PAGE_RANGES, FOOTERS, NAMES, OTHER_HOUSEHOLDS,
              ADDRESS, REGISTERED_MAIL, APPLICATION_IDS, MASKED_NUMBERS, LEDGER_NUMBERS,
              QR_CODES, PLAN, LAYOUT, ANNOTATIONS)

# --- the page contract's geometry (docs/architecture.md#page-contract), read from the contract
# data file in core (QA never imports layouts; a test ties layouts.spec to the same file).
# Boxes are (x, y, w, h) in mm from the sheet's top-left.
_CONTRACT = page_contract()
PAGE_MM = _CONTRACT.page_mm
PAGE_EDGE_MM = _CONTRACT.page_edge_mm
WINDOW_MM = _CONTRACT.window_mm
MIN_WINDOW_PT = _CONTRACT.min_window_pt
MIN_TEXT_PT = _CONTRACT.min_text_pt
WATERMARK_PT = _CONTRACT.watermark_pt
#: frames no character may straddle, per page role: the window and the sender box on the
#: address sheet, the card (or the 2020 notice's frame) on a member sheet
FRAMES_MM = {"address": (WINDOW_MM, _CONTRACT.sender_mm),
             "member": (_CONTRACT.card_mm,),
             "member_back": (_CONTRACT.card_mm,)}   # mirrored: centred, so the same
OVERLAP_SHARE = 0.3                    # two glyphs sharing 30 % of the smaller one overlap
REQUIRED_FILES = ("cards.pdf", "manifest.parquet", "manifest.csv")
LIST_COLUMNS = ("resident_codes", "member_names", "application_ids", "my_numbers_masked")
#: optional: manifests written before it existed have none (QA then knows aliases only
#: from the plan); when present it is one entry per printed member, "" for none
ALIAS_COLUMN = "member_aliases"
MANIFEST_COLUMNS = ("batch_id", "envelope_seq", "household_id", "postal_code",
                    "registered_mail_number", "first_page", "last_page", "members",
                    "manual_members", *LIST_COLUMNS, "head_name")

FOOTER_RE = re.compile(r"BATCH (\S+) ENV (\d+) HH (.+?) P (\d+)/(\d+)")
MY_NUMBER_RE = re.compile(r"(?<!\d)(?<!\d )(\d{4}) (\d{4}) (\d{4})(?! ?\d)")
MASK_RE = re.compile(r"\*{8}[0-9]{4}")
WORD_RE = re.compile(r"\w+")
WS_RE = re.compile(r"\s+")
JIS_CODEC = "iso2022_jp_1"  # exactly ASCII + JIS X 0201 Roman + JIS X 0208 + JIS X 0212


@dataclass(frozen=True)
class Finding:
    """One failed rule. ``page`` is 1-based; None fields mean batch level."""

    check: str
    rule: str
    envelope_seq: int | None = None
    page: int | None = None

    def as_dict(self) -> dict[str, str | int | None]:
        return {"check": self.check, "rule": self.rule, "envelope_seq": self.envelope_seq,
                "page": self.page}


# --- text helpers -----------------------------------------------------------------------
def name_tokens(name: str) -> tuple[str, ...]:
    """``family given`` as word tokens (the unit names are compared in)."""
    return tuple(WORD_RE.findall(name or ""))


def compact(text: str) -> str:
    """Text with all whitespace removed (addresses wrap and pad differently)."""
    return WS_RE.sub("", text or "")


class PageTokens:
    """A page's word tokens, indexed by token, so each name is looked up where its first
    token is printed instead of against every n-gram of the page (a quarter of the text
    checks' time on a 6,000-page batch was building those n-grams)."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = WORD_RE.findall(text)
        self.at: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(self.tokens):
            self.at[token].append(i)

    def contains(self, want: tuple[str, ...]) -> bool:
        """``want`` appears as consecutive whole tokens."""
        n = len(want)
        return bool(want) and any(tuple(self.tokens[i:i + n]) == want for i in self.at.get(want[0], ()))

    def names_found(self, names: set[tuple[str, ...]],
                    lengths_by_first: dict[str, set[int]]) -> set[tuple[str, ...]]:
        """Which of ``names`` appear; ``lengths_by_first``: their lengths by first token."""
        tokens = self.tokens
        return {candidate
                for i, token in enumerate(tokens) for n in lengths_by_first.get(token, ())
                if (candidate := tuple(tokens[i:i + n])) in names}


def lengths_by_first_token(names: Iterable[tuple[str, ...]]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for name in names:
        if name:
            out[name[0]].add(len(name))
    return dict(out)


def has_name(text: str, name: str, page: PageTokens | None = None) -> bool:
    """``name`` appears in ``text`` as whole tokens; ``page``: the text's tokens when the
    caller has them already (each page is tokenised once)."""
    return (page or PageTokens(text)).contains(name_tokens(name))


def outside_jis(ch: str) -> bool:
    """True for a character outside JIS X 0208/0212 (the form prints a substitute for it)."""
    try:
        ch.encode(JIS_CODEC)
    except UnicodeEncodeError:
        return True
    return False


def is_substitute_form(found: tuple[str, ...], own: tuple[str, ...]) -> bool:
    """``found`` is ``own`` with only characters outside JIS X 0208/0212 replaced.

    The application form prints such a name with 代替文字 (髙橋 → 高橋), which can equal
    another household's real name; that is not a misprint.
    """
    a, b = " ".join(found), " ".join(own)
    return (a != b and len(a) == len(b)
            and all(x == y or outside_jis(y) for x, y in zip(a, b, strict=True)))


def format_postcode(postal_code: str) -> str:
    return f"〒{postal_code[:3]}-{postal_code[3:]}"


def format_registered_mail(number: str) -> str:
    return f"{number[0:3]}-{number[3:5]}-{number[5:10]}-{number[10:]}"


def my_number_check_digit_ok(number: str) -> bool:
    """The statutory check digit (docs/domain.md#my-number-check-digit), computed here so QA
    depends on no other module: an independent re-check must not share the code it checks."""
    weights = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    r = sum(int(d) * w for d, w in zip(number[:11], weights, strict=True)) % 11
    return int(number[11]) == (0 if r <= 1 else 11 - r)


def printed_numbers(text: str) -> set[str]:
    """12-digit numbers printed ``NNNN NNNN NNNN`` (not inside the grouped application id)."""
    return {"".join(m.groups()) for m in MY_NUMBER_RE.finditer(text)}


# --- structure --------------------------------------------------------------------------
def check_sha256sums(listed: dict[str, str] | None, actual: dict[str, str | None]) -> list[Finding]:
    """Every listed file exists and matches; the three batch files are listed."""
    if listed is None:
        return [Finding(SHA256SUMS, "SHA256SUMS missing")]
    out = [Finding(SHA256SUMS, f"{name} not listed") for name in REQUIRED_FILES if name not in listed]
    for name, digest in sorted(listed.items()):
        got = actual.get(name)
        if got is None:
            out.append(Finding(SHA256SUMS, f"{name} listed but missing or malformed line"))
        elif got != digest:
            out.append(Finding(SHA256SUMS, f"{name} digest mismatch"))
    return out


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, pl.Series)):
        return ";".join("" if v is None else str(v) for v in value)
    return str(value)


def _uncsv(cell: str | None) -> str:
    """Undo spreadsheet neutralisation (a ' before = + - @ at the start of every ';' part)."""
    return unneutralise_cell(cell)


def missing_manifest_columns(manifest: pl.DataFrame) -> list[Finding]:
    """The contract's columns; without them no other check can run."""
    return [Finding(MANIFEST, f"column {col} missing") for col in MANIFEST_COLUMNS
            if col not in manifest.columns]


def check_manifest(manifest: pl.DataFrame, csv: pl.DataFrame | None) -> list[Finding]:
    """The manifest agrees with itself: one batch, unique envelopes, list lengths, masks, CSV."""
    out: list[Finding] = []
    if manifest.height == 0:
        return [Finding(MANIFEST, "manifest has no envelopes")]
    if manifest["batch_id"].n_unique() != 1:
        out.append(Finding(MANIFEST, "more than one batch id"))
    if manifest["envelope_seq"].n_unique() != manifest.height:
        out.append(Finding(MANIFEST, "envelope_seq not unique"))
    for row in manifest.iter_rows(named=True):
        env = int(row["envelope_seq"])
        lengths = {len(row[c] or []) for c in LIST_COLUMNS}
        if ALIAS_COLUMN in row:
            lengths.add(len(row[ALIAS_COLUMN] or []))
        if lengths != {int(row["members"])}:
            out.append(Finding(MANIFEST, "member lists differ from members count", env))
        if any(not MASK_RE.fullmatch(m or "") for m in row["my_numbers_masked"] or []):
            out.append(Finding(MANIFEST, "masked number not ********NNNN", env))
        if not re.fullmatch(r"[0-9]{11}", row["registered_mail_number"] or ""):
            out.append(Finding(MANIFEST, "registered mail number not 11 digits", env))
    if csv is None:
        out.append(Finding(MANIFEST, "manifest.csv missing or unreadable"))
    elif csv.height != manifest.height or set(manifest.columns) - set(csv.columns):
        out.append(Finding(MANIFEST, "manifest.csv rows or columns differ from parquet"))
    else:
        for prow, crow in zip(manifest.iter_rows(named=True), csv.iter_rows(named=True), strict=True):
            bad = [c for c in manifest.columns if _csv_cell(prow[c]) != _uncsv(crow[c])]
            if bad:
                out.append(Finding(MANIFEST, "manifest.csv differs from parquet in "
                                   + ",".join(bad), int(prow["envelope_seq"])))
    return out


def expected_pages(manifest: pl.DataFrame) -> pl.DataFrame:
    """One row per page the manifest promises: page, envelope, k of n, role, member index.

    A duplex batch has twice the pages (1 + members sheets, each front and back): every
    even page of an envelope is the back of the sheet before it (role ``*_back``).
    """
    rows = []
    printed = manifest.filter(pl.col("first_page").is_not_null() & pl.col("last_page").is_not_null())
    for r in printed.sort("first_page").iter_rows(named=True):
        n = int(r["last_page"]) - int(r["first_page"]) + 1
        duplex = n == 2 * (1 + int(r["members"]))
        for k in range(1, max(n, 0) + 1):
            sheet, back = ((k - 1) // 2, k % 2 == 0) if duplex else (k - 1, False)
            role = ("address" if sheet == 0 else "member") + ("_back" if back else "")
            rows.append({"page": int(r["first_page"]) + k - 1, "envelope_seq": int(r["envelope_seq"]),
                         "household_id": r["household_id"], "batch_id": r["batch_id"],
                         "k": k, "n": n, "role": role,
                         "member_index": None if sheet == 0 else sheet - 1})
    return pl.DataFrame(rows, schema={"page": pl.Int64, "envelope_seq": pl.Int64,
                                      "household_id": pl.Utf8, "batch_id": pl.Utf8,
                                      "k": pl.Int64, "n": pl.Int64, "role": pl.Utf8,
                                      "member_index": pl.Int64})


def is_empty_batch(texts: list[str], manifest: pl.DataFrame) -> bool:
    """The one page of a batch with nothing printable, and a manifest without page ranges."""
    return (len(texts) == 1 and manifest.height > 0 and manifest["last_page"].null_count()
            == manifest.height and texts[0].strip()
            == f"BATCH {manifest['batch_id'][0]} NO PRINTABLE ENVELOPES")


def check_page_count(n_pages: int, manifest: pl.DataFrame, texts: list[str] | None = None
                     ) -> list[Finding]:
    """Pages in the PDF = the manifest's last page.

    A batch with nothing printable has one page saying so (a PDF needs a page): accepted
    when its only text line is ``BATCH {id} NO PRINTABLE ENVELOPES``.
    """
    last = manifest["last_page"].max() if manifest.height else None
    if last is None and texts is not None and is_empty_batch(texts, manifest):
        return []
    if n_pages != int(cast("int | None", last) or 0):  # last_page is a UInt32 column
        return [Finding(PAGE_COUNT, "PDF page count differs from the manifest's last page")]
    return []


def check_no_annotations(annotated_pages: list[int]) -> list[Finding]:
    """No page carries annotations: the renderer writes none, and what an annotation's
    appearance prints is not in the page text QA reads (found by a hostile review)."""
    return [Finding(ANNOTATIONS, "page carries annotations (not drawn by the renderer)", None, p)
            for p in annotated_pages]


def check_page_ranges(manifest: pl.DataFrame) -> list[Finding]:
    """Ranges start at 1, are contiguous, in envelope order, and hold 1 + members pages.

    An envelope with no printable member has no range (null pages, ``members`` 0).
    """
    out: list[Finding] = []
    expect_first, prev_env = 1, None
    for r in manifest.iter_rows(named=True):
        env = int(r["envelope_seq"])
        if prev_env is not None and env <= prev_env:
            out.append(Finding(PAGE_RANGES, "envelopes not in increasing order", env))
        prev_env = env
        if r["first_page"] is None or r["last_page"] is None:  # nothing printable in it
            if r["first_page"] is not None or r["last_page"] is not None or int(r["members"]):
                out.append(Finding(PAGE_RANGES, "envelope with members but no page range", env))
            continue
        first, last = int(r["first_page"]), int(r["last_page"])
        if first != expect_first:
            out.append(Finding(PAGE_RANGES, "page range not contiguous with the previous", env, first))
        if last - first + 1 not in (1 + int(r["members"]), 2 * (1 + int(r["members"]))):
            out.append(Finding(PAGE_RANGES, "page range is not 1 + members pages", env, first))
        expect_first = last + 1
    return out


def check_footers(texts: list[str], pages: pl.DataFrame) -> list[Finding]:
    """Each page has exactly one footer naming its batch, envelope, household and k/n."""
    out: list[Finding] = []
    if pages.height == 0 and len(texts) == 1 and FOOTER_RE.search(texts[0]) is None \
            and texts[0].strip().endswith(" NO PRINTABLE ENVELOPES"):
        return []  # page_count checks the batch id of this page against the manifest
    expected = {r["page"]: r for r in pages.iter_rows(named=True)}
    out += [Finding(FOOTERS, "page missing from the PDF", r["envelope_seq"], p)
            for p, r in sorted(expected.items()) if p > len(texts)]
    for p, text in enumerate(texts, 1):
        exp = expected.get(p)
        found = FOOTER_RE.findall(text)
        if exp is None:
            out.append(Finding(FOOTERS, "page not covered by the manifest", None, p))
            continue
        want = (exp["batch_id"], f"{exp['envelope_seq']:06d}", exp["household_id"],
                str(exp["k"]), str(exp["n"]))
        if len(found) != 1:
            out.append(Finding(FOOTERS, f"{len(found)} footers on page", exp["envelope_seq"], p))
        elif found[0] != want:
            out.append(Finding(FOOTERS, "footer does not match the manifest", exp["envelope_seq"], p))
    return out


# --- page content -----------------------------------------------------------------------
def _batch_names(manifest: pl.DataFrame) -> dict[tuple[str, ...], set[int]]:
    """Every printed name of the batch (heads and members) → envelopes it belongs to."""
    owners: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for r in manifest.iter_rows(named=True):
        for name in [r["head_name"], *(r["member_names"] or [])]:
            tokens = name_tokens(name)
            if tokens:
                owners[tokens].add(int(r["envelope_seq"]))
    return owners


def check_page_content(texts: list[str], manifest: pl.DataFrame, pages: pl.DataFrame,
                       addresses: dict[int, tuple[str, dict[str, str]]] | None = None,
                       aliases: dict[int, set[tuple[str, ...]]] | None = None,
                       ) -> tuple[list[Finding], pl.DataFrame]:
    """Names, other households' names, address, registered mail, application id, numbers.

    ``addresses`` (from the plan, optional): envelope_seq → (envelope address, {resident
    code: own address}), whitespace removed. ``aliases`` (from the plan, optional):
    envelope_seq → its members' 通称 as name tokens, which may equal another household's
    name and are not leaks. Returns the findings and, for the ledger check,
    the numbers printed on member pages (kept in memory, never written).
    """
    out: list[Finding] = []
    printed: list[dict[str, Any]] = []
    envs = {int(r["envelope_seq"]): r for r in manifest.iter_rows(named=True)}
    owners = _batch_names(manifest)
    owner_names = set(owners)
    by_first = lengths_by_first_token(owner_names)
    own_by_env: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    for tokens, envs_of in owners.items():
        for e in envs_of:
            own_by_env[e].append(tokens)
    for page in pages.iter_rows(named=True):
        p, env = page["page"], page["envelope_seq"]
        if p > len(texts):
            continue  # page_count reports it
        text, row = texts[p - 1], envs[env]
        flat = compact(text)
        own_names = own_by_env[env]
        page_tokens = PageTokens(text)
        for tokens in page_tokens.names_found(owner_names, by_first):
            if env not in owners[tokens] and tokens not in (aliases or {}).get(env, ()) and not any(
                    is_substitute_form(tokens, own) for own in own_names):
                out.append(Finding(OTHER_HOUSEHOLDS, "another household's name on page", env, p))
                break
        numbers = printed_numbers(text)
        if page["role"].endswith("_back"):     # a duplex back: the 追記欄 or nothing
            if numbers:
                out.append(Finding(MASKED_NUMBERS, "a My Number on the back of a sheet", env, p))
            continue
        if page["role"] == "address":
            # a head name of no word at all would reduce to "様", found on any address sheet
            if not name_tokens(row["head_name"]) or not has_name(text, f"{row['head_name']} 様",
                                                                 page_tokens):
                out.append(Finding(NAMES, "head's name with 様 missing on address sheet", env, p))
            if format_postcode(row["postal_code"] or "") not in text:
                out.append(Finding(ADDRESS, "postcode missing on address sheet", env, p))
            if addresses and env in addresses and addresses[env][0] not in flat:
                out.append(Finding(ADDRESS, "envelope address missing on address sheet", env, p))
            if format_registered_mail(row["registered_mail_number"] or "") not in text:
                out.append(Finding(REGISTERED_MAIL, "registered mail number missing", env, p))
            if numbers:
                out.append(Finding(MASKED_NUMBERS, "a My Number on the address sheet", env, p))
            continue
        i = page["member_index"]
        lists = [row[c] or [] for c in LIST_COLUMNS]
        if i >= min(len(v) for v in lists):
            out.append(Finding(NAMES, "member page without a manifest member", env, p))
            continue
        code, name, app_id, masked = (v[i] for v in lists)
        if not has_name(text, name, page_tokens):
            out.append(Finding(NAMES, "member's name missing on member sheet", env, p))
        if addresses and env in addresses:
            env_addr, own = addresses[env]
            if env_addr not in flat and own.get(code, env_addr) not in flat:
                out.append(Finding(ADDRESS, "address missing on member sheet", env, p))
        if not app_id or app_id not in flat:
            out.append(Finding(APPLICATION_IDS, "application id missing on member sheet", env, p))
        if len(numbers) != 1:
            out.append(Finding(MASKED_NUMBERS, f"{len(numbers)} distinct My Numbers on member sheet",
                               env, p))
        else:
            number = next(iter(numbers))
            if not my_number_check_digit_ok(number):
                out.append(Finding(MASKED_NUMBERS, "printed number fails its check digit", env, p))
            if not masked or number[-4:] != masked[-4:]:
                out.append(Finding(MASKED_NUMBERS, "manifest mask differs from the printed number",
                                   env, p))
            printed.append({"envelope_seq": env, "page": p, "resident_code": code,
                            "my_number": number})
    frame = pl.DataFrame(printed, schema={"envelope_seq": pl.Int64, "page": pl.Int64,
                                          "resident_code": pl.Utf8, "my_number": pl.Utf8})
    return out, frame


REVOKED_SINCE = "number revoked since printing"


def check_ledger_numbers(printed: pl.DataFrame, active: pl.DataFrame,
                         owners: pl.DataFrame | None = None) -> list[Finding]:
    """Every printed My Number is the ledger's active number for that resident.

    ``owners`` (my_number, resident_code, status) tells a number changed after the batch
    was printed (the card must be pulled, not reprinted) from a wrong number."""
    joined = printed.join(active.select("resident_code", active_number=pl.col("my_number")),
                          on="resident_code", how="left", validate="m:1")
    revoked: set[tuple[str, str]] = set()
    if owners is not None and owners.height:
        revoked = {(r["my_number"], r["resident_code"]) for r in owners.filter(
            pl.col("status") == "revoked").iter_rows(named=True)}
    out = []
    for r in joined.filter(pl.col("active_number").is_null()
                           | (pl.col("active_number") != pl.col("my_number"))).iter_rows(named=True):
        if (r["my_number"], r["resident_code"]) in revoked:
            rule = REVOKED_SINCE
        elif r["active_number"] is None:
            rule = "resident has no active number in the ledger"
        else:
            rule = "printed number is not the ledger's active number"
        out.append(Finding(LEDGER_NUMBERS, rule, r["envelope_seq"], r["page"]))
    return out


def check_qr(decoded: dict[int, list[str]],
             expected: dict[int, tuple[int, str | None]]) -> list[Finding]:
    """Each sampled page has exactly one QR code, decoding to its application id.

    ``decoded``: page → texts; ``expected``: page → (envelope_seq, application id).
    """
    out = []
    for page, texts in sorted(decoded.items()):
        env, app_id = expected.get(page, (None, None))
        if len(texts) != 1:
            out.append(Finding(QR_CODES, f"{len(texts)} QR codes decoded on page", env, page))
        elif texts[0] != app_id or not re.fullmatch(r"[0-9]{23}", texts[0]):
            out.append(Finding(QR_CODES, "QR code is not the manifest's application id", env, page))
    return out


def layout_findings(chars: np.ndarray, role: str = "address") -> list[str]:
    """Layout rules one page breaks, from its characters' boxes.

    ``chars``: rows of (x0, top, x1, bottom) in mm from the top-left, the size in pt and
    the baseline in mm, one per drawn character (whitespace left out). Rules: no text under its minimum size
    (9 pt inside the envelope window, 7 pt elsewhere), none within 3 mm of the edge, none
    straddling a frame (the window, the card, the sender box, the marks), and no two
    characters overlapping (text running over other text).
    """
    out: list[str] = []
    if chars.size == 0:
        return out
    chars = chars[chars[:, 4] < WATERMARK_PT]
    x0, top, x1, bottom, size = chars.T[:5]
    wx, wy, ww, wh = WINDOW_MM
    in_window = (x0 >= wx) & (x1 <= wx + ww) & (top >= wy) & (bottom <= wy + wh)
    if role == "address" and (size[in_window] < MIN_WINDOW_PT - 0.01).any():
        out.append(f"text under {MIN_WINDOW_PT:g} pt in the envelope window")
    if (size < MIN_TEXT_PT - 0.01).any():
        out.append(f"text under {MIN_TEXT_PT:g} pt")
    e = PAGE_EDGE_MM
    if ((x0 < e) | (top < e) | (x1 > PAGE_MM[0] - e) | (bottom > PAGE_MM[1] - e)).any():
        out.append("text outside the page's printable area")
    runs = _runs(chars)
    for fx, fy, fw, fh in FRAMES_MM.get(role, ()):
        inside = (x0 >= fx) & (x1 <= fx + fw) & (top >= fy) & (bottom <= fy + fh)
        apart = (x1 <= fx) | (x0 >= fx + fw) | (bottom <= fy) | (top >= fy + fh)
        # a glyph on the edge, or one run of text with glyphs on both sides of it
        if (~inside & ~apart).any() or any(inside[r].any() and apart[r].any() for r in runs):
            out.append("text crosses the edge of its box")
            break
    if _overlapping(chars):
        out.append("text overlaps other text")
    return out


def _runs(chars: np.ndarray) -> list[np.ndarray]:
    """Indices of each run of text: glyphs on one baseline less than one em apart."""
    order = np.lexsort((chars[:, 0], np.round(chars[:, 5], 2)))
    runs: list[list[int]] = []
    last = None
    for i in order.tolist():
        x0, size, base = chars[i, 0], chars[i, 4], chars[i, 5]
        em = size * 25.4 / 72
        if last is not None and abs(chars[last, 5] - base) < 0.05 \
                and x0 - chars[last, 2] < em:
            runs[-1].append(i)
        else:
            runs.append([i])
        last = i
    return [np.array(r) for r in runs]


def _overlapping(chars: np.ndarray) -> bool:
    """True when two glyph boxes share more than OVERLAP_SHARE of the smaller one."""
    n = len(chars)
    if n < 2:
        return False
    x0, top, x1, bottom = (chars[:, i] for i in range(4))
    order = np.argsort(x0)
    x0, top, x1, bottom = x0[order], top[order], x1[order], bottom[order]
    area = np.maximum(x1 - x0, 1e-6) * np.maximum(bottom - top, 1e-6)
    for shift in range(1, n):        # sweep: only neighbours in x can overlap
        w = np.minimum(x1[:-shift], x1[shift:]) - np.maximum(x0[:-shift], x0[shift:])
        if not (w > 0).any():
            break
        h = np.minimum(bottom[:-shift], bottom[shift:]) - np.maximum(top[:-shift], top[shift:])
        shared = np.clip(w, 0, None) * np.clip(h, 0, None)
        if (shared > OVERLAP_SHARE * np.minimum(area[:-shift], area[shift:])).any():
            return True
    return False


def check_layout(chars_by_page: dict[int, np.ndarray], pages: pl.DataFrame) -> list[Finding]:
    """:func:`layout_findings` for each page read back, as findings with the envelope."""
    envs = dict(zip(pages["page"].to_list(), pages["envelope_seq"].to_list(), strict=True))
    roles = dict(zip(pages["page"].to_list(), pages["role"].to_list(), strict=True))
    out = []
    for p, chars in sorted(chars_by_page.items()):
        for rule in layout_findings(chars, roles.get(p, "")):
            out.append(Finding(LAYOUT, rule, envs.get(p), p))
    return out
