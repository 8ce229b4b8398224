//! The tables printed at the end of `hoist import`, `restore full` and `backup`.

use hoist_core::import::{ImportReport, Sharing, Verification};

pub fn print(report: &ImportReport) {
    let width = report.tables.iter().map(|t| t.database.len() + t.name.len() + 5).max().unwrap_or(5).max(5);
    // A run with no table to show (a rerun after success) prints no empty table.
    if !report.tables.is_empty() {
        println!();
        // MB are 10^6 bytes, as in the progress bars and log lines.
        println!("{:<width$}  {:>12}  {:>10}  {:>9}  {:>8}  result", "table", "rows", "MB", "time", "indexes");
    }
    let mut verification_notes = Vec::new();
    for t in &report.tables {
        let name = hoist_schema::qualified_mysql_name(&t.database, &t.name);
        let result = match (&t.error, &t.verification) {
            (Some(e), _) => format!("FAILED: {e}"),
            (None, None) => "ok".to_string(),
            (None, Some(Verification::Content)) => "ok, checksum matches".to_string(),
            (None, Some(Verification::Counted)) => "ok, rows counted".to_string(),
            (None, Some(Verification::CountOnly(why))) => {
                verification_notes.push(format!("{name}: rows counted, content not compared: {why}"));
                "ok, rows counted".to_string()
            }
            (None, Some(Verification::Differs(why))) => {
                verification_notes.push(format!("{name}: WARNING, differs from the source: {why}"));
                "ok, DIFFERS (see below)".to_string()
            }
        };
        println!(
            "{name:<width$}  {:>12}  {:>10.1}  {:>8.1}s  {:>7.1}s  {result}",
            t.rows,
            t.bytes as f64 / 1e6,
            t.elapsed.as_secs_f64(),
            t.index_time.as_secs_f64()
        );
    }
    let (rows, rows_before) = report.rows_by_run();
    let failed = report.tables.iter().filter(|t| t.error.is_some()).count();
    for e in &report.object_errors {
        println!("FAILED: {e}");
    }
    for n in verification_notes.iter().chain(&report.notes) {
        println!("note: {n}");
    }
    let outcome = if report.success() {
        "all tables ok".to_string()
    } else {
        format!("{failed} table(s) failed, {} other object(s) failed", report.object_errors.len())
    };
    let (tables, target, secs) = (report.tables.len(), &report.target, report.elapsed.as_secs_f64());
    // After a resume, this run's time is set against this run's rows only.
    if report.shared == Some(Sharing::FinishedElsewhere) {
        println!(
            "{tables} table(s) into {target}: {rows} rows loaded by this process in {secs:.1}s; another hoist process \
             sharing the job finished it, and its summary has the job's totals; {outcome}"
        );
    } else if report.shared == Some(Sharing::WithOthers) {
        println!(
            "{tables} table(s) into {target}: {rows} rows loaded by this process in {secs:.1}s, {rows_before} by other \
             processes sharing the job or by earlier runs; {outcome}"
        );
    } else if rows_before > 0 {
        println!(
            "{tables} table(s) into {target}: {rows} rows loaded by this run in {secs:.1}s, {rows_before} by earlier \
             runs; {outcome}"
        );
    } else {
        println!("{tables} table(s), {rows} rows into {target} in {secs:.1}s; {outcome}");
    }
    if !report.success() {
        if let Some(cp) = &report.checkpoint {
            if report.tables.iter().any(|t| t.error.is_some()) {
                println!(
                    "the checkpoint is kept in {cp}: fix the cause and run the same command again; it will say how to \
                     resolve each failed table"
                );
            } else {
                // Only views, triggers or routines failed: every table is in, and a rerun creates
                // the objects again, nothing else.
                println!(
                    "every table is loaded; only the objects above failed. The checkpoint is kept in {cp}: fix the \
                     cause and run the same command again to create them (add --skip-definer when the user may not \
                     create objects for their DEFINER)"
                );
            }
        }
    }
}

/// What `hoist backup` wrote.
pub fn print_backup(report: &hoist_core::backup::BackupReport) {
    let width = report.tables.iter().map(|t| t.0.len()).max().unwrap_or(5).max(5);
    println!();
    println!("{:<width$}  {:>12}  {:>10}", "table", "rows", "MB");
    for (name, rows, bytes) in &report.tables {
        println!("{name:<width$}  {rows:>12}  {:>10.1}", *bytes as f64 / 1e6);
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    let rows: u64 = report.tables.iter().map(|t| t.1).sum();
    let position = match &report.position {
        Some(p) => format!("binlog {}:{} (gtid {})", p.file, p.pos, if p.gtid.is_empty() { "-" } else { &p.gtid }),
        None => "no binlog position (the binlog is off on the source)".into(),
    };
    println!(
        "backed up {} tables, {rows} rows into {} in {:.1}s; snapshot at {} UTC, {position}; writers were blocked for \
         {:.1} ms",
        report.tables.len(),
        report.storage,
        report.elapsed.as_secs_f64(),
        report.backup_ts,
        report.writers_blocked.as_secs_f64() * 1000.0
    );
}

/// The end of a `log start`: what the log covers now, and what this run added.
pub fn print_log(report: &hoist_core::log_backup::LogReport) {
    let covered = match hoist_core::log_backup::status::covered(&report.index) {
        Some(c) => format!("covers {c}; {} segments, {:.1} MB", c.segments, c.bytes as f64 / 1e6),
        None => "covers nothing yet".into(),
    };
    println!(
        "log stopped: {} {covered}; this run added {} transactions ({:.1} MB) in {:.1}s{}",
        report.storage,
        report.transactions,
        report.bytes as f64 / 1e6,
        report.elapsed.as_secs_f64(),
        match report.reconnects {
            0 => String::new(),
            n => format!(", reconnecting {n} times"),
        }
    );
}
