//! A plain mysqldump / mariadb-dump file (`--source dump.sql`, `.sql.gz`, `.sql.zst`, or such an
//! object in S3), loaded as the directory dump it is equivalent to.
//!
//! One streaming pass over the file ([`scan`]) finds each table's database, its CREATE TABLE and
//! the byte ranges of its INSERT statements (offsets in the decompressed stream), each
//! database's CREATE DATABASE, and the views (the final `/*!50001 CREATE VIEW`; the placeholder
//! that mysqldump writes first, a view or a table, is no table), the triggers, routines and
//! events with the `SET sql_mode`, character set and time zone each is created under. The scan
//! is kept with the plan ([`crate::checkpoint::Checkpoint::scan`]): a rerun of the file as it
//! was does not read it again, and a changed file is refused as any changed file is.
//!
//! The scan gives the shapes a directory gives, so that everything after it is the directory
//! path: a [`Catalog`] whose data files are the tables' INSERT runs (`DataFile::range`), and the
//! statements served by the [`Source`] as the schema, view, trigger and post files of a
//! directory dump would hold them (`Source::with_extracted`). The plan makes a chunk of each
//! run, the workers load them in parallel with their markers, the post steps create the views,
//! triggers and routines after the data.
//!
//! - Settings: every chunk is read under the SET statements of the file's header (`SET NAMES`,
//!   `TIME_ZONE`, `SQL_MODE`), which the reader takes from the file's start for a chunk that
//!   starts later (its prologue). The SETs between tables belong to the triggers and routines
//!   they precede.
//! - Chunks: an uncompressed file's runs are cut at statement ends about every
//!   `max-region-size`, so that one big table uses every worker. A compressed stream cannot be
//!   entered in the middle: a chunk is decompressed from the file's start up to its range, as a
//!   compressed data file is resumed, so each table's run stays one chunk there.
//! - A dump of one database without `--databases` has no USE statement: its tables belong to
//!   the database its header comment names (`-- Host: ...  Database: sakila`).
//! - A file that mysqldump began with its header must end with its `-- Dump completed` line; a
//!   file cut short is refused with the byte where it ends.

mod scan;
mod statement;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogObject, CatalogTable, DataFile, DataFormat};
use crate::checkpoint::Checkpoint;
use crate::error::SourceError;
use crate::filter::TableFilter;
use crate::source::{compression_of, Source, SourceFile};

/// Bumped when a scan's meaning changes: a recorded scan of another version is not used.
const SCAN_VERSION: u32 = 1;

/// What the scan of a mysqldump file found. Serialised into the checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub version: u32,
    /// Every database the file names, with its CREATE DATABASE when it has one.
    pub databases: BTreeMap<String, Option<Statement>>,
    pub tables: Vec<ScannedTable>,
    pub views: Vec<ScannedObject>,
    /// Per table (the object's name), its triggers and the settings each is created under.
    pub triggers: Vec<ScannedObject>,
    /// Per database (the object's name), its functions, procedures and events.
    pub routines: Vec<ScannedObject>,
}

/// One statement of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Where it starts in the (decompressed) file.
    pub at: u64,
    /// The delimiter that ended it: `;`, or `;;` in a DELIMITER block.
    pub delimiter: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedTable {
    pub database: String,
    pub name: String,
    pub create: Option<Statement>,
    /// The runs of its INSERT statements: `[start, end)` in the (decompressed) file.
    pub data: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedObject {
    pub database: String,
    pub name: String,
    pub statements: Vec<Statement>,
}

/// The catalog of the single-file dump `file` of `source`, and the source that serves its
/// statements, from the checkpoint's scan when `recorded` was made from the file as it is now,
/// else from a scan of it (`region`: the plan's max region size). Also the scan, to keep.
pub async fn read(
    source: Source,
    file: &SourceFile,
    recorded: Option<&Checkpoint>,
    filter: &TableFilter,
    region: u64,
) -> Result<(Source, Catalog, String), SourceError> {
    let same_file = |cp: &&Checkpoint| {
        cp.files.iter().any(|f| (&f.path, f.size, f.modified_ms) == (&file.path, file.size, file.modified_ms))
    };
    let kept = recorded
        .filter(same_file)
        .and_then(|cp| cp.scan.as_deref())
        .and_then(|text| serde_json::from_str::<Scan>(text).ok().filter(|scan| scan.version == SCAN_VERSION));
    let scan = match kept {
        Some(scan) => scan,
        None => {
            tracing::info!(
                "scanning {} ({:.1} MB) for its tables and statements",
                source.location(),
                file.size as f64 / 1e6
            );
            let started = std::time::Instant::now();
            let (src, f, handle) = (source.clone(), file.clone(), tokio::runtime::Handle::current());
            let scan = tokio::task::spawn_blocking(move || scan::scan(&src, &handle, &f, region))
                .await
                .map_err(|e| SourceError::Layout(format!("scanning {} failed: {e}", file.path)))??;
            tracing::info!(
                "scanned {} in {:.1}s: {} tables, {} views, triggers of {} tables, routines of {} databases",
                file.path,
                started.elapsed().as_secs_f64(),
                scan.tables.len(),
                scan.views.len(),
                scan.triggers.len(),
                scan.routines.len()
            );
            scan
        }
    };
    let catalog = scan.catalog(file, filter);
    let text = serde_json::to_string(&scan).expect("a scan always serialises");
    Ok((source.with_extracted(scan.extracted_files(&file.path)), catalog, text))
}

impl Scan {
    /// The catalog a directory holding these tables and objects would give, narrowed by
    /// `filter` as a directory's is. Statements are files named after where they are in `file`.
    fn catalog(&self, file: &SourceFile, filter: &TableFilter) -> Catalog {
        let extracted = |statements: &[Statement]| SourceFile {
            path: extracted_name(&file.path, statements),
            size: statements.iter().map(|s| s.text.len() as u64).sum(),
            modified_ms: file.modified_ms,
        };
        let object = |o: &ScannedObject| CatalogObject {
            database: o.database.clone(),
            name: o.name.clone(),
            file: extracted(&o.statements),
        };
        let mut catalog = Catalog::default();
        for (db, create) in self.databases.iter().filter(|(db, _)| filter.matches_database(db)) {
            catalog.databases.insert(db.clone(), create.as_ref().map(|c| extracted(std::slice::from_ref(c))));
        }
        let mut tables: Vec<&ScannedTable> =
            self.tables.iter().filter(|t| filter.matches(&t.database, &t.name)).collect();
        tables.sort_by(|a, b| (&a.database, &a.name).cmp(&(&b.database, &b.name)));
        catalog.tables = tables
            .into_iter()
            .map(|t| CatalogTable {
                database: t.database.clone(),
                name: t.name.clone(),
                schema_file: t.create.as_ref().map(|c| extracted(std::slice::from_ref(c))),
                data_files: t
                    .data
                    .iter()
                    .enumerate()
                    .map(|(i, &range)| DataFile {
                        file: file.clone(),
                        format: DataFormat::Sql,
                        compression: compression_of(&file.path),
                        order: vec![i as u64],
                        range: Some(range),
                    })
                    .collect(),
            })
            .collect();
        catalog.views = self.views.iter().filter(|v| filter.matches(&v.database, &v.name)).map(object).collect();
        catalog.triggers = self.triggers.iter().filter(|t| filter.matches(&t.database, &t.name)).map(object).collect();
        catalog.routines = self.routines.iter().filter(|r| filter.matches_database(&r.database)).map(object).collect();
        for db in catalog.tables.iter().map(|t| &t.database).chain(catalog.views.iter().map(|v| &v.database)) {
            catalog.databases.entry(db.clone()).or_insert(None);
        }
        catalog
    }

    /// Every group of statements as the file a directory dump would hold it in, by the name
    /// [`Scan::catalog`] gives it: each statement with the delimiter it had, so that the schema
    /// file reader splits them back as they were.
    fn extracted_files(&self, file: &str) -> HashMap<String, Vec<u8>> {
        let singles = self.databases.values().flatten().chain(self.tables.iter().filter_map(|t| t.create.as_ref()));
        let groups = self.views.iter().chain(&self.triggers).chain(&self.routines).map(|o| o.statements.as_slice());
        singles
            .map(std::slice::from_ref)
            .chain(groups)
            .map(|statements| (extracted_name(file, statements), file_text(statements)))
            .collect()
    }
}

/// The name a group of statements is served under: where it starts in the file.
fn extracted_name(file: &str, statements: &[Statement]) -> String {
    format!("{file} at byte {}", statements.first().map_or(0, |s| s.at))
}

/// Statements as SQL text, a `DELIMITER` line wherever the delimiter changes.
fn file_text(statements: &[Statement]) -> Vec<u8> {
    let mut out = String::new();
    let mut delimiter = ";";
    for s in statements {
        if s.delimiter != delimiter {
            delimiter = &s.delimiter;
            out.push_str(&format!("DELIMITER {delimiter}\n"));
        }
        out.push_str(&format!("{}{delimiter}\n", s.text));
    }
    if delimiter != ";" {
        out.push_str("DELIMITER ;\n");
    }
    out.into_bytes()
}
