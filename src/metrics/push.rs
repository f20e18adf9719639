//! Metrics over OTLP (or the console): a thread that takes a snapshot of the
//! registry every `TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS` and pushes it to
//! `{endpoint}/v1/metrics` as cumulative sums, gauges and histograms with the
//! Prometheus names and labels, through the trace exporter's OTLP client and its
//! retry rules; one last push at shutdown, so that a short stdio session's
//! `mcp_session_duration_seconds` reaches the collector.

use super::Metrics;
use super::catalog::{Catalog, Point, Visitor};
use super::registry::{Desc, Kind, LabelValues};
use crate::config::Config;
use crate::otlp::{HistogramPoint, Metric, MetricData, NumberPoint, NumberValue, Temporality};
use crate::telemetry::model::{KeyValue, Scope};
use crate::telemetry::{ExportStats, Otlp, Wire, now_unix_nano, signal_url};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// The longest the final push may take at shutdown.
const FINAL_PUSH: Duration = Duration::from_secs(5);

/// The registry as OTLP metrics, in catalog order, all points stamped now.
pub(crate) fn snapshot(catalog: &Catalog) -> Vec<Metric> {
    let mut builder = Builder {
        metrics: Vec::new(),
        current: None,
        start: catalog.start_unix_nano,
        now: now_unix_nano(),
    };
    catalog.collect(&mut builder);
    builder.metrics
}

struct Builder {
    metrics: Vec<Metric>,
    current: Option<&'static str>,
    start: u64,
    now: u64,
}

impl Visitor for Builder {
    fn sample(&mut self, desc: &'static Desc, labels: LabelValues<'_>, point: Point<'_>) {
        if self.current != Some(desc.name) {
            self.current = Some(desc.name);
            let data = match desc.kind {
                Kind::Counter => MetricData::Sum {
                    points: Vec::new(),
                    monotonic: true,
                    temporality: Temporality::Cumulative,
                },
                Kind::Gauge => MetricData::Gauge(Vec::new()),
                Kind::Histogram => MetricData::Histogram {
                    points: Vec::new(),
                    temporality: Temporality::Cumulative,
                },
            };
            self.metrics.push(Metric {
                name: Cow::Borrowed(desc.name),
                description: Cow::Borrowed(desc.help),
                unit: Cow::Borrowed(desc.unit),
                data,
            });
        }
        let attributes: Vec<KeyValue> = (0..labels.len())
            .map(|i| KeyValue::new(desc.labels[i], labels.get(i).to_string()))
            .collect();
        let Some(metric) = self.metrics.last_mut() else {
            return;
        };
        let value = match point {
            Point::Int(n) => NumberValue::Int(i64::try_from(n).unwrap_or(i64::MAX)),
            Point::Signed(n) => NumberValue::Int(n),
            Point::Float(f) => NumberValue::Double(f),
            Point::Histogram(h) => {
                if let MetricData::Histogram { points, .. } = &mut metric.data {
                    let bucket_counts: Vec<u64> = h.counts().collect();
                    points.push(HistogramPoint {
                        attributes,
                        start_time_unix_nano: self.start,
                        time_unix_nano: self.now,
                        count: bucket_counts.iter().sum(),
                        sum: Some(h.sum()),
                        bucket_counts,
                        explicit_bounds: h.bounds().to_vec(),
                        min: None,
                        max: None,
                        flags: 0,
                    });
                }
                return;
            }
        };
        let number = |start| NumberPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: self.now,
            value,
            flags: 0,
        };
        match &mut metric.data {
            MetricData::Sum { points, .. } => points.push(number(self.start)),
            // A gauge has no start time.
            MetricData::Gauge(points) => points.push(number(0)),
            MetricData::Histogram { .. } => {}
        }
    }
}

/// The push thread, when `otlp` or `console` is among the metrics exporters.
#[derive(Debug, Default)]
pub struct MetricsPush {
    worker: Option<(crate::threads::Handle, SyncSender<()>, Receiver<()>)>,
    /// Outcomes of the OTLP pushes, for the health check.
    stats: Option<Arc<ExportStats>>,
}

enum Target {
    Otlp(Box<Otlp>),
    Console,
}

/// The metrics signal on the wire: `/v1/metrics`, `ExportMetricsServiceResponse`.
struct MetricsWire;

impl Wire for MetricsWire {
    const NAME: &'static str = "metrics";
    fn partial_success(
        body: &[u8],
    ) -> Result<Option<crate::otlp::PartialSuccess>, crate::otlp::DecodeError> {
        // `rejected_data_points` = 1 and `error_message` = 2, as in the trace response.
        crate::otlp::decode_partial_success(body)
    }
}

impl MetricsPush {
    /// Starts pushing `metrics` as configured, or does nothing (no push exporter,
    /// metrics disabled).
    pub fn start(config: &Config, metrics: Arc<Metrics>) -> MetricsPush {
        let m = &config.telemetry.metrics;
        if !metrics.is_enabled() || !(m.exporters.otlp || m.exporters.console) {
            return MetricsPush::default();
        }
        let targets: Vec<Target> = [
            m.exporters
                .otlp
                .then(|| Target::Otlp(Box::new(Otlp::new(config, signal_url(config, "metrics"))))),
            m.exporters.console.then_some(Target::Console),
        ]
        .into_iter()
        .flatten()
        .collect();
        let stats = Arc::new(ExportStats::default());
        let pusher = Pusher {
            metrics,
            targets,
            resource: crate::telemetry::resource(config),
            interval: Duration::from_secs(m.interval_seconds),
            timeout: config.telemetry.tracing.export_timeout,
            stats: Arc::clone(&stats),
        };
        // Capacity 2: one message may be taken by a retry wait, the other ends the loop.
        let (stop, stop_rx) = sync_channel(2);
        let (done_tx, done) = sync_channel(1);
        match crate::threads::spawn("otlp-metrics".into(), move || {
            pusher.run(&stop_rx);
            let _ = done_tx.send(());
        }) {
            Ok(handle) => MetricsPush {
                worker: Some((handle, stop, done)),
                stats: m.exporters.otlp.then_some(stats),
            },
            Err(e) => {
                log::error!(error:% = e; "cannot start the metrics push thread; metrics are not pushed");
                MetricsPush::default()
            }
        }
    }

    /// Outcomes of the OTLP pushes (success, last error), when pushing to OTLP.
    pub fn stats(&self) -> Option<Arc<ExportStats>> {
        self.stats.clone()
    }

    /// Starts the last push now, without waiting for it: see [`MetricsPush::finish`].
    pub fn begin_shutdown(&self) {
        if let Some((_, stop, _)) = &self.worker {
            let _ = stop.try_send(());
            let _ = stop.try_send(());
        }
    }

    /// Makes the last push (unless begun already) and waits for it until `deadline`.
    pub fn finish(self, deadline: Instant) {
        self.begin_shutdown();
        if let Some((handle, _, done)) = self.worker {
            if done
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .is_ok()
            {
                handle.join();
            } else {
                log::warn!("the final metrics push did not finish before the shutdown deadline");
            }
        }
    }
}

struct Pusher {
    metrics: Arc<Metrics>,
    targets: Vec<Target>,
    resource: crate::telemetry::model::Resource,
    interval: Duration,
    timeout: Duration,
    /// The OTLP client's request and retry counts and the last outcome.
    stats: Arc<ExportStats>,
}

impl Pusher {
    fn run(&self, stop: &Receiver<()>) {
        loop {
            match stop.recv_timeout(self.interval) {
                Err(RecvTimeoutError::Timeout) => {
                    self.push(Instant::now() + self.timeout, Some(stop));
                }
                // Shutdown: one attempt, no retries.
                _ => {
                    self.push(Instant::now() + FINAL_PUSH.min(self.timeout), None);
                    return;
                }
            }
        }
    }

    fn push(&self, deadline: Instant, retry: Option<&Receiver<()>>) {
        let metrics = self.metrics.otlp_metrics();
        for target in &self.targets {
            match target {
                Target::Console => crate::logging::write_line(&console_json(&metrics)),
                Target::Otlp(otlp) => {
                    let scope = Scope {
                        name: Cow::Borrowed("telemetryflow-mcp"),
                        version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
                    };
                    let body =
                        crate::otlp::encode_metrics_request(&self.resource, &scope, &metrics);
                    if body.is_empty() {
                        continue;
                    }
                    let ok = match otlp.send::<MetricsWire>(&body, deadline, retry, &self.stats) {
                        Ok(_) => {
                            self.stats.record_success();
                            true
                        }
                        Err(reason) => {
                            self.stats.record_failure(&reason);
                            log::warn!(endpoint = otlp.url.as_str(), reason = reason.as_str(); "OTLP metrics push failed");
                            false
                        }
                    };
                    self.metrics.record_push(ok);
                }
            }
        }
    }
}

/// One console snapshot: `{"metrics": [{name, type, unit, points}]}` on one line.
fn console_json(metrics: &[Metric]) -> String {
    let attrs = |kvs: &[KeyValue]| {
        let map: serde_json::Map<String, Value> = kvs
            .iter()
            .map(|kv| {
                let v = match &kv.value {
                    crate::telemetry::model::Value::Str(s) => json!(s),
                    other => json!(format!("{other:?}")),
                };
                (kv.key.to_string(), v)
            })
            .collect();
        Value::Object(map)
    };
    let number = |v: &NumberValue| match v {
        NumberValue::Int(i) => json!(i),
        NumberValue::Double(d) if d.is_finite() => json!(d),
        NumberValue::Double(d) => json!(d.to_string()),
    };
    let items: Vec<Value> = metrics
        .iter()
        .map(|m| {
            let (kind, points) = match &m.data {
                MetricData::Gauge(points) => ("gauge", points_json(points, &attrs, &number)),
                MetricData::Sum { points, .. } => ("sum", points_json(points, &attrs, &number)),
                MetricData::Histogram { points, .. } => (
                    "histogram",
                    points
                        .iter()
                        .map(|p| {
                            json!({
                                "attributes": attrs(&p.attributes),
                                "count": p.count,
                                "sum": p.sum,
                                "bucket_counts": p.bucket_counts,
                                "explicit_bounds": p.explicit_bounds,
                            })
                        })
                        .collect(),
                ),
            };
            json!({"name": m.name, "type": kind, "unit": m.unit, "points": points})
        })
        .collect();
    json!({ "metrics": items }).to_string()
}

fn points_json(
    points: &[NumberPoint],
    attrs: &impl Fn(&[KeyValue]) -> Value,
    number: &impl Fn(&NumberValue) -> Value,
) -> Vec<Value> {
    points
        .iter()
        .map(|p| json!({"attributes": attrs(&p.attributes), "value": number(&p.value)}))
        .collect()
}
