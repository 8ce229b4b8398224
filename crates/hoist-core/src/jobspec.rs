//! A job's spec: what shapes its work, as versioned serde data recorded in the job store when
//! the plan is made. On a rerun the recorded spec and the given one are compared field by
//! field ([`differences`]); a difference is a refusal that names the field and both values.
//!
//! Only what decides the plan or the rows belongs here (filters, format options, the backup a
//! restore is bound to), never what merely tunes a run (concurrency, batch size, retries).

use serde::{Deserialize, Serialize};

/// Bumped when the meaning of a field changes; a checkpoint of another version is refused.
/// 2: a chunk's `checksum` is its rows' content sum (was a hash of their source bytes).
pub const SPEC_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    Import,
    RestoreFull,
    RestorePoint,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Import => "import",
            JobKind::RestoreFull => "restore full",
            JobKind::RestorePoint => "restore point",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub version: u32,
    pub kind: JobKind,
    pub filter: Vec<String>,
    pub no_schema: bool,
    pub max_region_size: u64,
    pub strict_format: bool,
    pub csv: CsvSpec,
    /// For a restore: the backup it restores. A rerun with another backup is refused.
    pub upstream: Option<Upstream>,
    /// For a point-in-time restore: the range of the log it replays after the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogRange>,
    /// `[[routes]]`: which target table each source table loads into. A rerun with other
    /// rules would put rows where the recorded plan does not expect them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<RoutesSpec>,
}

/// The rules of `[[routes]]` and how they match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutesSpec {
    pub case_sensitive: bool,
    pub rules: Vec<crate::config::RouteRule>,
}

/// The part of the upstream's log a point-in-time restore replays: from the backup's position
/// to the restored point. A rerun with another point is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRange {
    /// `FILE:POS` of the backup's snapshot.
    pub start: String,
    /// The restored point as given: `ts ...`, `pos FILE:POS` or `gtid D-S-N`.
    pub restored: String,
}

/// `[mydumper.csv]` as it shapes the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvSpec {
    pub separator: String,
    pub delimiter: String,
    pub terminator: String,
    pub header: bool,
    pub header_schema_match: bool,
    pub null: Vec<String>,
    pub backslash_escape: bool,
    pub trim_last_separator: bool,
    pub not_null: bool,
}

/// The backup a restore is bound to: the upstream server and the instant of its snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    pub cluster_id: String,
    pub backup_ts: String,
}

impl JobSpec {
    /// The text stored in the job store.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a spec always serialises")
    }

    pub fn from_text(text: &str) -> Result<JobSpec, String> {
        let spec: JobSpec = serde_json::from_str(text).map_err(|_| {
            "the checkpoint was written by an older hoist whose settings cannot be compared".to_string()
        })?;
        if spec.version != SPEC_VERSION {
            return Err(format!("the checkpoint has spec version {}, this hoist writes {SPEC_VERSION}", spec.version));
        }
        Ok(spec)
    }
}

/// One field that differs between the recorded spec and the given one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    /// Dotted path of the field, e.g. `csv.separator` or `upstream.backup_ts`.
    pub field: String,
    pub recorded: String,
    pub given: String,
}

impl std::fmt::Display for FieldDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: recorded {}, given {}", self.field, self.recorded, self.given)
    }
}

/// Every leaf field whose value differs, in the order the spec declares them.
pub fn differences(recorded: &JobSpec, given: &JobSpec) -> Vec<FieldDiff> {
    let a = serde_json::to_value(recorded).expect("a spec always serialises");
    let b = serde_json::to_value(given).expect("a spec always serialises");
    let mut out = Vec::new();
    diff_values("", &a, &b, &mut out);
    out
}

fn diff_values(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<FieldDiff>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff_values(&field, va, y.get(key).unwrap_or(&Value::Null), out);
            }
        }
        // Lists of records of the same length (route rules) name the record's field that differs.
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() && x.iter().chain(y).all(Value::is_object) => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff_values(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(FieldDiff { field: path.to_string(), recorded: a.to_string(), given: b.to_string() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            version: SPEC_VERSION,
            kind: JobKind::Import,
            filter: vec!["db.*".into()],
            no_schema: false,
            max_region_size: 256,
            strict_format: false,
            csv: CsvSpec {
                separator: ",".into(),
                delimiter: "\"".into(),
                terminator: String::new(),
                header: true,
                header_schema_match: true,
                null: vec![r"\N".into()],
                backslash_escape: true,
                trim_last_separator: false,
                not_null: false,
            },
            upstream: None,
            log: None,
            routes: None,
        }
    }

    #[test]
    fn equal_specs_have_no_differences() {
        assert!(differences(&spec(), &spec()).is_empty());
        assert_eq!(JobSpec::from_text(&spec().to_text()).unwrap(), spec());
    }

    #[test]
    fn each_differing_field_is_named_with_both_values() {
        let mut given = spec();
        given.csv.separator = ";".into();
        given.upstream = Some(Upstream { cluster_id: "c2".into(), backup_ts: "t2".into() });
        let mut recorded = spec();
        recorded.upstream = Some(Upstream { cluster_id: "c1".into(), backup_ts: "t2".into() });
        let d = differences(&recorded, &given);
        assert_eq!(
            d,
            vec![
                FieldDiff { field: "csv.separator".into(), recorded: "\",\"".into(), given: "\";\"".into() },
                FieldDiff { field: "upstream.cluster_id".into(), recorded: "\"c1\"".into(), given: "\"c2\"".into() },
            ]
        );
        assert_eq!(d[0].to_string(), "csv.separator: recorded \",\", given \";\"");
    }

    #[test]
    fn a_changed_route_names_the_rule_and_its_field() {
        let rule = |table: &str| crate::config::RouteRule {
            schema_pattern: "shard_*".into(),
            table_pattern: "t_*".into(),
            target_schema: "all".into(),
            target_table: table.into(),
        };
        let (mut recorded, mut given) = (spec(), spec());
        recorded.routes = Some(RoutesSpec { case_sensitive: false, rules: vec![rule("t")] });
        given.routes = Some(RoutesSpec { case_sensitive: false, rules: vec![rule("t2")] });
        let d = differences(&recorded, &given);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].to_string(), "routes.rules[0].target-table: recorded \"t\", given \"t2\"");
        given.routes = None;
        assert_eq!(differences(&recorded, &given)[0].field, "routes");
        // A checkpoint written before routes existed reads as one without routes.
        let text = spec().to_text();
        assert!(!text.contains("routes"), "{text}");
        assert_eq!(JobSpec::from_text(&text).unwrap(), spec());
    }

    #[test]
    fn a_missing_upstream_differs_from_a_present_one() {
        let mut given = spec();
        given.upstream = Some(Upstream { cluster_id: "c".into(), backup_ts: "t".into() });
        let d = differences(&spec(), &given);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "upstream");
    }

    #[test]
    fn old_and_foreign_texts_are_refused_with_a_reason() {
        assert!(JobSpec::from_text("max-region-size=256 strict-format=false").unwrap_err().contains("older hoist"));
        let mut s = spec();
        s.version = 99;
        assert!(JobSpec::from_text(&s.to_text()).unwrap_err().contains("version 99"));
    }
}
