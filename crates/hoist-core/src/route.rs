//! `[[routes]]`: TiDB Lightning's table router. Each source table (after the table filter, which
//! sees source names, as Lightning's does) loads into the target table its rules name, so that
//! shards (`db_1.t_1` ... `db_n.t_m`) merge into one table. Pure: it works on the catalog.
//!
//! Semantics are those of Lightning's router (tidb `pkg/util/table-router` over its
//! `table-rule-selector`):
//! - a pattern is literal characters, `?` (exactly one character), `[a-z]` / `[!a-z]` (one
//!   character of a class, or not of it), and `*` (any rest), which may only end the pattern;
//! - a rule with a `table-pattern` is table-level, one without is schema-level; a table takes
//!   the one table-level rule that matches it, else the one schema-level rule that matches its
//!   database; two of the same level matching one table is an error, as are two rules with the
//!   same patterns; an empty `target-table` keeps the table's name;
//! - names match ignoring case unless `[mydumper] case-sensitive` is set; targets are used as
//!   written.
//!
//! A merged table lists its sources; the plan checks that their columns agree
//! ([`check_sources_agree`]) and the target is created from the first source (by name) that has
//! a schema file. Views and routines follow their database's schema-level rule and keep their
//! names (a table-level rule merges rows, and a view has none); a view where a table is routed
//! to is refused. Statements are not rewritten. A trigger moves with its table when
//! only the database changed; a trigger of a table that was renamed or merged is left out with a
//! note, since its statement names the source table (and shards would each bring a copy).

use std::collections::BTreeMap;

use crate::catalog::{Catalog, CatalogObject, CatalogTable, SourceTable};
use crate::config::RouteRule;
use crate::error::{ConfigError, SourceError};

/// One character position of a pattern.
#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => true,
            Atom::Class { negated, ranges } => ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated,
        }
    }
}

/// A compiled schema or table pattern: the atoms, then `*` or not.
#[derive(Debug, Clone)]
struct Pattern {
    atoms: Vec<Atom>,
    rest: bool,
}

impl Pattern {
    fn new(text: &str, what: &str) -> Result<Pattern, ConfigError> {
        let chars: Vec<char> = text.chars().collect();
        let mut atoms = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if i + 1 == chars.len() => return Ok(Pattern { atoms, rest: true }),
                '*' => {
                    return Err(ConfigError::Invalid(format!(
                        "[[routes]] {what} {text:?}: `*` may only end a pattern (as in TiDB Lightning)"
                    )))
                }
                '?' => atoms.push(Atom::Any),
                // A class up to the next `]`; a `[` that no `]` closes is itself (as in Lightning).
                '[' if chars[i + 1..].contains(&']') => {
                    let close = i + 1 + chars[i + 1..].iter().position(|&c| c == ']').unwrap_or(0);
                    let mut body = &chars[i + 1..close];
                    let negated = body.first() == Some(&'!') && body.len() > 1;
                    if negated {
                        body = &body[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut j = 0;
                    while j < body.len() {
                        if j + 2 < body.len() && body[j + 1] == '-' {
                            ranges.push((body[j], body[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((body[j], body[j]));
                            j += 1;
                        }
                    }
                    atoms.push(Atom::Class { negated, ranges });
                    i = close;
                }
                c => atoms.push(Atom::Char(c)),
            }
            i += 1;
        }
        Ok(Pattern { atoms, rest: false })
    }

    fn matches(&self, name: &str) -> bool {
        let mut chars = name.chars();
        for atom in &self.atoms {
            match chars.next() {
                Some(c) if atom.matches(c) => {}
                _ => return false,
            }
        }
        self.rest || chars.next().is_none()
    }
}

#[derive(Debug, Clone)]
struct Rule {
    schema: Pattern,
    table: Option<Pattern>,
    given: RouteRule,
}

/// The rules of `[[routes]]`, ready to route names.
#[derive(Debug, Clone, Default)]
pub struct Router {
    rules: Vec<Rule>,
    case_sensitive: bool,
}

/// A rule as the config file spells it, for messages.
fn shown(r: &RouteRule) -> String {
    let table = match r.table_pattern.as_str() {
        "" => String::new(),
        t => format!(", table-pattern {t:?}"),
    };
    let target = match r.target_table.as_str() {
        "" => String::new(),
        t => format!(", target-table {t:?}"),
    };
    format!("{{schema-pattern {:?}{table}, target-schema {:?}{target}}}", r.schema_pattern, r.target_schema)
}

impl Router {
    pub fn new(rules: &[RouteRule], case_sensitive: bool) -> Result<Router, ConfigError> {
        let fold = |s: &str| if case_sensitive { s.to_string() } else { s.to_lowercase() };
        let mut out: Vec<Rule> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.schema_pattern.is_empty() || r.target_schema.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "[[routes]] {}: schema-pattern and target-schema must both be given",
                    shown(r)
                )));
            }
            let patterns = (fold(&r.schema_pattern), fold(&r.table_pattern));
            if let Some(same) =
                rules[..i].iter().find(|o| (fold(&o.schema_pattern), fold(&o.table_pattern)) == patterns)
            {
                return Err(ConfigError::Invalid(format!(
                    "[[routes]] {} and {} have the same patterns; keep one",
                    shown(same),
                    shown(r)
                )));
            }
            let table = match patterns.1.as_str() {
                "" => None,
                t => Some(Pattern::new(t, "table-pattern")?),
            };
            out.push(Rule { schema: Pattern::new(&patterns.0, "schema-pattern")?, table, given: r.clone() });
        }
        Ok(Router { rules: out, case_sensitive })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The one rule of a level that matches, if any; two are an error naming both.
    fn one<'a>(
        &'a self,
        what: &str,
        mut rules: impl Iterator<Item = &'a Rule>,
    ) -> Result<Option<&'a RouteRule>, ConfigError> {
        let Some(first) = rules.next() else { return Ok(None) };
        match rules.next() {
            None => Ok(Some(&first.given)),
            Some(second) => Err(ConfigError::Invalid(format!(
                "{what} matches more than one [[routes]] rule of the same level: {} and {}; \
                 make the patterns exclusive",
                shown(&first.given),
                shown(&second.given)
            ))),
        }
    }

    /// Where the table `database`.`table` loads: its table-level rule, else its database's
    /// schema-level rule, else itself.
    pub fn table(&self, database: &str, table: &str) -> Result<(String, String), ConfigError> {
        let (db, t) = self.folded(database, table);
        let label = hoist_schema::qualified_mysql_name(database, table);
        let table_rule = self.one(
            &format!("table {label}"),
            self.rules.iter().filter(|r| r.schema.matches(&db) && r.table.as_ref().is_some_and(|p| p.matches(&t))),
        )?;
        let rule = match table_rule {
            Some(rule) => Some(rule),
            None => self.schema_rule(database)?,
        };
        Ok(match rule {
            None => (database.to_string(), table.to_string()),
            Some(r) => (
                r.target_schema.clone(),
                if r.target_table.is_empty() { table.to_string() } else { r.target_table.clone() },
            ),
        })
    }

    /// Where the database's own objects (its views, routines, its options) go.
    pub fn database(&self, database: &str) -> Result<String, ConfigError> {
        Ok(self.schema_rule(database)?.map_or_else(|| database.to_string(), |r| r.target_schema.clone()))
    }

    fn schema_rule(&self, database: &str) -> Result<Option<&RouteRule>, ConfigError> {
        let (db, _) = self.folded(database, "");
        self.one(
            &format!("database `{database}`"),
            self.rules.iter().filter(|r| r.table.is_none() && r.schema.matches(&db)),
        )
    }

    fn folded(&self, database: &str, table: &str) -> (String, String) {
        match self.case_sensitive {
            true => (database.to_string(), table.to_string()),
            false => (database.to_lowercase(), table.to_lowercase()),
        }
    }
}

/// The catalog after routing, and what routing left out (one note per object).
pub struct Routed {
    pub catalog: Catalog,
    pub notes: Vec<String>,
}

/// Route every table, view, trigger and routine of `catalog` (see the module docs).
pub fn route_catalog(catalog: Catalog, router: &Router) -> Result<Routed, ConfigError> {
    if router.is_empty() {
        return Ok(Routed { catalog, notes: Vec::new() });
    }
    let mut notes = Vec::new();
    // The source databases that held something: one that routing empties is not created.
    let had: std::collections::BTreeSet<String> = catalog
        .tables
        .iter()
        .map(|t| t.database.clone())
        .chain(catalog.views.iter().chain(&catalog.triggers).chain(&catalog.routines).map(|o| o.database.clone()))
        .collect();
    let mut tables: BTreeMap<(String, String), CatalogTable> = BTreeMap::new();
    // Each source table's target, for its triggers.
    let mut moved: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for t in catalog.tables {
        let to = router.table(&t.database, &t.name)?;
        moved.insert((t.database.clone(), t.name.clone()), to.clone());
        let source = SourceTable { database: t.database, name: t.name, schema_file: t.schema_file };
        let entry = tables.entry(to.clone()).or_insert_with(|| CatalogTable {
            database: to.0.clone(),
            name: to.1.clone(),
            ..Default::default()
        });
        // The first source with a schema file (in the order of source names) defines the table.
        if entry.schema_file.is_none() {
            entry.schema_file = source.schema_file.clone();
        }
        entry.data_files.extend(t.data_files);
        entry.sources.push(source);
    }
    let mut out = Catalog::default();
    for ((db, name), mut t) in tables {
        // A table that is its own only source is not routed: nothing to record or check.
        if t.sources.len() == 1 && (t.sources[0].database.as_str(), t.sources[0].name.as_str()) == (&db, &name) {
            t.sources.clear();
        }
        out.tables.push(t);
    }
    for v in catalog.views {
        let database = router.database(&v.database)?;
        if out.tables.iter().any(|t| t.database == database && t.name == v.name) {
            return Err(ConfigError::Invalid(format!(
                "[[routes]] send a table to {}, where the dump's view `{}`.`{}` goes too; \
                 route the table elsewhere or leave the view out (--tables '!{}.{}')",
                hoist_schema::qualified_mysql_name(&database, &v.name),
                v.database,
                v.name,
                v.database,
                v.name
            )));
        }
        out.views.push(CatalogObject { database, ..v });
    }
    for trigger in catalog.triggers {
        let key = (trigger.database.clone(), trigger.name.clone());
        let to = moved.get(&key).cloned().unwrap_or_else(|| key.clone());
        let merged = out.tables.iter().any(|t| (&t.database, &t.name) == (&to.0, &to.1) && t.sources.len() > 1);
        if to.1 != trigger.name || merged {
            notes.push(format!(
                "the triggers of {} ({}) were not created: [[routes]] load the table into {}, and the triggers' \
                 statements name the source table{}; create them there by hand if they are wanted",
                hoist_schema::qualified_mysql_name(&key.0, &key.1),
                trigger.file.path,
                hoist_schema::qualified_mysql_name(&to.0, &to.1),
                if merged { " (and every shard brings its own copy)" } else { "" }
            ));
            continue;
        }
        out.triggers.push(CatalogObject { database: to.0, ..trigger });
    }
    for r in catalog.routines {
        out.routines.push(CatalogObject { database: router.database(&r.database)?, ..r });
    }
    // Databases: each one something is loaded into, with the options of the first source
    // database routed there that has a create file (as Lightning takes them). A source database
    // left empty by routing is not created (it was only the shards' home); one that was empty in
    // the dump stays, as without routes.
    let used: std::collections::BTreeSet<&str> = out
        .tables
        .iter()
        .map(|t| t.database.as_str())
        .chain(out.views.iter().map(|v| v.database.as_str()))
        .chain(out.triggers.iter().chain(&out.routines).map(|o| o.database.as_str()))
        .collect();
    let mut databases: BTreeMap<String, Option<crate::source::SourceFile>> = BTreeMap::new();
    for (db, file) in &catalog.databases {
        let to = router.database(db)?;
        if had.contains(db.as_str()) && !used.contains(to.as_str()) {
            continue;
        }
        let slot = databases.entry(to).or_insert(None);
        if slot.is_none() {
            *slot = file.clone();
        }
    }
    // A database only routes lead to takes the options of its tables' first source database.
    for t in &out.tables {
        if !databases.contains_key(&t.database) {
            let options = t.sources.iter().find_map(|s| catalog.databases.get(&s.database).cloned().flatten());
            databases.insert(t.database.clone(), options);
        }
    }
    for db in used {
        databases.entry(db.to_string()).or_insert(None);
    }
    out.databases = databases;
    Ok(Routed { catalog: out, notes })
}

/// The columns of every source of a merged table agree (names and types, in order), so that
/// each shard's rows land in the columns they came from. `read` gives a schema file's CREATE
/// TABLE statement. Lightning does not check, and a shard that differs fails mid-load or, worse,
/// loads its values into the wrong columns; hoist refuses before anything is written.
pub fn check_sources_agree(
    table: &CatalogTable,
    read: impl Fn(&str) -> Result<String, SourceError>,
) -> Result<(), SourceError> {
    let mut first: Option<(&SourceTable, &str, hoist_schema::TableSchema)> = None;
    for source in &table.sources {
        let Some(file) = &source.schema_file else { continue };
        let sql = read(&file.path)?;
        let schema =
            hoist_schema::parse_create_table(&sql).map_err(|e| SourceError::Layout(format!("{}: {e}", file.path)))?;
        let Some((base, base_file, base_schema)) = &first else {
            first = Some((source, &file.path, schema));
            continue;
        };
        let shape = |s: &hoist_schema::TableSchema| -> Vec<(String, String)> {
            s.columns.iter().map(|c| (c.name.to_lowercase(), comparable_type(c))).collect()
        };
        let (a, b) = (shape(base_schema), shape(&schema));
        if a == b {
            continue;
        }
        let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        let column = |cols: &[(String, String)]| match cols.get(at) {
            Some((name, ty)) => format!("`{name}` {ty}"),
            None => "nothing".to_string(),
        };
        return Err(SourceError::Layout(format!(
            "[[routes]] merge {} and {} into {}, but their columns differ: column {} is {} in {base_file} and {} \
             in {}; the tables merged into one must have the same columns (names and types, in order), so route \
             them apart or make their schema files agree",
            hoist_schema::qualified_mysql_name(&base.database, &base.name),
            hoist_schema::qualified_mysql_name(&source.database, &source.name),
            hoist_schema::qualified_mysql_name(&table.database, &table.name),
            at + 1,
            column(&a),
            column(&b),
            file.path
        )));
    }
    Ok(())
}

/// A column's type as shards must agree on it: an integer's display width (`int(11)` from
/// MariaDB and MySQL 5.7, `int` from MySQL 8) does not change what it holds.
fn comparable_type(c: &hoist_schema::Column) -> String {
    match (&c.kind, c.type_text.split_once('('), c.type_text.split_once(')')) {
        (hoist_schema::ColumnKind::Integer { .. }, Some((name, _)), Some((_, rest))) => format!("{name}{rest}"),
        _ => c.type_text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::{catalog, f as file};
    use crate::catalog::DataFile;

    fn rule(schema: &str, table: &str, target_schema: &str, target_table: &str) -> RouteRule {
        RouteRule {
            schema_pattern: schema.into(),
            table_pattern: table.into(),
            target_schema: target_schema.into(),
            target_table: target_table.into(),
        }
    }

    fn router(rules: &[RouteRule]) -> Router {
        Router::new(rules, false).unwrap()
    }

    #[test]
    fn patterns_are_lightnings() {
        for (pattern, name, expected) in [
            ("t*", "t", true),
            ("t*", "t12", true),
            ("t*", "s1", false),
            ("t?", "t1", true),
            ("t?", "t12", false),
            ("t?", "t", false),
            ("db_[0-9]", "db_7", true),
            ("db_[0-9]", "db_x", false),
            ("db_[!0-9]", "db_x", true),
            ("db_[!0-9]", "db_7", false),
            ("db_[13]?", "db_3a", true),
            ("a[b", "a[b", true),
            ("[!]", "!", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("*", "", true),
        ] {
            let p = Pattern::new(pattern, "p").unwrap();
            assert_eq!(p.matches(name), expected, "{pattern} against {name}");
        }
        let e = Pattern::new("a*b", "schema-pattern").unwrap_err().to_string();
        assert!(e.contains("`*` may only end a pattern"), "{e}");
    }

    #[test]
    fn table_rules_before_schema_rules_and_targets_default_to_the_source() {
        let r = router(&[rule("shard_*", "t_*", "all", "t"), rule("shard_*", "", "all", "")]);
        assert_eq!(r.table("shard_1", "t_3").unwrap(), ("all".into(), "t".into()));
        assert_eq!(r.table("shard_1", "other").unwrap(), ("all".into(), "other".into()), "schema-level rule");
        assert_eq!(r.table("app", "t_1").unwrap(), ("app".into(), "t_1".into()), "no rule: itself");
        assert_eq!(r.database("shard_2").unwrap(), "all");
        assert_eq!(r.database("app").unwrap(), "app");
        // Matching ignores case unless asked; targets are as written.
        assert_eq!(r.table("SHARD_1", "T_1").unwrap(), ("all".into(), "t".into()));
        let sensitive = Router::new(&[rule("Shard_*", "t*", "All", "T")], true).unwrap();
        assert_eq!(sensitive.table("shard_1", "t1").unwrap(), ("shard_1".into(), "t1".into()));
        assert_eq!(sensitive.table("Shard_1", "t1").unwrap(), ("All".into(), "T".into()));
    }

    #[test]
    fn ambiguous_and_invalid_rules_are_refused() {
        let r = router(&[rule("db*", "t*", "x", "u"), rule("d*", "t1", "y", "v")]);
        let e = r.table("db1", "t1").unwrap_err().to_string();
        assert!(e.contains("table `db1`.`t1` matches more than one [[routes]] rule"), "{e}");
        assert!(e.contains("target-schema \"x\"") && e.contains("target-schema \"y\""), "{e}");
        assert_eq!(r.table("db1", "t2").unwrap(), ("x".into(), "u".into()));
        let e = Router::new(&[rule("a", "", "x", ""), rule("A", "", "y", "")], false).unwrap_err().to_string();
        assert!(e.contains("have the same patterns"), "{e}");
        let e = Router::new(&[rule("", "t", "x", "")], false).unwrap_err().to_string();
        assert!(e.contains("schema-pattern and target-schema must both be given"), "{e}");
    }

    #[test]
    fn shards_merge_into_one_table_with_every_data_file() {
        let c = catalog(
            &[
                "a0-schema-create.sql",
                "a0.t0-schema.sql",
                "a0.t0.1.sql",
                "a0.t0.2.sql",
                "a0.t1-schema.sql",
                "a0.t1.1.sql",
                "a1-schema-create.sql",
                "a1.s1-schema.sql",
                "a1.s1.sql",
                "a1.t2-schema.sql",
                "a1.t2.sql",
                "a1.t2-schema-triggers.sql",
                "a1.s1-schema-triggers.sql",
                "a1.v-schema.sql",
                "a1.v-schema-view.sql",
                "a1-schema-post.sql",
            ],
            &["*.*", "!a0.t1"],
        );
        let routed = route_catalog(c, &router(&[rule("a*", "t*", "b", "u")])).unwrap();
        let c = routed.catalog;
        let names: Vec<_> = c.tables.iter().map(|t| format!("{}.{}", t.database, t.name)).collect();
        assert_eq!(names, ["a1.s1", "b.u"], "the filter sees source names: a0.t1 stays out");
        let u = &c.tables[1];
        let files: Vec<_> = u.data_files.iter().map(|d| d.file.path.as_str()).collect();
        assert_eq!(files, ["a0.t0.1.sql", "a0.t0.2.sql", "a1.t2.sql"]);
        assert_eq!(u.schema_file.as_ref().map(|f| f.path.as_str()), Some("a0.t0-schema.sql"));
        let sources: Vec<_> = u.sources.iter().map(|s| format!("{}.{}", s.database, s.name)).collect();
        assert_eq!(sources, ["a0.t0", "a1.t2"]);
        assert!(c.tables[0].sources.is_empty(), "an unrouted table is its own source");
        // a0 lost every table; b takes a0's options (the first source database with a file).
        let dbs: Vec<_> = c.databases.iter().map(|(d, f)| (d.as_str(), f.as_ref().map(|f| f.path.as_str()))).collect();
        assert_eq!(dbs, [("a1", Some("a1-schema-create.sql")), ("b", Some("a0-schema-create.sql"))]);
        // The merged table's trigger is left out with a note; s1's stays.
        let triggers: Vec<_> = c.triggers.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(triggers, ["s1"]);
        assert_eq!(routed.notes.len(), 1);
        assert!(routed.notes[0].contains("the triggers of `a1`.`t2` (a1.t2-schema-triggers.sql) were not created"));
        assert_eq!((c.views.len(), c.views[0].database.as_str()), (1, "a1"));
        assert_eq!(c.routines[0].database, "a1");
    }

    #[test]
    fn a_schema_rule_renames_a_database_with_its_objects() {
        let c = catalog(
            &[
                "shop-schema-create.sql",
                "shop.t-schema.sql",
                "shop.t.sql",
                "shop.t-schema-triggers.sql",
                "shop.v-schema-view.sql",
                "shop-schema-post.sql",
            ],
            &[],
        );
        let routed = route_catalog(c, &router(&[rule("shop", "", "shop_copy", "")])).unwrap();
        let c = routed.catalog;
        assert!(routed.notes.is_empty());
        assert_eq!((c.tables[0].database.as_str(), c.tables[0].name.as_str()), ("shop_copy", "t"));
        assert_eq!(c.triggers[0].database, "shop_copy");
        assert_eq!(c.views[0].database, "shop_copy");
        assert_eq!(c.routines[0].database, "shop_copy");
        let dbs: Vec<_> = c.databases.iter().map(|(d, f)| (d.as_str(), f.as_ref().map(|f| f.path.as_str()))).collect();
        assert_eq!(dbs, [("shop_copy", Some("shop-schema-create.sql"))]);
    }

    #[test]
    fn a_view_where_a_table_goes_is_refused() {
        let c = catalog(&["a.t1.sql", "b.u-schema-view.sql"], &[]);
        let e = route_catalog(c, &router(&[rule("a", "t*", "b", "u")])).err().unwrap().to_string();
        assert!(e.contains("where the dump's view `b`.`u` goes too"), "{e}");
    }

    fn table_with_sources(schemas: &[(&str, &str)]) -> (CatalogTable, BTreeMap<String, String>) {
        let mut texts = BTreeMap::new();
        let sources = schemas
            .iter()
            .enumerate()
            .map(|(i, (path, sql))| {
                texts.insert(path.to_string(), sql.to_string());
                SourceTable { database: "a".into(), name: format!("t{i}"), schema_file: Some(file(path)) }
            })
            .collect();
        let t = CatalogTable {
            database: "b".into(),
            name: "u".into(),
            schema_file: None,
            data_files: Vec::<DataFile>::new(),
            sources,
        };
        (t, texts)
    }

    #[test]
    fn merged_sources_must_have_the_same_columns() {
        let (t, texts) = table_with_sources(&[
            ("a.t0-schema.sql", "CREATE TABLE t0 (id int(11) unsigned, v varchar(10)) AUTO_INCREMENT=5"),
            ("a.t1-schema.sql", "create table `t1` (ID INT UNSIGNED, v varchar(10), key (v))"),
        ]);
        check_sources_agree(&t, |p| Ok(texts[p].clone())).unwrap();
        let (t, texts) = table_with_sources(&[
            ("a.t0-schema.sql", "CREATE TABLE t0 (id int, v varchar(10))"),
            ("a.t1-schema.sql", "CREATE TABLE t1 (id int, w varchar(10))"),
        ]);
        let e = check_sources_agree(&t, |p| Ok(texts[p].clone())).unwrap_err().to_string();
        assert!(e.contains("merge `a`.`t0` and `a`.`t1` into `b`.`u`, but their columns differ"), "{e}");
        assert!(e.contains("column 2 is `v` varchar(10) in a.t0-schema.sql and `w` varchar(10) in a.t1-schema.sql"));
        let (t, texts) = table_with_sources(&[
            ("a.t0-schema.sql", "CREATE TABLE t0 (id int)"),
            ("a.t1-schema.sql", "CREATE TABLE t1 (id int, extra int)"),
        ]);
        let e = check_sources_agree(&t, |p| Ok(texts[p].clone())).unwrap_err().to_string();
        assert!(e.contains("column 2 is nothing in a.t0-schema.sql and `extra` int"), "{e}");
        // A width is no integer's type, but a length is a string's.
        let (t, texts) = table_with_sources(&[
            ("a.t0-schema.sql", "CREATE TABLE t0 (id bigint(20), v varchar(10))"),
            ("a.t1-schema.sql", "CREATE TABLE t1 (id int, v varchar(20))"),
        ]);
        let e = check_sources_agree(&t, |p| Ok(texts[p].clone())).unwrap_err().to_string();
        assert!(e.contains("column 1 is `id` bigint in a.t0-schema.sql and `id` int"), "{e}");
    }
}
