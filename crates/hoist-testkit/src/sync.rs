//! Blocking access to MySQL through mysql_async.
//!
//! Each call runs on a fresh current-thread runtime on a scoped helper thread:
//! a runtime cannot be started on a thread that already runs one (callers may
//! be `#[tokio::test]`s), and connections never outlive their runtime.

use std::future::Future;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Value};

/// A row as the text protocol delivers it: `None` is SQL NULL.
pub(crate) type RawRow = Vec<Option<Vec<u8>>>;

pub(crate) fn block_on<F, Fut, T>(make: F) -> T
where
    F: FnOnce() -> Fut + Send,
    Fut: Future<Output = T>,
    T: Send,
{
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("hoist-testkit: cannot build a tokio runtime");
            rt.block_on(make())
        });
        worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

pub(crate) fn opts(url: &str) -> Result<Opts, mysql_async::Error> {
    let opts = Opts::from_url(url).map_err(mysql_async::Error::from)?;
    // Stay on TCP: do not switch to the server's socket behind our back.
    Ok(OptsBuilder::from_opts(opts).prefer_socket(false).into())
}

/// Run `sql` (several statements allowed) and drop any results.
pub(crate) fn exec(url: &str, sql: &str) -> Result<(), mysql_async::Error> {
    let opts = opts(url)?;
    block_on(move || async move {
        let mut conn = Conn::new(opts).await?;
        let result = conn.query_drop(sql).await;
        let _ = conn.disconnect().await;
        result
    })
}

/// Run `sql` and hand every row of every result set to `each`.
pub(crate) fn for_each_row(url: &str, sql: &str, each: impl FnMut(RawRow) + Send) -> Result<(), mysql_async::Error> {
    let opts = opts(url)?;
    block_on(move || async move {
        let mut conn = Conn::new(opts).await?;
        let result = read_rows(&mut conn, sql, each).await;
        let _ = conn.disconnect().await;
        result
    })
}

async fn read_rows(conn: &mut Conn, sql: &str, mut each: impl FnMut(RawRow)) -> Result<(), mysql_async::Error> {
    let mut result = conn.query_iter(sql).await?;
    while !result.is_empty() {
        result.for_each(|row| each(row.unwrap().into_iter().map(value_bytes).collect())).await?;
    }
    result.drop_result().await
}

fn value_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(b),
        // The text protocol only delivers bytes; keep something sensible anyway.
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::UInt(u) => Some(u.to_string().into_bytes()),
        Value::Float(f) => Some(crate::rows::format_double(f64::from(f)).into_bytes()),
        Value::Double(f) => Some(crate::rows::format_double(f).into_bytes()),
        other => Some(other.as_sql(true).trim_matches('\'').as_bytes().to_vec()),
    }
}

/// Render an error with the server's message, for panics.
pub(crate) fn describe(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => {
            format!("server error {} ({}): {}", s.code, s.state, s.message)
        }
        other => other.to_string(),
    }
}
