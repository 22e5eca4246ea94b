"""Real print batches for QA tests: a small register → plan → layouts.batch.write_batch.

Names come from small lists (with 小林 一郎 / 林 一 style overlaps on purpose); numbers are
valid My Numbers made from a seeded generator (test values, not derived from any key).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from transforms.batching import assign_batches
from transforms.households import (
    PlanParams,
    assign_application_ids,
    assign_registered_mail_numbers,
    plan_envelopes,
)
from transforms.identifiers import my_number, registered_mail

FAMILY = [("練馬", "ネリマ"), ("小林", "コバヤシ"), ("林", "ハヤシ"), ("佐藤", "サトウ"),
          ("髙橋", "タカハシ"), ("渡邊", "ワタナベ"), ("𠮷田", "ヨシダ")]
GIVEN = [("一郎", "イチロウ"), ("一", "ハジメ"), ("花子", "ハナコ"), ("二三", "フミ"),
         ("太郎", "タロウ"), ("美咲", "ミサキ"), ("翔", "ショウ")]
TOWNS = [("1760001", "練馬区練馬一丁目"), ("1760002", "練馬区桜台二丁目"),
         ("1790085", "練馬区早宮三丁目"), ("1770041", "練馬区石神井町四丁目")]


def make_register(n_households: int, seed: int = 1) -> pl.DataFrame:
    """A canonical-ish resident frame: 1-4 members per household, one head each."""
    rng = np.random.default_rng(seed)
    rows, code = [], 0
    for h in range(n_households):
        postal, town = TOWNS[int(rng.integers(len(TOWNS)))]
        address = f"{town}{int(rng.integers(1, 30))}-{int(rng.integers(1, 20))}"
        extra = None if rng.random() < 0.6 else f"ハイツ{int(rng.integers(101, 310))}"
        fam, fam_kana = FAMILY[int(rng.integers(len(FAMILY)))]
        for m in range(int(rng.integers(1, 5))):
            code += 1
            giv, giv_kana = GIVEN[int(rng.integers(len(GIVEN)))]
            rows.append({
                "row": code, "resident_code": f"{code:011d}", "household_id": f"HH{h:05d}",
                "relationship": "世帯主" if m == 0 else "子", "is_head": m == 0,
                "family_name": fam, "given_name": giv, "family_name_kana": fam_kana,
                "given_name_kana": giv_kana, "alias": None,
                "date_of_birth": date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 30000))),
                "sex_code": int(rng.integers(1, 3)), "postal_code": postal, "address": address,
                "address_extra": extra})
    return pl.DataFrame(rows).with_columns(pl.col("row").cast(pl.UInt32),
                                           pl.col("sex_code").cast(pl.UInt8))


def make_numbers(resident_codes: pl.Series, seed: int = 2) -> pl.DataFrame:
    """Valid, distinct test My Numbers for the given residents (generation 0)."""
    rng = np.random.default_rng(seed)
    bodies = rng.choice(10**11, size=len(resident_codes), replace=False)
    numbers = [f"{b:011d}" + my_number.calc_check_digit(f"{b:011d}") for b in bodies.tolist()]
    return pl.DataFrame({"resident_code": resident_codes, "my_number": numbers,
                         "generation": [0] * len(numbers)})


def make_plan(register: pl.DataFrame, batch_size: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    plan = plan_envelopes(register, PlanParams(issue_date=date(2026, 11, 26)))
    ids = ["9" + "".join(map(str, rng.integers(0, 10, 22))) for _ in range(plan.height)]
    plan = assign_application_ids(plan, ids)
    n_env = plan["envelope_seq"].n_unique()
    plan = assign_registered_mail_numbers(
        plan, [registered_mail.from_serial(3606000000 + i) for i in range(n_env)])
    return assign_batches(plan, batch_size)


def write(batch_dir: Path, plan: pl.DataFrame, numbers: pl.DataFrame, batch_id: str = "B00001"):
    from layouts.batch import PrintSettings, write_batch
    rows = plan.filter(pl.col("batch_id") == batch_id)
    return write_batch(batch_dir, rows, numbers.select("resident_code", "my_number"),
                       PrintSettings())
