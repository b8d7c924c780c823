//! `GET /metrics` in the Prometheus text format: jobs by status and rows ingested (from the job
//! store, so they cover CLI jobs too), plugin instantiations, and request counts and latency
//! per route.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<&'static str, RouteStats>>,
}

impl Metrics {
    pub fn observe(&self, route: &'static str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut routes = self.routes.lock().expect("metrics lock");
        let stats = routes.entry(route).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.count += 1;
        stats.sum += secs;
    }

    /// The exposition text, with the store- and host-side figures passed in.
    pub fn render(
        &self,
        jobs_by_status: &[(String, u64)],
        rows_persisted: u64,
        instantiations: u64,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ferry_jobs Jobs in the store by execution status."
        );
        let _ = writeln!(out, "# TYPE ferry_jobs gauge");
        for (status, n) in jobs_by_status {
            let _ = writeln!(out, "ferry_jobs{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ferry_rows_ingested_total Rows committed to tables by all jobs."
        );
        let _ = writeln!(out, "# TYPE ferry_rows_ingested_total counter");
        let _ = writeln!(out, "ferry_rows_ingested_total {rows_persisted}");
        let _ = writeln!(
            out,
            "# HELP ferry_plugin_instantiations_total Plugin instances created by this process."
        );
        let _ = writeln!(out, "# TYPE ferry_plugin_instantiations_total counter");
        let _ = writeln!(out, "ferry_plugin_instantiations_total {instantiations}");
        let routes = self.routes.lock().expect("metrics lock");
        let _ = writeln!(
            out,
            "# HELP ferry_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE ferry_http_requests_total counter");
        for (route, stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "ferry_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ferry_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(out, "# TYPE ferry_http_request_duration_seconds histogram");
        for (route, stats) in routes.iter() {
            for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                let _ = writeln!(
                    out,
                    "ferry_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "ferry_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "ferry_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                stats.sum
            );
            let _ = writeln!(
                out,
                "ferry_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET /v1/jobs/{id}", 200, Duration::from_micros(1500));
        m.observe("GET /v1/jobs/{id}", 404, Duration::from_millis(30));
        let text = m.render(&[("SUCCESS".into(), 3)], 42, 7);
        assert!(text.contains("ferry_jobs{status=\"SUCCESS\"} 3"));
        assert!(text.contains("ferry_rows_ingested_total 42"));
        assert!(text.contains("route=\"GET /v1/jobs/{id}\",le=\"0.0025\"} 1"));
        assert!(text.contains("route=\"GET /v1/jobs/{id}\",le=\"0.05\"} 2"));
        assert!(
            text.contains(
                "ferry_http_requests_total{route=\"GET /v1/jobs/{id}\",status=\"404\"} 1"
            )
        );
    }
}
