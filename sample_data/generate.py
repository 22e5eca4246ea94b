"""Realistic Nerima-like resident registers and daily event files, vectorised and seeded.

A register is drawn household by household, all in numpy: household sizes (singles
common, ~2.0 per household as in Nerima), relationships (世帯主, 妻/夫, 子, 父/母, 孫,
同居人), ages from infants to over 100, ~3.1% foreign residents (upper-case Latin names,
katakana readings, some with a 通称), addresses on the real town names and postcodes of
nerima_towns.csv in the forms 練馬区豊玉北6丁目12番1号 / 豊玉北6-12-1 with building and room
extras (方書), a few family names with rare characters (髙, 﨑, 邊, 𠮷, and the variation
sequence 葛󠄀), and resident codes valid under the resident-code rule and unique.
CP932 output cannot carry 𠮷 (outside CP932) or a variation selector: with
``cp932_safe`` those names are written 吉田 and 葛城 (the ``cp932`` column of the rare table).

`inject_faults` plants realistic faults and returns a manifest listing every row the
register check must quarantine because of them (row, fault, field, origin_row); no value
is written in the manifest. `generate_events` draws a daily events file consistent with a
register. Same parameters and seed, same bytes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from transforms.eras import format_era, parse_date
from transforms.identifiers import my_number as my_number_id
from transforms.identifiers import resident_code as resident_code_id

DATA = Path(__file__).parent
DEFAULT_AS_OF = dt.date(2026, 11, 1)
EXPORT_COLUMNS: tuple[str, ...] = (
    "resident_code", "household_id", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "alias", "date_of_birth", "sex", "postal_code",
    "address", "address_extra", "my_number",
)
JAPANESE_HEADERS: dict[str, str] = {
    "resident_code": "住民票コード", "household_id": "世帯番号", "relationship": "続柄",
    "family_name": "氏", "given_name": "名", "family_name_kana": "氏カナ", "given_name_kana": "名カナ",
    "alias": "通称", "date_of_birth": "生年月日", "sex": "性別", "postal_code": "郵便番号",
    "address": "住所", "address_extra": "方書", "my_number": "個人番号", "event": "異動事由",
    "event_date": "異動日",
}
#: household sizes 1..7 (Nerima: singles common, ~2.0 residents per household)
SIZE_PROBS = np.array([0.45, 0.26, 0.14, 0.105, 0.032, 0.009, 0.004])
FAULTS: tuple[str, ...] = (
    "resident_code_check_digit", "duplicate_resident_code", "blank_head_relationship",
    "two_heads", "bad_date", "future_date", "mojibake", "bad_postal_code", "bad_sex",
    "blank_given_name", "my_number_check_digit",
)


@dataclass(frozen=True)
class SampleParams:
    """What to draw. ``as_of``: the day the export was made (ages are counted to it)."""

    rows: int = 1000
    seed: int = 0
    as_of: dt.date = DEFAULT_AS_OF
    foreign_rate: float = 0.031
    rare_rate: float = 0.003
    halfwidth_kana_rate: float = 0.01
    era_dates: bool = False
    cp932_safe: bool = False
    resident_code_rule: str = "mod11"


@lru_cache(maxsize=1)
def tables() -> dict[str, pl.DataFrame]:
    """The small data files the generator draws from."""
    def read(name: str) -> pl.DataFrame:
        return pl.read_csv(DATA / name, comment_prefix="#", infer_schema=False)

    towns = read("nerima_towns.csv").filter(pl.col("town_romaji").is_not_null())
    foreign = read("names/foreign_names.csv")
    return {
        "towns": towns,
        "family": read("names/family_names.csv"),
        "given": read("names/given_names.csv"),
        "foreign_family": foreign.filter(pl.col("kind") == "family"),
        "foreign_given": foreign.filter(pl.col("kind") == "given"),
        "rare": read("names/rare_family_names.csv"),
        "buildings": read("names/buildings.csv"),
    }


def _pick(rng: np.random.Generator, table: pl.DataFrame, n: int, weight: str | None = "weight") -> np.ndarray:
    if weight is None:
        return rng.integers(0, table.height, n)
    w = table[weight].cast(pl.Float64).to_numpy()
    return rng.choice(table.height, size=n, p=w / w.sum())


def _take(table: pl.DataFrame, column: str, idx: np.ndarray) -> pl.Series:
    return table[column].gather(pl.Series(idx, dtype=pl.UInt32))


def unique_ints(rng: np.random.Generator, n: int, high: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """``n`` distinct random integers in [0, high), none in ``exclude``, in random order."""
    out = np.empty(0, dtype=np.int64)
    while out.size < n:
        draw = rng.integers(0, high, int((n - out.size) * 1.1) + 16, dtype=np.int64)
        out = np.unique(np.concatenate([out, draw]))
        if exclude is not None and exclude.size:
            out = np.setdiff1d(out, exclude, assume_unique=False)
    return rng.permutation(out)[:n]


def resident_codes(bodies: np.ndarray, rule: str = "mod11") -> pl.Series:
    """11-digit resident codes for 10-digit bodies, check digit by ``rule`` (0 for none)."""
    digits = (bodies[:, None] // 10 ** np.arange(9, -1, -1, dtype=np.int64)) % 10
    cd = resident_code_id.calc_check_digits(digits, rule)
    cd = np.zeros(len(bodies), dtype=np.int64) if cd is None else cd.astype(np.int64)
    return pl.Series(bodies * 10 + cd).cast(pl.Utf8).str.zfill(11)


def my_numbers(bodies: np.ndarray) -> pl.Series:
    """Valid 12-digit My Numbers for 11-digit bodies (not derived from any key)."""
    cd = my_number_id.check_digits_of_ints(bodies.astype(np.uint64)).astype(np.int64)
    return pl.Series(bodies.astype(np.int64) * 10 + cd).cast(pl.Utf8).str.zfill(12)


def _choose(mask: np.ndarray | pl.Series, a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise ``a if mask else b`` for string Series (nulls allowed)."""
    return pl.select(pl.when(pl.Series(mask)).then(a).otherwise(b)).to_series()


def _halfwidth_tables() -> tuple[list[str], list[str]]:
    import unicodedata

    src, dst = [], []
    for cp in range(0xFF61, 0xFFA0):
        full = unicodedata.normalize("NFKC", chr(cp))
        if len(full) == 1 and "\u30a1" <= full <= "\u30fc":
            src.append(full)
            dst.append(chr(cp))
            for mark in ("\uff9e", "\uff9f"):
                voiced = unicodedata.normalize("NFKC", chr(cp) + mark)
                if len(voiced) == 1:
                    src.append(voiced)
                    dst.append(chr(cp) + mark)
    return src, dst


def to_halfwidth(expr: pl.Expr) -> pl.Expr:
    """Full-width katakana → half-width (old host exports write readings this way)."""
    src, dst = _halfwidth_tables()
    return expr.str.replace_many(src, dst).str.replace_all("\u3000", " ")


def format_dates(days: np.ndarray, styles: np.ndarray) -> pl.Series:
    """Day numbers → text; style 0 ISO, 1 kanji era, 2 abbreviated era, 3 7-digit era."""
    d = pl.DataFrame({"d": pl.Series(days, dtype=pl.Int32).cast(pl.Date), "s": styles})
    return d.select(
        pl.when(pl.col("s") == 1).then(format_era(pl.col("d"), "kanji"))
        .when(pl.col("s") == 2).then(format_era(pl.col("d"), "abbrev"))
        .when(pl.col("s") == 3).then(format_era(pl.col("d"), "coded"))
        .otherwise(pl.col("d").dt.strftime("%Y-%m-%d"))
    ).to_series().alias("date_of_birth")


def _addresses(rng: np.random.Generator, n: int) -> dict[str, pl.Series]:
    """Postal code, address and 方書 for ``n`` households on real Nerima towns."""
    t = tables()
    town_idx = rng.integers(0, t["towns"].height, n)
    town = _take(t["towns"], "town", town_idx)
    postcode = _take(t["towns"], "postcode", town_idx)
    chome, ban, go = rng.integers(1, 8, n), rng.integers(1, 41, n), rng.integers(1, 31, n)
    style = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    f = pl.DataFrame({"town": town, "pc": postcode, "c": chome, "b": ban, "g": go, "s": style,
                      "bldg": _take(t["buildings"], "building", rng.integers(0, t["buildings"].height, n)),
                      "room": rng.integers(1, 13, n) * 100 + rng.integers(1, 10, n),
                      "has_extra": rng.random(n) < 0.42, "room_style": rng.integers(0, 2, n)})
    kanji = pl.format("{}{}丁目{}番{}号", "town", "c", "b", "g")
    return f.select(
        pl.concat_str([pl.col("pc").str.slice(0, 3), pl.lit("-"), pl.col("pc").str.slice(3)]).alias("postal_code"),
        pl.when(pl.col("s") == 0).then(pl.concat_str([pl.lit("練馬区"), kanji]))
        .when(pl.col("s") == 1).then(pl.format("{}{}-{}-{}", "town", "c", "b", "g"))
        .otherwise(pl.concat_str([pl.lit("東京都練馬区"), kanji])).alias("address"),
        pl.when(pl.col("has_extra")).then(
            pl.when(pl.col("room_style") == 0).then(pl.format("{}{}号", "bldg", "room"))
            .otherwise(pl.format("{} {}号室", "bldg", "room"))
        ).alias("address_extra"),
    ).to_dict()


def generate_register(params: SampleParams = SampleParams()) -> pl.DataFrame:
    """A register export (all Utf8, English canonical headers), households contiguous."""
    rng = np.random.default_rng(params.seed)
    t = tables()
    n_target = params.rows
    sizes = rng.choice(len(SIZE_PROBS), size=n_target // 2 + 16, p=SIZE_PROBS / SIZE_PROBS.sum()) + 1
    while sizes.sum() < n_target:
        sizes = np.concatenate([sizes, rng.choice(len(SIZE_PROBS), size=n_target, p=SIZE_PROBS / SIZE_PROBS.sum()) + 1])
    ends = np.cumsum(sizes)
    n_hh = int(np.searchsorted(ends, n_target) + 1)
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(ends[n_hh - 1] - n_target)
    n = n_target
    hh = np.repeat(np.arange(n_hh), sizes)
    k = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # position in household
    size = sizes[hh]

    # households: foreign or not, head age and sex, family name, address
    foreign_hh = rng.random(n_hh) < params.foreign_rate
    head_age = np.where(foreign_hh, rng.normal(34, 9, n_hh), rng.normal(54, 17, n_hh)).clip(19, 99)
    centenarian = (sizes == 1) & (rng.random(n_hh) < 0.004)
    head_age = np.where(centenarian, rng.integers(100, 107, n_hh), head_age).astype(np.int64)
    head_male = rng.random(n_hh) < np.where(foreign_hh, 0.5, 0.62)

    # members: relationship, sex, age
    u, u2 = rng.random(n), rng.random(n)
    hm, ha = head_male[hh], head_age[hh]
    rel = np.full(n, "子", dtype=object)
    rel[k == 0] = "世帯主"
    second = k == 1
    rel[second & (u < 0.85)] = np.where(hm, "妻", "夫")[second & (u < 0.85)]
    rel[second & (u >= 0.93) & (u < 0.97)] = "母"
    rel[second & (u >= 0.97)] = "同居人"
    later = k >= 2
    rel[later & (ha >= 55) & (u < 0.4)] = "孫"
    elder = later & (k == size - 1) & (size >= 4) & (u2 < 0.2)
    rel[elder] = np.where(u2 < 0.1, "父", "母")[elder]
    male = rng.random(n) < 0.5
    male = np.where(k == 0, hm, male)
    male = np.where(rel == "妻", False, np.where(rel == "夫", True, male))
    male = np.where(rel == "父", True, np.where(rel == "母", False, male))
    age = np.select(
        [k == 0, (rel == "妻") | (rel == "夫"), rel == "子", rel == "孫", (rel == "父") | (rel == "母")],
        [ha, (ha + rng.normal(-2, 4, n)).clip(18, 104), ha - rng.integers(22, 43, n),
         rng.integers(0, 26, n).clip(0, np.maximum(ha - 45, 0)), (ha + rng.integers(24, 37, n)).clip(0, 108)],
        default=(ha + rng.normal(0, 10, n)).clip(18, 90),
    ).astype(np.int64)
    age = np.where(age < 0, rng.integers(0, 4, n), age)
    as_of = (params.as_of - dt.date(1970, 1, 1)).days
    dob_days = as_of - (age * 365.2425).astype(np.int64) - rng.integers(0, 365, n)

    # names: households share a family name (同居人 have their own), given names by sex
    fam_idx = _pick(rng, t["family"], n_hh)[hh]
    fam_idx = np.where(rel == "同居人", _pick(rng, t["family"], n), fam_idx)
    family = _take(t["family"], "family_name", fam_idx)
    family_kana = _take(t["family"], "family_name_kana", fam_idx)
    g = t["given"]
    gm, gf = g.filter(pl.col("sex") == "1"), g.filter(pl.col("sex") == "2")
    gi_m, gi_f = _pick(rng, gm, n), _pick(rng, gf, n)
    given = _choose(male, _take(gm, "given_name", gi_m), _take(gf, "given_name", gi_f))
    given_kana = _choose(male, _take(gm, "given_name_kana", gi_m), _take(gf, "given_name_kana", gi_f))
    # foreign households: Latin upper-case names, katakana readings
    ff, fg = t["foreign_family"], t["foreign_given"]
    fgm, fgf = fg.filter(pl.col("sex") == "1"), fg.filter(pl.col("sex") == "2")
    f_fam = _pick(rng, ff, n_hh)[hh]
    f_gm, f_gf = _pick(rng, fgm, n), _pick(rng, fgf, n)
    is_foreign = foreign_hh[hh]
    family = _choose(is_foreign, _take(ff, "name", f_fam), family)
    family_kana = _choose(is_foreign, _take(ff, "kana", f_fam), family_kana)
    given = _choose(is_foreign, _choose(male, _take(fgm, "name", f_gm), _take(fgf, "name", f_gf)), given)
    given_kana = _choose(is_foreign, _choose(male, _take(fgm, "kana", f_gm), _take(fgf, "kana", f_gf)), given_kana)
    # 通称 for some foreign residents: a Japanese-style name they go by
    alias_idx = _pick(rng, t["family"], n)
    has_alias = is_foreign & (rng.random(n) < 0.3)
    alias_text = _take(t["family"], "family_name", alias_idx) + " " + _choose(
        male, _take(gm, "given_name", gi_m), _take(gf, "given_name", gi_f))
    alias = _choose(has_alias, alias_text, pl.Series([None] * n, dtype=pl.Utf8))
    # rare characters: a few Japanese households
    rare_hh = (~foreign_hh) & (rng.random(n_hh) < params.rare_rate)
    rare_idx = rng.integers(0, t["rare"].height, n_hh)[hh]
    use_rare = rare_hh[hh] & (rel != "同居人")
    rare_col = "cp932" if params.cp932_safe else "family_name"
    family = _choose(use_rare, _take(t["rare"], rare_col, rare_idx), family)
    family_kana = _choose(use_rare, _take(t["rare"], "family_name_kana", rare_idx), family_kana)

    codes = resident_codes(unique_ints(rng, n, 10 ** 10), params.resident_code_rule)
    hh_ids = pl.Series(unique_ints(rng, n_hh, 10 ** 9) + 10 ** 9).cast(pl.Utf8).gather(pl.Series(hh, dtype=pl.UInt32))
    addr = _addresses(rng, n_hh)
    styles = rng.choice(4, size=n, p=[0.1, 0.4, 0.3, 0.2]) if params.era_dates else np.zeros(n, dtype=np.int64)
    halfwidth = pl.Series(rng.random(n) < params.halfwidth_kana_rate)
    gather = pl.Series(hh, dtype=pl.UInt32)
    frame = pl.DataFrame({
        "resident_code": codes, "household_id": hh_ids, "relationship": pl.Series(rel, dtype=pl.Utf8),
        "family_name": family, "given_name": given, "family_name_kana": family_kana,
        "given_name_kana": given_kana, "alias": alias, "date_of_birth": format_dates(dob_days, styles),
        "sex": _choose(male, pl.Series(["男"] * n), pl.Series(["女"] * n)), "postal_code": addr["postal_code"].gather(gather),
        "address": addr["address"].gather(gather), "address_extra": addr["address_extra"].gather(gather),
        "my_number": pl.Series([None] * n, dtype=pl.Utf8), "_hw": halfwidth,
    })
    return frame.with_columns(
        pl.when(pl.col("_hw")).then(to_halfwidth(pl.col(c))).otherwise(pl.col(c)).alias(c)
        for c in ("family_name_kana", "given_name_kana")
    ).drop("_hw").select(EXPORT_COLUMNS)


# --- faults -----------------------------------------------------------------------------
def _mojibake(text: str) -> str:
    """What a UTF-8 value looks like read as CP932 (kept CP932-encodable)."""
    return text.encode("utf-8").decode("cp932", errors="replace").replace("\ufffd", "?")


def inject_faults(frame: pl.DataFrame, rate: float, seed: int,
                  as_of: dt.date = DEFAULT_AS_OF) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plant ``rate × rows`` realistic faults, each in its own household, cycling through
    FAULTS. Returns the faulted frame and a manifest (row, fault, field, origin_row) listing
    every 1-based row the check must quarantine: a duplicated code holds back both rows, a
    household without or with two heads holds back all its rows. No values in the manifest.
    """
    rng = np.random.default_rng([seed, 7])
    n = frame.height
    n_faults = int(round(rate * n))
    if n_faults == 0:
        return frame, pl.DataFrame(schema={"row": pl.UInt32, "fault": pl.Utf8, "field": pl.Utf8, "origin_row": pl.UInt32})
    hh = frame["household_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    sizes = np.diff(np.r_[starts, n])
    order = rng.permutation(len(starts))
    cols = {c: frame[c].to_list() for c in ("resident_code", "relationship", "given_name",
                                            "family_name_kana", "date_of_birth", "postal_code",
                                            "sex", "my_number")}
    manifest: list[tuple[int, str, str, int]] = []
    used = 0

    def take_household(min_size: int = 1) -> int | None:
        nonlocal used
        while used < len(order):
            h = order[used]
            used += 1
            if sizes[h] >= min_size:
                return int(h)
        return None

    def whole(h: int, fault: str, field: str, origin: int) -> None:
        manifest.extend((int(r) + 1, fault, field, origin + 1) for r in range(starts[h], starts[h] + sizes[h]))

    for i in range(n_faults):
        fault = FAULTS[i % len(FAULTS)]
        h = take_household(2 if fault == "two_heads" else 1)
        if h is None:
            break
        r = int(starts[h] + rng.integers(0, sizes[h]))
        if fault == "resident_code_check_digit":
            code = cols["resident_code"][r]
            cols["resident_code"][r] = code[:-1] + str((int(code[-1]) + 1 + rng.integers(0, 9)) % 10)
            manifest.append((r + 1, fault, "resident_code", r + 1))
        elif fault == "duplicate_resident_code":
            h2 = take_household()
            if h2 is None:
                break
            r2 = int(starts[h2])
            cols["resident_code"][r] = cols["resident_code"][r2]
            manifest += [(r + 1, fault, "resident_code", r + 1), (r2 + 1, fault, "resident_code", r + 1)]
        elif fault == "blank_head_relationship":
            r = int(starts[h])
            cols["relationship"][r] = rng.choice(["", "　"])
            whole(h, fault, "relationship", r)
        elif fault == "two_heads":
            r = int(starts[h] + rng.integers(1, sizes[h]))
            cols["relationship"][r] = "世帯主"
            whole(h, fault, "relationship", r)
        elif fault == "bad_date":
            cols["date_of_birth"][r] = str(rng.choice(["1985-02-30", "平成31年13月40日", "S64.1.8", "昭和", "19850231", "H.7.3"]))
            manifest.append((r + 1, fault, "date_of_birth", r + 1))
        elif fault == "future_date":
            future = as_of + dt.timedelta(days=int(rng.integers(1, 3650)))
            cols["date_of_birth"][r] = future.isoformat() if rng.random() < 0.5 else str(
                pl.DataFrame({"d": [future]}).select(format_era(pl.col("d"), "kanji")).item())
            manifest.append((r + 1, fault, "date_of_birth", r + 1))
        elif fault == "mojibake":
            cols["family_name_kana"][r] = _mojibake(cols["family_name_kana"][r])
            manifest.append((r + 1, fault, "family_name_kana", r + 1))
        elif fault == "bad_postal_code":
            cols["postal_code"][r] = str(rng.choice(["176-001", "1760-001", "l76-0001", "17600011", "〒"]))
            manifest.append((r + 1, fault, "postal_code", r + 1))
        elif fault == "bad_sex":
            cols["sex"][r] = str(rng.choice(["X", "不明", "9", "0", "3"]))
            manifest.append((r + 1, fault, "sex", r + 1))
        elif fault == "blank_given_name":
            cols["given_name"][r] = ""
            manifest.append((r + 1, fault, "given_name", r + 1))
        elif fault == "my_number_check_digit":
            good = my_numbers(rng.integers(0, 10 ** 11, 1))[0]
            cols["my_number"][r] = good[:-1] + str((int(good[-1]) + 1 + rng.integers(0, 9)) % 10)
            manifest.append((r + 1, fault, "my_number", r + 1))
    faulted = frame.with_columns(pl.Series(c, v, dtype=pl.Utf8) for c, v in cols.items())
    m = pl.DataFrame(manifest, schema={"row": pl.UInt32, "fault": pl.Utf8, "field": pl.Utf8, "origin_row": pl.UInt32},
                     orient="row")
    return faulted, m.unique().sort("row", "fault")


# --- events -----------------------------------------------------------------------------
@dataclass(frozen=True)
class EventParams:
    """A daily events file: ``events`` rows dated within ``days`` days up to ``as_of``."""

    events: int = 40
    seed: int = 0
    as_of: dt.date = DEFAULT_AS_OF
    days: int = 3
    resident_code_rule: str = "mod11"
    mix: tuple[tuple[str, float], ...] = (
        ("birth", 0.25), ("move_in", 0.3), ("first_registration", 0.05),
        ("number_change", 0.05), ("move_out", 0.25), ("death", 0.1),
    )


def generate_events(register: pl.DataFrame, params: EventParams = EventParams()) -> pl.DataFrame:
    """Events consistent with ``register`` (an export from `generate_register`): births in
    existing households with new resident codes; move-ins with an existing valid My Number
    (random body + check digit, not derived from this municipality's key), most heading a
    new household, some joining an existing one as 同居人; first registrations of foreign
    residents arriving from abroad (no number yet); number changes, move-outs and deaths
    (the eldest of the household) of existing residents. Each existing household appears in
    one event at most, so no household shows two heads."""
    rng = np.random.default_rng([params.seed, 11])
    names, weights = zip(*params.mix, strict=True)
    kinds = rng.choice(len(names), size=params.events, p=np.array(weights) / sum(weights))
    counts = {name: int((kinds == i).sum()) for i, name in enumerate(names)}
    n_join = counts["move_in"] // 3
    as_of = (params.as_of - dt.date(1970, 1, 1)).days
    reg = register.with_columns(parse_date(pl.col("date_of_birth")).cast(pl.Int32).alias("_dob"))
    # households with exactly one head (a faulted register may have others: leave them be)
    households = (reg.group_by("household_id", maintain_order=True)
                  .agg((pl.col("relationship") == "世帯主").sum().alias("heads"))
                  .filter(pl.col("heads") == 1)["household_id"])
    pool = households.gather(pl.Series(rng.permutation(households.len()), dtype=pl.UInt32))
    n_existing = counts["number_change"] + counts["move_out"] + counts["death"]
    cuts = np.cumsum([0, n_existing, counts["birth"], n_join])
    existing_hh, birth_hh, join_hh = (pool[int(a):int(b)] for a, b in itertools.pairwise(cuts))

    # existing residents: one per household; the eldest member for deaths
    shuffled = reg.filter(pl.col("household_id").is_in(existing_hh.implode())).sample(
        fraction=1.0, shuffle=True, seed=int(rng.integers(2**31)))
    order = pl.DataFrame({"household_id": existing_hh, "_k": range(existing_hh.len())})
    anyone = shuffled.unique("household_id", keep="first").join(order, on="household_id").sort("_k")
    eldest = shuffled.sort("_dob").unique("household_id", keep="first").join(order, on="household_id").sort("_k")
    event_of = (["number_change"] * counts["number_change"] + ["move_out"] * counts["move_out"]
                + ["death"] * counts["death"])
    is_death = pl.Series([e == "death" for e in event_of[: anyone.height]])
    existing = pl.concat([anyone.filter(~is_death), eldest.filter(is_death)]).sort("_k").with_columns(
        pl.Series("event", event_of[: anyone.height], dtype=pl.Utf8))
    parts = [existing]

    taken = reg["resident_code"].str.slice(0, 10).cast(pl.Int64, strict=False).drop_nulls().to_numpy()
    n_new = counts["birth"] + counts["move_in"] + counts["first_registration"]
    new_codes = resident_codes(unique_ints(rng, n_new, 10 ** 10, exclude=taken), params.resident_code_rule)
    fresh = generate_register(SampleParams(rows=max(n_new, 1) * 3, seed=params.seed + 1_000_003,
                                           as_of=params.as_of, rare_rate=0.0, foreign_rate=0.0))
    abroad = generate_register(SampleParams(rows=max(counts["first_registration"], 1) * 3, seed=params.seed + 2_000_003,
                                            as_of=params.as_of, rare_rate=0.0, foreign_rate=1.0))
    # births: a child of an existing household (the head's family name), born within 14 days
    heads = reg.filter((pl.col("relationship") == "世帯主") & pl.col("household_id").is_in(birth_hh.implode()))
    nb = heads.height
    parts.append(heads.with_columns(
        pl.Series("resident_code", new_codes[:nb]), pl.lit("子").alias("relationship"),
        fresh["given_name"][:nb].alias("given_name"), fresh["given_name_kana"][:nb].alias("given_name_kana"),
        fresh["sex"][:nb].alias("sex"),
        pl.Series("date_of_birth", pl.Series(as_of - rng.integers(0, 14, nb), dtype=pl.Int32)
                  .cast(pl.Date).dt.strftime("%Y-%m-%d")),
        pl.lit(None, dtype=pl.Utf8).alias("alias"), pl.lit(None, dtype=pl.Utf8).alias("my_number"),
        pl.lit("birth").alias("event")))
    # move-ins: adults from elsewhere in Japan, bringing their My Number
    movers = fresh.filter(pl.col("relationship") == "世帯主").head(counts["move_in"])
    k = movers.height
    movers = movers.with_columns(
        pl.Series("resident_code", new_codes[nb: nb + k]), pl.lit("move_in").alias("event"),
        my_numbers(rng.integers(0, 10 ** 11, k)).alias("my_number"))
    hosts = reg.filter((pl.col("relationship") == "世帯主") & pl.col("household_id").is_in(join_hh.implode()))
    hosts = hosts.select("household_id", "postal_code", "address", "address_extra").head(min(n_join, k))
    joined = movers.head(hosts.height).drop(hosts.columns).hstack(hosts).with_columns(
        pl.lit("同居人").alias("relationship"))
    parts += [joined, movers.slice(hosts.height)]
    # first registrations: foreign residents arriving from abroad, no number yet
    arrivals = abroad.filter(pl.col("relationship") == "世帯主").head(counts["first_registration"])
    parts.append(arrivals.with_columns(
        pl.Series("resident_code", new_codes[nb + k: nb + k + arrivals.height]),
        pl.lit("first_registration").alias("event")))

    out = pl.concat([p.select(*EXPORT_COLUMNS, "event") for p in parts])
    dates = pl.Series(as_of - rng.integers(0, max(params.days, 1), out.height), dtype=pl.Int32).cast(pl.Date)
    out = out.with_columns(
        pl.when(pl.col("event") == "birth").then(pl.max_horizontal(dates, parse_date(pl.col("date_of_birth"))))
        .otherwise(dates).dt.strftime("%Y-%m-%d").alias("event_date"))
    return out.sample(fraction=1.0, shuffle=True, seed=params.seed)


def inject_event_faults(events: pl.DataFrame, rate: float, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Event faults: a move-in whose existing My Number has a wrong check digit, and an
    event this pipeline does not know (転居, a move within the ward). Manifest as above."""
    rng = np.random.default_rng([seed, 13])
    n_faults = int(round(rate * events.height))
    mn, ev = events["my_number"].to_list(), events["event"].to_list()
    move_ins = [i for i, e in enumerate(ev) if e == "move_in"]
    others = [i for i, e in enumerate(ev) if e != "move_in"]
    manifest = []
    for i in range(n_faults):
        pool = move_ins if i % 2 == 0 else others
        if not pool:
            continue
        r = pool.pop(int(rng.integers(0, len(pool))))
        if i % 2 == 0:
            mn[r] = mn[r][:-1] + str((int(mn[r][-1]) + 1 + rng.integers(0, 9)) % 10)
            manifest.append((r + 1, "my_number_check_digit", "my_number", r + 1))
        else:
            ev[r] = "転居"
            manifest.append((r + 1, "unknown_event", "event", r + 1))
    out = events.with_columns(pl.Series("my_number", mn, dtype=pl.Utf8), pl.Series("event", ev, dtype=pl.Utf8))
    m = pl.DataFrame(manifest, schema={"row": pl.UInt32, "fault": pl.Utf8, "field": pl.Utf8, "origin_row": pl.UInt32},
                     orient="row")
    return out, m.sort("row")


# --- writing ----------------------------------------------------------------------------
def write_export(frame: pl.DataFrame, path: str | Path, *, encoding: str = "utf-8",
                 japanese_headers: bool = False, bom: bool = False) -> Path:
    """Write a register/events export as CSV in UTF-8 (optionally with BOM) or CP932.

    CP932 cannot hold 𠮷 or variation selectors: generate with ``cp932_safe=True`` for CP932
    output; anything else unencodable raises (never silently replaced).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if japanese_headers:
        frame = frame.rename({c: JAPANESE_HEADERS.get(c, c) for c in frame.columns})
    text = frame.write_csv(quote_style="necessary")
    if encoding.lower() in ("cp932", "shift_jis", "sjis"):
        data = text.encode("cp932")
    else:
        data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    path.write_bytes(data)
    return path
