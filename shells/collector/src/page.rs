//! The fleet page: server-rendered HTML (maud escapes every value it is given), charts as
//! inline SVG drawn by charts-rs (which escapes its labels), no JavaScript.

use charts_rs::{HorizontalBarChart, LineChart, Series};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::fleet::{Fleet, VersionCount};

/// Most bars or lines in a chart; the rest are summed as `other`.
const MAX_SERIES: usize = 8;

/// The whole page.
pub fn render(fleet: &Fleet) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "support-metrics fleet" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Fleet" }
                p.summary {
                    (fleet.brokers_live) " live brokers, " (fleet.brokers_seen) " seen in the last "
                    (fleet.window_hours) " hours; " (fleet.records) " records stored. Generated "
                    (fleet.generated_at) "."
                }
                section.charts {
                    figure id="kafka-versions" {
                        figcaption { "Live brokers by Kafka version" }
                        (chart(bars(&fleet.by_kafka_version)))
                    }
                    figure id="cp-versions" {
                        figcaption { "Live brokers by Confluent Platform version" }
                        (chart(bars(&fleet.by_confluent_platform_version)))
                    }
                    figure id="adoption" {
                        figcaption { "Brokers reporting per day by Kafka version, last 90 days" }
                        (chart(adoption(fleet)))
                    }
                }
                h2 { "Advisories" }
                @if fleet.advisories.is_empty() {
                    p { "No live broker matches an advisory." }
                } @else {
                    table {
                        tr { th { "Advisory" } th { "Live brokers" } th { "Message" } }
                        @for a in &fleet.advisories {
                            tr { td { (a.id) } td.n { (a.brokers) } td { (a.message) } }
                        }
                    }
                }
                h2 { "Clusters" }
                @if fleet.clusters.is_empty() {
                    p { "No customer record in the window." }
                } @else {
                    table {
                        tr { th { "Customer" } th { "Cluster" } th { "Brokers" } th { "Topics" } th { "Partitions" } th { "Reporting" } th { "Last seen" } }
                        @for c in &fleet.clusters {
                            tr {
                                td { (c.customer_id) } td { (c.cluster_id) } td.n { (c.brokers) }
                                td.n { (c.topics) } td.n { (c.partitions) } td.n { (c.reporting_brokers) }
                                td { (c.last_seen) }
                            }
                        }
                    }
                }
                h2 { "Customers" }
                @if fleet.customers.is_empty() {
                    p { "None." }
                } @else {
                    table {
                        tr { th { "Customer" } th { "Clusters" } th { "Reporting brokers" } th { "Last seen" } }
                        @for c in &fleet.customers {
                            tr { td { (c.customer_id) } td.n { (c.clusters) } td.n { (c.reporting_brokers) } td { (c.last_seen) } }
                        }
                    }
                }
                h2 { "Brokers" }
                table id="brokers" {
                    tr { th { "Token" } th { "State" } th { "Kafka" } th { "Confluent Platform" } th { "Customer" } th { "Cluster" } th { "Last seen" } th { "Advisories" } }
                    @for b in &fleet.brokers {
                        tr {
                            td.token { (b.token) } td { (b.state) } td { (b.kafka_version) }
                            td { (b.confluent_platform_version.as_deref().unwrap_or("-")) }
                            td { (b.customer_id.as_deref().unwrap_or("-")) }
                            td { (b.cluster_id.as_deref().unwrap_or("-")) }
                            td { (b.last_seen) } td { (b.advisories.join(", ")) }
                        }
                    }
                }
                p.foot { "JSON: " a href="api/fleet" { "/api/fleet" } }
            }
        }
    };
    page.into_string()
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
td.n{text-align:right}td.token{font-family:monospace}\
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-weight:bold;margin-bottom:.3em}";

/// An SVG chart, or a line saying there is nothing to draw.
fn chart(svg: Option<String>) -> Markup {
    match svg {
        Some(svg) => html! { (PreEscaped(svg)) },
        None => html! { p.empty { "No data yet." } },
    }
}

/// A horizontal bar per version (the most common first), the rest as `other`.
fn bars(counts: &[VersionCount]) -> Option<String> {
    if counts.is_empty() {
        return None;
    }
    // Up to MAX_SERIES bars; past that, the tail is summed as one `other` bar.
    let shown = if counts.len() > MAX_SERIES {
        MAX_SERIES - 1
    } else {
        counts.len()
    };
    let (head, tail) = counts.split_at(shown);
    let mut labels: Vec<String> = head.iter().map(|c| c.version.clone()).collect();
    let mut values: Vec<f32> = head.iter().map(|c| c.brokers as f32).collect();
    if !tail.is_empty() {
        labels.push("other".into());
        values.push(tail.iter().map(|c| c.brokers as f32).sum());
    }
    // charts-rs draws the first category at the bottom: reverse, so the most common is on top.
    labels.reverse();
    values.reverse();
    let most = values.iter().copied().fold(1.0, f32::max);
    let mut chart = HorizontalBarChart::new(vec![Series::new("brokers".into(), values)], labels);
    // The value axis ends at the longest bar (charts-rs takes no maximum here); up to 6 a
    // step of 1 keeps the ticks whole, past that charts-rs rounds the step up to a whole one.
    if most <= 6.0 {
        chart.y_axis_configs[0].axis_split_number = most as usize;
    }
    // Room for the longest bar's label.
    chart.margin.right = 16.0;
    chart.width = 460.0;
    chart.height = 60.0 + 32.0 * chart.x_axis_data.len() as f32;
    chart.legend_show = Some(false);
    chart.series_list[0].label_show = true;
    chart.svg().ok()
}

/// An axis for counts up to `most`: whole-number ticks (a step of 1, 2 or 5 times a power
/// of ten, at most 6 of them) and a top past `most`, so the longest bar's label has room.
/// Returns the top and the number of steps.
fn count_axis(most: f32) -> (f32, usize) {
    let most = most.max(1.0);
    let mut step = 1.0_f32;
    'find: loop {
        for m in [1.0, 2.0, 5.0] {
            if most / (step * m) < 6.0 {
                step *= m;
                break 'find;
            }
        }
        step *= 10.0;
    }
    let steps = (most / step).floor() + 1.0;
    (step * steps, steps as usize)
}

/// A line per Kafka version (the most reported first), per day.
fn adoption(fleet: &Fleet) -> Option<String> {
    if fleet.adoption.is_empty() {
        return None;
    }
    let mut totals: std::collections::BTreeMap<&str, i64> = Default::default();
    for d in &fleet.adoption {
        for (v, n) in &d.versions {
            *totals.entry(v).or_default() += n;
        }
    }
    let mut versions: Vec<(&str, i64)> = totals.into_iter().collect();
    versions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    versions.truncate(MAX_SERIES);
    let series = versions
        .iter()
        .map(|(v, _)| {
            let data = fleet
                .adoption
                .iter()
                .map(|d| d.versions.get(*v).copied().unwrap_or_default() as f32)
                .collect();
            Series::new((*v).to_owned(), data)
        })
        .collect();
    let days = fleet
        .adoption
        .iter()
        .map(|d| d.date[5..].to_owned())
        .collect();
    let most = fleet
        .adoption
        .iter()
        .flat_map(|d| d.versions.values())
        .copied()
        .max()
        .unwrap_or(0);
    let (top, splits) = count_axis(most as f32);
    let mut chart = LineChart::new(series, days);
    chart.y_axis_configs[0].axis_max = Some(top);
    chart.y_axis_configs[0].axis_split_number = splits;
    chart.width = 640.0;
    chart.height = 320.0;
    chart.svg().ok()
}

/// The fleet as text, for `report`. Values are printed escaped (as JSON strings) where they
/// come from records, so no control character reaches the terminal.
pub fn text(fleet: &Fleet) -> String {
    use std::fmt::Write;
    let q = |s: &str| {
        if s.chars().all(|c| c.is_ascii_graphic()) {
            s.to_owned()
        } else {
            serde_json::Value::from(s).to_string()
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} live brokers, {} seen in the last {} hours; {} records stored",
        fleet.brokers_live, fleet.brokers_seen, fleet.window_hours, fleet.records
    );
    let _ = writeln!(out, "\nBy Kafka version:");
    for v in &fleet.by_kafka_version {
        let _ = writeln!(out, "  {:>6}  {}", v.brokers, q(&v.version));
    }
    let _ = writeln!(out, "\nBy Confluent Platform version:");
    for v in &fleet.by_confluent_platform_version {
        let _ = writeln!(out, "  {:>6}  {}", v.brokers, q(&v.version));
    }
    if !fleet.advisories.is_empty() {
        let _ = writeln!(out, "\nAdvisories:");
        for a in &fleet.advisories {
            let _ = writeln!(out, "  {:>6}  {}: {}", a.brokers, a.id, a.message);
        }
    }
    if !fleet.clusters.is_empty() {
        let _ = writeln!(
            out,
            "\nClusters (customer, cluster, brokers/topics/partitions, last seen):"
        );
        for c in &fleet.clusters {
            let _ = writeln!(
                out,
                "  {} {} {}/{}/{} {}",
                q(&c.customer_id),
                q(&c.cluster_id),
                c.brokers,
                c.topics,
                c.partitions,
                c.last_seen
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::count_axis;

    #[test]
    fn count_axes_have_whole_ticks_and_room_above() {
        for (most, axis) in [
            (0.0, (2.0, 2)),
            (3.0, (4.0, 4)),
            (5.0, (6.0, 6)),
            (6.0, (8.0, 4)),
            (100.0, (120.0, 6)),
            (1234.0, (1500.0, 3)),
        ] {
            assert_eq!(count_axis(most), axis, "{most}");
        }
    }
}
