//! bench/run's report: reads the samples a run wrote (one TSV line per sample), computes per
//! scenario, metric, size and system the median, p90, p99, min, max and the ratio of the median to
//! weft's, prints the table, and writes the report as Markdown, JSON and an SVG chart of the medians
//! against the number of existing networks or containers.
//!
//! Usage: `bench-report SAMPLES.tsv META.tsv NOTES.md OUT_PREFIX` writes OUT_PREFIX.{md,json,svg}.
//! A sample line is `scenario<TAB>metric<TAB>size<TAB>system<TAB>value<TAB>unit`, where size is the
//! number of networks or containers that existed (or `-`); a meta line is `key<TAB>value`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use plotters::prelude::*;
use serde::Serialize;

mod goals;

/// One row of the report: the statistics of one (scenario, metric, size, system).
#[derive(Serialize, Clone)]
struct Row {
    scenario: String,
    metric: String,
    size: Option<u64>,
    system: String,
    unit: String,
    n: usize,
    median: f64,
    p90: f64,
    p99: f64,
    min: f64,
    max: f64,
    /// This system's median over weft's, for the same scenario, metric and size.
    ratio_to_weft: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    meta: BTreeMap<String, String>,
    rows: Vec<Row>,
}

/// The order systems appear in, in tables and charts; others follow by name.
const SYSTEMS: [&str; 5] = ["weft", "docker", "netavark", "kernel (ip)", "trivial responder"];

fn system_rank(s: &str) -> usize {
    SYSTEMS.iter().position(|x| *x == s).unwrap_or(SYSTEMS.len())
}

/// The nearest-rank percentile of sorted values (p in 0..=100).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

type Key = (String, String, Option<u64>, String);

fn read_samples(path: &str) -> Result<BTreeMap<Key, (String, Vec<f64>)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read samples {path}: {e}"))?;
    let mut groups: BTreeMap<Key, (String, Vec<f64>)> = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 6 {
            return Err(format!("{path}:{}: expected 6 tab-separated fields, got {}: {line:?}", i + 1, f.len()));
        }
        let size = if f[2] == "-" {
            None
        } else {
            Some(f[2].parse::<u64>().map_err(|e| format!("{path}:{}: size {:?}: {e}", i + 1, f[2]))?)
        };
        let value: f64 = f[4].parse().map_err(|e| format!("{path}:{}: value {:?}: {e}", i + 1, f[4]))?;
        let entry = groups
            .entry((f[0].to_string(), f[1].to_string(), size, f[3].to_string()))
            .or_insert_with(|| (f[5].to_string(), Vec::new()));
        entry.1.push(value);
    }
    Ok(groups)
}

fn rows_of(groups: BTreeMap<Key, (String, Vec<f64>)>) -> Vec<Row> {
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|((scenario, metric, size, system), (unit, mut v))| {
            v.sort_by(f64::total_cmp);
            Row {
                scenario,
                metric,
                size,
                system,
                unit,
                n: v.len(),
                median: median(&v),
                p90: percentile(&v, 90.0),
                p99: percentile(&v, 99.0),
                min: v[0],
                max: v[v.len() - 1],
                ratio_to_weft: None,
            }
        })
        .collect();
    let weft: BTreeMap<(String, String, Option<u64>), f64> = rows
        .iter()
        .filter(|r| r.system == "weft")
        .map(|r| ((r.scenario.clone(), r.metric.clone(), r.size), r.median))
        .collect();
    for r in &mut rows {
        if let Some(w) = weft.get(&(r.scenario.clone(), r.metric.clone(), r.size)) {
            if *w != 0.0 {
                r.ratio_to_weft = Some(r.median / w);
            }
        }
    }
    let order = ["network-create", "attach", "dns", "ports", "restart", "memory"];
    let scen_rank = |s: &str| order.iter().position(|x| *x == s).unwrap_or(order.len());
    rows.sort_by(|a, b| {
        (scen_rank(&a.scenario), &a.scenario, &a.metric, a.size, system_rank(&a.system), &a.system).cmp(&(
            scen_rank(&b.scenario),
            &b.scenario,
            &b.metric,
            b.size,
            system_rank(&b.system),
            &b.system,
        ))
    });
    rows
}

/// A figure with enough digits to read, and no more.
fn fmt(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| scenario | metric | existing | system | n | median | p90 | p99 | min | max | unit | ratio to weft |\n\
         |---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|\n",
    );
    for r in rows {
        let size = r.size.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
        let ratio = r.ratio_to_weft.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.metric,
            size,
            r.system,
            r.n,
            fmt(r.median),
            fmt(r.p90),
            fmt(r.p99),
            fmt(r.min),
            fmt(r.max),
            r.unit,
            ratio
        );
    }
    s
}

/// A chart point: the size, the median, the unit.
type Point = (u64, f64, String);

/// One panel per (scenario, metric) measured at two sizes or more: the median per system against
/// the number of networks or containers that existed.
fn chart(rows: &[Row], path: &str) -> Result<(), String> {
    let mut panels: BTreeMap<(String, String), BTreeMap<String, Vec<Point>>> = BTreeMap::new();
    for r in rows {
        if let Some(size) = r.size {
            panels
                .entry((r.scenario.clone(), r.metric.clone()))
                .or_default()
                .entry(r.system.clone())
                .or_default()
                .push((size, r.median, r.unit.clone()));
        }
    }
    panels.retain(|_, systems| {
        let mut sizes: Vec<u64> = systems.values().flatten().map(|p| p.0).collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes.len() >= 2
    });
    if panels.is_empty() {
        return Ok(());
    }
    let cols = 2usize;
    let nrows = panels.len().div_ceil(cols);
    let root = SVGBackend::new(path, (1200, 380 * nrows as u32)).into_drawing_area();
    let err = |e: &dyn std::fmt::Display| format!("chart {path}: {e}");
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let areas = root.split_evenly((nrows, cols));
    // One colour per system, the same in every panel, in the order of SYSTEMS.
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(127, 127, 127),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (area, ((scenario, metric), systems)) in areas.iter().zip(panels.iter()) {
        let xmax = systems.values().flatten().map(|p| p.0).max().unwrap_or(1).max(1) as f64;
        // A log scale: the peers' figures are often 10-100 times weft's, which a linear axis flattens.
        // Whole decades, so that every panel has labelled ticks.
        let vmax = systems.values().flatten().map(|p| p.1).fold(0.0f64, f64::max).max(1e-6);
        let vmin = systems.values().flatten().map(|p| p.1).filter(|v| *v > 0.0).fold(f64::MAX, f64::min).min(vmax);
        let ymin = 10f64.powf(vmin.log10().floor());
        let ymax = 10f64.powf((vmax * 1.2).log10().ceil());
        let unit = systems.values().flatten().next().map(|p| p.2.clone()).unwrap_or_default();
        let mut c = ChartBuilder::on(area)
            .caption(format!("{scenario}: {metric}"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..xmax * 1.05, (ymin..ymax).log_scale())
            .map_err(|e| err(&e))?;
        c.configure_mesh()
            .x_desc("networks or containers already there")
            .y_desc(format!("median, {unit} (log scale)"))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| err(&e))?;
        let mut names: Vec<&String> = systems.keys().collect();
        names.sort_by_key(|s| (system_rank(s), s.to_string()));
        for name in names {
            let color = palette[system_rank(name).min(palette.len() - 1)];
            let mut pts: Vec<(f64, f64)> = systems[name].iter().map(|p| (p.0 as f64, p.1)).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            c.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(|e| err(&e))?;
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, samples, meta_path, notes_path, out] = args.as_slice() else {
        return Err("usage: bench-report SAMPLES.tsv META.tsv NOTES.md OUT_PREFIX".into());
    };
    let rows = rows_of(read_samples(samples)?);
    let meta_text = std::fs::read_to_string(meta_path).map_err(|e| format!("read meta {meta_path}: {e}"))?;
    let meta: BTreeMap<String, String> =
        meta_text.lines().filter_map(|l| l.split_once('\t')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let notes = std::fs::read_to_string(notes_path).unwrap_or_default();
    let tbl = table(&rows);
    let goals = goals::goals(&rows);
    print!("{tbl}\n{goals}");
    let svg = format!("{out}.svg");
    chart(&rows, &svg)?;
    let svg_name = std::path::Path::new(&svg).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut md = String::from("# bench/run report\n\n");
    for (k, v) in &meta {
        let _ = writeln!(md, "- **{k}**: {v}");
    }
    let _ = write!(
        md,
        "\nTimes are whole command runs as a user sees them (process start included), unless the metric \
         says otherwise. `existing` is the number of networks or containers already there. The ratio is \
         this system's median over weft's: above 1 means slower (or, for q/s and Gbit/s, more).\n\n{tbl}\n\
         {goals}![medians against the number of existing networks or containers]({svg_name})\n\n{notes}"
    );
    std::fs::write(format!("{out}.md"), md).map_err(|e| format!("write {out}.md: {e}"))?;
    let json = serde_json::to_string_pretty(&Report { meta, rows }).map_err(|e| format!("json: {e}"))?;
    std::fs::write(format!("{out}.json"), json + "\n").map_err(|e| format!("write {out}.json: {e}"))?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}
