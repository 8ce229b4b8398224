//! Every key a config file may hold, sorted three ways, so that a Lightning user's file works
//! unchanged and no key is silently ignored:
//!
//! - keys hoist reads (the structs of `config.rs` deserialize them);
//! - keys that only tune Lightning's own machinery (logging, PD, TiKV, its HTTP server): they
//!   cannot change what lands in the target, so they are accepted with one note each;
//! - Lightning keys that do change the result and that hoist does not implement yet: an error,
//!   unless the value is one that means what hoist does anyway (`character-set = "utf8mb4"`);
//!
//! and any other key is an error naming the closest known key, since a typo would otherwise
//! fall back to a default and change the result without a word.
//!
//! The table below is the one list of known keys; a test checks it against `FileConfig`.

use toml::{Table, Value};

/// What hoist does with one key.
enum Kind {
    /// `config.rs` reads it.
    Read,
    /// Lightning's own machinery; the text says why it cannot matter here.
    NoEffect(&'static str),
    /// Changes the result, not implemented yet: refused unless `harmless` holds of the value
    /// (the value that means what hoist does anyway). The text says what hoist does.
    Unsupported { harmless: fn(&Value) -> bool, does: &'static str },
}
use Kind::*;

const LOGGING: &str = "hoist logs to stderr; HOIST_LOG sets the level";
const CLUSTER: &str = "it concerns a TiDB cluster's own components (PD, TiKV, status port)";
const PHYSICAL: &str = "it tunes Lightning's physical import; hoist writes through SQL";
const TUNING: &str = "it tunes Lightning's own concurrency and batching; hoist sizes its own";
const SERVER: &str = "hoist has no server mode, and its only HTTP server is the status API (--status-addr)";
const EXTRACT: &str = "hoist adds no column to a merged table's rows; give the shards a column that tells them \
                       apart in the dump itself";
const TIDB_SESSION: &str = "it sets TiDB's session variables for ANALYZE and checksums";

fn never(_: &Value) -> bool {
    false
}
fn is_false(v: &Value) -> bool {
    v.as_bool() == Some(false)
}
fn no_duplicate_resolution(v: &Value) -> bool {
    v.as_str() == Some("none")
}
/// `tidb_*` variables exist only on TiDB and tune its storage, not the rows.
fn tidb_only_vars(v: &Value) -> bool {
    v.as_table().is_some_and(|t| t.keys().all(|k| k.starts_with("tidb_")))
}

/// Dotted path (section, then key) and what hoist does with it. Lightning's keys are those of
/// its documented configuration (`tidb-lightning.toml` and the configuration page).
const KEYS: &[(&str, Kind)] = &[
    ("lightning.status-addr", Read),
    ("lightning.server-mode", Unsupported { harmless: is_false, does: SERVER }),
    ("lightning.check-requirements", NoEffect(CLUSTER)),
    ("lightning.index-concurrency", NoEffect(TUNING)),
    ("lightning.table-concurrency", NoEffect(TUNING)),
    ("lightning.region-concurrency", Read),
    ("lightning.io-concurrency", NoEffect(TUNING)),
    ("lightning.meta-schema-name", NoEffect(PHYSICAL)),
    ("lightning.max-error", Read),
    ("lightning.task-info-schema-name", Read),
    ("lightning.level", NoEffect(LOGGING)),
    ("lightning.file", NoEffect(LOGGING)),
    ("lightning.max-size", NoEffect(LOGGING)),
    ("lightning.max-days", NoEffect(LOGGING)),
    ("lightning.max-backups", NoEffect(LOGGING)),
    ("lightning.pprof-port", NoEffect(SERVER)),
    ("security.ca-path", Read),
    ("security.cert-path", Read),
    ("security.key-path", Read),
    ("security.redact-info-log", NoEffect("hoist never prints a password")),
    ("checkpoint.enable", Read),
    ("checkpoint.schema", Read),
    ("checkpoint.driver", Read),
    ("checkpoint.dsn", Read),
    ("checkpoint.keep-after-success", Read),
    ("checkpoint.lease-expiry", Read),
    ("conflict.strategy", Read),
    ("conflict.precheck-conflict-before-import", NoEffect(PHYSICAL)),
    ("conflict.threshold", Read),
    ("conflict.max-record-rows", Read),
    ("tikv-importer.backend", NoEffect("hoist always writes through SQL, as Lightning's \"tidb\" backend does")),
    ("tikv-importer.addr", NoEffect(CLUSTER)),
    ("tikv-importer.on-duplicate", Read),
    ("tikv-importer.duplicate-resolution", Unsupported { harmless: no_duplicate_resolution, does: "set \"none\"" }),
    ("tikv-importer.region-split-size", NoEffect(PHYSICAL)),
    ("tikv-importer.send-kv-pairs", NoEffect(PHYSICAL)),
    ("tikv-importer.sorted-kv-dir", NoEffect(PHYSICAL)),
    ("tikv-importer.disk-quota", NoEffect(PHYSICAL)),
    ("tikv-importer.range-concurrency", NoEffect(PHYSICAL)),
    ("tikv-importer.engine-mem-cache-size", NoEffect(PHYSICAL)),
    ("tikv-importer.local-writer-mem-cache-size", NoEffect(PHYSICAL)),
    ("tikv-importer.store-write-bwlimit", NoEffect(PHYSICAL)),
    ("tikv-importer.incremental-import", NoEffect(PHYSICAL)),
    ("tikv-importer.pause-pd-scheduler-scope", NoEffect(CLUSTER)),
    ("tikv-importer.logical-import-batch-size", NoEffect(TUNING)),
    ("tikv-importer.logical-import-batch-rows", NoEffect(TUNING)),
    ("mydumper.read-block-size", NoEffect(TUNING)),
    ("mydumper.batch-size", NoEffect(PHYSICAL)),
    ("mydumper.batch-import-ratio", NoEffect(PHYSICAL)),
    ("mydumper.data-source-dir", Read),
    ("mydumper.no-schema", Read),
    ("mydumper.character-set", Read),
    ("mydumper.data-character-set", Read),
    ("mydumper.data-invalid-char-replace", Read),
    ("mydumper.case-sensitive", Read),
    ("mydumper.strict-format", Read),
    ("mydumper.max-region-size", Read),
    ("mydumper.default-file-rules", NoEffect("it only concerns [[mydumper.files]]")),
    ("mydumper.filter", Read),
    ("mydumper.files", Unsupported { harmless: never, does: "hoist finds files by mydumper's names" }),
    ("mydumper.csv.separator", Read),
    ("mydumper.csv.delimiter", Read),
    ("mydumper.csv.terminator", Read),
    ("mydumper.csv.header", Read),
    ("mydumper.csv.header-schema-match", Read),
    ("mydumper.csv.not-null", Read),
    ("mydumper.csv.null", Read),
    ("mydumper.csv.backslash-escape", Read),
    ("mydumper.csv.trim-last-separator", Read),
    ("tidb.host", Read),
    ("tidb.port", Read),
    ("tidb.user", Read),
    ("tidb.password", Read),
    ("tidb.sql-mode", Read),
    ("tidb.status-port", NoEffect(CLUSTER)),
    ("tidb.pd-addr", NoEffect(CLUSTER)),
    ("tidb.log-level", NoEffect(LOGGING)),
    ("tidb.max-allowed-packet", NoEffect(TUNING)),
    ("tidb.tls", Read),
    ("tidb.build-stats-concurrency", NoEffect(TIDB_SESSION)),
    ("tidb.distsql-scan-concurrency", NoEffect(TIDB_SESSION)),
    ("tidb.index-serial-scan-concurrency", NoEffect(TIDB_SESSION)),
    ("tidb.checksum-table-concurrency", NoEffect(TIDB_SESSION)),
    ("tidb.security.ca-path", Read),
    ("tidb.security.cert-path", Read),
    ("tidb.security.key-path", Read),
    (
        "tidb.session-vars",
        Unsupported { harmless: tidb_only_vars, does: "hoist sets only TiDB's own tidb_* variables here (ignored)" },
    ),
    ("post-restore.checksum", Read),
    ("post-restore.analyze", Read),
    ("post-restore.level-1-compact", NoEffect(PHYSICAL)),
    ("post-restore.compact", NoEffect(PHYSICAL)),
    ("post-restore.post-process-at-last", NoEffect(TUNING)),
    ("cron.switch-mode", NoEffect(PHYSICAL)),
    ("cron.log-progress", NoEffect("hoist's --progress decides how progress is shown")),
    ("cron.check-disk-quota", NoEffect(PHYSICAL)),
    ("routes.schema-pattern", Read),
    ("routes.table-pattern", Read),
    ("routes.target-schema", Read),
    ("routes.target-table", Read),
    ("routes.extract-table", Unsupported { harmless: never, does: EXTRACT }),
    ("routes.extract-schema", Unsupported { harmless: never, does: EXTRACT }),
    ("routes.extract-source", Unsupported { harmless: never, does: EXTRACT }),
];

/// The notes to print (one per key that has no effect here), or every refused key, one per line.
pub fn check(doc: &Table) -> Result<Vec<String>, String> {
    let (mut notes, mut refused) = (Vec::new(), Vec::new());
    walk(doc, "", &mut notes, &mut refused);
    if refused.is_empty() {
        Ok(notes)
    } else {
        Err(refused.join("\n"))
    }
}

fn walk(table: &Table, prefix: &str, notes: &mut Vec<String>, refused: &mut Vec<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match KEYS.iter().find(|(k, _)| *k == path).map(|(_, kind)| kind) {
            Some(Read) => {}
            Some(NoEffect(why)) => notes.push(format!("{} has no effect here: {why}", shown(&path))),
            Some(Unsupported { harmless, .. }) if harmless(value) => {}
            Some(Unsupported { does, .. }) => {
                // A scalar is shown as set; a table or list of tables by its name alone.
                let what = match value {
                    _ if is_tables(value) => format!("[[{path}]]"),
                    Value::Table(_) => shown(&path),
                    _ => format!("{} = {value}", shown(&path)),
                };
                refused.push(format!("{what} is not supported yet ({does})"))
            }
            // A section: its keys are checked one by one; so are those of each of a list of tables.
            None if value.is_table() => walk(value.as_table().expect("a table"), &path, notes, refused),
            None if is_tables(value) => {
                for table in value.as_array().into_iter().flatten().filter_map(Value::as_table) {
                    walk(table, &path, notes, refused);
                }
            }
            None => refused.push(format!(
                "{} is not a key hoist or TiDB Lightning knows; did you mean {}?",
                shown(&path),
                shown(closest(&path))
            )),
        }
    }
}

/// `[[section]]`: an array of tables.
fn is_tables(value: &Value) -> bool {
    value.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_table))
}

/// The known key nearest to `path` by edit distance over the whole dotted path, so that a
/// misspelt section (`[mydumpr] filter`) is found as well as a misspelt key.
fn closest(path: &str) -> &'static str {
    KEYS.iter().map(|(k, _)| *k).min_by_key(|k| strsim::levenshtein(path, k)).expect("known keys")
}

/// `mydumper.csv.null` as the file spells it: `[mydumper.csv] null`.
fn shown(path: &str) -> String {
    match path.rsplit_once('.') {
        Some((section, key)) => format!("[{section}] {key}"),
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<Vec<String>, String> {
        check(&text.parse::<Table>().unwrap())
    }

    #[test]
    fn lightning_machinery_is_accepted_with_a_note() {
        let notes =
            check_text("[tikv-importer]\nbackend = 'local'\nsorted-kv-dir = '/x'\n[tidb]\npd-addr = 'a:1'\n").unwrap();
        assert_eq!(notes.len(), 3, "{notes:?}");
        let noted = |start: &str| notes.iter().any(|n| n.starts_with(start));
        assert!(noted("[tikv-importer] backend has no effect here: hoist always writes"), "{notes:?}");
        assert!(noted("[tidb] pd-addr has no effect here"), "{notes:?}");
    }

    #[test]
    fn lightning_keys_that_change_the_result_are_refused() {
        for (text, expected) in [
            (
                "[[routes]]\nschema-pattern = 'a'\nextract-table = {table-regexp = 't(.*)', target-column = 'c'}\n",
                "[routes] extract-table is not supported yet (hoist adds no column",
            ),
            ("[[mydumper.files]]\npattern = 'x'\n", "[[mydumper.files]] is not supported yet (hoist finds files"),
        ] {
            let e = check_text(text).unwrap_err();
            assert!(e.starts_with(expected), "{text}: {e}");
        }
        // The values that mean what hoist does anyway pass without a word.
        let same = "[mydumper]\ncharacter-set = 'gb18030'\ndata-character-set = 'gbk'\n\
                    [tidb]\ntls = ''\n[tidb.session-vars]\ntidb_enable_clustered_index = 'OFF'\n";
        assert_eq!(check_text(same).unwrap(), Vec::<String>::new());
        let e = check_text("[tidb.session-vars]\nforeign_key_checks = 0\n").unwrap_err();
        assert!(e.starts_with("[tidb] session-vars is not supported yet"), "{e}");
    }

    #[test]
    fn typos_name_the_closest_key() {
        for (text, expected) in [
            (
                "[mydumper]\nfiltr = ['a.*']\n",
                "[mydumper] filtr is not a key hoist or TiDB Lightning knows; did you mean [mydumper] filter?",
            ),
            ("[mydumpr]\ndata-source-dir = '/d'\n", "did you mean [mydumper] data-source-dir?"),
            ("[mydumper.csv]\nseperator = ','\n", "did you mean [mydumper.csv] separator?"),
            ("[tidb]\npasword = 'x'\n", "did you mean [tidb] password?"),
            ("[[routes]]\nschema-pattern = 'a'\ntarget_schema = 'b'\n", "did you mean [routes] target-schema?"),
            (
                "[conflict]\nstrategy = 'replace'\n[checkpoint]\nkeep_after_success = 'origin'\n",
                "did you mean [checkpoint] keep-after-success?",
            ),
        ] {
            let e = check_text(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
        // Every refused key is listed, not only the first.
        let e = check_text("[mydumper]\nfiltr = []\nno-schem = true\n").unwrap_err();
        assert_eq!(e.lines().count(), 2, "{e}");
    }

    /// The table and `FileConfig` agree: every key marked `Read` is one that serde reads, so
    /// that no key is both "known" and silently dropped. A value of the wrong type makes
    /// serde name the field; one it does not know it would pass over.
    #[test]
    fn every_read_key_is_deserialized() {
        for (path, kind) in KEYS {
            if !matches!(kind, Read) {
                continue;
            }
            let (section, key) = path.rsplit_once('.').unwrap();
            let text = format!("[{section}]\n{key} = {{ not-a-value = 1 }}\n");
            let e = toml::from_str::<crate::config::FileConfig>(&text).map(|_| ()).unwrap_err().to_string();
            assert!(!e.is_empty(), "{path}");
        }
    }
}
