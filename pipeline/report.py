"""Run reports: report.json, a self-contained report.html, and a Prefect artifact.

A report carries counts, timings, verdicts and ids — never a number, a name or a key —
and its outcomes always add up to the input rows, so a reader can see at a glance
that nothing was lost between the register and the envelopes.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from pipeline.files import write_bytes_atomic, write_json_atomic
from pipeline.options import RunDir, RunOptions
from pipeline.results import CheckResult, LedgerStageResult, PlanResult, QAResult, RenderResult, StartResult


def _qa_summary(checked: list[QAResult], opts: RunOptions) -> dict[str, Any]:
    failed = [c["batch_id"] for c in checked if c.get("verdict") != "pass"]
    return {
        "verdict": "pass" if not failed else "fail",
        "batches_checked": len(checked),
        "failed_batches": failed,
        "failed_checks": sorted({name for c in checked for name in c.get("failed_checks", [])}),
        "qr_sampling": {"per_batch_sample": opts.qa.qr_sample_size, "seed": opts.qa.seed,
                        "full": opts.qa.full_qr},
    }


def _print_summary(plan: PlanResult, rendered: list[RenderResult],
                   checked: list[QAResult]) -> dict[str, Any]:
    return {
        "households": plan.get("households", 0),
        "envelopes": plan.get("envelopes", 0),
        "envelopes_printed": plan.get("envelopes_printed", plan.get("envelopes", 0)),
        "envelopes_manual": plan.get("envelopes_manual", 0),
        "notices_from_earlier_runs": plan.get("notices_from_earlier_runs", 0),
        "members_planned": plan.get("members", 0),
        "batches": len(rendered),
        "pages": sum(r.get("pages", 0) for r in rendered),
        "manual_handling": plan.get("manual_handling", 0),
        "render_seconds_total": round(sum(r.get("render_s", 0.0) for r in rendered), 3),
        "qa_seconds_total": round(sum(c.get("qa_s", 0.0) for c in checked), 3),
    }


def run_report(
    kind: str, state: StartResult, checked: CheckResult, stage: LedgerStageResult,
    outcomes: dict[str, int], reused: dict[str, Any], plan: PlanResult,
    rendered: list[RenderResult], qa_results: list[QAResult],
    timings: dict[str, float], opts: RunOptions,
) -> dict[str, Any]:
    """Assemble a run's report. ``stage`` is the ledger-changing stage's result (issue or
    apply): its key id, demo flag and sub-timings go in under ``{stage name}.``."""
    printing = _print_summary(plan, rendered, qa_results)
    prefix = "issue" if kind == "bulk" else "apply"
    report = {
        "kind": kind,
        "run_id": state["run_id"],
        "input_sha256": state["input_sha256"],
        "resumed": state["resumed"],
        "demo": opts.demo or stage.get("is_demo_key", False),
        "key_id": stage.get("key_id"),
        "issue_date": opts.print.issue_day.isoformat(),
        "input_rows": checked["input_rows"],
        "outcomes": outcomes,
        "counts_add_up": sum(outcomes.values()) == checked["input_rows"],
        "quarantine_rules": checked.get("rules", {}),
        "reused": {**reused, "plan": plan.get("reused", False),
                   "batches": sum(1 for r in rendered if r.get("reused"))},
        **printing,
        "qa": _qa_summary(qa_results, opts),
        "timings": {**timings, **{f"{prefix}.{k}": round(v, 3) for k, v in stage.get("timings", {}).items()}},
    }
    report["counts_for_ledger"] = {
        "input_rows": report["input_rows"], **outcomes, "envelopes": printing["envelopes"],
        "pages": printing["pages"], "qa": report["qa"]["verdict"],
    }
    return report


def bulk_outcomes(checked: CheckResult, issued: LedgerStageResult) -> dict[str, int]:
    """Bulk: issued (new or reused after a crash), kept (the row brought its own number),
    already issued by an earlier run, quarantined (by the suite or the ledger rules)."""
    return {
        "issued": issued["outcomes"].get("issued", 0),
        "kept": issued["outcomes"].get("kept", 0),
        "already_issued": issued["outcomes"].get("already_issued", 0),
        "quarantined": checked["quarantined"] + issued["outcomes"].get("quarantined", 0),
    }


def daily_outcomes(checked: CheckResult, applied: LedgerStageResult) -> dict[str, int]:
    """Daily: issued, kept, reissued, recorded, already processed, and quarantined by the
    suite and by the ledger rules together."""
    outcomes = dict.fromkeys(("issued", "kept", "reissued", "recorded", "already_processed"), 0)
    outcomes.update({k: v for k, v in applied["outcomes"].items() if k != "quarantined"})
    outcomes["quarantined"] = checked["quarantined"] + applied["outcomes"].get("quarantined", 0)
    return outcomes


def bulk_report(state: StartResult, checked: CheckResult, issued: LedgerStageResult,
                plan: PlanResult, rendered: list[RenderResult], qa_results: list[QAResult],
                timings: dict[str, float], opts: RunOptions) -> dict[str, Any]:
    return run_report("bulk", state, checked, issued, bulk_outcomes(checked, issued),
                      {"numbers": issued["reused"]}, plan, rendered, qa_results,
                      timings, opts)


def daily_report(state: StartResult, checked: CheckResult, applied: LedgerStageResult,
                 plan: PlanResult, rendered: list[RenderResult], qa_results: list[QAResult],
                 timings: dict[str, float], opts: RunOptions) -> dict[str, Any]:
    return run_report("daily", state, checked, applied, daily_outcomes(checked, applied),
                      {"events": applied["reused"]}, plan, rendered, qa_results,
                      timings, opts)


def with_notices(report: dict[str, Any], notices: dict[str, Any],
                 funnel: dict[str, Any]) -> dict[str, Any]:
    """The report with the run's notice reconciliation and the ledger-wide funnel."""
    out = {**report, "notices": notices, "funnel": funnel.get("funnel", {}),
           "notices_by_status": funnel.get("by_status", {})}
    out["counts_for_ledger"] = {**report.get("counts_for_ledger", {}),
                                "notices_planned": notices.get("planned", 0),
                                "notices_printed": notices.get("printed", 0)}
    return out


def exit_code(report: dict[str, Any]) -> int:
    """0 all done; 1 done with quarantined rows, QA failures, counts that do not add up, or
    a notice this run planned that was not printed and passed by QA."""
    bad_qa = report.get("qa", {}).get("verdict", "pass") != "pass"
    quarantined = report.get("outcomes", {}).get("quarantined", 0) > 0
    unprinted = not report.get("notices", {}).get("all_printed", True)
    return 1 if (bad_qa or quarantined or unprinted or not report.get("counts_add_up", True)) else 0


FUNNEL_STAGES = ("issued", "printed", "mailed", "delivered", "held", "destroyed")


def funnel_svg(funnel: dict[str, int]) -> str:
    """The funnel as an inline SVG bar chart (no scripts, no external files)."""
    rows = [(k, int(funnel.get(k, 0))) for k in FUNNEL_STAGES]
    top = max((n for _, n in rows), default=0) or 1
    width, bar_h, gap, label_w = 520, 22, 8, 90
    height = len(rows) * (bar_h + gap) + gap
    parts = [f"<svg role='img' width='{width + label_w + 80}' "
             f"height='{height}' aria-label='notice funnel'>"]
    for i, (name, n) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = round(width * n / top)
        parts.append(f"<text x='0' y='{y + bar_h - 6}' font-size='13'>{html.escape(name)}</text>"
                     f"<rect x='{label_w}' y='{y}' width='{w}' height='{bar_h}' fill='#4a7ab5'/>"
                     f"<text x='{label_w + w + 6}' y='{y + bar_h - 6}' font-size='13'>{n}</text>")
    parts.append("</svg>")
    return "".join(parts)


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# {report['kind']} run {report['run_id']}", ""]
    if report.get("demo"):
        lines += ["**DEMO run (demo key): not for real residents.**", ""]
    lines += ["| outcome | rows |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in report["outcomes"].items()]
    lines += [f"| **input rows** | **{report['input_rows']}** |", ""]
    for key in ("households", "envelopes", "batches", "pages", "manual_handling"):
        if key in report:
            lines.append(f"- {key.replace('_', ' ')}: {report[key]}")
    if "qa" in report:
        lines.append(f"- QA verdict: **{report['qa']['verdict']}**")
    lines.append(f"- counts add up: {'yes' if report.get('counts_add_up') else '**NO**'}")
    return "\n".join(lines) + "\n"


_CSS = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #bbb;padding:.3em .8em;text-align:left}td.n{text-align:right}"
    ".pass{color:#060;font-weight:bold}.fail{color:#b00;font-weight:bold}"
    ".demo{background:#fe8;padding:.5em;font-weight:bold}"
)


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td class='n'>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page: inline CSS, no scripts, no external fonts or links."""
    esc = html.escape
    qa = report.get("qa", {})
    verdict = qa.get("verdict", "n/a")
    parts = [
        "<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'>",
        f"<title>{esc(report['kind'])} run {esc(report['run_id'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(report['kind'])} run <code>{esc(report['run_id'])}</code></h1>",
    ]
    if report.get("demo"):
        parts.append("<p class='demo'>DEMO run with a demo key — not for real residents.</p>")
    parts.append("<h2>Outcomes</h2>")
    parts.append(_table([*report["outcomes"].items(), ("input rows", report["input_rows"]),
                         ("counts add up", "yes" if report.get("counts_add_up") else "NO")]))
    keys = ["households", "envelopes", "envelopes_printed", "envelopes_manual",
            "notices_from_earlier_runs", "batches", "pages", "manual_handling"]
    printed = [(k.replace("_", " "), report[k]) for k in keys if k in report]
    if printed:
        parts += ["<h2>Printing</h2>", _table(printed)]
    if qa:
        parts.append(f"<h2>Print QA: <span class='{esc(verdict)}'>{esc(verdict)}</span></h2>")
        parts.append(_table([(k, v) for k, v in qa.items() if k != "qr_sampling"]))
    if report.get("notices"):
        n = report["notices"]
        parts += ["<h2>Notices of this run</h2>",
                  _table([("planned (printed in batches)", n.get("planned", 0)),
                          ("printed and passed QA", n.get("printed", 0)),
                          ("voided (QA failed)", n.get("voided", 0)),
                          ("made by hand", n.get("manual", 0)),
                          ("all printed", "yes" if n.get("all_printed") else "NO")])]
    if report.get("funnel"):
        parts += ["<h2>Every number to its holder (whole ledger)</h2>", funnel_svg(report["funnel"])]
    if report.get("quarantine_rules"):
        parts += ["<h2>Quarantine by rule</h2>", _table(sorted(report["quarantine_rules"].items()))]
    parts += ["<h2>Timings (s)</h2>", _table(sorted(report.get("timings", {}).items()))]
    parts.append("</body></html>")
    return "".join(parts)


def publish_report(run_dir: RunDir, report: dict[str, Any], *, kind: str) -> None:
    """Write report.json and report.html, and publish a Prefect artifact when in a run."""
    public = {k: v for k, v in report.items() if k != "counts_for_ledger"}
    write_json_atomic(run_dir.report_json, public)
    write_bytes_atomic(run_dir.report_html, render_html(public).encode("utf-8"))
    try:
        from prefect.artifacts import create_markdown_artifact
        from prefect.context import get_run_context

        get_run_context()
    except Exception:
        return
    create_markdown_artifact(render_markdown(public), key=f"{kind}-run-report",
                             description=f"{kind} run summary (counts only)")


def load_report(out_dir: Path) -> dict[str, Any]:
    import json

    report: dict[str, Any] = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    return report
