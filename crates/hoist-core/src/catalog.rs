//! What the dump holds: databases, tables, their schema files and ordered data files, views,
//! triggers and routines, recognised by mydumper's and Dumpling's naming rules, and narrowed by
//! the table filter. Pure: it works on a file listing, so it is tested without any files.
//!
//! Names (`N` is one or more dot-separated numbers; every file may end in `.gz`/`.zst`):
//! `{db}-schema-create.sql`, `{db}.{tbl}-schema.sql`, `{db}.{tbl}-schema-view.sql`,
//! `{db}.{tbl}-schema-triggers.sql` / `-schema-trigger.sql`, `{db}-schema-post.sql` (routines),
//! `{db}.{tbl}[.N].{sql|csv|parquet}`. `metadata` and anything else is not data.

use std::collections::BTreeMap;

use crate::error::SourceError;
use crate::filter::TableFilter;
use crate::source::{compression_of, Compression, SourceFile};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    Sql,
    Csv,
    Parquet,
}

impl DataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::Sql => "sql",
            DataFormat::Csv => "csv",
            DataFormat::Parquet => "parquet",
        }
    }
    pub fn parse(s: &str) -> Option<DataFormat> {
        match s {
            "sql" => Some(DataFormat::Sql),
            "csv" => Some(DataFormat::Csv),
            "parquet" => Some(DataFormat::Parquet),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub file: SourceFile,
    pub format: DataFormat,
    pub compression: Compression,
    /// The numbers after the table name, for ordering (`tbl.00002.sql` -> [2]).
    pub order: Vec<u64>,
    /// Only these bytes of the file (of its decompressed stream) are the table's: a run of its
    /// INSERT statements in a single-file dump (`crate::mysqldump`). None: the whole file.
    pub range: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogTable {
    pub database: String,
    pub name: String,
    pub schema_file: Option<SourceFile>,
    pub data_files: Vec<DataFile>,
    /// The dump's tables whose rows this one takes, when `[[routes]]` rename or merge them
    /// (`crate::route`), in the order of their names; empty: the table is its own source.
    pub sources: Vec<SourceTable>,
}

/// A table of the dump that `[[routes]]` load under another name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTable {
    pub database: String,
    pub name: String,
    pub schema_file: Option<SourceFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogObject {
    pub database: String,
    pub name: String,
    pub file: SourceFile,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Databases with their `-schema-create.sql` file when the dump has one.
    pub databases: BTreeMap<String, Option<SourceFile>>,
    pub tables: Vec<CatalogTable>,
    pub views: Vec<CatalogObject>,
    pub triggers: Vec<CatalogObject>,
    /// `{db}-schema-post.sql`: routines and events, created after all data.
    pub routines: Vec<CatalogObject>,
}

enum Kind {
    DatabaseCreate { db: String },
    TableSchema { db: String, table: String },
    View { db: String, table: String },
    Triggers { db: String, table: String },
    Routines { db: String },
    Data { db: String, table: String, format: DataFormat, order: Vec<u64> },
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let n = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(n) && s[n..].eq_ignore_ascii_case(suffix)).then(|| &s[..n])
}

fn classify(name: &str) -> Option<Kind> {
    // Every file of a dump may be compressed (mydumper -c compresses its schema files too).
    let name = match compression_of(name) {
        Compression::None => name,
        _ => &name[..name.rfind('.')?],
    };
    if let Some(db) = strip_suffix_ci(name, "-schema-create.sql") {
        return Some(Kind::DatabaseCreate { db: db.to_string() });
    }
    if let Some(db) = strip_suffix_ci(name, "-schema-post.sql") {
        if !db.contains('.') {
            return Some(Kind::Routines { db: db.to_string() });
        }
    }
    let split = |stem: &str| -> Option<(String, String)> {
        let (db, table) = stem.split_once('.')?;
        (!db.is_empty() && !table.is_empty()).then(|| (db.to_string(), table.to_string()))
    };
    for (suffix, view) in [("-schema-view.sql", true), ("-schema.sql", false)] {
        if let Some(stem) = strip_suffix_ci(name, suffix) {
            let (db, table) = split(stem)?;
            return Some(if view { Kind::View { db, table } } else { Kind::TableSchema { db, table } });
        }
    }
    for suffix in ["-schema-triggers.sql", "-schema-trigger.sql"] {
        if let Some(stem) = strip_suffix_ci(name, suffix) {
            let (db, table) = split(stem)?;
            return Some(Kind::Triggers { db, table });
        }
    }
    // Data: the format extension, then trailing numeric parts.
    let (stem, format) = if let Some(s) = strip_suffix_ci(name, ".sql") {
        (s, DataFormat::Sql)
    } else if let Some(s) = strip_suffix_ci(name, ".csv") {
        (s, DataFormat::Csv)
    } else if let Some(s) = strip_suffix_ci(name, ".parquet") {
        (s, DataFormat::Parquet)
    } else {
        return None;
    };
    let (db, rest) = stem.split_once('.')?;
    let mut parts: Vec<&str> = rest.split('.').collect();
    let mut order = Vec::new();
    while parts.len() > 1 && parts.last().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        let n = parts.pop().unwrap_or_default();
        order.insert(0, n.parse().unwrap_or(u64::MAX));
    }
    let table = parts.join(".");
    if db.is_empty() || table.is_empty() {
        return None;
    }
    Some(Kind::Data { db: db.to_string(), table, format, order })
}

/// The table a data file's name says it holds (`db.tbl.00001.sql.gz` -> `db`, `tbl`); None for
/// any other file, such as a single mysqldump file.
pub fn data_file_table(name: &str) -> Option<(String, String)> {
    match classify(name)? {
        Kind::Data { db, table, .. } => Some((db, table)),
        _ => None,
    }
}

fn table_entry<'a>(
    tables: &'a mut BTreeMap<(String, String), CatalogTable>,
    db: &str,
    t: &str,
) -> &'a mut CatalogTable {
    tables.entry((db.to_string(), t.to_string())).or_insert_with(|| CatalogTable {
        database: db.to_string(),
        name: t.to_string(),
        ..Default::default()
    })
}

impl Catalog {
    /// Build the catalog from a listing. Files in sub-directories count by their base name.
    pub fn from_files(files: &[SourceFile], filter: &TableFilter) -> Result<Catalog, SourceError> {
        let mut cat = Catalog::default();
        let mut tables: BTreeMap<(String, String), CatalogTable> = BTreeMap::new();
        for f in files {
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let Some(kind) = classify(name) else {
                tracing::debug!(file = %f.path, "not a dump file; ignored");
                continue;
            };
            match kind {
                Kind::DatabaseCreate { db } if filter.matches_database(&db) => {
                    cat.databases.insert(db, Some(f.clone()));
                }
                Kind::Routines { db } if filter.matches_database(&db) => {
                    cat.routines.push(CatalogObject { name: db.clone(), database: db, file: f.clone() });
                }
                Kind::TableSchema { db, table: t } if filter.matches(&db, &t) => {
                    table_entry(&mut tables, &db, &t).schema_file = Some(f.clone());
                }
                Kind::View { db, table: t } if filter.matches(&db, &t) => {
                    cat.views.push(CatalogObject { database: db, name: t, file: f.clone() });
                }
                Kind::Triggers { db, table: t } if filter.matches(&db, &t) => {
                    cat.triggers.push(CatalogObject { database: db, name: t, file: f.clone() });
                }
                Kind::Data { db, table: t, format, order } if filter.matches(&db, &t) => {
                    table_entry(&mut tables, &db, &t).data_files.push(DataFile {
                        file: f.clone(),
                        format,
                        compression: compression_of(name),
                        order,
                        range: None,
                    });
                }
                _ => {}
            }
        }
        // Dumpling writes a placeholder table schema for each view; the view replaces it.
        let views: std::collections::BTreeSet<_> =
            cat.views.iter().map(|v| (v.database.clone(), v.name.clone())).collect();
        for ((db, name), mut t) in tables {
            if views.contains(&(db.clone(), name.clone())) && t.data_files.is_empty() {
                continue;
            }
            t.data_files.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.file.path.cmp(&b.file.path)));
            cat.databases.entry(db).or_insert(None);
            cat.tables.push(t);
        }
        for v in &cat.views {
            cat.databases.entry(v.database.clone()).or_insert(None);
        }
        Ok(cat)
    }
}

/// Catalogs of file listings, for this module's tests and those of the stages after it.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn f(path: &str) -> SourceFile {
        SourceFile { path: path.into(), size: 10, modified_ms: 0 }
    }

    pub(crate) fn catalog(names: &[&str], filter: &[&str]) -> Catalog {
        let files: Vec<_> = names.iter().map(|n| f(n)).collect();
        let rules: Vec<String> = filter.iter().map(|s| s.to_string()).collect();
        Catalog::from_files(&files, &TableFilter::new(&rules).unwrap()).unwrap()
    }

    #[test]
    fn mydumper_and_dumpling_names() {
        let c = catalog(
            &[
                "metadata",
                "shop-schema-create.sql",
                "shop.orders-schema.sql",
                "shop.orders.00002.sql",
                "shop.orders.00010.sql.gz",
                "shop.orders.00001.sql",
                "shop.items-schema.sql",
                "shop.items.000000000.csv.zst",
                "shop.v_sales-schema.sql",
                "shop.v_sales-schema-view.sql",
                "shop.orders-schema-triggers.sql",
                "shop-schema-post.sql",
                "shop.emptytable-schema.sql",
                "sub/dir/shop.big.sql",
                "notes.txt",
            ],
            &[],
        );
        assert_eq!(c.databases.len(), 1);
        assert!(c.databases["shop"].is_some());
        let names: Vec<_> = c.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["big", "emptytable", "items", "orders"]);
        let orders = &c.tables[3];
        let order: Vec<_> = orders.data_files.iter().map(|d| d.file.path.as_str()).collect();
        assert_eq!(order, ["shop.orders.00001.sql", "shop.orders.00002.sql", "shop.orders.00010.sql.gz"]);
        assert_eq!(orders.data_files[2].compression, Compression::Gzip);
        assert_eq!(c.tables[2].data_files[0].format, DataFormat::Csv);
        assert_eq!(c.tables[2].data_files[0].compression, Compression::Zstd);
        assert_eq!(c.views.len(), 1);
        assert_eq!(c.triggers.len(), 1);
        assert_eq!(c.routines.len(), 1);
        assert!(c.tables[1].data_files.is_empty());
        assert!(c.tables[0].schema_file.is_none());
    }

    /// mydumper -c compresses every file it writes, schema files included.
    #[test]
    fn compressed_schema_files_are_schema_files() {
        let c = catalog(
            &[
                "shop-schema-create.sql.gz",
                "shop.orders-schema.sql.gz",
                "shop.orders.00000.sql.gz",
                "shop.v-schema.sql.zst",
                "shop.v-schema-view.sql.zst",
                "shop.orders-schema-triggers.sql.gz",
                "shop-schema-post.sql.gz",
            ],
            &[],
        );
        assert!(c.databases["shop"].is_some());
        let names: Vec<_> = c.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["orders"], "no table named after a schema file");
        assert_eq!(c.tables[0].schema_file.as_ref().map(|f| f.path.as_str()), Some("shop.orders-schema.sql.gz"));
        assert_eq!(c.tables[0].data_files.len(), 1);
        assert_eq!((c.views.len(), c.triggers.len(), c.routines.len()), (1, 1, 1));
    }

    /// Dumpling's and Lightning's Parquet names: `{db}.{tbl}[.N].parquet`, ordered by N.
    #[test]
    fn parquet_data_files() {
        let c =
            catalog(&["pq.t-schema.sql", "pq.t.10.parquet", "pq.t.2.parquet", "pq.u.PARQUET", "pq.w.parquet.gz"], &[]);
        let files: Vec<_> =
            c.tables.iter().flat_map(|t| t.data_files.iter().map(|d| (d.file.path.as_str(), d.format))).collect();
        use DataFormat::Parquet;
        assert_eq!(
            files,
            [
                ("pq.t.2.parquet", Parquet),
                ("pq.t.10.parquet", Parquet),
                ("pq.u.PARQUET", Parquet),
                ("pq.w.parquet.gz", Parquet)
            ]
        );
        assert_eq!(c.tables[2].data_files[0].compression, Compression::Gzip);
        assert_eq!(DataFormat::parse(Parquet.as_str()), Some(Parquet));
    }

    #[test]
    fn upper_case_extension_and_dotted_table() {
        let c = catalog(&["csv.escapes.CSV", "vt.a.b.sql", "db.t.1.2.sql"], &[]);
        let names: Vec<_> = c.tables.iter().map(|t| (t.database.as_str(), t.name.as_str())).collect();
        assert_eq!(names, [("csv", "escapes"), ("db", "t"), ("vt", "a.b")]);
        assert_eq!(c.tables[1].data_files[0].order, [1, 2]);
    }

    #[test]
    fn filter_applies_to_every_kind() {
        let c = catalog(
            &["a.t-schema.sql", "a.t.sql", "b.u-schema.sql", "b.u.sql", "mysql.user.sql", "b-schema-create.sql"],
            &["*.*", "!b.*"],
        );
        let names: Vec<_> = c.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["t", "user"]);
        assert!(!c.databases.contains_key("b"));
        let c = catalog(&["a.t.sql", "mysql.user.sql"], &[]);
        assert_eq!(c.tables.len(), 1, "system schemas are filtered out by default");
    }
}
