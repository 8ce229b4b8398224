//! Whether a recorded checkpoint may be reused for this run (DESIGN.md invariants 3-5). Each
//! refusal says what differs and the command that resolves it.

use std::collections::BTreeMap;

use crate::checkpoint::Checkpoint;
use crate::error::CheckpointError;
use crate::source::{Source, SourceFile};

pub fn check_reuse(
    cp: &Checkpoint,
    source: &Source,
    target_identity: &str,
    files: &[SourceFile],
    plan_settings: &str,
    locate: &str,
) -> Result<(), CheckpointError> {
    let store_location = "the checkpoint";
    let start_over = format!("to start over, remove it: hoist checkpoint remove all{locate}");
    let errors: Vec<_> = cp.tables.iter().filter(|t| t.error.is_some()).collect();
    if !errors.is_empty() {
        let mut msg = format!(
            "{store_location} records errors in {} table(s); fix the cause, then resolve each:\n",
            errors.len()
        );
        for t in errors {
            let e = t.error.as_ref().expect("filtered");
            let name = format!("`{}`.`{}`", t.database, t.name);
            msg.push_str(&format!(
                "  {name}: {} (failed in state {})\n    to drop the table in the target and load it again: hoist checkpoint error-destroy '{name}'{locate}\n    \
                 to clear the error and go on from where it stopped: hoist checkpoint error-ignore '{name}'{locate}\n",
                e.message, e.step
            ));
        }
        return Err(CheckpointError::Refused(msg.trim_end().to_string()));
    }
    if cp.task.source != source.location() {
        return Err(CheckpointError::Refused(format!(
            "{store_location} belongs to an import of {}, not of {}; {start_over}",
            cp.task.source,
            source.location()
        )));
    }
    if cp.task.target_identity != target_identity {
        return Err(CheckpointError::Refused(format!(
            "{store_location} was recorded against another target ({}, identity {}), \
             this one is {target_identity}; point hoist at the original target, or {start_over}",
            cp.task.target, cp.task.target_identity
        )));
    }
    if cp.task.plan_settings != plan_settings {
        return Err(CheckpointError::Refused(format!(
            "the settings that shape the plan changed since the checkpoint was recorded:\n  recorded: {}\n  now:      {plan_settings}\n\
             run with the recorded settings, or {start_over}",
            cp.task.plan_settings
        )));
    }
    let recorded: BTreeMap<&str, (u64, i64)> =
        cp.files.iter().map(|f| (f.path.as_str(), (f.size, f.modified_ms))).collect();
    let now: BTreeMap<&str, (u64, i64)> = files.iter().map(|f| (f.path.as_str(), (f.size, f.modified_ms))).collect();
    for (path, (size, mtime)) in &recorded {
        match now.get(path) {
            None => {
                return Err(CheckpointError::Refused(format!(
                "the source changed since the checkpoint was recorded: {path} was removed; restore it, or {start_over}"
            )))
            }
            Some((s, m)) if s != size || m != mtime => {
                return Err(CheckpointError::Refused(format!(
                    "the source changed since the checkpoint was recorded: {path} was modified \
                     (size {size} -> {s} bytes, modified {mtime} -> {m} ms); restore it, or {start_over}"
                )))
            }
            _ => {}
        }
    }
    if let Some(path) = now.keys().find(|p| !recorded.contains_key(*p)) {
        return Err(CheckpointError::Refused(format!(
            "the source changed since the checkpoint was recorded: {path} was added; remove it, or {start_over}"
        )));
    }
    Ok(())
}
