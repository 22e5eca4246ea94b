"""Seeded, Nerima-like sample print plans for the preview, the benchmark and the tests.

Every number here is made up: My Numbers carry a valid check digit but come from a
seeded generator (no key), application ids are random digits, registered-mail numbers
follow the reverse-engineered mod-7 rule. Nothing is derived from a real resident.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from transforms.identifiers.my_number import my_number_check_digit as _my_number_check_digit

TOWNS = (("1760012", "豊玉北"), ("1760001", "練馬"), ("1760002", "桜台"), ("1760003", "羽沢"),
         ("1760004", "小竹町"), ("1760005", "旭丘"), ("1760006", "栄町"), ("1760021", "貫井"),
         ("1760022", "向山"), ("1760023", "中村北"), ("1760024", "中村"), ("1770041", "石神井町"),
         ("1770045", "石神井台"), ("1780063", "東大泉"), ("1790075", "高松"), ("1790085", "早宮"))
FAMILY = (("練馬", "ネリマ"), ("田中", "タナカ"), ("鈴木", "スズキ"), ("佐藤", "サトウ"),
          ("高橋", "タカハシ"), ("渡辺", "ワタナベ"), ("伊藤", "イトウ"), ("山本", "ヤマモト"),
          ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("髙橋", "タカハシ"), ("𠮷田", "ヨシダ"),
          ("齋藤", "サイトウ"), ("渡邉", "ワタナベ"))
GIVEN = (("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"),
         ("大翔", "ヒロト"), ("陽菜", "ヒナ"), ("健", "ケン"), ("さくら", "サクラ"),
         ("翔太", "ショウタ"), ("結衣", "ユイ"))
FOREIGN = (("NGUYEN", "VAN AN", "グエン", "ヴァン アン", "阮 文安"),
           ("SMITH", "JOHN", "スミス", "ジョン", "スミス ジョン"),
           ("KIM", "MINJUN", "キム", "ミンジュン", "金 敏俊"))
BUILDINGS = ("練馬ハイツ", "コーポ桜台", "メゾン石神井", "グランドール大泉")
CATCH_ALL = "1760000"


def my_number_check_digit(body: str) -> str:
    """Statutory check digit of an 11-digit body (docs/domain.md#my-number-check-digit)."""
    return str(_my_number_check_digit(body))


def registered_mail_number(rng: random.Random) -> str:
    body = f"3{rng.randint(0, 99):02d}{rng.randint(60, 99)}{rng.randint(0, 99999):05d}"
    return body + str(int(body) % 7)


def resident_code(rng: random.Random) -> str:
    body = f"{rng.randint(0, 10**10 - 1):010d}"
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    r = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    return body + ("0" if r <= 1 else str(11 - r))


def demo_plan(households: int, *, seed: int = 5, batch_id: str = "B00001", batch_no: int = 1,
              manual_every: int = 0, rare_names: bool = True,
              issue_date: dt.date = dt.date(2015, 10, 20)) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plan_rows, numbers) for n households, ~2 members each, sorted in bulk-mail order."""
    rng = random.Random(seed)
    rows, numbers = [], []
    family_pool = FAMILY if rare_names else FAMILY[:10]
    for h in range(households):
        postal, town = TOWNS[rng.randrange(len(TOWNS))]
        if h % 97 == 13:
            postal = CATCH_ALL
        chome = "一二三四五六七"[rng.randrange(7)]
        address = f"東京都練馬区{town}{chome}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
        extra = f"{BUILDINGS[rng.randrange(4)]}{rng.randint(1, 6)}0{rng.randint(1, 9)}" \
            if rng.random() < 0.4 else None
        foreign = rng.random() < 0.03
        size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        fam: tuple[str, ...] = (FOREIGN[rng.randrange(len(FOREIGN))] if foreign
                                else family_pool[rng.randrange(len(family_pool))])
        mail = registered_mail_number(rng)
        for k in range(size):
            code = resident_code(rng)
            if foreign:
                given, gkana, alias = fam[1], fam[3], fam[4]
                fname, fkana = fam[0], fam[2]
            else:
                g = GIVEN[rng.randrange(len(GIVEN))]
                fname, fkana, given, gkana, alias = fam[0], fam[1], g[0], g[1], None
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 75))
            rows.append({
                "resident_code": code, "household_id": f"H{seed:02d}{h:07d}",
                "relationship": "世帯主" if k == 0 else "世帯員", "is_head": k == 0,
                "family_name": fname, "given_name": given, "family_name_kana": fkana,
                "given_name_kana": gkana, "alias": alias, "date_of_birth": born,
                "sex_code": rng.choice((1, 2)), "postal_code": postal, "address": address,
                "address_extra": extra, "member_seq": k + 1, "batch_no": batch_no,
                "batch_id": batch_id,
                "application_id": f"{rng.randint(1, 9)}{rng.randint(0, 10**22 - 1):022d}",
                "registered_mail_number": mail, "issue_date": issue_date,
                "is_manual": bool(manual_every and k == 1 and h % manual_every == 0),
            })
            body = f"{rng.randint(0, 10**11 - 1):011d}"
            numbers.append({"resident_code": code, "my_number": body + my_number_check_digit(body)})
    plan = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("sex_code").cast(pl.UInt8), pl.col("member_seq").cast(pl.UInt16),
        pl.col("batch_no").cast(pl.UInt32), pl.col("alias").cast(pl.Utf8),
        pl.col("address_extra").cast(pl.Utf8))
    order = (plan.group_by("household_id", maintain_order=True)
             .agg(pl.col("postal_code").first(), pl.col("address").first(),
                  pl.col("address_extra").first())
             .sort("postal_code", "address", "address_extra", "household_id", nulls_last=False)
             .with_row_index("envelope_seq", offset=1)
             .select(pl.col("envelope_seq").cast(pl.UInt32), "household_id"))
    plan = plan.join(order, on="household_id", validate="m:1").sort("envelope_seq", "member_seq")
    return plan, pl.DataFrame(numbers)
