"""Run reports: report.json, a self-contained report.html, and a Prefect artifact.

A report carries counts, timings, verdicts and ids — never a number, a name or a key —
and its outcomes always add up to the input rows, so a reader can see at a glance
that nothing was lost between the register and the envelopes.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.files import write_bytes_atomic, write_json_atomic
from pipeline.options import RunDir, RunOptions
from pipeline.results import CheckResult, LedgerStageResult, PlanResult, QAResult, RenderResult, StartResult

# autoescape for .html and .svg templates alike (select_autoescape matches the name's end)
_TEMPLATES = Environment(loader=PackageLoader("pipeline", "templates"),
                         autoescape=select_autoescape(["html.j2", "svg.j2"]),
                         undefined=StrictUndefined, keep_trailing_newline=False)


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
    bars = [{"name": name, "n": n, "y": gap + i * (bar_h + gap), "w": round(width * n / top)}
            for i, (name, n) in enumerate(rows)]
    return _TEMPLATES.get_template("funnel.svg.j2").render(
        bars=bars, width=width, bar_h=bar_h, label_w=label_w, height=len(rows) * (bar_h + gap) + gap)


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
_PRINT_KEYS = ("households", "envelopes", "envelopes_printed", "envelopes_manual",
               "notices_from_earlier_runs", "batches", "pages", "manual_handling")


def _yes_no(flag: object) -> str:
    return "yes" if flag else "NO"


def _notice_rows(n: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("planned (printed in batches)", n.get("planned", 0)),
            ("printed and passed QA", n.get("printed", 0)),
            ("voided (QA failed)", n.get("voided", 0)),
            ("made by hand", n.get("manual", 0)),
            ("all printed", _yes_no(n.get("all_printed")))]


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page: inline CSS, no scripts, no external fonts or links; every
    report value autoescaped by the template."""
    qa = report.get("qa", {})
    return _TEMPLATES.get_template("report.html.j2").render(
        report=report, css=_CSS, demo=bool(report.get("demo")),
        outcomes=[*report["outcomes"].items(), ("input rows", report["input_rows"]),
                  ("counts add up", _yes_no(report.get("counts_add_up")))],
        printed=[(k.replace("_", " "), report[k]) for k in _PRINT_KEYS if k in report],
        qa=[(k, v) for k, v in qa.items() if k != "qr_sampling"], verdict=qa.get("verdict", "n/a"),
        notices=_notice_rows(report["notices"]) if report.get("notices") else [],
        funnel_svg=Markup(funnel_svg(report["funnel"])) if report.get("funnel") else "",
        quarantine_rules=sorted(report.get("quarantine_rules", {}).items()),
        timings=sorted(report.get("timings", {}).items()),
    )


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
