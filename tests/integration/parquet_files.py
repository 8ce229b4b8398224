"""Parquet files for tests/integration/parquet.rs, written by pyarrow (an independent writer).

usage: parquet_files.py DUMP_DIR REFERENCE_SQL [BIG_ROWS]

DUMP_DIR gets a Dumpling-style dump of database `pq`: schema files and `pq.TABLE[.N].parquet`
data files. REFERENCE_SQL gets the same tables in database `pq_ref` with the same rows as SQL
INSERTs, formatted here by Python, for the `mariadb` client to load: what hoist must match.
"""

import datetime
import decimal
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out, reference = sys.argv[1], sys.argv[2]
big_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
os.makedirs(out, exist_ok=True)
rng = random.Random(20261202)
decimal.getcontext().prec = 100
EPOCH = datetime.datetime(1970, 1, 1)

TABLES = {
    # Every mapped type, NULLs in every nullable column; values chosen so that SQLite, which
    # keeps what it is given, holds the text MariaDB prints (fractions end in a non-zero digit).
    "types": """
  `id` INT NOT NULL PRIMARY KEY,
  `b` TINYINT(1) NULL,
  `i8` TINYINT NULL,
  `u16` SMALLINT UNSIGNED NULL,
  `i64` BIGINT NULL,
  `u64` BIGINT UNSIGNED NULL,
  `f` FLOAT NULL,
  `d` DOUBLE NULL,
  `dec1` DECIMAL(9,2) NULL,
  `dec2` DECIMAL(30,10) NULL,
  `dt` DATE NULL,
  `tm` TIME(3) NULL,
  `tu` TIME(6) NULL,
  `ts` DATETIME(6) NULL,
  `tsm` DATETIME(3) NULL,
  `tz` TIMESTAMP(6) NULL,
  `tn` DATETIME(6) NULL,
  `s` VARCHAR(100) CHARACTER SET utf8mb4 NULL,
  `bin` VARBINARY(100) NULL""",
    # Wide decimals (FIXED_LEN_BYTE_ARRAY of 16 and 26 bytes) and the whole unsigned range.
    "wide": """
  `id` INT NOT NULL PRIMARY KEY,
  `d38` DECIMAL(38,10) NULL,
  `d60` DECIMAL(60,8) NULL,
  `u64` BIGINT UNSIGNED NULL""",
    # A Parquet 1.0 file (converted types only) whose timestamps are INT96, as Spark and Impala
    # write them; its columns in another order than the table's.
    "legacy": """
  `id` INT NOT NULL PRIMARY KEY,
  `ts` DATETIME(6) NULL,
  `u32` INT UNSIGNED NULL,
  `dt` DATE NULL,
  `s` VARCHAR(50) NULL""",
    # Many row groups, for the plan's cuts and the kill rounds.
    "big": """
  `id` BIGINT NOT NULL,
  `a` BIGINT NULL,
  `s` VARCHAR(40) NULL,
  `d` DOUBLE NULL""",
}


def maybe(value, percent=10):
    return None if rng.randrange(100) < percent else value


def odd_units(limit):
    """A count of units whose last digit is not 0 (its fraction has every digit)."""
    return rng.randrange(limit // 10) * 10 + rng.randrange(1, 10)


def types_rows(first, n):
    rows = []
    for i in range(first, first + n):
        us = odd_units(2_000_000_000 * 1_000_000)
        rows.append({
            "id": i,
            "b": maybe(rng.random() < 0.5),
            "i8": maybe(rng.randrange(-128, 128)),
            "u16": maybe(rng.randrange(0, 65536)),
            "i64": maybe(rng.randrange(-2**63, 2**63)),
            "u64": maybe(rng.randrange(0, 2**63)),
            "f": maybe(rng.randrange(-8000, 8000) / 8),
            "d": maybe(rng.uniform(-1e6, 1e6)),
            "dec1": maybe(decimal.Decimal(rng.randrange(-10**9 + 1, 10**9)).scaleb(-2)),
            "dec2": maybe(decimal.Decimal(rng.randrange(-10**15 + 1, 10**15)).scaleb(-10)),
            "dt": maybe(datetime.date(1000, 1, 1) + datetime.timedelta(days=rng.randrange(3_000_000))),
            "tm": maybe(datetime.time(*divmod_time(odd_units(86_400_000) * 1000))),
            "tu": maybe(datetime.time(*divmod_time(odd_units(86_400_000_000)))),
            "ts": maybe(EPOCH + datetime.timedelta(microseconds=us - 10**15)),
            "tsm": maybe(EPOCH + datetime.timedelta(milliseconds=odd_units(4_000_000_000_000) - 10**12)),
            "tz": maybe(EPOCH + datetime.timedelta(microseconds=us)),
            "tn": maybe(EPOCH + datetime.timedelta(microseconds=odd_units(4 * 10**15) - 2 * 10**15)),
            "s": maybe(rng.choice(["plain", "ünïcödé ✓", "'quoted' \"and\" \\back\\", "tab\there", "", "日本語"])
                       + str(i)),
            "bin": maybe(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20)))),
        })
    return rows


def divmod_time(us):
    s, us = divmod(us, 1_000_000)
    return s // 3600, s // 60 % 60, s % 60, us


TYPES_SCHEMA = pa.schema([
    ("id", pa.int32()), ("b", pa.bool_()), ("i8", pa.int8()), ("u16", pa.uint16()),
    ("i64", pa.int64()), ("u64", pa.uint64()), ("f", pa.float32()), ("d", pa.float64()),
    ("dec1", pa.decimal128(9, 2)), ("dec2", pa.decimal128(30, 10)), ("dt", pa.date32()),
    ("tm", pa.time32("ms")), ("tu", pa.time64("us")), ("ts", pa.timestamp("us")),
    ("tsm", pa.timestamp("ms")), ("tz", pa.timestamp("us", tz="UTC")), ("tn", pa.timestamp("ns")),
    ("s", pa.string()), ("bin", pa.binary()),
])


def arrow_table(schema, rows):
    return pa.table({f.name: pa.array([r[f.name] for r in rows], f.type) for f in schema}, schema=schema)


def sql_value(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bytes):
        return "X'" + v.hex() + "'" if v else "''"
    if isinstance(v, datetime.datetime):
        return "'" + v.isoformat(" ") + "'"
    if isinstance(v, (datetime.date, datetime.time)):
        return "'" + v.isoformat() + "'"
    return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'"


ref = open(reference, "w", encoding="utf-8")
ref.write("SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nCREATE DATABASE IF NOT EXISTS `pq_ref`;\n")
with open(os.path.join(out, "pq-schema-create.sql"), "w") as f:
    f.write("CREATE DATABASE `pq`;\n")
for name, columns in TABLES.items():
    with open(os.path.join(out, f"pq.{name}-schema.sql"), "w") as f:
        f.write(f"CREATE TABLE `{name}` ({columns}\n);\n")
    ref.write(f"CREATE TABLE `pq_ref`.`{name}` ({columns}\n);\n")


def reference_rows(name, rows, columns):
    for start in range(0, len(rows), 500):
        values = ",\n".join("(" + ",".join(sql_value(r[c]) for c in columns) + ")"
                            for r in rows[start:start + 500])
        ref.write(f"INSERT INTO `pq_ref`.`{name}` (" + ",".join(f"`{c}`" for c in columns) + f") VALUES\n{values};\n")


# types: five files, one per codec, several row groups each, in the writers' usual forms.
first = 0
for n, (codec, options) in enumerate([
    ("snappy", {}),
    ("zstd", {"store_decimal_as_integer": True}),
    ("gzip", {"use_dictionary": False}),
    ("lz4", {"data_page_version": "2.0"}),
    ("none", {"write_statistics": False}),
]):
    rows = types_rows(first, 1500)
    first += len(rows)
    pq.write_table(arrow_table(TYPES_SCHEMA, rows), os.path.join(out, f"pq.types.{n:03}.parquet"),
                   compression=codec, row_group_size=400, **options)
    reference_rows("types", rows, TYPES_SCHEMA.names)

wide_rows = [{
    "id": i,
    "d38": maybe(decimal.Decimal(rng.randrange(-10**38 + 1, 10**38)).scaleb(-10)),
    "d60": maybe(decimal.Decimal(rng.randrange(-10**60 + 1, 10**60)).scaleb(-8)),
    "u64": maybe(rng.choice([0, 2**64 - 1, 2**63, rng.randrange(2**64)])),
} for i in range(700)]
wide_schema = pa.schema([("id", pa.int32()), ("d38", pa.decimal128(38, 10)), ("d60", pa.decimal256(60, 8)),
                         ("u64", pa.uint64())])
pq.write_table(arrow_table(wide_schema, wide_rows), os.path.join(out, "pq.wide.parquet"), row_group_size=100)
reference_rows("wide", wide_rows, wide_schema.names)

legacy_rows = [{
    "s": maybe(f"row {i}"),
    "id": i,
    "dt": maybe(datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randrange(-100000, 100000))),
    "u32": maybe(rng.randrange(2**32)),
    "ts": maybe(EPOCH + datetime.timedelta(microseconds=odd_units(4 * 10**15) - 2 * 10**15)),
} for i in range(900)]
legacy_schema = pa.schema([("s", pa.string()), ("id", pa.int32()), ("dt", pa.date32()), ("u32", pa.uint32()),
                           ("ts", pa.timestamp("us"))])
pq.write_table(arrow_table(legacy_schema, legacy_rows), os.path.join(out, "pq.legacy.parquet"), version="1.0",
               use_deprecated_int96_timestamps=True, row_group_size=250)
reference_rows("legacy", legacy_rows, legacy_schema.names)

big_rows_list = [{"id": i, "a": maybe(rng.randrange(-10**12, 10**12)), "s": maybe(f"big row {i} " + "x" * (i % 17)),
                  "d": maybe(rng.random())} for i in range(big_rows)]
big_schema = pa.schema([("id", pa.int64()), ("a", pa.int64()), ("s", pa.string()), ("d", pa.float64())])
pq.write_table(arrow_table(big_schema, big_rows_list), os.path.join(out, "pq.big.parquet"), row_group_size=2000,
               compression="zstd")
reference_rows("big", big_rows_list, big_schema.names)
ref.close()
