"""A corpus of hostile register files, generated at test time (nothing generated is committed).

Each ``Case`` writes one file into a folder and says what `mynumber check` must make of it:
the exit code (0 clean, 1 rows quarantined, 2 unusable file) and, unless the file is
unusable, ``input_rows`` and the accepted / quarantined counts, plus rules that must be
among the counted ones. The base is eight single-person households from the committed
sample (every one valid), so one mutated row changes exactly one outcome.

Run ``python -m tests.readers.hostile_corpus OUT_DIR`` to write the files for a look.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from transforms.identifiers import my_number as my_number_id
from transforms.identifiers import resident_code as resident_code_id

TODAY = dt.date(2026, 11, 26)
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "register_sample.csv"
COLUMNS = ("resident_code", "household_id", "relationship", "family_name", "given_name",
           "family_name_kana", "given_name_kana", "alias", "date_of_birth", "sex", "postal_code",
           "address", "address_extra", "my_number")
REQUIRED = ("resident_code", "household_id", "relationship", "family_name", "given_name",
            "family_name_kana", "given_name_kana", "date_of_birth", "sex", "postal_code", "address")
N = 8
FORMULA = "=cmd|' /C calc'!A0"
#: the text limits of docs/domain.md#register-input-limits (household_id: the ledger column)
LIMITS = {"household_id": 64, "relationship": 32, "family_name": 100, "given_name": 100,
          "family_name_kana": 100, "given_name_kana": 100, "alias": 100, "address": 200,
          "address_extra": 100}
#: a value of the limit's length that is otherwise valid for the field
FILL = {"household_id": "H", "relationship": "子", "family_name": "山", "given_name": "花",
        "family_name_kana": "ヤ", "given_name_kana": "ハ", "alias": "通", "address": "練",
        "address_extra": "棟"}

Row = dict[str, str | None]


def base_rows() -> list[Row]:
    """Eight valid single-person households (every field filled, my_number blank)."""
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    frame = frame.filter(pl.col("household_id").is_unique()).head(N)
    rows: list[Row] = frame.to_dicts()
    for r in rows:
        r["alias"] = r["alias"] or "通称"
        r["address_extra"] = r["address_extra"] or "101号室"
        r["my_number"] = None
    return rows


def my_number(body: str) -> str:
    return body + my_number_id.calc_check_digit(body)


def resident_code(body: str) -> str:
    check = resident_code_id.calc_check_digit(body)
    assert check is not None
    return body + check


# --- writers -------------------------------------------------------------------------------
def csv_text(rows: list[Row], header: tuple[str, ...] | list[str] = COLUMNS, sep: str = ",",
             eol: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=eol)
    writer.writerow(header)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else r[c] for c in header])
    return out.getvalue()


def with_row(i: int, **values: str | None) -> list[Row]:
    rows = base_rows()
    rows[i] = {**rows[i], **values}
    return rows


def csv_file(data: bytes | str, suffix: str = ".csv") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / f"in{suffix}"
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path
    return build


def rows_file(rows: list[Row], **kw: Any) -> Callable[[Path], Path]:
    return csv_file(csv_text(rows, **kw))


def parquet_file(make: Callable[[], pl.DataFrame]) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / "in.parquet"
        make().write_parquet(path)
        return path
    return build


def base_frame() -> pl.DataFrame:
    return pl.DataFrame(base_rows(), schema=dict.fromkeys(COLUMNS, pl.Utf8))


def corrupt_parquet(folder: Path) -> Path:
    """One byte of the metadata changed: polars 1.x panics (PanicException, a BaseException)
    on this one rather than raising an error (found by tests/readers/test_fuzz_readers.py)."""
    path = folder / "in.parquet"
    buf = io.BytesIO()
    base_frame().write_parquet(buf)
    data = bytearray(buf.getvalue())
    data[939] = 193
    path.write_bytes(bytes(data))
    return path


def truncated_parquet(folder: Path) -> Path:
    path = folder / "in.parquet"
    buf = io.BytesIO()
    base_frame().write_parquet(buf)
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path


# --- the cases -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One hostile file and what the check must make of it (None: not checked, exit 2)."""

    name: str
    build: Callable[[Path], Path]
    exit: int
    input_rows: int | None = None
    accepted: int | None = None
    quarantined: int | None = None
    rules: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def ok(name: str, build: Callable[[Path], Path], rows: int = N, **kw: object) -> Case:
    return Case(name, build, 0, rows, rows, 0, **kw)  # type: ignore[arg-type]


def held(name: str, build: Callable[[Path], Path], *rules: str, rows: int = N, bad: int = 1,
         **kw: object) -> Case:
    return Case(name, build, 1, rows, rows - bad, bad, rules, **kw)  # type: ignore[arg-type]


def unusable(name: str, build: Callable[[Path], Path]) -> Case:
    return Case(name, build, 2)


def _encoding_cases() -> list[Case]:
    text = csv_text(base_rows())
    return [
        ok("utf8", csv_file(text)),
        ok("utf8-bom", csv_file(b"\xef\xbb\xbf" + text.encode())),
        ok("cp932", csv_file(text.encode("cp932"))),
        unusable("utf16-le-bom", csv_file(b"\xff\xfe" + text.encode("utf-16-le"))),
        unusable("utf16-be", csv_file(text.encode("utf-16-be"))),
        unusable("latin1-header-garbage", csv_file(b"\xff\xfe\xfd," + text.encode())),
        held("one-row-invalid-utf8", csv_file(_one_bad_row(text)), "text_encoding"),
        held("cp932-with-one-utf8-row", csv_file(_mixed_cp932(text)), "text_encoding"),
        unusable("mostly-undecodable", csv_file(",".join(COLUMNS).encode() + b"\n\x81 ,x" * 30)),
        ok("utf8-with-emoji-free-4byte", rows_file(with_row(0, family_name="𠮷田"))),
        ok("tsv", rows_file(base_rows(), sep="\t")),
        unusable("semicolon-separated", rows_file(base_rows(), sep=";")),
    ]


def _one_bad_row(text: str) -> bytes:
    lines = text.encode().split(b"\n")
    lines[3] = lines[3].replace("通称".encode(), b"\x82\xa0\xff")
    return b"\n".join(lines)


def _mixed_cp932(text: str) -> bytes:
    lines = text.split("\n")
    data = [line.encode("cp932") for line in lines]
    data[2] = lines[2].encode("utf-8")
    return b"\n".join(data)


def _line_end_cases() -> list[Case]:
    text = csv_text(base_rows())
    lines = text.rstrip("\n").split("\n")
    return [
        ok("crlf", csv_file(text.replace("\n", "\r\n"))),
        ok("cr-only", csv_file(text.replace("\n", "\r"))),
        ok("mixed-crlf-lf", csv_file("\r\n".join(lines[:4]) + "\n" + "\n".join(lines[4:]) + "\n")),
        ok("no-final-newline", csv_file(text.rstrip("\n"))),
        ok("trailing-blank-lines", csv_file(text + "\n\n\r\n   \n")),
        ok("leading-blank-lines", csv_file("\n\n\r\n" + text)),
        ok("leading-blank-lines-after-bom", csv_file(b"\xef\xbb\xbf\n\n" + text.encode())),
        ok("blank-lines-between-rows", csv_file("\n\n".join(lines) + "\n")),
        ok("whitespace-only-lines", csv_file("\n  \n\u3000\n".join(lines) + "\n")),
        ok("separator-only-lines", csv_file(("\n" + "," * 13 + "\n").join(lines) + "\n")),
        ok("leading-separator-only-line", csv_file(",,,\n" + text)),
    ]


def _control_cases() -> list[Case]:
    big = "x" * 70_000
    rows = base_rows()
    header = (*COLUMNS, "memo")
    for r in rows:
        r["memo"] = big if r is rows[0] else ""
    rows[5]["household_id"] = "H\x0012"
    late_nul = csv_text(rows, header=header)
    cases = [
        held("nul-in-first-64k", rows_file(with_row(1, household_id="H\x001")), "control_characters"),
        held("nul-in-two-rows", rows_file(with_row(1, household_id="H\x001") [:4] + with_row(4, family_name="山\x00")[4:]),
             "control_characters", bad=2),
        unusable("nul-every-other-byte", csv_file(csv_text(base_rows()).encode("utf-16-le"))),
        held("nul-after-64k-in-household-id", csv_file(late_nul), "control_characters",
             ignored=("memo",)),
    ]
    for field in COLUMNS:
        value = {"resident_code": "1234\x01567890", "my_number": "1234\x0156789012",
                 "date_of_birth": "1990-01-\x0101", "sex": "男\x01", "postal_code": "176\x010001"}
        v = value.get(field, "あ\x01い" if "kana" not in field else "ア\x01イ")
        cases.append(held(f"control-in-{field}", rows_file(with_row(2, **{field: v})),
                          rows=N, bad=1))
    cases += [
        held("del-in-family-name", rows_file(with_row(3, family_name="山\x7f田")), "control_characters"),
        held("c1-nel-in-address", rows_file(with_row(3, address="練馬\x85区")), "control_characters"),
        held("line-separator-in-given-name", rows_file(with_row(3, given_name="花\u2028子")),
             "control_characters"),
        held("newline-inside-quoted-address", rows_file(with_row(4, address="練馬区\n豊玉北")),
             "control_characters"),
        held("tab-in-household-id", rows_file(with_row(4, household_id="H\t9")), "control_characters"),
    ]
    return cases


def _column_cases() -> list[Case]:
    rows = base_rows()
    cases = [
        unusable("duplicate-column-exact", rows_file(rows, header=(*COLUMNS, "resident_code"))),
        unusable("duplicate-column-two-spellings", rows_file(rows, header=(*COLUMNS, "住民票コード"))),
        ok("duplicate-unknown-column", csv_file(
            csv_text(rows).replace("\n", ",a,b\n").replace("my_number,a,b", "my_number,memo,memo", 1)),
           ignored=("memo", "memo")),
        ok("unknown-columns-ignored", csv_file(csv_text(rows).replace("\n", ",x\n")
                                               .replace("my_number,x", "my_number,備考", 1)),
           ignored=("備考",)),
        ok("a-column-named-row", csv_file(csv_text(rows).replace("\n", ",99\n")
                                          .replace("my_number,99", "my_number,row", 1)),
           ignored=("row",)),
        ok("empty-header-name", csv_file(csv_text(rows).replace("\n", ",\n")), ignored=("",)),
        ok("japanese-headers", csv_file(csv_text(rows).replace(
            "resident_code,household_id,relationship", "住民票コード,世帯番号,続柄", 1))),
        ok("optional-columns-absent", rows_file(rows, header=REQUIRED)),
        held("row-with-extra-fields", csv_file(csv_text(rows).replace("\n", ",extra\n", 3)
                                               .replace("my_number,extra", "my_number", 1)),
             "row_field_count", bad=2),
        held("short-row", csv_file(csv_text(rows).rstrip("\n").rsplit(",", 6)[0] + "\n"),
             "postal_code_missing"),
        unusable("header-only", csv_file(",".join(COLUMNS) + "\n")),
        unusable("empty-file", csv_file(b"")),
        unusable("whitespace-only-file", csv_file(b"\n \r\n\t\n")),
        unusable("no-register-columns", csv_file("a,b,c\n1,2,3\n")),
        unusable("binary-garbage", csv_file(bytes(range(256)) * 4)),
    ]
    for col in REQUIRED:
        cases.append(unusable(f"missing-column-{col}", rows_file(rows, header=tuple(c for c in COLUMNS if c != col))))
    return cases


def _length_cases() -> list[Case]:
    cases = []
    for field, limit in LIMITS.items():
        at = FILL[field] * limit
        if field != "relationship":  # a non-head relationship leaves the household without a head
            cases.append(ok(f"{field}-at-limit", rows_file(with_row(1, **{field: at}))))
        cases.append(held(f"{field}-over-limit", rows_file(with_row(1, **{field: at + FILL[field]})),
                          f"{field}_length"))
    big = "山" * (5 * 1024 * 1024 // 3)
    cases += [
        held("5mb-family-name", rows_file(with_row(6, family_name=big)), "family_name_length"),
        held("5mb-date-of-birth", rows_file(with_row(6, date_of_birth="1" * 5_000_000)),
             "date_of_birth_unparseable"),
        held("300-char-household-id", rows_file(with_row(6, household_id="9" * 300)), "household_id_length"),
        ok("5mb-unknown-column", rows_file([{**r, "memo": "z" * 5_000_000} for r in base_rows()[:1]]
                                           + base_rows()[1:], header=(*COLUMNS, "memo")), ignored=("memo",)),
    ]
    return cases


def _formula_cases() -> list[Case]:
    rejected = {"resident_code", "relationship", "family_name_kana", "given_name_kana", "date_of_birth",
                "sex", "postal_code", "my_number"}
    cases = []
    for field in COLUMNS:
        build = rows_file(with_row(7, **{field: FORMULA}))
        cases.append(held(f"formula-in-{field}", build) if field in rejected
                     else ok(f"formula-in-{field}", build))
    cases.append(ok("formula-after-semicolon-in-name", rows_file(with_row(7, given_name="紬;山本 =cmd"))))
    return cases


def _era_cases() -> list[Case]:
    good = ["明治45年7月30日", "大正元年7月30日", "大正15年12月25日", "昭和元年12月25日", "昭和64年1月7日",
            "平成元年1月8日", "平成31年4月30日", "令和元年5月1日", "M45.07.30", "T15.12.25", "1450730",
            "2151225", "3640107"]
    bad = ["明治45年7月31日", "大正元年7月29日", "大正15年12月26日", "昭和64年1月8日", "平成元年1月7日",
           "平成31年5月1日", "4010107"]
    cases = [ok(f"era-valid-{d}", rows_file(with_row(0, date_of_birth=d))) for d in good]
    cases += [held(f"era-invalid-{d}", rows_file(with_row(0, date_of_birth=d)), "date_of_birth_unparseable")
              for d in bad]
    return cases


def _parquet_cases() -> list[Case]:
    def dates(dtype: pl.DataType, tz: str | None = None) -> Callable[[], pl.DataFrame]:
        def make() -> pl.DataFrame:
            f = base_frame()
            d = f["date_of_birth"].str.to_date("%Y-%m-%d")
            if isinstance(dtype, pl.Datetime):
                s = d.cast(pl.Datetime(dtype.time_unit))
                if tz:
                    s = s.dt.replace_time_zone("Asia/Tokyo").dt.convert_time_zone(tz)
                return f.with_columns(s.alias("date_of_birth"))
            return f.with_columns(d.alias("date_of_birth"))
        return make

    zero_code = resident_code("0123456789")

    def int_codes() -> pl.DataFrame:
        f = base_frame().with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(zero_code))
                                      .otherwise(pl.col("resident_code")).alias("resident_code"))
        return f.with_columns(pl.col("resident_code").cast(pl.Int64),
                              pl.col("postal_code").str.replace("-", "").cast(pl.Int32),
                              pl.col("sex").replace({"男": "1", "女": "2"}).cast(pl.Int8))

    def extra(series: pl.Series) -> Callable[[], pl.DataFrame]:
        return lambda: base_frame().with_columns(series)

    return [
        ok("parquet-strings", parquet_file(base_frame)),
        ok("parquet-date", parquet_file(dates(pl.Date()))),
        ok("parquet-datetime-us", parquet_file(dates(pl.Datetime("us")))),
        ok("parquet-datetime-ns", parquet_file(dates(pl.Datetime("ns")))),
        ok("parquet-datetime-ms", parquet_file(dates(pl.Datetime("ms")))),
        ok("parquet-datetime-utc", parquet_file(dates(pl.Datetime("us"), "UTC"))),
        ok("parquet-integer-codes-zero-padded", parquet_file(int_codes)),
        unusable("parquet-float-resident-code", parquet_file(
            lambda: base_frame().with_columns(pl.col("resident_code").cast(pl.Float64)))),
        unusable("parquet-list-in-family-name", parquet_file(
            lambda: base_frame().with_columns(pl.col("family_name").map_elements(lambda v: [v], return_dtype=pl.List(pl.Utf8))))),
        unusable("parquet-binary-address", parquet_file(
            lambda: base_frame().with_columns(pl.col("address").cast(pl.Binary)))),
        ok("parquet-list-column-ignored", parquet_file(extra(pl.Series("tags", [["a", "b"]] * N))), ignored=("tags",)),
        ok("parquet-struct-column-ignored", parquet_file(extra(pl.Series("meta", [{"a": 1}] * N))), ignored=("meta",)),
        ok("parquet-binary-column-ignored", parquet_file(extra(pl.Series("blob", [b"\x00\xff"] * N))), ignored=("blob",)),
        ok("parquet-categorical-names", parquet_file(
            lambda: base_frame().with_columns(pl.col("family_name").cast(pl.Categorical)))),
        ok("parquet-all-null-alias", parquet_file(
            lambda: base_frame().with_columns(pl.lit(None).alias("alias")))),
        unusable("parquet-truncated", truncated_parquet),
        unusable("parquet-corrupt-metadata", corrupt_parquet),
        unusable("parquet-no-rows", parquet_file(lambda: base_frame().clear())),
    ]


def _duplicate_cases() -> list[Case]:
    number = my_number("12345678901")
    rows = base_rows()
    rows[1]["my_number"] = number
    rows[2]["my_number"] = number
    three = base_rows()
    for i in (3, 4, 5):
        three[i]["my_number"] = number
    return [
        held("two-rows-bring-one-number", rows_file(rows), "my_number_unique", bad=2),
        held("three-rows-bring-one-number", rows_file(three), "my_number_unique", bad=3),
        ok("one-row-brings-a-number", rows_file(with_row(1, my_number=number))),
        held("duplicate-resident-code", rows_file(with_row(1, resident_code=base_rows()[0]["resident_code"])),
             "resident_code_unique", bad=2),
    ]


def _truncation_cases() -> list[Case]:
    text = csv_text(base_rows())
    data = text.encode().rstrip(b"\n")
    last = data.rfind(b"\n") + 1
    cut_mb = next(i for i in range(last, len(data)) if data[i] >= 0x80) + 1  # inside a character
    return [
        held("truncated-mid-row", csv_file(text.rstrip("\n").rsplit(",", 4)[0]), "postal_code_missing"),
        held("truncated-mid-character", csv_file(data[:cut_mb]), bad=1),
        unusable("unbalanced-quote", csv_file(text + '"' + "a,b\n")),
    ]


def cases() -> list[Case]:
    out = (_encoding_cases() + _line_end_cases() + _control_cases() + _column_cases() + _length_cases()
           + _formula_cases() + _era_cases() + _parquet_cases() + _duplicate_cases() + _truncation_cases())
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case names must be unique"
    return out


def write_all(folder: Path) -> list[tuple[Case, Path]]:
    """Write every case into its own sub-folder of ``folder``."""
    written = []
    for case in cases():
        sub = folder / case.name
        sub.mkdir(parents=True, exist_ok=True)
        written.append((case, case.build(sub)))
    return written


if __name__ == "__main__":
    for case, path in write_all(Path(sys.argv[1])):
        print(case.exit, path)
