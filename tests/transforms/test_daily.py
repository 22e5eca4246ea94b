"""Event classification: each rule of the daily increment, and idempotency inputs."""

import datetime as dt

import polars as pl
import pytest

from transforms.daily import choose_addressees, classify_events

DAY = dt.date(2026, 11, 26)
EMPTY_ACTIVE = pl.DataFrame(schema={"resident_code": pl.Utf8, "run_id": pl.Utf8})
EMPTY_OWNERS = pl.DataFrame(schema={"my_number": pl.Utf8, "resident_code": pl.Utf8, "status": pl.Utf8})
EMPTY_KNOWN = pl.DataFrame(schema={"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date})


def events(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": list(range(1, len(rows) + 1)),
            "resident_code": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "event_date": [DAY] * len(rows),
            "my_number": [r[2] for r in rows],
        },
        schema_overrides={"my_number": pl.Utf8, "row": pl.UInt32},
    )


def classify(ev, active=EMPTY_ACTIVE, owners=EMPTY_OWNERS, known=EMPTY_KNOWN, run_id="run-b"):
    out = classify_events(ev, active, owners, known, run_id)
    return dict(zip(out["resident_code"], out["action"], strict=True)), out


@pytest.mark.parametrize("event", ["birth", "first_registration"])
def test_new_resident_gets_a_number(event):
    actions, _ = classify(events(("A", event, None)))
    assert actions == {"A": "issue"}


def test_birth_of_someone_who_already_has_a_number_is_quarantined():
    active = pl.DataFrame({"resident_code": ["A"], "run_id": ["run-a"]})
    actions, out = classify(events(("A", "birth", None)), active=active)
    assert actions == {"A": "quarantine"}
    assert out["reason"][0].startswith("resident_code:")


def test_birth_issued_by_this_same_run_before_a_crash_is_reused_not_quarantined():
    active = pl.DataFrame({"resident_code": ["A"], "run_id": ["run-b"]})
    actions, out = classify(events(("A", "birth", None)), active=active)
    assert actions == {"A": "issue"} and out["is_reused"][0]


def test_birth_carrying_a_number_is_quarantined():
    actions, _ = classify(events(("A", "birth", "123456789018")))
    assert actions == {"A": "quarantine"}


def test_move_in_keeps_a_number_nobody_holds():
    actions, _ = classify(events(("A", "move_in", "123456789018")))
    assert actions == {"A": "keep"}


def test_move_in_again_with_its_own_number_is_kept_idempotently():
    owners = pl.DataFrame({"my_number": ["123456789018"], "resident_code": ["A"], "status": ["active"]})
    active = pl.DataFrame({"resident_code": ["A"], "run_id": ["run-a"]})
    actions, _ = classify(events(("A", "move_in", "123456789018")), active=active, owners=owners)
    assert actions == {"A": "keep"}


def test_move_in_with_someone_elses_number_is_quarantined():
    owners = pl.DataFrame({"my_number": ["123456789018"], "resident_code": ["B"], "status": ["active"]})
    actions, out = classify(events(("A", "move_in", "123456789018")), owners=owners)
    assert actions == {"A": "quarantine"}
    assert "another resident" in out["reason"][0]
    assert "123456789018" not in out["reason"][0]


def test_move_in_with_a_revoked_number_is_quarantined():
    owners = pl.DataFrame({"my_number": ["123456789018"], "resident_code": ["A"], "status": ["revoked"]})
    actions, _ = classify(events(("A", "move_in", "123456789018")), owners=owners)
    assert actions == {"A": "quarantine"}


def test_move_in_without_a_number_is_quarantined():
    actions, _ = classify(events(("A", "move_in", None)))
    assert actions == {"A": "quarantine"}


def test_number_change_needs_an_active_number():
    active = pl.DataFrame({"resident_code": ["A"], "run_id": ["run-a"]})
    actions, _ = classify(events(("A", "number_change", None), ("B", "number_change", None)), active=active)
    assert actions == {"A": "reissue", "B": "quarantine"}


@pytest.mark.parametrize("event", ["move_out", "death"])
def test_move_out_and_death_are_recorded_only(event):
    actions, _ = classify(events(("A", event, None)))
    assert actions == {"A": "record"}


def test_known_events_are_skipped_whatever_they_are():
    ev = events(("A", "birth", None), ("B", "death", None), ("C", "number_change", None))
    known = ev.select("resident_code", "event", "event_date")
    actions, _ = classify(ev, known=known)
    assert set(actions.values()) == {"already_processed"}


def test_unknown_event_is_quarantined_and_every_row_gets_one_action():
    ev = events(("A", "marriage", None), ("B", "birth", None))
    _, out = classify(ev)
    assert out.height == ev.height
    assert out.filter(pl.col("resident_code") == "A")["action"][0] == "quarantine"


def test_addressee_is_the_head_when_present_else_the_eldest():
    members = pl.DataFrame({
        "household_id": ["h1", "h1", "h2", "h2"],
        "is_head": [False, True, False, False],
        "date_of_birth": [dt.date(1950, 1, 1), dt.date(1980, 1, 1), dt.date(2026, 11, 1), dt.date(1990, 5, 5)],
        "resident_code": ["a", "b", "c", "d"],
    })
    out = choose_addressees(members)
    assert out["resident_code"].to_list() == ["a", "b", "c", "d"]
    assert out["is_head"].to_list() == [False, True, False, True]
    assert out.group_by("household_id").agg(pl.col("is_head").sum())["is_head"].to_list() == [1, 1]


def history(*rows: tuple[str, str, dt.date]) -> pl.DataFrame:
    return pl.DataFrame({"resident_code": [r[0] for r in rows], "event": [r[1] for r in rows],
                         "event_date": [r[2] for r in rows]},
                        schema={"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date})


def contradictions(ev, known_codes, hist, known=EMPTY_KNOWN):
    from transforms.daily import hold_contradictions

    _, out = classify(ev, active=pl.DataFrame({"resident_code": known_codes, "run_id": ["r0"] * len(known_codes)},
                                              schema={"resident_code": pl.Utf8, "run_id": pl.Utf8}),
                      known=known)
    held = hold_contradictions(out, pl.Series(known_codes, dtype=pl.Utf8), hist)
    return {c: (a, (r or "").split(":")[1].strip() if a == "quarantine" and r and r.count(":") >= 2 else None)
            for c, a, r in held.select("resident_code", "action", "reason").iter_rows()}


def test_exit_events_of_unknown_residents_are_held():
    got = contradictions(events(("A", "death", None), ("B", "move_out", None), ("K", "death", None)), ["K"],
                         history())
    assert got == {"A": ("quarantine", "event_unknown_resident"), "B": ("quarantine", "event_unknown_resident"),
                   "K": ("record", None)}


def test_events_after_death_or_move_out_are_held_but_a_move_in_after_a_move_out_is_not():
    earlier = DAY - dt.timedelta(days=3)
    hist = history(("D", "death", earlier), ("O", "move_out", earlier), ("I", "move_out", earlier),
                   ("B", "move_out", earlier), ("B", "move_in", DAY - dt.timedelta(days=1)))
    ev = events(("D", "number_change", None), ("O", "death", None), ("I", "move_in", "123456789018"),
                ("B", "move_out", None))
    got = contradictions(ev, ["D", "O", "B"], hist)
    assert got["D"] == ("quarantine", "event_after_death")
    assert got["O"] == ("quarantine", "event_after_move_out")
    assert got["I"][0] == "keep"
    assert got["B"] == ("record", None)  # moved out, moved back in, moves out again


def test_an_event_already_processed_is_never_held_on_a_rerun():
    hist = history(("D", "death", DAY))
    known = pl.DataFrame({"resident_code": ["D"], "event": ["death"], "event_date": [DAY]})
    got = contradictions(events(("D", "death", None)), ["D"], hist, known=known)
    assert got == {"D": ("already_processed", None)}
