//! Generated mydumper/Dumpling-style dumps whose exact rows are known.
//!
//! [`write_dump`] generates a [`Dataset`] (deterministic from
//! [`DumpSpec::seed`] and [`DumpSpec::rows`] only, so the SQL and CSV forms of
//! one spec hold the same rows) and writes it as a dump directory:
//!
//! ```text
//! {db}-schema-create.sql            CREATE DATABASE
//! {db}.{tbl}-schema.sql             CREATE TABLE (mydumper 0.10 header)
//! {db}.{tbl}.{N:05}.sql|csv[.gz|.zst]  data, N from 0, up to files_per_table
//! metadata                          like mydumper's
//! ```
//!
//! Values are generated in MariaDB's canonical text form (see [`crate::rows`]).
//!
//! SQL data files start with mydumper 0.10's three header lines (`SET NAMES
//! binary`, `FOREIGN_KEY_CHECKS`, `TIME_ZONE`), then multi-row `INSERT INTO
//! \`t\` VALUES` statements of at most `statement_bytes` (a single row may
//! exceed it), one row per line. Strings are escaped like mysqldump (NUL `\0`,
//! LF `\n`, CR `\r`, `\\`, `\'`, `\"`, 0x1A `\Z`); numbers bare; NULL as
//! `NULL`. Two variations exercise what real dumps contain: `blobs.tag`
//! (VARBINARY) is written as `0x` hex, and the `texts` table quotes strings
//! with `"` as mydumper 0.10 does; everything else uses `'`.
//!
//! CSV data files use Dumpling's defaults: a header of quoted column names,
//! `,` separator, `"` delimiter, backslash escapes (NUL `\0`, CR `\r`, LF `\n`,
//! `\\`, `\"`), NULL as bare `\N`, numbers bare, CRLF line ends. Load with
//! `LOAD DATA LOCAL INFILE .. CHARACTER SET binary FIELDS TERMINATED BY ','
//! ENCLOSED BY '"' ESCAPED BY '\\' LINES TERMINATED BY '\r\n' IGNORE 1 LINES`.
//!
//! Tables (names are stable): `orders` (PK + secondary index, ~6% awkward
//! labels), `events` (no key at all, NULLs, and exact duplicate rows),
//! `blobs` (random and pathological bytes), `texts` (4-byte UTF-8, CJK,
//! combining marks, `''` vs NULL vs the text `\N`), `numbers` (BIGINT
//! extremes, DECIMAL(20,6), INT UNSIGNED max, DOUBLEs in both plain and
//! exponent notation, a UNIQUE key). DECIMAL values have at most 15
//! significant digits so that they survive SQLite's REAL storage.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::rows::{format_decimal_units, format_double, sum_rows, TableSum};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sql,
    Csv,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Sql => "sql",
            Format::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Snappy,
}

impl Compression {
    /// File name suffix including the dot, `""` for none.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
            Compression::Snappy => ".snappy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DumpSpec {
    pub database: String,
    pub format: Format,
    pub compression: Compression,
    /// Rows of the biggest tables (`orders`, `events`); the others scale
    /// from it (`texts`, `numbers` half, `blobs` a quarter, at least 1 each
    /// unless 0).
    pub rows: usize,
    /// Data files per table (fewer if a table has fewer rows; at least one).
    pub files_per_table: usize,
    /// Max bytes of one INSERT statement (SQL) or of one write chunk (CSV).
    pub statement_bytes: usize,
    pub seed: u64,
    /// Added to every `id` (the primary key of `orders`, `blobs`, `texts`, `numbers`), so that
    /// shards of one table (dumps of several databases, merged by `[[routes]]`) hold distinct
    /// keys. `numbers`' UNIQUE `big` column still repeats its extremes in every shard.
    pub key_base: i64,
}

impl DumpSpec {
    /// Sql, no compression, 2000 rows, 2 files per table, 16 KiB statements, seed 1.
    pub fn new(database: &str) -> Self {
        DumpSpec {
            database: database.to_string(),
            format: Format::Sql,
            compression: Compression::None,
            rows: 2000,
            files_per_table: 2,
            statement_bytes: 16384,
            seed: 1,
            key_base: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub database: String,
    pub tables: Vec<TableData>,
}

#[derive(Debug, Clone)]
pub struct TableData {
    pub name: String,
    /// `CREATE TABLE ...` without a trailing `;`.
    pub create_sql: String,
    pub columns: Vec<ColumnSpec>,
    /// Canonical values, `None` for NULL.
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
    /// Data files written by [`write_dump`], in order (empty from [`generate`]).
    pub data_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub ty: ColType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Any integer type (signed or unsigned).
    Int,
    Decimal {
        scale: u8,
    },
    Double,
    /// Character data (VARCHAR, TEXT), utf8mb4.
    Text,
    /// VARBINARY, BLOB.
    Binary,
    DateTime,
    Date,
}

impl Dataset {
    /// Panics if there is no such table.
    pub fn table(&self, name: &str) -> &TableData {
        self.tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("hoist-testkit: no table {name} in the dataset"))
    }

    pub fn total_rows(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }
}

impl TableData {
    pub fn sum(&self) -> TableSum {
        let mut sum = TableSum::default();
        for row in &self.rows {
            sum.add(row);
        }
        sum
    }

    /// Sum of a subset of rows, e.g. to predict a partial import.
    pub fn sum_of(&self, range: std::ops::Range<usize>) -> TableSum {
        sum_rows(self.rows[range].iter().cloned())
    }
}

/// Generate the dataset of `spec` without writing anything.
pub fn generate(spec: &DumpSpec) -> Dataset {
    let n = spec.rows;
    let scaled = |num: usize, den: usize| if n == 0 { 0 } else { (n * num / den).max(1) };
    let tables = vec![
        orders(spec.seed, n),
        events(spec.seed, n),
        blobs(spec.seed, scaled(1, 4)),
        texts(spec.seed, scaled(1, 2)),
        numbers(spec.seed, scaled(1, 2)),
    ];
    let mut tables: Vec<TableData> = tables.into_iter().map(|t| t.data).collect();
    for t in tables.iter_mut().filter(|t| spec.key_base != 0 && t.columns[0].name == "id") {
        for row in &mut t.rows {
            let id: i64 = row[0].as_deref().and_then(|v| std::str::from_utf8(v).ok()?.parse().ok()).expect("an id");
            row[0] = Some((id + spec.key_base).to_string().into_bytes());
        }
    }
    Dataset { database: spec.database.clone(), tables }
}

/// Generate the dataset and write it as a dump directory (created if missing).
pub fn write_dump(spec: &DumpSpec, dir: &Path) -> Dataset {
    let mut dataset = generate(spec);
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("hoist-testkit: cannot create {}: {e}", dir.display()));
    let db = &spec.database;
    let put = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("hoist-testkit: cannot write {}: {e}", path.display()));
        path
    };
    put(
        &format!("{db}-schema-create.sql"),
        format!("CREATE DATABASE `{db}` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;\n")
            .as_bytes(),
    );
    for t in &mut dataset.tables {
        put(&format!("{db}.{}-schema.sql", t.name), format!("{SCHEMA_HEADER}{};\n", t.create_sql).as_bytes());
        let style = Style::of(&t.name);
        let nrows = t.rows.len();
        let nfiles = spec.files_per_table.max(1).min(nrows.max(1));
        for k in 0..nfiles {
            let rows = &t.rows[k * nrows / nfiles..(k + 1) * nrows / nfiles];
            let plain = match spec.format {
                Format::Sql => sql_file(t, &style, rows, spec.statement_bytes),
                Format::Csv => csv_file(t, rows),
            };
            let name = format!("{db}.{}.{k:05}.{}{}", t.name, spec.format.ext(), spec.compression.suffix());
            let path = put(&name, &compress(plain, spec.compression));
            t.data_files.push(path);
        }
    }
    put(
        "metadata",
        b"Started dump at: 2020-01-01 00:00:00\n\
          SHOW MASTER STATUS:\n\tLog: binlog.000001\n\tPos: 4\n\tGTID:\n\n\
          Finished dump at: 2020-01-01 00:00:00\n",
    );
    dataset
}

const SCHEMA_HEADER: &str =
    "/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n\n/*!40103 SET TIME_ZONE='+00:00' */;\n";
const DATA_HEADER: &[u8] =
    b"/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40103 SET TIME_ZONE='+00:00' */;\n";

fn compress(plain: Vec<u8>, c: Compression) -> Vec<u8> {
    match c {
        Compression::None => plain,
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&plain).expect("gzip to memory");
            enc.finish().expect("gzip to memory")
        }
        Compression::Zstd => zstd::encode_all(&plain[..], 3).expect("zstd to memory"),
        Compression::Snappy => {
            let mut out = snap::write::FrameEncoder::new(Vec::new());
            out.write_all(&plain).expect("snappy to memory");
            out.into_inner().expect("snappy to memory")
        }
    }
}

// ------------------------------------------------------------- formatting --

/// Per-table formatting choices.
struct Style {
    /// String quote for SQL: `'` (mysqldump, Dumpling) or `"` (mydumper 0.10).
    quote: u8,
    /// Columns written as `0x..` hex in SQL.
    hex: &'static [&'static str],
}

impl Style {
    fn of(table: &str) -> Style {
        match table {
            "blobs" => Style { quote: b'\'', hex: &["tag"] },
            "texts" => Style { quote: b'"', hex: &[] },
            _ => Style { quote: b'\'', hex: &[] },
        }
    }
}

fn is_numeric(ty: ColType) -> bool {
    matches!(ty, ColType::Int | ColType::Decimal { .. } | ColType::Double)
}

fn sql_file(t: &TableData, style: &Style, rows: &[Vec<Option<Vec<u8>>>], max_stmt: usize) -> Vec<u8> {
    let hex: Vec<bool> = t.columns.iter().map(|c| style.hex.contains(&c.name.as_str())).collect();
    let prefix = format!("INSERT INTO `{}` VALUES\n", t.name).into_bytes();
    let mut out = DATA_HEADER.to_vec();
    let mut stmt = Vec::new();
    let mut row_buf = Vec::new();
    for row in rows {
        row_buf.clear();
        sql_row(&mut row_buf, t, &hex, style.quote, row);
        if !stmt.is_empty() && stmt.len() + 2 + row_buf.len() + 2 > max_stmt {
            out.extend_from_slice(&stmt);
            out.extend_from_slice(b";\n");
            stmt.clear();
        }
        if stmt.is_empty() {
            stmt.extend_from_slice(&prefix);
        } else {
            stmt.extend_from_slice(b",\n");
        }
        stmt.extend_from_slice(&row_buf);
    }
    if !stmt.is_empty() {
        out.extend_from_slice(&stmt);
        out.extend_from_slice(b";\n");
    }
    out
}

fn sql_row(out: &mut Vec<u8>, t: &TableData, hex: &[bool], quote: u8, row: &[Option<Vec<u8>>]) {
    out.push(b'(');
    for (i, (v, c)) in row.iter().zip(&t.columns).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match v {
            None => out.extend_from_slice(b"NULL"),
            Some(v) if is_numeric(c.ty) => out.extend_from_slice(v),
            Some(v) if hex[i] && !v.is_empty() => {
                out.extend_from_slice(b"0x");
                for b in v {
                    out.extend_from_slice(format!("{b:02X}").as_bytes());
                }
            }
            Some(v) => {
                out.push(quote);
                sql_escape(out, v);
                out.push(quote);
            }
        }
    }
    out.push(b')');
}

/// mysql_real_escape_string.
pub fn sql_escape(out: &mut Vec<u8>, v: &[u8]) {
    for &b in v {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            _ => out.push(b),
        }
    }
}

/// Dumpling's escapeBackslashCSV with delimiter `"`.
pub fn csv_escape(out: &mut Vec<u8>, v: &[u8]) {
    for &b in v {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
}

fn csv_file(t: &TableData, rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        csv_escape(&mut out, c.name.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
    for row in rows {
        for (i, (v, c)) in row.iter().zip(&t.columns).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match v {
                None => out.extend_from_slice(b"\\N"),
                Some(v) if is_numeric(c.ty) => out.extend_from_slice(v),
                Some(v) => {
                    out.push(b'"');
                    csv_escape(&mut out, v);
                    out.push(b'"');
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

// ------------------------------------------------------------- generation --

/// splitmix64: tiny, fast, good enough, and stable forever.
pub struct Rng(u64);

impl Rng {
    pub fn for_table(seed: u64, table: &str) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in table.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Rng(seed ^ h)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

struct Table {
    data: TableData,
}

fn table(name: &str, create_sql: &str, columns: &[(&str, ColType)], rows: Vec<Vec<Option<Vec<u8>>>>) -> Table {
    Table {
        data: TableData {
            name: name.to_string(),
            create_sql: create_sql.trim_end().trim_end_matches(';').to_string(),
            columns: columns.iter().map(|&(name, ty)| ColumnSpec { name: name.to_string(), ty }).collect(),
            rows,
            data_files: Vec::new(),
        },
    }
}

fn s(v: impl Into<String>) -> Option<Vec<u8>> {
    Some(v.into().into_bytes())
}

const EPOCH_2020: i64 = 1_577_836_800;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime(secs: i64) -> String {
    let t = secs.rem_euclid(86_400);
    format!("{} {:02}:{:02}:{:02}", date(secs.div_euclid(86_400)), t / 3600, t / 60 % 60, t % 60)
}

/// Awkward short strings (at most 64 characters each).
const SPECIAL: &[&str] = &[
    "O'Brien & Sons",
    "He said \"hi\"",
    "back\\slash\\path",
    "C:\\temp\\new",
    "tab\there",
    "multi\nline",
    "cr\rlf\r\n",
    "nul\0byte",
    "ctrl-z\x1a",
    "\\N",
    "NULL",
    "",
    "trailing spaces   ",
    "   leading spaces",
    "日本語テキスト",
    "emoji 😀🚀",
    "quote-mix '\"\\",
    "trailing backslash\\",
    "\\",
    "'",
    "\"",
    "a,b\r\nc",
    ");\nDROP TABLE x;--",
    "Ünïcödé café",
    "e\u{301}\u{302} combining",
    "\\0 \\n \\Z literal",
    "'');",
];

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "order",
    "shipment",
    "invoice",
    "customer",
    "product",
    "warehouse",
    "pallet",
    "express",
    "standard",
    "priority",
    "returned",
    "pending",
    "paid",
    "refunded",
    "north",
    "south",
    "east",
    "west",
    "region",
    "street",
    "müller",
    "straße",
    "café",
    "naïve",
    "東京",
    "大阪",
    "€uro",
    "£",
    "¥",
    "😀",
];

const KINDS: &[&str] = &["click", "view", "purchase", "signup", "logout", "refund", "søk", "検索"];

/// Pieces of Unicode text for the `texts` table.
const PIECES: &[&str] = &[
    "😀",
    "🚀🌍",
    "𝄞 music",
    "𠜎𠜱𠝹",
    "👩\u{200d}👩\u{200d}👧",
    "日本語",
    "中文字符",
    "한국어",
    "e\u{301}",
    "a\u{308}\u{323}",
    "Z\u{335}\u{32a}",
    "שלום",
    "مرحبا",
    "Ω≈ç√∫",
    "\u{feff}bom",
    "tab\tin",
    "line\nbreak",
    "cr\r",
    "nul\0",
    "quote'",
    "dq\"",
    "back\\slash",
    "\\N",
    "NULL",
    "ctrl\x1a",
    "plain words",
    " ",
    "%_",
];

/// Words (with `special_percent`% awkward strings) until about `target` bytes.
fn words(rng: &mut Rng, target: usize, special_percent: u64) -> String {
    let mut out = String::new();
    while out.len() < target {
        if !out.is_empty() {
            out.push(' ');
        }
        let word: &str = if rng.percent(special_percent) { rng.pick(SPECIAL) } else { rng.pick(WORDS) };
        out.push_str(word);
    }
    out
}

fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

fn orders(seed: u64, n: usize) -> Table {
    let mut rng = Rng::for_table(seed, "orders");
    let rows = (1..=n as i64)
        .map(|i| {
            let label = if i % 16 == 0 {
                SPECIAL[(i / 16) as usize % SPECIAL.len()].to_string()
            } else {
                format!("ORD-{:010x}", rng.below(1 << 40))
            };
            let target = 170 + rng.below(30) as usize;
            vec![
                s(i.to_string()),
                s(rng.range(1, 2_000_001).to_string()),
                s(format_decimal_units(i128::from(rng.range(-100_000, 1_000_000_000)), 2)),
                s(label),
                s(datetime(EPOCH_2020 + i * 9 + rng.range(0, 9))),
                s(format!("#{i} {}", words(&mut rng, target, 2))),
            ]
        })
        .collect();
    table(
        "orders",
        "CREATE TABLE `orders` (
  `id` bigint(20) NOT NULL,
  `customer_id` int(11) NOT NULL,
  `amount` decimal(12,2) NOT NULL,
  `label` varchar(64) NOT NULL,
  `created_at` datetime NOT NULL,
  `note` text NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_customer_created` (`customer_id`,`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
        &[
            ("id", ColType::Int),
            ("customer_id", ColType::Int),
            ("amount", ColType::Decimal { scale: 2 }),
            ("label", ColType::Text),
            ("created_at", ColType::DateTime),
            ("note", ColType::Text),
        ],
        rows,
    )
}

fn events(seed: u64, n: usize) -> Table {
    let mut rng = Rng::for_table(seed, "events");
    let mut rows: Vec<Vec<Option<Vec<u8>>>> = Vec::with_capacity(n);
    for i in 0..n as i64 {
        // No key: every 50th row repeats the previous one exactly.
        if i % 50 == 49 {
            let prev = rows[rows.len() - 1].clone();
            rows.push(prev);
            continue;
        }
        let user = (!rng.percent(10)).then(|| rng.range(1, 2_000_001).to_string());
        let score = (!rng.percent(20)).then(|| format_double(rng.range(-800_000, 8_000_000) as f64 / 4.0));
        let note = match rng.below(100) {
            0..=29 => None,
            30..=34 => Some(String::new()),
            _ => {
                let target = 10 + rng.below(80) as usize;
                let mut w = words(&mut rng, target, 8);
                truncate_chars(&mut w, 100);
                Some(w)
            }
        };
        rows.push(vec![
            s(datetime(EPOCH_2020 + i * 30 + rng.range(0, 30))),
            s(rng.pick(KINDS)),
            user.map(String::into_bytes),
            score.map(String::into_bytes),
            note.map(String::into_bytes),
        ]);
    }
    table(
        "events",
        "CREATE TABLE `events` (
  `ts` datetime NOT NULL,
  `kind` varchar(16) NOT NULL,
  `user_id` int(11) DEFAULT NULL,
  `score` double DEFAULT NULL,
  `note` varchar(100) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
        &[
            ("ts", ColType::DateTime),
            ("kind", ColType::Text),
            ("user_id", ColType::Int),
            ("score", ColType::Double),
            ("note", ColType::Text),
        ],
        rows,
    )
}

fn blobs(seed: u64, n: usize) -> Table {
    let mut rng = Rng::for_table(seed, "blobs");
    let rows = (1..=n as i64)
        .map(|i| {
            let tag_len = 1 + rng.below(32) as usize;
            let tag = rng.bytes(tag_len);
            let data = match i % 50 {
                1 => {
                    let mut all: Vec<u8> = (0..=255).collect();
                    all.extend_from_slice(b"\0'\"\\\n\r\x1a,;");
                    all.extend((0..=255u8).rev());
                    Some(all)
                }
                2 => {
                    let len = 1 + rng.below(200) as usize;
                    Some((0..len).map(|_| rng.pick(b"\0\\'")).collect())
                }
                3 => None,
                4 => Some(Vec::new()),
                _ => match rng.below(100) {
                    0..=1 => None,
                    2..=3 => Some(Vec::new()),
                    _ => {
                        let len = rng.below(1200) as usize;
                        Some(rng.bytes(len))
                    }
                },
            };
            vec![s(i.to_string()), Some(tag), data]
        })
        .collect();
    table(
        "blobs",
        "CREATE TABLE `blobs` (
  `id` int(11) NOT NULL,
  `tag` varbinary(32) NOT NULL,
  `data` blob DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
        &[("id", ColType::Int), ("tag", ColType::Binary), ("data", ColType::Binary)],
        rows,
    )
}

fn unicode_text(rng: &mut Rng, target: usize, max_chars: usize) -> String {
    let mut out = String::new();
    while out.len() < target {
        let piece: &str = rng.pick(PIECES);
        out.push_str(piece);
        if rng.percent(30) {
            out.push(' ');
        }
    }
    truncate_chars(&mut out, max_chars);
    out
}

fn texts(seed: u64, n: usize) -> Table {
    let mut rng = Rng::for_table(seed, "texts");
    let rows = (1..=n as i64)
        .map(|i| {
            let title = match i % 13 {
                5 => None,
                6 => Some(String::new()),
                7 => Some("\\N".to_string()),
                8 => Some("NULL".to_string()),
                _ => {
                    let target = 1 + rng.below(120) as usize;
                    Some(unicode_text(&mut rng, target, 100))
                }
            };
            let body = match i % 11 {
                3 => None,
                4 => Some(String::new()),
                9 => Some("\\N".to_string()),
                _ => {
                    let target = 1 + rng.below(1500) as usize;
                    Some(unicode_text(&mut rng, target, 20_000))
                }
            };
            // 1901-01-01 .. 2099-12-31
            let due = (!rng.percent(10)).then(|| date(rng.range(-25_202, 47_482)));
            vec![
                s(i.to_string()),
                title.map(String::into_bytes),
                body.map(String::into_bytes),
                due.map(String::into_bytes),
            ]
        })
        .collect();
    table(
        "texts",
        "CREATE TABLE `texts` (
  `id` int(11) NOT NULL,
  `title` varchar(100) DEFAULT NULL,
  `body` text DEFAULT NULL,
  `due` date DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
        &[("id", ColType::Int), ("title", ColType::Text), ("body", ColType::Text), ("due", ColType::Date)],
        rows,
    )
}

fn numbers(seed: u64, n: usize) -> Table {
    let mut rng = Rng::for_table(seed, "numbers");
    let mut seen = HashSet::new();
    const SPECIAL_DOUBLES: &[f64] = &[
        1.5e15,
        -2.5e-16,
        1e100,
        0.1,
        1.0 / 3.0,
        1.7976931348623157e308,
        2.2250738585072014e-308,
        -123456789.125,
        1e-15,
        999999999999999.9,
    ];
    let rows = (1..=n as i64)
        .map(|i| {
            let big = match i {
                1 => i64::MIN,
                2 => i64::MAX,
                3 => 0,
                4 => -1,
                _ => loop {
                    let v = if rng.percent(50) { rng.next_u64() as i64 } else { rng.range(-1_000_000, 1_000_000) };
                    if !seen.contains(&v) {
                        break v;
                    }
                },
            };
            assert!(seen.insert(big), "numbers.big must be unique");
            // At most 15 significant digits (see the module docs).
            let units: i128 = match i {
                1 => 0,
                2 => -999_999_999_999_999,
                3 => 999_999_999_999_999,
                4 => -1,
                _ => {
                    let digits = rng.below(16) as u32;
                    let u = i128::from(rng.below(10u64.pow(digits).max(1)));
                    if rng.percent(30) {
                        -u
                    } else {
                        u
                    }
                }
            };
            let unsigned: u64 = match i {
                1 => 4_294_967_295,
                2 => 0,
                _ => rng.below(1 << 32),
            };
            let ratio = match i {
                1 => None,
                _ if (i as usize) < 2 + SPECIAL_DOUBLES.len() => Some(SPECIAL_DOUBLES[i as usize - 2]),
                _ if rng.percent(15) => None,
                _ => Some(rng.range(-(1 << 40), 1 << 40) as f64 / 1024.0),
            };
            vec![
                s(i.to_string()),
                s(big.to_string()),
                s(format_decimal_units(units, 6)),
                s(unsigned.to_string()),
                ratio.map(|r| format_double(r).into_bytes()),
            ]
        })
        .collect();
    table(
        "numbers",
        "CREATE TABLE `numbers` (
  `id` int(11) NOT NULL,
  `big` bigint(20) NOT NULL,
  `amount` decimal(20,6) NOT NULL,
  `unsigned_val` int(10) unsigned NOT NULL,
  `ratio` double DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uk_big` (`big`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
        &[
            ("id", ColType::Int),
            ("big", ColType::Int),
            ("amount", ColType::Decimal { scale: 6 }),
            ("unsigned_val", ColType::Int),
            ("ratio", ColType::Double),
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(datetime(EPOCH_2020 + 13), "2020-01-01 00:00:13");
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-25_202), "1901-01-01");
        assert_eq!(date(47_481), "2099-12-31");
        assert_eq!(date(11_016), "2000-02-29");
    }

    #[test]
    fn deterministic_and_independent_of_format() {
        let a = generate(&DumpSpec::new("x"));
        let b =
            generate(&DumpSpec { format: Format::Csv, files_per_table: 7, statement_bytes: 100, ..DumpSpec::new("y") });
        for (ta, tb) in a.tables.iter().zip(&b.tables) {
            assert_eq!(ta.rows, tb.rows);
        }
        let c = generate(&DumpSpec { seed: 2, ..DumpSpec::new("x") });
        assert_ne!(a.table("orders").rows, c.table("orders").rows);
    }

    #[test]
    fn table_sizes() {
        let d = generate(&DumpSpec::new("x"));
        let sizes: Vec<_> = d.tables.iter().map(|t| (t.name.as_str(), t.rows.len())).collect();
        assert_eq!(sizes, [("orders", 2000), ("events", 2000), ("blobs", 500), ("texts", 1000), ("numbers", 1000)]);
        let tiny = generate(&DumpSpec { rows: 1, ..DumpSpec::new("x") });
        assert!(tiny.tables.iter().all(|t| t.rows.len() == 1));
    }
}
