//! A daemon's metrics in Prometheus' format (prometheus-client): the RPCs it
//! served (counted and timed by the guard around its gRPC server), and, read
//! at each scrape, its node's figures (calls, queue, actors, object store,
//! resources, drivers) and, on the head, its jobs and nodes by state.
//! `web.rs` serves them on `/metrics`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use wrun_runtime::Runtime;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Call {
    /// The RPC's name, e.g. `RunTask`.
    rpc: String,
    /// How it ended: a gRPC code's name (`OK` when the reply's headers
    /// carry none: a streamed reply says how it ended in its trailers).
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rpc {
    rpc: String,
}

type Seconds = Family<Rpc, Histogram, fn() -> Histogram>;

/// The RPCs a daemon served, by name: how many, how they ended, and how
/// long each took to its reply's headers.
#[derive(Debug)]
pub struct RpcMetrics {
    calls: Family<Call, Counter>,
    seconds: Seconds,
}

fn latency_buckets() -> Histogram {
    // 100 us to ~26 s.
    Histogram::new(exponential_buckets(1e-4, 4.0, 10))
}

impl Default for RpcMetrics {
    fn default() -> Self {
        RpcMetrics {
            calls: Family::default(),
            seconds: Family::new_with_constructor(latency_buckets),
        }
    }
}

impl RpcMetrics {
    /// Records a call of `path` (`/package.Service/Method`) that took
    /// `took` to answer with `code`.
    pub fn record(&self, path: &str, code: tonic::Code, took: Duration) {
        let rpc = path.rsplit('/').next().unwrap_or(path).to_string();
        let code = format!("{code:?}");
        self.calls
            .get_or_create(&Call {
                rpc: rpc.clone(),
                code,
            })
            .inc();
        self.seconds
            .get_or_create(&Rpc { rpc })
            .observe(took.as_secs_f64());
    }

    /// Registers them with `registry`.
    pub fn register(self: &Arc<Self>, registry: &mut Registry) {
        registry.register(
            "wrun_rpc_calls",
            "RPCs served, by name and gRPC code",
            self.calls.clone(),
        );
        registry.register(
            "wrun_rpc_seconds",
            "Time to answer an RPC (to its reply's headers), by name",
            self.seconds.clone(),
        );
    }
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// One gauge per value of a label.
fn gauges(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: impl IntoIterator<Item = (String, f64)>,
) -> fmt::Result {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (value, v) in values {
        let labels = [(label, value.as_str())];
        ConstGauge::new(v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A node's figures, read at each scrape.
pub struct NodeFigures {
    rt: Runtime,
    /// Drivers running on this node now.
    drivers: Arc<AtomicU32>,
}

impl NodeFigures {
    /// The figures of `rt`, whose node runs `drivers` drivers.
    pub fn new(rt: Runtime, drivers: Arc<AtomicU32>) -> Self {
        NodeFigures { rt, drivers }
    }
}

impl fmt::Debug for NodeFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeFigures({})", self.rt.node_id())
    }
}

/// A resource set as `(name, amount)` pairs: `cpus`, `memory` (bytes) and
/// each custom resource.
fn amounts(r: &wrun_core::Resources) -> Vec<(String, f64)> {
    let mut all = vec![
        ("cpus".to_string(), r.cpus()),
        ("memory".to_string(), r.memory as f64),
    ];
    all.extend(r.custom_amounts().map(|(k, v)| (k.to_string(), v)));
    all
}

impl Collector for NodeFigures {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let calls = self.rt.counters();
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut e,
            "wrun_calls_submitted",
            "Calls made on this node (tasks and actor methods)",
            n(&calls.submitted),
        )?;
        counter(
            &mut e,
            "wrun_calls_finished",
            "Calls that succeeded",
            n(&calls.finished),
        )?;
        counter(
            &mut e,
            "wrun_calls_failed",
            "Calls that failed",
            n(&calls.failed),
        )?;
        counter(
            &mut e,
            "wrun_calls_retried",
            "Call attempts retried",
            n(&calls.retried),
        )?;
        gauge(
            &mut e,
            "wrun_calls_queued",
            "Calls waiting for resources",
            self.rt.queued() as f64,
        )?;
        gauges(
            &mut e,
            "wrun_calls_live",
            "Calls this node reports that live now, by state",
            "state",
            self.rt
                .live_calls_by_state()
                .map(|(s, n)| (s.as_str().to_string(), n as f64)),
        )?;
        gauge(
            &mut e,
            "wrun_actors_alive",
            "Actors alive on this node",
            self.rt.actor_count() as f64,
        )?;
        gauges(
            &mut e,
            "wrun_actors",
            "Actors by state: alive, and dead ones this node remembers",
            "state",
            self.rt
                .actors_by_state()
                .map(|(s, n)| (s.to_string(), n as f64)),
        )?;
        gauge(
            &mut e,
            "wrun_drivers_running",
            "Job drivers running on this node",
            f64::from(self.drivers.load(Ordering::Relaxed)),
        )?;
        let s = self.rt.store_stats();
        gauge(
            &mut e,
            "wrun_objects",
            "Objects alive in the store (pending, ready or failed)",
            s.objects as f64,
        )?;
        gauge(
            &mut e,
            "wrun_object_bytes_in_memory",
            "Bytes of ready objects held in memory",
            s.bytes_in_memory as f64,
        )?;
        gauge(
            &mut e,
            "wrun_objects_spilled",
            "Objects spilled to disk now",
            s.spilled_objects as f64,
        )?;
        counter(
            &mut e,
            "wrun_object_spills",
            "Objects spilled to disk",
            s.spills_total,
        )?;
        counter(
            &mut e,
            "wrun_object_restores",
            "Spilled objects read back",
            s.restores_total,
        )?;
        counter(
            &mut e,
            "wrun_object_fetches",
            "Objects pulled from other nodes",
            s.fetches_total,
        )?;
        let pool = self.rt.sandbox_figures();
        gauge(
            &mut e,
            "wrun_instances_max",
            "Guest instance slots of the pool",
            pool.max_instances as f64,
        )?;
        gauge(
            &mut e,
            "wrun_instances_in_use",
            "Slots taken: instances running and idle warm ones",
            pool.instances_in_use as f64,
        )?;
        gauge(
            &mut e,
            "wrun_instances_warm_idle",
            "Idle warm instances kept for the next task",
            pool.warm_idle as f64,
        )?;
        let mut loads = e.encode_descriptor(
            "wrun_components_loaded",
            "Components loaded, found compiled in the cache or compiled now",
            None,
            MetricType::Counter,
        )?;
        for (from, n) in [("cache", pool.cache_hits), ("compiled", pool.compiled)] {
            ConstCounter::new(n).encode(loads.encode_family(&[("from", from)])?)?;
        }
        let (total, free) = self.rt.resources();
        gauges(
            &mut e,
            "wrun_resource_total",
            "Resources this node offers",
            "resource",
            amounts(&total),
        )?;
        gauges(
            &mut e,
            "wrun_resource_available",
            "Resources free on this node",
            "resource",
            amounts(&free),
        )?;
        Ok(())
    }
}

/// What the head counts at each scrape: jobs and nodes by state.
pub trait HeadCounts: Send + Sync + 'static {
    /// Jobs the head keeps, by state.
    fn jobs_by_state(&self) -> Vec<(String, f64)>;
    /// Nodes the head knows, by state.
    fn nodes_by_state(&self) -> Vec<(String, f64)>;
    /// Guest lines that came after their job ended (not kept).
    fn late_lines(&self) -> u64;
}

/// The head's figures, read at each scrape.
pub struct HeadFigures(pub Arc<dyn HeadCounts>);

impl fmt::Debug for HeadFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeadFigures")
    }
}

impl Collector for HeadFigures {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        gauges(
            &mut e,
            "wrun_jobs",
            "Jobs the head keeps, by state",
            "state",
            self.0.jobs_by_state(),
        )?;
        gauges(
            &mut e,
            "wrun_nodes",
            "Nodes the head knows, by state",
            "state",
            self.0.nodes_by_state(),
        )?;
        counter(
            &mut e,
            "wrun_job_lines_late",
            "Guest lines that reached the head after their job ended, not kept",
            self.0.late_lines(),
        )?;
        Ok(())
    }
}
