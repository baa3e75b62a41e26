//! The goals, checked against one run's medians: each as a line saying the goal, the
//! figures it was judged on, and whether it was met, in plain words. A goal whose figures the run
//! did not take (a scenario or a peer left out) says so instead of guessing.

use crate::Row;

fn find<'a>(rows: &'a [Row], scenario: &str, metric: &str, system: &str) -> Vec<&'a Row> {
    let mut v: Vec<&Row> =
        rows.iter().filter(|r| r.scenario == scenario && r.metric == metric && r.system == system).collect();
    v.sort_by_key(|r| r.size);
    v
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// "under LIMIT ms median, flat": the median at every size under the limit, and the largest size's
/// at most 1.5 times the smallest's.
fn flat_under(rows: &[Row], scenario: &str, metric: &str, limit: f64, what: &str) -> String {
    let v = find(rows, scenario, metric, "weft");
    let (Some(first), Some(last)) = (v.first(), v.last()) else {
        return format!("| {what}: under {limit} ms median, flat | not measured in this run | - |\n");
    };
    let worst = v.iter().map(|r| r.median).fold(0.0f64, f64::max);
    let growth = last.median / first.median;
    let floor = find(rows, scenario, metric, "kernel (ip)");
    let floor_txt = match (floor.first(), floor.last()) {
        (Some(a), Some(b)) => format!("; the kernel's floor (ip) {:.2} / {:.2} ms", a.median, b.median),
        _ => String::new(),
    };
    format!(
        "| {what}: under {limit} ms median, flat (largest size within 1.5x of the smallest) | {:.2} ms with {} \
         existing, {:.2} ms with {} ({growth:.2}x){floor_txt} | under {limit} ms: {}; flat: {} |\n",
        first.median,
        first.size.unwrap_or(0),
        last.median,
        last.size.unwrap_or(0),
        verdict(worst < limit),
        verdict(growth <= 1.5),
    )
}

fn median_of(rows: &[Row], scenario: &str, metric: &str, system: &str) -> Option<f64> {
    find(rows, scenario, metric, system).first().map(|r| r.median)
}

pub fn goals(rows: &[Row]) -> String {
    let mut s = String::from(
        "## The issue's goals, judged on this run's medians\n\n| goal | figures | verdict |\n|---|---|---|\n",
    );
    s += &flat_under(rows, "attach", "connect", 5.0, "attach (`network connect` of a running container)");
    s += &flat_under(
        rows,
        "attach",
        "run --rm -p",
        5.0,
        "attach as a whole `run --rm -p` (process, namespaces, port, DNS)",
    );
    s += &flat_under(rows, "network-create", "create", 5.0, "network create");
    s += &flat_under(rows, "network-create", "rm", 5.0, "network rm");
    let metric = "local CPU per 1000 queries, 100 outstanding";
    s += &match (median_of(rows, "dns", metric, "weft"), median_of(rows, "dns", metric, "docker")) {
        (Some(w), Some(d)) => format!(
            "| DNS: at most 1/3 of Docker's daemon CPU per query (local names, 100 outstanding) | weft {:.2} µs, \
             Docker {:.2} µs per query: 1/{:.2} | {} |\n",
            w,
            d,
            d / w,
            verdict(w * 3.0 <= d)
        ),
        _ => "| DNS: at most 1/3 of Docker's daemon CPU per query | not measured in this run (needs --peers) | - |\n"
            .into(),
    };
    let metric = "local q/s, 100 outstanding";
    s += &match (median_of(rows, "dns", metric, "weft"), median_of(rows, "dns", metric, "trivial responder")) {
        (Some(w), Some(t)) => format!(
            "| DNS: at least 0.95 of a trivial fixed-answer responder's queries/s (local names, 100 outstanding) | \
             weft {w:.0} q/s, the trivial responder {t:.0} q/s: {:.2} | {} |\n",
            w / t,
            verdict(w >= 0.95 * t)
        ),
        _ => "| DNS: at least 0.95 of a trivial responder's queries/s | not measured in this run | - |\n".into(),
    };
    s += &match median_of(rows, "ports", "published / direct", "weft") {
        Some(r) => format!(
            "| ports: at least 0.95 of direct throughput | median of the per-run ratios {r:.3} | {} |\n",
            verdict(r >= 0.95)
        ),
        None => "| ports: at least 0.95 of direct throughput | not measured in this run | - |\n".into(),
    };
    s += &match find(rows, "restart", "until network ls lists all", "weft").last() {
        Some(r) => format!(
            "| restart with 1000 networks: under 2 s | {:.0} ms with {} networks | {}{} |\n",
            r.median,
            r.size.unwrap_or(0),
            verdict(r.median < 2000.0),
            if r.size.unwrap_or(0) < 1000 { " (at fewer networks than the goal's 1000)" } else { "" }
        ),
        None => "| restart with 1000 networks: under 2 s | not measured in this run | - |\n".into(),
    };
    s.push('\n');
    s
}
