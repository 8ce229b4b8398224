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

/// What [`read`] gives.
pub struct Read {
    /// The source, serving the file's statements as schema files.
    pub source: Source,
    pub catalog: Catalog,
    /// The scan as the checkpoint keeps it.
    pub scan: String,
    /// For the summary: the file's system schemas, which the filter left out.
    pub notes: Vec<String>,
}

/// The catalog of the single-file dump `file` of `source`, from the checkpoint's scan when
/// `recorded` was made from the file as it is now, else from a scan of it (`region`: the plan's
/// max region size).
pub async fn read(
    source: Source,
    file: &SourceFile,
    recorded: Option<&Checkpoint>,
    filter: &TableFilter,
    region: u64,
) -> Result<Read, SourceError> {
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
    let system: Vec<String> = scan
        .databases
        .keys()
        .filter(|db| crate::filter::is_system_schema(db) && !filter.matches_database(db))
        .map(|db| hoist_schema::quote_mysql_ident(db))
        .collect();
    let notes = match system.is_empty() {
        true => Vec::new(),
        false => vec![format!(
            "the dump's system schema {} was left out, as system schemas are by default (the target's accounts \
             and its own tables stay as they are); --tables names it to load it",
            system.join(", ")
        )],
    };
    Ok(Read {
        catalog: scan.catalog(file, filter),
        scan: serde_json::to_string(&scan).expect("a scan always serialises"),
        source: source.with_extracted(scan.extracted_files(&file.path)),
        notes,
    })
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
                sources: Vec::new(),
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use object_store::ObjectStoreExt;

    use super::*;

    /// What mariadb-dump writes, in small: the header, a table with two INSERTs around which
    /// the usual statements stand, a trigger in a DELIMITER block with its settings, a view's
    /// placeholder table (older mysqldump) and its final view, a second database with a
    /// procedure, a qualified INSERT, and a statement hoist does not load.
    const DUMP: &str = "/*M!999999\\- enable the sandbox mode */ \n\
-- MariaDB dump 10.19  Distrib 10.11.14-MariaDB, for debian-linux-gnu (x86_64)\n\
--\n\
-- Host: localhost    Database: shop\n\
-- ------------------------------------------------------\n\
/*!40101 SET NAMES utf8mb4 */;\n\
/*!40103 SET TIME_ZONE='+00:00' */;\n\
DROP TABLE IF EXISTS `orders`;\n\
CREATE TABLE `orders` (`id` int NOT NULL, `note` text, PRIMARY KEY (`id`));\n\
LOCK TABLES `orders` WRITE;\n\
/*!40000 ALTER TABLE `orders` DISABLE KEYS */;\n\
INSERT INTO `orders` VALUES (1,'a;b'),(2,'it''s');\n\
INSERT INTO `orders` VALUES (3,'DELIMITER ;;');\n\
/*!40000 ALTER TABLE `orders` ENABLE KEYS */;\n\
UNLOCK TABLES;\n\
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n\
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES' */ ;\n\
DELIMITER ;;\n\
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t1 BEFORE INSERT ON orders FOR EACH ROW BEGIN SET NEW.note = 'x;y'; END */;;\n\
DELIMITER ;\n\
/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n\
/*!50001 CREATE TABLE `v` (\n  `id` tinyint NOT NULL\n) ENGINE=MyISAM */;\n\
CREATE DATABASE /*!32312 IF NOT EXISTS*/ `other` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n\
USE `other`;\n\
CREATE TABLE `t2` (a int);\n\
INSERT INTO `t2` VALUES (1);\n\
INSERT INTO `shop`.`orders` VALUES (4,'q');\n\
CHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=4;\n\
DELIMITER ;;\n\
CREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  SELECT 1;\nEND ;;\n\
DELIMITER ;\n\
USE `shop`;\n\
/*!50001 DROP VIEW IF EXISTS `v`*/;\n\
/*!50001 SET character_set_client      = utf8mb3 */;\n\
/*!50001 CREATE ALGORITHM=UNDEFINED */\n\
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n\
/*!50001 VIEW `v` AS select `orders`.`id` AS `id` from `orders` */;\n\
\n-- Dump completed on 2026-12-02  6:58:40\n";

    /// Scan `bytes` stored as `name`, with region size `region`.
    fn scan_of(name: &str, bytes: Vec<u8>, region: u64) -> Result<(Scan, SourceFile, Source), SourceError> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let store = object_store::memory::InMemory::new();
        rt.block_on(store.put(&name.into(), bytes.into())).unwrap();
        let source = Source::from_store(Arc::new(store), "memory://dumps");
        let file = rt.block_on(source.list()).unwrap().remove(0);
        let (src, f, handle) = (source.clone(), file.clone(), rt.handle().clone());
        let scanned = std::thread::spawn(move || scan::scan(&src, &handle, &f, region)).join().unwrap()?;
        Ok((scanned, file, source))
    }

    fn table<'a>(scan: &'a Scan, db: &str, name: &str) -> &'a ScannedTable {
        scan.tables.iter().find(|t| (t.database.as_str(), t.name.as_str()) == (db, name)).expect("the table")
    }

    fn texts(statements: &[Statement]) -> Vec<&str> {
        statements.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn a_mysqldump_file_is_tables_runs_and_objects() {
        let (scan, _, _) = scan_of("dump.sql", DUMP.into(), 1 << 20).unwrap();
        let names: Vec<_> = scan.tables.iter().map(|t| format!("{}.{}", t.database, t.name)).collect();
        assert_eq!(names, ["shop.orders", "other.t2"], "the view's placeholder table is no table");
        assert_eq!(scan.databases.keys().collect::<Vec<_>>(), ["other", "shop"]);
        assert!(scan.databases["other"].as_ref().is_some_and(|c| c.text.starts_with("CREATE DATABASE")));
        let orders = table(&scan, "shop", "orders");
        assert!(orders.create.as_ref().is_some_and(|c| c.text.starts_with("CREATE TABLE `orders`")));
        let runs: Vec<&str> = orders.data.iter().map(|&(a, b)| &DUMP[a as usize..b as usize]).collect();
        assert_eq!(
            runs,
            [
                "INSERT INTO `orders` VALUES (1,'a;b'),(2,'it''s');\nINSERT INTO `orders` VALUES (3,'DELIMITER ;;');",
                "INSERT INTO `shop`.`orders` VALUES (4,'q');"
            ],
            "two runs: the INSERT into a qualified name comes after another table's"
        );
        assert_eq!(scan.triggers.len(), 1);
        assert_eq!((scan.triggers[0].database.as_str(), scan.triggers[0].name.as_str()), ("shop", "orders"));
        let trigger = &scan.triggers[0].statements;
        assert_eq!(trigger.len(), 2, "the saving and restoring SETs are left out: {trigger:#?}");
        assert!(
            trigger[0].text.contains("sql_mode              = 'STRICT_TRANS_TABLES'") && trigger[0].delimiter == ";"
        );
        assert!(
            trigger[1].text.contains("TRIGGER t1")
                && trigger[1].text.ends_with("END */")
                && trigger[1].delimiter == ";;"
        );
        assert_eq!(scan.routines.len(), 1);
        assert_eq!(scan.routines[0].database, "other");
        assert!(texts(&scan.routines[0].statements)[0].ends_with("SELECT 1;\nEND"));
        assert_eq!(scan.views.len(), 1);
        assert_eq!(scan.views[0].database, "shop");
        assert!(texts(&scan.views[0].statements).last().unwrap().contains("VIEW `v` AS select"));
    }

    /// The statements a directory's schema file reader takes out of the extracted files are
    /// the scanned ones, `;` and `;;` delimited alike; the catalog names them.
    #[test]
    fn extracted_files_read_back_as_their_statements() {
        let (scan, file, source) = scan_of("dump.sql", DUMP.into(), 1 << 20).unwrap();
        let files = scan.extracted_files(&file.path);
        let catalog = scan.catalog(&file, &TableFilter::new(&[]).unwrap());
        let source = source.with_extracted(files);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let read = |f: &SourceFile| {
            let bytes = rt.block_on(source.read_all(&f.path)).unwrap();
            crate::ddl_file::statements(&f.path, &bytes).unwrap()
        };
        let trigger = &catalog.triggers[0];
        assert_eq!(read(&trigger.file), texts(&scan.triggers[0].statements));
        assert!(trigger.file.path.starts_with("dump.sql at byte "), "{}", trigger.file.path);
        assert_eq!(read(&catalog.routines[0].file), texts(&scan.routines[0].statements));
        let orders = catalog.tables.iter().find(|t| t.name == "orders").unwrap();
        assert_eq!(
            read(orders.schema_file.as_ref().unwrap()),
            [table(&scan, "shop", "orders").create.as_ref().unwrap().text.as_str()]
        );
        assert_eq!(orders.data_files.len(), 2);
        assert!(orders.data_files.iter().all(|d| d.file == file && d.range.is_some()));
        assert_eq!(catalog.databases.len(), 2);
    }

    #[test]
    fn runs_are_cut_at_region_size_unless_compressed() {
        let (scan, _, _) = scan_of("dump.sql", DUMP.into(), 1).unwrap();
        assert_eq!(table(&scan, "shop", "orders").data.len(), 3, "each INSERT is a region's worth");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(DUMP.as_bytes()).unwrap();
        let (scan, _, _) = scan_of("dump.sql.gz", gz.finish().unwrap(), 1).unwrap();
        let orders = table(&scan, "shop", "orders");
        assert_eq!(orders.data.len(), 2, "a compressed run is not cut: each piece would decompress it again");
        assert!(
            DUMP[orders.data[0].0 as usize..].starts_with("INSERT INTO `orders` VALUES (1,"),
            "offsets are of the decompressed stream"
        );
    }

    #[test]
    fn what_cannot_be_loaded_is_refused_with_its_byte() {
        let cases: [(String, &str, &str); 4] = [
            (
                DUMP[..DUMP.find("UNLOCK TABLES").unwrap()].to_string(),
                "without the `-- Dump completed` line",
                "UNLOCK TABLES",
            ),
            (
                DUMP.replace("-- Host: localhost    Database: shop\n", ""),
                "`orders` names no database",
                "CREATE TABLE `orders`",
            ),
            (DUMP[..DUMP.find("'a;b'").unwrap() + 3].to_string(), "unterminated string literal", "'a;"),
            (
                DUMP.replace("LOCK TABLES", "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nLOCK TABLES"),
                "another sql_mode (NO_BACKSLASH_ESCAPES) than the file's header",
                "INSERT INTO `orders` VALUES (1",
            ),
        ];
        for (text, says, at) in cases {
            let Err(SourceError::Data(e)) = scan_of("dump.sql", text.clone().into(), 1 << 20) else {
                panic!("{says}: not refused as bad data")
            };
            assert!(e.message.contains(says), "{e}");
            let offset = text.find(at).map_or(text.len(), |i| i) as u64;
            let offset = if says.contains("Dump completed") { text.len() as u64 } else { offset };
            assert_eq!((e.position.file.as_str(), e.position.offset), ("dump.sql", offset), "{says}: {e}");
            let line = text[..offset as usize].matches('\n').count() as u64 + 1;
            assert_eq!(e.position.line, Some(line), "{e}");
        }
    }
}
