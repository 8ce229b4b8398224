//! The status API of `--status-addr` (Lightning's `[lightning] status-addr`): an HTTP/1.1
//! server with two answers, both read from the job's one model ([`Status`]) at the moment of
//! the request, as the progress display reads it:
//!
//! - `GET /status`: the job's [`crate::status::Snapshot`] as JSON;
//! - `GET /metrics`: the same numbers in the Prometheus text format (OpenMetrics 1.0), encoded
//!   by `prometheus-client` from a collector that reads the model at each scrape, so there is
//!   no second set of counters to keep in step.
//!
//! The address is bound before the job starts ([`StatusListener::bind`]): a taken port is an
//! error before anything is written. The server then answers until the process ends.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::status::Status;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error("status address {addr:?}: {why}; give HOST:PORT (port 0: any free port)")]
    Address { addr: String, why: String },
    #[error(
        "cannot serve the status API on {addr}: {source}; give --status-addr another port (0: any free port), or \
         stop what listens there"
    )]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// The bound address, not yet serving.
#[derive(Debug)]
pub struct StatusListener {
    listener: TcpListener,
}

impl StatusListener {
    /// Bind `addr`: `HOST:PORT`, or Lightning's `:PORT` (every interface, as Go reads it).
    pub fn bind(addr: &str) -> Result<StatusListener, StatusError> {
        let wanted = match addr.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => addr.to_string(),
        };
        let invalid = |why: String| StatusError::Address { addr: addr.to_string(), why };
        let resolved = wanted.to_socket_addrs().map_err(|e| invalid(e.to_string()))?;
        let first = resolved.into_iter().next().ok_or_else(|| invalid("it names no address".into()))?;
        let listener = TcpListener::bind(first).map_err(|source| StatusError::Bind { addr: first, source })?;
        listener.set_nonblocking(true).map_err(|source| StatusError::Bind { addr: first, source })?;
        Ok(StatusListener { listener })
    }

    /// Where it listens (with port 0, the port the system chose).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answer requests about `status` on the current runtime until the process ends.
    pub fn serve(self, status: Status) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Metrics(status.clone())));
        let registry = Arc::new(registry);
        Ok(tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    // Out of descriptors, say: the job matters more; try again in a moment.
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (status, registry) = (status.clone(), registry.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let answer = answer(&req, &status, &registry);
                        async move { Ok::<_, Infallible>(answer) }
                    });
                    // A client that goes away mid-answer is no concern of the job's.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }))
    }
}

fn answer<B>(req: &Request<B>, status: &Status, registry: &Registry) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path != "/status" && path != "/metrics" {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: GET /status (JSON) or GET /metrics (Prometheus)\n",
        );
    }
    if req.method() != Method::GET {
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
        response.headers_mut().insert(ALLOW, "GET".parse().expect("a valid header"));
        return response;
    }
    if path == "/status" {
        let mut json = serde_json::to_string_pretty(&status.snapshot()).expect("a snapshot serialises");
        json.push('\n');
        return reply(StatusCode::OK, "application/json", json);
    }
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, registry) {
        Ok(()) => reply(StatusCode::OK, OPENMETRICS, text),
        Err(_) => reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "the metrics could not be encoded\n"),
    }
}

fn reply(code: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = code;
    response.headers_mut().insert(CONTENT_TYPE, content_type.parse().expect("a valid header"));
    response
}

/// The model as Prometheus metrics, read at each scrape (README lists them).
#[derive(Debug)]
struct Metrics(Status);

/// One metric family: its samples (the label values after `job`, and the metric), written
/// only when it has one at least.
struct Family<'a, M> {
    name: &'a str,
    help: &'a str,
    unit: Option<Unit>,
    labels: &'a [&'a str],
    samples: Vec<(Vec<String>, M)>,
}

fn family<'a, M>(name: &'a str, help: &'a str, unit: Option<Unit>, labels: &'a [&'a str]) -> Family<'a, M> {
    Family { name, help, unit, labels, samples: Vec::new() }
}

impl<M: EncodeMetric> Family<'_, M> {
    fn add(&mut self, values: &[&str], metric: M) {
        self.samples.push((values.iter().map(|v| v.to_string()).collect(), metric));
    }

    fn encode(self, encoder: &mut DescriptorEncoder, job: &str) -> std::fmt::Result {
        let Some((_, first)) = self.samples.first() else { return Ok(()) };
        let mut family = encoder.encode_descriptor(self.name, self.help, self.unit.as_ref(), first.metric_type())?;
        for (values, metric) in &self.samples {
            let mut labels = vec![("job", job)];
            labels.extend(self.labels.iter().copied().zip(values.iter().map(String::as_str)));
            metric.encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

fn counter(v: u64) -> ConstCounter<u64> {
    ConstCounter::new(v)
}

fn gauge(v: f64) -> ConstGauge<f64> {
    ConstGauge::new(v)
}

fn count(n: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let s = self.0.snapshot();
        let job = s.job.as_str();
        let info = Info::new(vec![("job", job), ("kind", s.kind.as_str()), ("state", s.state.as_str())]);
        let help = "The job, its kind and its state";
        info.encode(encoder.encode_descriptor("hoist_job", help, None, MetricType::Info)?)?;

        let mut start = family("hoist_start_time", "When the job began, since the epoch", Some(Unit::Seconds), &[]);
        start.add(&[], gauge(self.0.started_unix()));
        start.encode(&mut encoder, job)?;

        let table = &["table"];
        let mut rows = family("hoist_rows", "Rows done, earlier runs' included", None, table);
        let help = "Bytes done (of the dump read, or of the files written), earlier runs' included";
        let mut bytes = family("hoist", help, Some(Unit::Bytes), table);
        let mut planned = family("hoist_planned", "Bytes of the table's plan", Some(Unit::Bytes), table);
        for t in &s.by_table {
            rows.add(&[&t.table], counter(t.rows));
            bytes.add(&[&t.table], counter(t.bytes));
            if let Some(total) = t.bytes_total {
                planned.add(&[&t.table], gauge(total as f64));
            }
        }
        rows.encode(&mut encoder, job)?;
        bytes.encode(&mut encoder, job)?;
        planned.encode(&mut encoder, job)?;

        let state = &["state"];
        let mut units = family("hoist_units", "Units of work (chunks) by state", None, state);
        let u = &s.units;
        for (name, n) in [("pending", u.pending), ("running", u.running), ("done", u.done)] {
            units.add(&[name], count(n));
        }
        units.encode(&mut encoder, job)?;
        let mut tables = family("hoist_tables", "Tables by state", None, state);
        let t = &s.tables;
        for (name, n) in [("pending", t.pending), ("running", t.running), ("done", t.done), ("failed", t.failed)] {
            tables.add(&[name], count(n));
        }
        tables.encode(&mut encoder, job)?;

        let mut eta = family("hoist_eta", "Time the rest takes at this run's rate", Some(Unit::Seconds), &[]);
        if let Some(e) = s.eta_seconds {
            eta.add(&[], gauge(e));
        }
        eta.encode(&mut encoder, job)?;
        let mut errors = family("hoist_errors", "Errors that stopped a table or the job", None, &[]);
        errors.add(&[], counter(s.errors.len() as u64));
        errors.encode(&mut encoder, job)?;

        let Some(log) = &s.log else { return Ok(()) };
        let mut lag = family("hoist_log_lag", "How far the log trails its server", Some(Unit::Seconds), &[]);
        if let Some(l) = log.lag_seconds {
            lag.add(&[], gauge(l as f64));
        }
        lag.encode(&mut encoder, job)?;
        let help = "Upstream commit time of the log's last transaction, since the epoch";
        let mut last = family("hoist_log_last_commit_timestamp", help, Some(Unit::Seconds), &[]);
        if let Some(t) = log.last_commit {
            last.add(&[], gauge(f64::from(t)));
        }
        last.encode(&mut encoder, job)?;
        let mut txns = family("hoist_log_transactions", "Transactions of the log this run took in", None, &[]);
        txns.add(&[], counter(log.transactions));
        txns.encode(&mut encoder, job)?;
        let mut log_bytes = family("hoist_log", "Binlog bytes this run took in", Some(Unit::Bytes), &[]);
        log_bytes.add(&[], counter(log.bytes));
        log_bytes.encode(&mut encoder, job)
    }
}

/// The line that tells where the API is (tests read the port from it).
pub fn listening_line(addr: SocketAddr) -> String {
    format!("status: listening on http://{addr} (GET /status, GET /metrics)")
}
