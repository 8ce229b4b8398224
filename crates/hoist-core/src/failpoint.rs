//! Named pauses for crash tests: `HOIST_FAILPOINTS=name=300ms,other=1s` makes the run wait
//! there, so that a test can `kill -9` it inside a window that is otherwise a few
//! milliseconds wide (between a DDL's start and done markers, say). Unset, a pause is one
//! lookup of a value read once.

use std::sync::OnceLock;
use std::time::Duration;

fn points() -> &'static Vec<(String, Duration)> {
    static POINTS: OnceLock<Vec<(String, Duration)>> = OnceLock::new();
    POINTS.get_or_init(|| {
        let text = std::env::var("HOIST_FAILPOINTS").unwrap_or_default();
        text.split(',')
            .filter_map(|p| {
                let (name, wait) = p.split_once('=')?;
                let wait = wait.trim();
                let ms = match wait.strip_suffix("ms") {
                    Some(ms) => ms.parse().ok()?,
                    None => wait.strip_suffix('s')?.parse::<u64>().ok()? * 1000,
                };
                Some((name.trim().to_string(), Duration::from_millis(ms)))
            })
            .collect()
    })
}

/// Wait here if the environment names this point.
pub async fn pause(name: &str) {
    if let Some((_, wait)) = points().iter().find(|(n, _)| n == name) {
        tracing::info!("failpoint {name}: pausing {} ms", wait.as_millis());
        tokio::time::sleep(*wait).await;
    }
}
