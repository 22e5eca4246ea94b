"""Every file of the hostile corpus ends as its table says: exit 0/1/2, counts that add up,
the expected rules, ignored columns listed, and never a traceback or a value in the report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.errors import InputError
from pipeline.stages.register_check import check_register_file
from tests.readers.hostile_corpus import TODAY, Case, cases, write_all

#: every n-th case also runs the GX suite (about a second each), which must agree with the flags
GX_EVERY = 12


def outcome(path: Path, out: Path, run_gx: bool) -> tuple[int, dict | None]:
    """(exit code as `mynumber check` gives it, report or None)."""
    try:
        result = check_register_file(path, today=TODAY, out_dir=out, run_gx=run_gx)
    except InputError:
        return 2, None
    return (1 if result.report["outcomes"]["quarantined"] else 0), result.report


def test_corpus_has_at_least_100_files() -> None:
    assert len(cases()) >= 100


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[list[tuple[Case, Path]], dict[str, tuple[int, dict | None]], float]:
    folder = tmp_path_factory.mktemp("corpus")
    written = write_all(folder)
    t0 = time.perf_counter()
    results = {case.name: outcome(path, path.parent / "check", i % GX_EVERY == 0)
               for i, (case, path) in enumerate(written)}
    return written, results, time.perf_counter() - t0


def test_whole_corpus_runs_in_under_60_s(corpus) -> None:
    _, _, seconds = corpus
    assert seconds < 60, f"{seconds:.1f} s"


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_case(corpus, case: Case) -> None:
    _, results, _ = corpus
    code, report = results[case.name]
    assert code == case.exit, (code, report and report["rules"])
    if case.exit == 2:
        return
    assert report is not None
    got = (report["input_rows"], report["outcomes"]["accepted"], report["outcomes"]["quarantined"])
    assert got == (case.input_rows, case.accepted, case.quarantined), {k: v for k, v in report["rules"].items() if v}
    assert sum(report["outcomes"].values()) == report["input_rows"]
    for rule in case.rules:
        assert report["rules"].get(rule, 0) >= 1, (rule, {k: v for k, v in report["rules"].items() if v})
    if case.ignored:
        assert report["ignored_columns"] == list(case.ignored)
    assert report["suite_consistent"] in (True, None)


def test_gx_agrees_with_the_flags_on_the_sampled_cases(corpus) -> None:
    _, results, _ = corpus
    sampled = [r for _, r in results.values() if r is not None and r["suite_consistent"] is not None]
    assert len(sampled) >= 8
    assert all(r["suite_consistent"] is True for r in sampled)


def test_outputs_hold_no_hostile_value(corpus) -> None:
    written, _, _ = corpus
    for case, path in written:
        check = path.parent / "check"
        if not check.exists():
            continue
        text = "".join(p.read_text(encoding="utf-8") for p in check.iterdir())
        assert "=cmd" not in text and "\x00" not in text and "\x01" not in text, case.name
        json.loads((check / "report.json").read_text(encoding="utf-8"))
