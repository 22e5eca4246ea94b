"""Checks on extracted-text fixtures: a clean batch passes, each tampering is named."""

from __future__ import annotations

import polars as pl
import pytest

from qa import checks as c
from qa.batch_qa import check_plan
from tests.helpers.qa_fixtures import FrameLedger, build, to_csv_frame


@pytest.fixture
def batch():
    return build()


def run_text_checks(manifest, texts, plan=None):
    from qa.batch_qa import plan_addresses
    pages = c.expected_pages(manifest)
    out = c.check_page_count(len(texts), manifest) + c.check_page_ranges(manifest)
    out += c.check_footers(texts, pages)
    content, printed = c.check_page_content(texts, manifest, pages,
                                            plan_addresses(plan) if plan is not None else None)
    return out + content, printed


def checks_of(findings):
    return {f.check for f in findings}


def test_clean_batch_passes_every_check(batch):
    manifest, texts, plan, active = batch
    findings, printed = run_text_checks(manifest, texts, plan)
    assert findings == []
    assert printed.height == 6
    assert c.check_manifest(manifest, to_csv_frame(manifest)) == []
    assert c.check_ledger_numbers(printed, FrameLedger(active).active_numbers(printed["resident_code"])) == []
    assert check_plan(manifest, plan) == []


def test_swapped_pages_fail_footers_and_names(batch):
    manifest, texts, _, _ = batch
    texts[1], texts[3] = texts[3], texts[1]  # member of H001 <-> address sheet of H002
    findings, _ = run_text_checks(manifest, texts)
    assert {c.FOOTERS, c.NAMES, c.OTHER_HOUSEHOLDS} <= checks_of(findings)
    assert {f.page for f in findings if f.check == c.FOOTERS} == {2, 4}


def test_dropped_page_fails_page_count_and_footers(batch):
    manifest, texts, _, _ = batch
    del texts[2]
    findings, _ = run_text_checks(manifest, texts)
    assert {c.PAGE_COUNT, c.FOOTERS} <= checks_of(findings)


def test_manifest_pointing_at_wrong_household(batch):
    manifest, texts, _, _ = batch
    manifest = manifest.with_columns(
        household_id=pl.when(pl.col("envelope_seq") == 2).then(pl.lit("H003"))
        .otherwise(pl.col("household_id")),
        member_names=pl.when(pl.col("envelope_seq") == 2).then(pl.lit(["林 一"]))
        .otherwise(pl.col("member_names")))
    findings, _ = run_text_checks(manifest, texts)
    assert {f.envelope_seq for f in findings if f.check == c.FOOTERS} == {2}
    assert any(f.check == c.NAMES and f.envelope_seq == 2 for f in findings)


def test_other_households_name_is_caught_but_substrings_are_not(batch):
    manifest, texts, _, _ = batch
    # 小林 一郎 (H002) contains 林 一 (H003) as a substring: that is no finding (clean test).
    texts[4] = texts[4].replace("通知カード", "通知カード 林 二三")  # H003's member on H002's page
    findings, _ = run_text_checks(manifest, texts)
    assert [(f.check, f.envelope_seq, f.page) for f in findings] == [(c.OTHER_HOUSEHOLDS, 2, 5)]


def rename(manifest, texts, old, new):
    swap = lambda col: pl.col(col).str.replace_all(old, new, literal=True)  # noqa: E731
    manifest = manifest.with_columns(head_name=swap("head_name"),
                                     member_names=pl.col("member_names").list.eval(
                                         pl.element().str.replace_all(old, new, literal=True)))
    return manifest, [t.replace(old, new) for t in texts]


def test_substitute_form_of_own_name_is_not_another_household(batch):
    """髙橋 prints as 高橋 on the form; 高橋 太郎 living in another household is no misprint."""
    manifest, texts, _, _ = batch
    manifest, texts = rename(manifest, texts, "練馬 太郎", "髙橋 太郎")
    manifest, texts = rename(manifest, texts, "小林 一郎", "高橋 太郎")
    texts[1] += "\n代替文字による氏名：高橋 太郎"
    findings, _ = run_text_checks(manifest, texts)
    assert findings == []
    assert c.is_substitute_form(("高橋", "太郎"), ("髙橋", "太郎"))
    assert not c.is_substitute_form(("林", "太郎"), ("森", "太郎"))  # both inside JIS X 0208
    texts[6] += "\n高橋 太郎"  # 林 一's page (H003): no own name explains it
    findings, _ = run_text_checks(manifest, texts)
    assert [(f.check, f.page) for f in findings] == [(c.OTHER_HOUSEHOLDS, 7)]


def test_name_across_a_line_break_still_matches(batch):
    manifest, texts, _, _ = batch
    texts[-1] = texts[-1].replace("Smith John Paul", "Smith John\nPaul")
    findings, _ = run_text_checks(manifest, texts)
    assert findings == []


def test_mask_mismatch_and_number_on_address_sheet(batch):
    manifest, texts, _, _ = batch
    manifest = manifest.with_columns(my_numbers_masked=pl.when(pl.col("envelope_seq") == 1)
                                     .then(pl.lit(["********9999", "********9013"]))
                                     .otherwise(pl.col("my_numbers_masked")))
    texts[3] += "\n1234 5678 9018"
    findings, _ = run_text_checks(manifest, texts)
    got = {(f.check, f.envelope_seq, f.page, f.rule) for f in findings}
    assert (c.MASKED_NUMBERS, 1, 2, "manifest mask differs from the printed number") in got
    assert (c.MASKED_NUMBERS, 2, 4, "a My Number on the address sheet") in got
    assert len(got) == 2


def test_printed_number_with_a_bad_check_digit(batch):
    manifest, texts, _, _ = batch
    texts[1] = texts[1].replace("1234 5678 9018", "1234 5678 9017")
    manifest = manifest.with_columns(my_numbers_masked=pl.when(pl.col("envelope_seq") == 1)
                                     .then(pl.lit(["********9017", "********9013"]))
                                     .otherwise(pl.col("my_numbers_masked")))
    findings, _ = run_text_checks(manifest, texts)
    assert [(f.check, f.page, f.rule) for f in findings] == [
        (c.MASKED_NUMBERS, 2, "printed number fails its check digit")]
    assert c.my_number_check_digit_ok("123456789018") and c.my_number_check_digit_ok("983205673214")


def test_application_id_digits_are_not_mistaken_for_a_my_number(batch):
    _, texts, _, _ = batch
    assert c.printed_numbers(texts[1]) == {"123456789018"}
    assert c.printed_numbers("申請書ID 1234 5678 9012 3456 7890 123") == set()


def test_ledger_with_a_different_active_number(batch):
    manifest, texts, _, active = batch
    _, printed = run_text_checks(manifest, texts)
    changed = active.with_columns(my_number=pl.when(pl.col("resident_code") == "10000000044")
                                  .then(pl.lit("000000000000")).otherwise(pl.col("my_number")))
    findings = c.check_ledger_numbers(printed, changed)
    assert [(f.check, f.envelope_seq, f.page) for f in findings] == [(c.LEDGER_NUMBERS, 3, 7)]
    missing = c.check_ledger_numbers(printed, active.filter(pl.col("resident_code") != "10000000011"))
    assert [f.rule for f in missing] == ["resident has no active number in the ledger"]


def test_a_number_changed_after_printing_is_its_own_finding(batch):
    """A QA re-check after `reissue` says the printed number was revoked since, not a mismatch."""
    manifest, texts, _, active = batch
    _, printed = run_text_checks(manifest, texts)
    code = "10000000044"
    old = printed.filter(pl.col("resident_code") == code)["my_number"][0]
    changed = active.with_columns(my_number=pl.when(pl.col("resident_code") == code)
                                  .then(pl.lit("000000000000")).otherwise(pl.col("my_number")))
    owners = pl.DataFrame({"my_number": [old], "resident_code": [code], "status": ["revoked"]})
    findings = c.check_ledger_numbers(printed, changed, owners)
    assert [f.rule for f in findings] == [c.REVOKED_SINCE]
    someone_else = owners.with_columns(resident_code=pl.lit("10000000011"))
    assert [f.rule for f in c.check_ledger_numbers(printed, changed, someone_else)] == [
        "printed number is not the ledger's active number"]


def test_application_id_text_and_qr(batch):
    manifest, texts, _, _ = batch
    texts[1] = texts[1].replace("申請書ID", "申請書ID 0").replace(" 0 9", " 8")  # corrupt the id
    findings, _ = run_text_checks(manifest, texts)
    assert any(f.check == c.APPLICATION_IDS and f.page == 2 for f in findings)
    expected = {2: (1, "9" * 23), 3: (1, "8" * 23)}
    got = c.check_qr({2: ["9" * 23], 3: ["7" * 23]}, expected)
    assert [(f.check, f.page) for f in got] == [(c.QR_CODES, 3)]
    assert [f.rule for f in c.check_qr({2: []}, expected)] == ["0 QR codes decoded on page"]


def test_sha256sums_check():
    listed = {"cards.pdf": "a" * 64, "manifest.parquet": "b" * 64, "manifest.csv": "c" * 64}
    assert c.check_sha256sums(listed, dict(listed)) == []
    bad = c.check_sha256sums(listed, {**listed, "cards.pdf": "d" * 64})
    assert [f.rule for f in bad] == ["cards.pdf digest mismatch"]
    assert c.check_sha256sums(None, {})[0].rule == "SHA256SUMS missing"
    partial = c.check_sha256sums({"cards.pdf": "a" * 64}, {"cards.pdf": "a" * 64})
    assert len(partial) == 2


def test_manifest_consistency(batch):
    manifest, _, _, _ = batch
    csv = to_csv_frame(manifest)
    assert c.check_manifest(manifest, csv) == []
    bad_csv = csv.with_columns(household_id=pl.lit("X"))
    assert {f.rule for f in c.check_manifest(manifest, bad_csv)} == {
        "manifest.csv differs from parquet in household_id"}
    leaked = manifest.with_columns(my_numbers_masked=pl.lit(["123456789018"]), members=pl.lit(1))
    rules = {f.rule for f in c.check_manifest(leaked, None)}
    assert "masked number not ********NNNN" in rules and "manifest.csv missing or unreadable" in rules


def test_page_ranges_out_of_order(batch):
    manifest, _, _, _ = batch
    bad = manifest.with_columns(first_page=pl.when(pl.col("envelope_seq") == 2).then(5)
                                .otherwise(pl.col("first_page")))
    assert {f.rule for f in c.check_page_ranges(bad)} == {
        "page range not contiguous with the previous", "page range is not 1 + members pages"}


def test_plan_check(batch):
    manifest, _, plan, _ = batch
    extra = pl.DataFrame([{**plan.row(0, named=True), "resident_code": "10000000099",
                           "member_seq": 3}])
    findings = check_plan(manifest, pl.concat([plan, extra]))
    assert [(f.rule, f.envelope_seq) for f in findings] == [("planned member not printed", 1)]
    findings = check_plan(manifest, plan.filter(pl.col("resident_code") != "10000000055"))
    assert [(f.rule, f.envelope_seq) for f in findings] == [("member printed but not in the plan", 3)]
    manual = plan.with_columns(is_manual=pl.col("resident_code") == "10000000055")
    rules = {f.rule for f in check_plan(manifest, manual)}
    assert rules == {"manual member printed", "manual member not listed in the manifest"}
    listed = manifest.with_columns(manual_resident_codes=pl.when(pl.col("envelope_seq") == 3)
                                   .then(pl.lit(["10000000055"])).otherwise(pl.col("manual_resident_codes")))
    assert {f.rule for f in check_plan(listed, manual)} == {"manual member printed"}
    # a member the renderer sent to manual handling at draw time is accounted for
    env3 = pl.col("envelope_seq") == 3
    drawn_manual = listed.with_columns(
        resident_codes=pl.when(env3).then(pl.col("resident_codes").list.gather([0, 2]))
        .otherwise(pl.col("resident_codes")),
        application_ids=pl.when(env3).then(pl.col("application_ids").list.gather([0, 2]))
        .otherwise(pl.col("application_ids")))
    assert check_plan(drawn_manual, plan) == []
    moved = plan.with_columns(envelope_seq=pl.when(pl.col("resident_code") == "10000000022")
                              .then(pl.lit(2, dtype=pl.Int64)).otherwise(pl.col("envelope_seq")))
    assert "member printed in another envelope or household" in {
        f.rule for f in check_plan(manifest, moved)}
    reordered = plan.with_columns(member_seq=pl.when(pl.col("envelope_seq") == 3)
                                  .then(4 - pl.col("member_seq")).otherwise(pl.col("member_seq")))
    assert {f.rule for f in check_plan(manifest, reordered)} == {"members not in plan order"}
    twice = manifest.with_columns(resident_codes=pl.when(pl.col("envelope_seq") == 2)
                                  .then(pl.lit(["10000000011"])).otherwise(pl.col("resident_codes")))
    assert "member printed more than once" in {f.rule for f in check_plan(twice, plan)}


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_BUILT = build()


@settings(max_examples=80, derandomize=True)
@given(st.permutations(range(len(_BUILT[1]))))
def test_any_page_reordering_is_caught(order):
    manifest, texts, _, _ = _BUILT
    shuffled = [texts[i] for i in order]
    findings, _ = run_text_checks(manifest, shuffled)
    moved = {p + 1 for p, i in enumerate(order) if p != i}
    assert {f.page for f in findings if f.check == c.FOOTERS} == moved


@settings(max_examples=30, derandomize=True)
@given(st.integers(0, len(_BUILT[1]) - 1))
def test_any_dropped_page_is_caught(drop):
    manifest, texts, _, _ = _BUILT
    findings, _ = run_text_checks(manifest, texts[:drop] + texts[drop + 1:])
    assert {c.PAGE_COUNT, c.FOOTERS} <= checks_of(findings)


def test_own_alias_equal_to_another_households_name_is_not_a_leak(batch):
    """A foreign resident's 通称 may be another household's real name (seen at 5,000 rows)."""
    from qa.batch_qa import plan_aliases

    manifest, texts, plan, _ = batch
    other = manifest.filter(pl.col("envelope_seq") == 2)["head_name"][0]
    first_member_page = 2
    texts[first_member_page - 1] += f"\n{other}"  # the card prints the alias under the name
    pages = c.expected_pages(manifest)
    leaked, _ = c.check_page_content(texts, manifest, pages)
    assert c.OTHER_HOUSEHOLDS in checks_of(leaked)  # without the plan it cannot know
    code = manifest["resident_codes"][0][0]
    plan = plan.with_columns(alias=pl.when(pl.col("resident_code") == code).then(pl.lit(other)))
    ok, _ = c.check_page_content(texts, manifest, pages, None, plan_aliases(plan))
    assert c.OTHER_HOUSEHOLDS not in checks_of(ok)
    texts[6] += f"\n{other}"  # the same name on envelope 3's page: no such alias there
    still, _ = c.check_page_content(texts, manifest, pages, None, plan_aliases(plan))
    assert c.OTHER_HOUSEHOLDS in checks_of(still)


_WORDS = st.sampled_from(["山田", "太郎", "様", "SMITH", "John", "1-2-3", "花子", "田中"])


@settings(max_examples=300)
@given(page=st.lists(_WORDS, max_size=30), names=st.lists(st.lists(_WORDS, min_size=1, max_size=4),
                                                          max_size=6))
def test_page_tokens_find_exactly_the_names_printed_as_whole_tokens(page, names):
    """PageTokens finds a name exactly when it is a run of consecutive tokens of the page."""
    text = " ".join(page)
    words = c.WORD_RE.findall(text)          # as QA tokenises ("1-2-3" is three tokens)
    wanted = {t for n in names if (t := c.name_tokens(" ".join(n)))}
    runs = {tuple(words[i:i + len(n)]) for n in wanted for i in range(len(words) - len(n) + 1)}
    tokens = c.PageTokens(text)
    assert tokens.names_found(wanted, c.lengths_by_first_token(wanted)) == wanted & runs
    for name in wanted:
        assert tokens.contains(name) == (name in runs)


@pytest.mark.parametrize("head", ["", "・", "\u3000"])
def test_a_head_name_without_any_word_is_a_finding_not_a_match_on_any_様(batch, head):
    """Such a name would reduce to "様", which every address sheet prints."""
    manifest, texts, _, _ = batch
    first = manifest["envelope_seq"][0]
    texts = [t.replace(manifest["head_name"][0], head) for t in texts]   # printed as it is
    manifest = manifest.with_columns(pl.when(pl.col("envelope_seq") == first)
                                     .then(pl.lit(head)).otherwise(pl.col("head_name"))
                                     .alias("head_name"))
    findings, _ = run_text_checks(manifest, texts)
    assert any(f.check == c.NAMES and "様" in f.rule and f.envelope_seq == first for f in findings)
