"""``check_batch``: re-read a print batch and compare it with its manifest, plan and ledger.

Independent of the renderer: it reads cards.pdf with PDFium, hashes files itself, decodes
QR codes with zxing-cpp, and asks the ledger for the active numbers. Text checks run on
every page (cheap); QR codes are decoded on a seeded random sample of member pages
(:mod:`qa.sampling`) unless ``full_qr``.

qa.json holds verdicts, counts, page and envelope numbers, rules, file digests and the
sampling plan — never a My Number, name or resident code. Before writing, the serialised
report is scanned for every number read off the pages and for anything shaped like a My
Number, and writing is refused if one is there (it cannot be by construction; the scan
keeps it so).

The manifest is the renderer's own statement, so with a plan it is compared with the plan
too (:func:`check_plan`: members, order, names, application ids, head, postcode,
registered mail): pages that agree with a wrong manifest are still caught.

Verdicts: a check is ``pass``, ``fail`` or ``skipped`` (ledger or plan not given); the
batch verdict is ``pass`` only if no check failed. Failures never raise: the caller (flow
or CLI) turns ``verdict == "fail"`` into exit code 1.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from core.errors import InputError, MyNumberError, QAFailure
from core.private import write_private
from qa import checks as c
from qa import marks as mk
from qa import readback as rb
from qa.sampling import draw_sample

if TYPE_CHECKING:
    import pypdfium2 as pdfium

QA_NAME = "qa.json"
DEFAULT_DPI = 100
MAX_FINDINGS_PER_CHECK = 50
#: the checks qa.json lists, in order: the page checks, then the inserter marks
ALL_CHECKS = (*c.ALL_CHECKS, mk.INSERTER_MARKS)


class ActiveNumbers(Protocol):
    """What QA needs from the ledger (ledger.Ledger provides it)."""

    def active_numbers(self, resident_codes: pl.Series) -> pl.DataFrame: ...


def plan_aliases(plan: pl.DataFrame) -> dict[int, set[tuple[str, ...]]]:
    """envelope_seq → name tokens of its members' registered aliases (通称).

    A foreign resident's alias is printed on their card and may equal another household's
    real name: it belongs to this envelope, so it must not count as a leak.
    """
    if "alias" not in plan.columns:
        return {}
    return _aliases_by_envelope(plan.select("envelope_seq", "alias").iter_rows())


def _aliases_by_envelope(pairs: Iterable[tuple[int, str | None]]) -> dict[int, set[tuple[str, ...]]]:
    """(envelope_seq, alias) pairs → envelope_seq → the aliases' name tokens (empty ones left out)."""
    out: dict[int, set[tuple[str, ...]]] = {}
    for env, alias in pairs:
        tokens = c.name_tokens(alias or "")
        if tokens:
            out.setdefault(int(env), set()).add(tokens)
    return out


def manifest_aliases(manifest: pl.DataFrame) -> dict[int, set[tuple[str, ...]]]:
    """envelope_seq → name tokens of the 通称 the manifest lists for its printed members.

    For QA without the plan (``mynumber qa BATCH_DIR``): the manifest is the renderer's
    statement, as its names are; with the plan, the plan's aliases are used and the
    manifest's are compared with them (:func:`check_plan`). Empty for manifests written
    before the column existed.
    """
    if "member_aliases" not in manifest.columns:
        return {}
    return _aliases_by_envelope(manifest.select("envelope_seq", "member_aliases")
                                .explode("member_aliases").iter_rows())


def plan_addresses(plan: pl.DataFrame) -> dict[int, tuple[str, dict[str, str]]]:
    """envelope_seq → (envelope address, {resident code: own address}), whitespace removed."""
    def full(addr: str | None, extra: str | None) -> str:
        return c.compact(f"{addr or ''}{extra or ''}")

    env_cols = (("envelope_address", "envelope_address_extra")
                if "envelope_address" in plan.columns else ("address", "address_extra"))
    extra_col = "address_extra" if "address_extra" in plan.columns else None
    out: dict[int, tuple[str, dict[str, str]]] = {}
    for r in plan.sort("envelope_seq", "member_seq").iter_rows(named=True):
        env = int(r["envelope_seq"])
        if env not in out:
            out[env] = (full(r[env_cols[0]], r.get(env_cols[1])), {})
        out[env][1][r["resident_code"]] = full(r["address"], r[extra_col] if extra_col else None)
    return out


# --- manifest against the plan (pure) ------------------------------------------------
def batch_plan_rows(plan: pl.DataFrame, batch_id: str) -> pl.DataFrame:
    """The plan rows of this batch (all rows when the plan has no batch_id column)."""
    if "batch_id" in plan.columns:
        return plan.filter(pl.col("batch_id") == batch_id)
    return plan


def _listed(manifest: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    """(envelope_seq, household_id, <alias>, pos) from a list column of the manifest."""
    if column not in manifest.columns:
        return pl.DataFrame(schema={"envelope_seq": pl.Int64, "household_id": pl.Utf8,
                                    alias: pl.Utf8})
    return (manifest.select(pl.col("envelope_seq").cast(pl.Int64), "household_id",
                            pl.col(column).alias(alias))
            .explode(alias).filter(pl.col(alias).is_not_null()))


def _plan_members(plan: pl.DataFrame) -> pl.DataFrame:
    """resident_code, envelope_seq, household_id, member_seq, application_id, name, is_manual."""
    def opt(col: str) -> pl.Expr:
        return pl.col(col) if col in plan.columns else pl.lit(None, pl.Utf8).alias(col)

    name = (pl.col("family_name") + " " + pl.col("given_name")
            if {"family_name", "given_name"} <= set(plan.columns) else pl.lit(None, pl.Utf8))
    alias = pl.col("alias").fill_null("") if "alias" in plan.columns else pl.lit(None, pl.Utf8)
    return plan.select(
        "resident_code", pl.col("envelope_seq").cast(pl.Int64), "household_id", "member_seq",
        opt("application_id"), name.alias("name"), alias.alias("alias"),
        is_manual=pl.col("is_manual").fill_null(False) if "is_manual" in plan.columns else False)


def _manifest_members(manifest: pl.DataFrame) -> pl.DataFrame:
    """One row per printed member of the manifest (lists of unequal length padded with null)."""
    rows = []
    for r in manifest.iter_rows(named=True):
        ids, names = r["application_ids"] or [], r["member_names"] or []
        aliases = r.get("member_aliases")   # None: a manifest written before the column
        for i, code in enumerate(r["resident_codes"] or []):
            rows.append({"envelope_seq": int(r["envelope_seq"]), "household_id": r["household_id"],
                         "resident_code": code, "printed_app_id": ids[i] if i < len(ids) else None,
                         "printed_name": names[i] if i < len(names) else None,
                         "printed_alias": None if aliases is None else
                         (aliases[i] or "") if i < len(aliases) else None})
    return pl.DataFrame(rows, schema={"envelope_seq": pl.Int64, "household_id": pl.Utf8,
                                      "resident_code": pl.Utf8, "printed_app_id": pl.Utf8,
                                      "printed_name": pl.Utf8, "printed_alias": pl.Utf8})


def _member_findings(got: pl.DataFrame, want: pl.DataFrame) -> list[c.Finding]:
    out = [c.Finding(c.PLAN, "member printed more than once", r["envelope_seq"]) for r in
           got.filter(pl.col("resident_code").is_duplicated()).unique("resident_code").iter_rows(named=True)]
    for r in got.join(want, on="resident_code", how="left", suffix="_plan").iter_rows(named=True):
        env = r["envelope_seq"]
        if r["envelope_seq_plan"] is None:
            out.append(c.Finding(c.PLAN, "member printed but not in the plan", env))
        elif r["is_manual"]:
            out.append(c.Finding(c.PLAN, "manual member printed", env))
        elif r["envelope_seq_plan"] != env or r["household_id_plan"] != r["household_id"]:
            out.append(c.Finding(c.PLAN, "member printed in another envelope or household", env))
        else:
            if r["application_id"] is not None and r["application_id"] != r["printed_app_id"]:
                out.append(c.Finding(c.PLAN, "application id differs from the plan", env))
            if r["name"] is not None and r["name"] != r["printed_name"]:
                out.append(c.Finding(c.PLAN, "member name differs from the plan", env))
            if r["alias"] is not None and r["printed_alias"] is not None \
                    and r["alias"] != r["printed_alias"]:
                out.append(c.Finding(c.PLAN, "member alias differs from the plan", env))
    return out


def _envelope_findings(manifest: pl.DataFrame, plan: pl.DataFrame) -> list[c.Finding]:
    """Head's name, postcode and registered-mail number per envelope, against the plan."""
    heads = plan.filter(pl.col("member_seq") == 1)
    cols = {"registered_mail_number": "registered_mail_number",
            "envelope_postal_code" if "envelope_postal_code" in plan.columns else "postal_code":
            "postal_code"}
    if {"family_name", "given_name"} <= set(plan.columns):
        heads = heads.with_columns(head_name=pl.col("family_name") + " " + pl.col("given_name"))
        cols["head_name"] = "head_name"
    cols = {k: v for k, v in cols.items() if k in heads.columns}
    heads = heads.select(pl.col("envelope_seq").cast(pl.Int64),
                         *[pl.col(k).alias(f"{v}_plan") for k, v in cols.items()])
    cmp = manifest.with_columns(pl.col("envelope_seq").cast(pl.Int64)).join(
        heads, on="envelope_seq", how="inner")
    out = []
    for r in cmp.iter_rows(named=True):
        for col in cols.values():
            if r[f"{col}_plan"] is not None and r[col] != r[f"{col}_plan"]:
                out.append(c.Finding(c.PLAN, f"{col} differs from the plan", r["envelope_seq"]))
    return out


def check_plan(manifest: pl.DataFrame, plan: pl.DataFrame) -> list[c.Finding]:
    """Every planned non-manual member printed exactly once, in its envelope, in plan order,
    with the plan's name and application id; nothing extra; envelope data as planned.

    A planned member the renderer sent to manual handling at draw time (listed in the
    manifest's ``manual_resident_codes``: a glyph the fonts lack) is accounted for, not
    missing; a member the plan marked manual must not be printed.
    """
    want, got = _plan_members(plan), _manifest_members(manifest)
    sent_manual = _listed(manifest, "manual_resident_codes", "resident_code")
    out = _member_findings(got, want)
    planned = want.filter(~pl.col("is_manual"))
    missing = planned.join(got, on="resident_code", how="anti").join(
        sent_manual, on=["resident_code", "envelope_seq"], how="anti")
    out += [c.Finding(c.PLAN, "planned member not printed", env)
            for env in sorted(set(missing["envelope_seq"].to_list()))]
    if "manual_resident_codes" in manifest.columns:
        unlisted = want.filter(pl.col("is_manual")).join(
            sent_manual, on=["resident_code", "envelope_seq"], how="anti")
        out += [c.Finding(c.PLAN, "manual member not listed in the manifest", env) for env in
                sorted(set(unlisted["envelope_seq"].to_list()) & set(got["envelope_seq"].to_list()))]
    # order: the planned members that were printed, compared position by position
    keys = ["resident_code", "envelope_seq"]
    pos = pl.int_range(pl.len()).over("envelope_seq")
    both_got = got.join(planned, on=keys, how="semi").with_columns(pos=pos)
    both_want = (planned.join(got, on=keys, how="semi").sort("envelope_seq", "member_seq")
                 .with_columns(pos=pos))
    order = both_want.join(both_got, on=[*keys, "pos"], how="anti")
    out += [c.Finding(c.PLAN, "members not in plan order", env)
            for env in sorted(set(order["envelope_seq"].to_list()))]
    return out + _envelope_findings(manifest, plan)


# --- check_batch ------------------------------------------------------------------------
def _summarise(findings: list[c.Finding], skipped: set[str]) -> dict[str, dict[str, Any]]:
    by_check: dict[str, list[c.Finding]] = defaultdict(list)
    for f in findings:
        by_check[f.check].append(f)
    result: dict[str, dict[str, Any]] = {}
    for name in ALL_CHECKS:
        got = by_check.get(name, [])
        verdict = "skipped" if name in skipped and not got else ("fail" if got else "pass")
        result[name] = {"verdict": verdict, "failures": len(got),
                        "findings": [f.as_dict() for f in got[:MAX_FINDINGS_PER_CHECK]]}
    return result


def _envelopes(manifest: pl.DataFrame | None, findings: list[c.Finding]) -> list[dict[str, Any]]:
    failed: dict[int, set[str]] = defaultdict(set)
    for f in findings:
        if f.envelope_seq is not None:
            failed[int(f.envelope_seq)].add(f.check)
    seqs = [] if manifest is None else [int(s) for s in manifest["envelope_seq"].to_list()]
    seqs += sorted(set(failed) - set(seqs))
    return [{"envelope_seq": s, "verdict": "fail" if failed.get(s) else "pass",
             "failed_checks": sorted(failed.get(s, ()))} for s in seqs]


_NUMBER_SHAPED = re.compile(r"(?<!\d)\d{4} ?\d{4} ?\d{4}(?!\d)")


_DIGIT_RUN = re.compile(r"\d+")


def _holds_any(payload: str, secrets: list[str]) -> bool:
    """Does ``payload`` contain any of the 12-digit ``secrets``, even inside a longer run of
    digits? Every 12-digit window of every digit run, against a set: one pass, where a
    substring search per number took 0.2 s for a 6,000-page batch."""
    wanted = {s for s in secrets if s}
    if not wanted:
        return False
    # ``\d`` matches exactly the characters isdecimal() accepts ("²" is a digit, not decimal)
    if any(len(s) != 12 or not s.isdecimal() for s in wanted):   # not a My Number: plain search
        return any(s in payload for s in wanted)
    return any(run[i:i + 12] in wanted
               for run in _DIGIT_RUN.findall(payload) for i in range(len(run) - 11))


def _write(batch_dir: Path, report: dict[str, Any], secrets: list[str]) -> None:
    """Write qa.json atomically after two scans: the numbers read off the pages, and
    anything shaped like a My Number outside the file digests (hex can hold digit runs)."""
    payload = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    without_digests = json.dumps({k: v for k, v in report.items() if k != "files"},
                                 ensure_ascii=False, default=str)
    if _holds_any(payload, secrets) or _NUMBER_SHAPED.search(without_digests):
        raise QAFailure("refusing to write qa.json: it would contain a My Number")
    tmp = batch_dir / f".{QA_NAME}.tmp"
    write_private(tmp, (payload + "\n").encode("utf-8"))
    os.replace(tmp, batch_dir / QA_NAME)


def check_batch(batch_dir: str | os.PathLike[str], *, ledger: ActiveNumbers | None = None,
                plan: pl.DataFrame | None = None, full_qr: bool = False,
                qr_sample_size: int = 50, seed: int = 0, dpi: int = DEFAULT_DPI) -> dict[str, Any]:
    """Check one batch folder, write ``qa.json`` into it and return the same dict."""
    batch_dir = Path(batch_dir)
    if not batch_dir.is_dir():
        raise InputError("batch folder not found", file=str(batch_dir))
    t0 = time.perf_counter()
    findings: list[c.Finding] = []
    skipped: set[str] = set()
    timings: dict[str, float] = {}
    secrets: list[str] = []
    listed = rb.read_sha256sums(batch_dir)
    names = sorted(set(listed or {}) | set(c.REQUIRED_FILES))
    digests = rb.actual_sha256(batch_dir, names)
    findings += c.check_sha256sums(listed, digests)
    timings["sha256"] = time.perf_counter() - t0
    report: dict[str, Any] = {"batch_dir": batch_dir.name, "files": digests}
    manifest = pdf = None
    try:
        manifest = rb.read_manifest(batch_dir)
        pdf = rb.open_pdf(batch_dir)
    except MyNumberError as exc:
        findings.append(c.Finding(c.MANIFEST if manifest is None else c.PAGE_COUNT, str(exc)))
    if manifest is not None:
        missing = c.missing_manifest_columns(manifest)
        findings += missing
        if missing:
            manifest = None
    if manifest is not None and pdf is not None:
        try:
            secrets = _check_contents(batch_dir, manifest, pdf, findings, skipped, timings,
                                      report, ledger=ledger, plan=plan, full_qr=full_qr,
                                      qr_sample_size=qr_sample_size, seed=seed, dpi=dpi)
        except MyNumberError:
            raise  # e.g. the ledger cannot be reached: an operational error, not a verdict
        except Exception as exc:  # malformed data: fail the batch, quote no value
            findings.append(c.Finding(c.MANIFEST, f"checks aborted ({type(exc).__name__})"))
        finally:
            pdf.close()
    else:
        skipped.update(ALL_CHECKS)
    if pdf is not None and manifest is None:
        pdf.close()
    timings["total"] = time.perf_counter() - t0
    report.update({
        "batch_id": None if manifest is None or not manifest.height else manifest["batch_id"][0],
        "verdict": "fail" if findings else "pass",
        "checks": _summarise(findings, skipped),
        "envelopes": _envelopes(manifest, findings),
        "failed_envelopes": len({f.envelope_seq for f in findings if f.envelope_seq is not None}),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    })
    _write(batch_dir, report, secrets)
    return report


def _check_contents(batch_dir: Path, manifest: pl.DataFrame, pdf: pdfium.PdfDocument,
                    findings: list[c.Finding], skipped: set[str], timings: dict[str, float],
                    report: dict[str, Any], *, ledger: ActiveNumbers | None,
                    plan: pl.DataFrame | None, full_qr: bool,
                    qr_sample_size: int, seed: int, dpi: int) -> list[str]:
    """All checks that need the manifest and the PDF; returns the numbers read (for the scan)."""
    findings += c.check_manifest(manifest, rb.read_manifest_csv(batch_dir))
    batch_id = str(manifest["batch_id"][0]) if manifest.height else ""
    t = time.perf_counter()
    annotated: list[int] = []
    texts = rb.page_texts(pdf, annotated)
    findings += c.check_no_annotations(annotated)
    timings["text_extract"] = time.perf_counter() - t
    t = time.perf_counter()
    pages = c.expected_pages(manifest)
    findings += c.check_page_count(len(texts), manifest, texts)
    findings += c.check_page_ranges(manifest)
    findings += c.check_footers(texts, pages)
    plan_rows = None if plan is None else batch_plan_rows(plan, batch_id)
    addresses = None if plan_rows is None else plan_addresses(plan_rows)
    aliases = manifest_aliases(manifest) if plan_rows is None else plan_aliases(plan_rows)
    content, printed = c.check_page_content(texts, manifest, pages, addresses, aliases)
    findings += content
    timings["text_checks"] = time.perf_counter() - t
    # layout (sizes, boxes, overlaps) reads every glyph box: ~100 pages/s, so every page
    # with --full, else a seeded sample of pages of both roles
    t = time.perf_counter()
    layout_s = draw_sample(list(range(1, len(texts) + 1)), qr_sample_size, seed=seed,
                           batch_id=f"{batch_id}/layout", full=full_qr)
    findings += c.check_layout({p: rb.page_chars(pdf, p - 1) for p in layout_s.pages}, pages)
    timings["layout"] = time.perf_counter() - t
    if ledger is None:
        skipped.add(c.LEDGER_NUMBERS)
    else:
        t = time.perf_counter()
        active = ledger.active_numbers(printed["resident_code"].unique().sort())
        owners = None
        number_owners = getattr(ledger, "number_owners", None)
        if number_owners is not None and printed.height:
            owners = number_owners(printed["my_number"].drop_nulls().unique().sort())
        findings += c.check_ledger_numbers(printed, active, owners)
        timings["ledger"] = time.perf_counter() - t
    if plan_rows is None:
        skipped.add(c.PLAN)
    else:
        findings += check_plan(manifest, plan_rows)
    t = time.perf_counter()
    members = pages.filter((pl.col("role") == "member") & (pl.col("page") <= len(texts)))
    expected = _expected_qr(manifest, members)
    plan_s = draw_sample(members["page"].to_list(), qr_sample_size, seed=seed,
                         batch_id=batch_id, full=full_qr)
    reader = rb.QrReader(pdf, dpi=dpi)
    decoded = {p: reader.read(p) for p in plan_s.pages}
    findings += c.check_qr(decoded, expected)
    timings["qr_decode"] = time.perf_counter() - t
    report["sampling"] = {**plan_s.summary(), "dpi": dpi,
                          "crop_renders": reader.crop_renders,
                          "full_page_renders": reader.full_page_renders}
    t = time.perf_counter()
    report["marks"] = _check_marks(pdf, manifest, pages, len(texts), findings, full=full_qr,
                                   sample_size=qr_sample_size, seed=seed, batch_id=batch_id)
    timings["marks_decode"] = time.perf_counter() - t
    report["counts"] = {"pages": len(texts), "envelopes": manifest.height,
                        "members": int(manifest["members"].sum()),
                        "manual_members": int(manifest["manual_members"].sum()),
                        "member_pages": members.height}
    report["throughput_pages_per_s"] = {
        "text": round(len(texts) / max(timings["text_extract"] + timings["text_checks"], 1e-9), 1),
        "qr": round(len(plan_s.pages) / max(timings["qr_decode"], 1e-9), 1) if plan_s.pages else None,
    }
    return printed["my_number"].to_list()


def _check_marks(pdf: pdfium.PdfDocument, manifest: pl.DataFrame, pages: pl.DataFrame,
                 n_pages: int, findings: list[c.Finding], *, full: bool, sample_size: int,
                 seed: int, batch_id: str) -> dict[str, Any]:
    """Decode the inserter marks (every page when ``full``, else a seeded sample) and check
    them against the page ranges; with every page read, check the sequence as well."""
    numbered = [p for p in pages["page"].to_list() if p <= n_pages]
    if not numbered:          # the one page of a batch with nothing printable has no mark
        return {"pages_decoded": 0, "full": full}
    plan_s = draw_sample(numbered, sample_size, seed=seed, batch_id=f"{batch_id}:marks",
                         full=full)
    reader = mk.MarkReader(pdf)
    # full: every sheet of the PDF, also those the manifest does not cover
    to_read = range(1, n_pages + 1) if plan_s.full else plan_s.pages
    decoded = {p: reader.read(p) for p in to_read}
    findings += mk.check_marks(decoded, pages)
    if plan_s.full:
        marks = [mk.parse_mark(decoded[p][0]) if len(decoded.get(p, [])) == 1 else None
                 for p in range(1, n_pages + 1)]
        printed = manifest.filter(pl.col("first_page").is_not_null())
        findings += mk.check_mark_sequence(marks, [int(e) for e in printed["envelope_seq"]],
                                           batch_id)
    return {"pages_decoded": len(decoded), "population": len(numbered), "full": plan_s.full,
            "sequence_checked": plan_s.full, "seed": seed,
            "crop_renders": reader.crop_renders, "full_page_renders": reader.full_page_renders}


def _expected_qr(manifest: pl.DataFrame,
                 members: pl.DataFrame) -> dict[int, tuple[int, str | None]]:
    """page → (envelope_seq, application id; None when the manifest lists too few ids)."""
    ids = {int(r["envelope_seq"]): r["application_ids"] or [] for r in manifest.iter_rows(named=True)}
    out: dict[int, tuple[int, str | None]] = {}
    for r in members.iter_rows(named=True):
        lst = ids.get(r["envelope_seq"], [])
        i = r["member_index"]
        out[r["page"]] = (r["envelope_seq"], lst[i] if i < len(lst) else None)
    return out
