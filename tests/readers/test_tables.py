"""Readers: encodings detected or given, JP/EN headers, all-Utf8, row numbers, unusable files."""

from __future__ import annotations

import polars as pl
import pytest

from core.errors import ConfigError, InputError
from readers.tables import REQUIRED_REGISTER, canonical_header, read_table

EN = "resident_code,household_id,relationship,family_name,given_name,family_name_kana,given_name_kana,date_of_birth,sex,postal_code,address,address_extra"
JA = "住民票コード,世帯番号,続柄,氏,名,氏カナ,名カナ,生年月日,性別,郵便番号,住所,方書"
ROW1 = "01234567890,0001,世帯主,髙橋,一郎,ﾀｶﾊｼ,イチロウ,平成元年1月8日,男,176-0001,練馬区練馬1丁目2番3号,コーポ練馬203号"
ROW2 = "02345678901,0001,妻,髙橋,花子,タカハシ,ハナコ,S50.3.1,女,176-0001,練馬区練馬1丁目2番3号,"


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding, prefix", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp932", b"")])
@pytest.mark.parametrize("header", [EN, JA])
def test_detects_encoding_and_maps_headers(tmp_path, encoding, prefix, header):
    text = "\r\n".join([header, ROW1, ROW2]) + "\r\n"
    path = write(tmp_path, "r.csv", prefix + text.encode(encoding))
    result = read_table(path)
    want = {"utf-8": "utf-8-sig" if prefix else "utf-8", "cp932": "cp932"}[encoding]
    assert result.encoding == want
    frame = result.frame
    assert frame.columns[0] == "row" and frame.schema["row"] == pl.UInt32
    assert all(frame.schema[c] == pl.Utf8 for c in frame.columns if c != "row")
    assert frame["row"].to_list() == [1, 2]
    assert frame["resident_code"].to_list() == ["01234567890", "02345678901"]  # leading zeros kept
    assert frame["family_name"].to_list() == ["髙橋", "髙橋"]  # 髙 exists only in CP932 among SJIS variants
    assert frame["family_name_kana"][0] == "ﾀｶﾊｼ"
    assert frame["address_extra"].to_list() == ["コーポ練馬203号", None]
    assert frame["my_number"].to_list() == [None, None]  # optional column added
    assert result.quarantine.height == 0


@pytest.mark.parametrize("given", ["cp932", "shift_jis", "Windows-31J"])
def test_given_encoding(tmp_path, given):
    path = write(tmp_path, "r.csv", "\n".join([EN, ROW1]).encode("cp932"))
    assert read_table(path, encoding=given).encoding == "cp932"


def test_unknown_encoding_is_a_config_error(tmp_path):
    path = write(tmp_path, "r.csv", "\n".join([EN, ROW1]).encode())
    with pytest.raises(ConfigError):
        read_table(path, encoding="ebcdic")


def test_header_spellings():
    assert canonical_header("住民票コード") == "resident_code"
    assert canonical_header(" Resident_Code ") == "resident_code"
    assert canonical_header("氏ｶﾅ") == "family_name_kana"
    assert canonical_header("氏（カナ）") == "family_name_kana"
    assert canonical_header("\ufeff住民票コード") == "resident_code"
    assert canonical_header("異動事由") == "event"
    assert canonical_header("好きな食べ物") is None


def test_unknown_columns_are_ignored_and_named(tmp_path):
    path = write(tmp_path, "r.csv", "\n".join([EN + ",備考", ROW1 + ",メモ"]).encode())
    result = read_table(path)
    assert result.ignored_columns == ["備考"]
    assert "備考" not in result.frame.columns


def test_a_few_undecodable_rows_are_quarantined_not_fatal(tmp_path):
    rows = [ROW1.replace("01234567890", f"{i:011d}") for i in range(40)]
    data = "\n".join([EN, *rows]).encode("utf-8") + b"\n" + ROW2.encode("cp932") + b"\n"
    result = read_table(write(tmp_path, "r.csv", data))
    assert result.encoding == "utf-8"
    assert result.quarantine.rows() == [(41, "*", result.quarantine["reason"][0])]
    assert result.quarantine["reason"][0].startswith("text_encoding:")
    assert "\ufffd" in result.frame.filter(pl.col("row") == 41)["family_name"][0]


def test_extra_fields_are_quarantined(tmp_path):
    path = write(tmp_path, "r.csv", "\n".join([EN, ROW1, ROW2 + ",surplus,more"]).encode())
    q = read_table(path).quarantine
    assert q.select("row", "field").rows() == [(2, "*")]
    assert q["reason"][0].startswith("row_field_count:") and "surplus" not in q["reason"][0]


def test_blank_lines_skip_but_keep_numbering(tmp_path):
    path = write(tmp_path, "r.csv", "\n".join([EN, ROW1, "", ROW2, ""]).encode())
    assert read_table(path).frame["row"].to_list() == [1, 3]


def test_parquet(tmp_path):
    frame = pl.DataFrame({h: [v] for h, v in zip(JA.split(","), ROW1.split(","), strict=True)})
    frame = frame.with_columns(pl.lit(3).alias("世帯人数"), pl.date(1989, 1, 8).alias("生年月日"))
    path = tmp_path / "r.parquet"
    frame.write_parquet(path)
    result = read_table(path)
    assert result.encoding == "parquet"
    assert result.frame["date_of_birth"].to_list() == ["1989-01-08"]
    assert all(result.frame.schema[c] == pl.Utf8 for c in result.frame.columns if c != "row")


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (EN.encode() + b"\n", "no data rows"),
    (b"a,b\n1,2\n", "no register columns"),
    (b"resident_code,household_id\n1,2\n", "required column(s) absent"),
    (b"\xff\xfe" + "\n".join([EN, ROW1]).encode("utf-16-le"), "binary"),
    (b"PAR1 not really parquet", "Parquet"),
    ((EN + "," + EN.split(",")[0]).encode() + b"\n" + ROW1.encode() + b",x\n", "twice"),
])
def test_unusable_files_raise_input_error(tmp_path, data, message):
    path = write(tmp_path, "bad.csv", data)
    with pytest.raises(InputError) as info:
        read_table(path)
    assert message in str(info.value)
    assert info.value.file == str(path)


def test_undecodable_file(tmp_path):
    lines = [EN] + [ROW1.replace("髙橋", "\udcff") for _ in range(30)]
    data = "\n".join(lines).encode("utf-8", errors="surrogateescape").replace(b"\xff", b"\x80\xff")
    with pytest.raises(InputError) as info:
        read_table(write(tmp_path, "bad.csv", data))
    assert "not decodable" in str(info.value) and "row 1" in str(info.value)


def test_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="not a regular file"):
        read_table(tmp_path)


def test_events_need_event_columns(tmp_path):
    path = write(tmp_path, "e.csv", "\n".join([EN, ROW1]).encode())
    with pytest.raises(InputError) as info:
        read_table(path, kind="events")
    assert info.value.field == "event"
    ok = write(tmp_path, "e2.csv", (EN + ",異動事由,異動日\n").encode())
    assert read_table(ok, kind="events").frame.height == 0  # a quiet day is not an error


def test_messages_never_quote_values(tmp_path):
    path = write(tmp_path, "r.csv", ("\n".join([EN, ROW1]) + "\n\"unterminated").encode())
    try:
        read_table(path)
    except InputError as exc:
        assert "髙橋" not in str(exc) and "01234567890" not in str(exc)


def test_required_columns_constant():
    assert "relationship" in REQUIRED_REGISTER and "my_number" not in REQUIRED_REGISTER


def test_two_spellings_of_one_column(tmp_path):
    path = write(tmp_path, "r.csv", ("\n".join([EN + ",住民票コード", ROW1 + ",x"])).encode())
    with pytest.raises(InputError, match="two columns map to resident_code"):
        read_table(path)


def test_tab_separated(tmp_path):
    text = "\n".join(line.replace(",", "\t") for line in [JA, ROW1, ROW2])
    result = read_table(write(tmp_path, "r.tsv", text.encode("cp932")))
    assert result.frame["family_name"].to_list() == ["髙橋", "髙橋"]
    assert result.frame["address_extra"].to_list() == ["コーポ練馬203号", None]
