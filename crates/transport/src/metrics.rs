//! `/metrics` in the Prometheus text format: HTTP latency histograms by route, and what the
//! services count (WebSocket connections, calls, settlements, pushes, SMS refusals, the bus).
//!
//! The text is written by `prometheus-client` (the Prometheus project's Rust client). Its own
//! `Histogram` takes a mutex on every observation and its `Family` a lock over the whole map, so
//! the request path keeps recording into a sharded map of atomics ([`HttpMetrics`]); a scrape
//! gathers everything into a [`Scrape`], which the crate's encoder writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The content type of what [`Scrape::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Default)]
struct Histogram {
    /// Observations per bucket (not cumulative: the encoder sums them); past the last bound
    /// they only count.
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Request latencies by (method, route pattern, status class). Sharded map, atomic counters:
/// recording never takes a global lock.
#[derive(Default)]
pub struct HttpMetrics {
    routes: DashMap<(String, String, u16), Histogram>,
}

impl HttpMetrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let key = (method.to_owned(), route.to_owned(), status / 100 * 100);
        let histogram = self.routes.entry(key).or_default();
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        histogram.sum_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The histograms as they are now, into `scrape`.
    pub fn collect(&self, scrape: &mut Scrape) {
        let samples = self.routes.iter().map(|entry| {
            let (method, route, status) = entry.key();
            let h = entry.value();
            let buckets = BUCKETS.iter().zip(&h.buckets).map(|(bound, n)| (*bound, n.load(Ordering::Relaxed)));
            Sample {
                labels: vec![("method", method.clone()), ("route", route.clone()), ("status", status.to_string())],
                value: Value::Histogram {
                    sum: h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
                    count: h.count.load(Ordering::Relaxed),
                    buckets: buckets.collect(),
                },
            }
        });
        let samples = samples.collect();
        scrape.families.push(Family {
            name: "http_request_duration_seconds",
            help: "HTTP request latency by route.",
            samples,
        });
    }
}

/// Everything one scrape shows, gathered first (some figures are read from the services), then
/// written at once.
#[derive(Debug, Default)]
pub struct Scrape {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<Sample>,
}

#[derive(Debug)]
struct Sample {
    labels: Vec<(&'static str, String)>,
    value: Value,
}

#[derive(Debug)]
enum Value {
    Counter(u64),
    Gauge(i64),
    /// A gauge that is not a count (seconds).
    Measure(f64),
    Histogram {
        sum: f64,
        count: u64,
        buckets: Vec<(f64, u64)>,
    },
}

impl Value {
    fn kind(&self) -> MetricType {
        match self {
            Self::Counter(_) => MetricType::Counter,
            Self::Gauge(_) | Self::Measure(_) => MetricType::Gauge,
            Self::Histogram { .. } => MetricType::Histogram,
        }
    }
}

impl Scrape {
    /// A counter; `name` without `_total`, which the format adds.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: u64) -> &mut Self {
        self.one(name, help, Value::Counter(value))
    }

    /// Counters kept in atomics by the services, read now.
    pub fn counters<'a>(
        &mut self,
        list: impl IntoIterator<Item = (&'static str, &'static str, &'a AtomicU64)>,
    ) -> &mut Self {
        for (name, help, value) in list {
            self.counter(name, help, value.load(Ordering::Relaxed));
        }
        self
    }

    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: i64) -> &mut Self {
        self.one(name, help, Value::Gauge(value))
    }

    /// A gauge that is not a count (seconds, say).
    pub fn measure(&mut self, name: &'static str, help: &'static str, value: f64) -> &mut Self {
        self.one(name, help, Value::Measure(value))
    }

    /// One gauge per value of `label`.
    pub fn gauges(
        &mut self,
        name: &'static str,
        help: &'static str,
        label: &'static str,
        values: impl IntoIterator<Item = (String, i64)>,
    ) -> &mut Self {
        let samples =
            values.into_iter().map(|(at, value)| Sample { labels: vec![(label, at)], value: Value::Gauge(value) });
        self.families.push(Family { name, help, samples: samples.collect() });
        self
    }

    fn one(&mut self, name: &'static str, help: &'static str, value: Value) -> &mut Self {
        self.families.push(Family { name, help, samples: vec![Sample { labels: Vec::new(), value }] });
        self
    }

    /// The Prometheus text format (0.0.4), by `prometheus-client`'s encoder.
    pub fn render(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self));
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.families {
            let Some(first) = family.samples.first() else { continue };
            let mut metric = encoder.encode_descriptor(family.name, family.help, None, first.value.kind())?;
            for sample in &family.samples {
                let mut labelled = metric.encode_family(&sample.labels)?;
                match &sample.value {
                    Value::Counter(n) => labelled.encode_counter::<NoLabelSet, _, u64>(n, None)?,
                    Value::Gauge(n) => labelled.encode_gauge(n)?,
                    Value::Measure(n) => labelled.encode_gauge(n)?,
                    Value::Histogram { sum, count, buckets } => {
                        labelled.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None)?
                    }
                }
            }
        }
        Ok(())
    }
}
