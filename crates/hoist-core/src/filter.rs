//! Table filter with TiDB's table-filter semantics: rules are `db.tbl` glob pairs
//! (`*`, `?`, `[...]`), a leading `!` excludes, and the last rule that matches a table decides.
//! Matching ignores ASCII case, as TiDB's does. An empty rule list means Lightning's default:
//! everything except the system schemas. Rules that only exclude mean "all but": the default
//! rules come first (TiDB's filter would match nothing, which nobody who writes `!db.t` means).

use globset::{Glob, GlobMatcher};

use crate::error::ConfigError;

/// The server's own schemas, which the default rules leave out (as Lightning's do).
pub const SYSTEM_SCHEMAS: &[&str] =
    &["mysql", "sys", "INFORMATION_SCHEMA", "PERFORMANCE_SCHEMA", "METRICS_SCHEMA", "INSPECTION_SCHEMA"];

/// Whether `database` is one of [`SYSTEM_SCHEMAS`] (names compare without case, as the rules do).
pub fn is_system_schema(database: &str) -> bool {
    SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(database))
}

#[derive(Debug, Clone)]
struct Rule {
    exclude: bool,
    database: GlobMatcher,
    table: GlobMatcher,
}

#[derive(Debug, Clone)]
pub struct TableFilter {
    rules: Vec<Rule>,
}

fn glob(pattern: &str, rule: &str) -> Result<GlobMatcher, ConfigError> {
    Glob::new(&pattern.to_ascii_lowercase())
        .map(|g| g.compile_matcher())
        .map_err(|e| ConfigError::Invalid(format!("table filter rule {rule:?}: {e}")))
}

impl TableFilter {
    pub fn new(rules: &[String]) -> Result<TableFilter, ConfigError> {
        let only_exclusions = rules.iter().all(|r| r.trim().starts_with('!'));
        let defaults = std::iter::once("*.*".to_string())
            .chain(SYSTEM_SCHEMAS.iter().map(|s| format!("!{s}.*")))
            .filter(|_| only_exclusions);
        let mut out = Vec::new();
        for rule in defaults.chain(rules.iter().cloned()) {
            let text = rule.trim();
            let (exclude, body) = match text.strip_prefix('!') {
                Some(b) => (true, b),
                None => (false, text),
            };
            let (db, table) = body.split_once('.').ok_or_else(|| {
                ConfigError::Invalid(format!("table filter rule {rule:?} must look like db.table (globs allowed)"))
            })?;
            let unquote = |s: &str| s.trim_matches('`').to_string();
            out.push(Rule { exclude, database: glob(&unquote(db), &rule)?, table: glob(&unquote(table), &rule)? });
        }
        Ok(TableFilter { rules: out })
    }

    pub fn matches(&self, database: &str, table: &str) -> bool {
        let (db, t) = (database.to_ascii_lowercase(), table.to_ascii_lowercase());
        self.rules.iter().rev().find(|r| r.database.is_match(&db) && r.table.is_match(&t)).is_some_and(|r| !r.exclude)
    }

    /// Whether any table of the database could be taken (for database-level files).
    pub fn matches_database(&self, database: &str) -> bool {
        let db = database.to_ascii_lowercase();
        self.rules
            .iter()
            .rev()
            .find(|r| r.database.is_match(&db))
            .is_some_and(|r| !r.exclude || r.table.glob().glob() != "*")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(rules: &[&str]) -> TableFilter {
        TableFilter::new(&rules.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn last_matching_rule_wins() {
        let f = filter(&["*.*", "!shop.log_*", "shop.log_keep"]);
        assert!(f.matches("shop", "orders"));
        assert!(!f.matches("shop", "log_2020"));
        assert!(f.matches("shop", "log_keep"));
        assert!(f.matches("SHOP", "Orders"), "case-insensitive like TiDB");
    }

    #[test]
    fn default_excludes_system_schemas() {
        let f = filter(&[]);
        assert!(f.matches("app", "t"));
        assert!(!f.matches("mysql", "user"));
        assert!(!f.matches("information_schema", "tables"));
        assert!(!f.matches_database("mysql"));
        assert!(f.matches_database("app"));
    }

    #[test]
    fn only_listed_tables() {
        let f = filter(&["db1.t?", "db2.*"]);
        assert!(f.matches("db1", "t1"));
        assert!(!f.matches("db1", "t10"));
        assert!(f.matches("db2", "anything"));
        assert!(!f.matches("db3", "t1"));
        assert!(!f.matches_database("db3"));
        assert!(TableFilter::new(&["nodot".to_string()]).is_err());
    }

    #[test]
    fn exclusions_alone_mean_all_but_them() {
        let f = filter(&["!shop.log", "!tmp.*"]);
        assert!(f.matches("shop", "orders"));
        assert!(f.matches("app", "t"));
        assert!(!f.matches("shop", "log"));
        assert!(!f.matches("tmp", "x"));
        assert!(!f.matches("mysql", "user"), "the system schemas stay out, as by default");
        assert!(f.matches_database("shop"));
        assert!(!f.matches_database("tmp"));
    }
}
