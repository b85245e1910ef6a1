//! The chart options of the dashboard, built from its data. Plain data, so they are
//! unit-tested on the host; the browser hands them to ECharts as they are.

use charming::{
    Chart,
    component::{Axis, Grid, Legend},
    datatype::{CompositeValue, DataPoint},
    element::{AxisType, Color, Label, LineStyle, LineStyleType, Tooltip, Trigger},
    series::{Bar, Line, Pie},
};

use crate::endpoints::EndpointPoint;
use crate::format::{instant, millis, money};
use crate::providers::ProviderPoint;
use crate::report::{CostPoint, CostSeries, LatencyPoint, RequestPoint, StatusCount};
use crate::units::EpochMillis;

/// What a chart shows, as a table for people who cannot see the chart: one row a
/// bucket (or slice), its label first, built from the same data as the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartTable {
    /// Headings, the row labels' column first.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ChartTable {
    pub(crate) fn new(columns: &[&str]) -> ChartTable {
        ChartTable {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }
}

/// The table of [`requests_chart`]: requests, successful and failed, per bucket.
pub fn requests_table(points: &[RequestPoint]) -> ChartTable {
    let mut table = ChartTable::new(&["Bucket", "OK", "Errors"]);
    table.rows = points
        .iter()
        .map(|p| vec![instant(p.t), p.ok.to_string(), p.errors.to_string()])
        .collect();
    table
}

/// The table of [`errors_donut`]: failed requests per status code.
pub fn errors_table(breakdown: &[StatusCount]) -> ChartTable {
    let mut table = ChartTable::new(&["Status", "Requests"]);
    table.rows = breakdown
        .iter()
        .map(|s| vec![s.status.to_string(), s.count.to_string()])
        .collect();
    table
}

/// The table of [`costs_chart`]: cost per bucket, a column a model.
pub fn costs_table(costs: &CostSeries) -> ChartTable {
    stacked_costs_table(&costs.models, &costs.points)
}

/// Cost per bucket, a column a name (`points[i].cost_micros[j]` is `names[j]`'s).
pub fn stacked_costs_table(names: &[String], points: &[CostPoint]) -> ChartTable {
    let mut columns = vec!["Bucket"];
    columns.extend(names.iter().map(String::as_str));
    let mut table = ChartTable::new(&columns);
    table.rows = points
        .iter()
        .map(|p| {
            std::iter::once(instant(p.t))
                .chain(p.cost_micros.iter().map(|c| money(*c)))
                .collect()
        })
        .collect();
    table
}

/// The table of [`latency_chart`]: the percentiles per bucket (`–` where none).
pub fn latency_table(points: &[LatencyPoint]) -> ChartTable {
    let mut table = ChartTable::new(&["Bucket", "p50", "p95", "p99"]);
    table.rows = points
        .iter()
        .map(|p| vec![instant(p.t), millis(p.p50), millis(p.p95), millis(p.p99)])
        .collect();
    table
}

/// One bucket of one endpoint's or provider's traffic, as its chart draws it.
pub struct Volume {
    pub t: i64,
    /// Requests (an endpoint's) or calls (a provider's), failed ones included.
    pub total: i64,
    pub errors: i64,
    pub p95_ms: Option<f64>,
}

impl From<&EndpointPoint> for Volume {
    fn from(p: &EndpointPoint) -> Volume {
        Volume {
            t: p.t.ms(),
            total: p.requests,
            errors: p.errors,
            p95_ms: p.p95_ms,
        }
    }
}

impl From<&ProviderPoint> for Volume {
    fn from(p: &ProviderPoint) -> Volume {
        Volume {
            t: p.t.ms(),
            total: p.calls,
            errors: p.errors,
            p95_ms: p.p95_ms,
        }
    }
}

fn volumes<'a, P: 'a>(points: &'a [P]) -> Vec<Volume>
where
    &'a P: Into<Volume>,
{
    points.iter().map(Into::into).collect()
}

/// The table of [`endpoint_chart`]: one endpoint's requests, errors and p95 per bucket.
pub fn endpoint_table(points: &[EndpointPoint]) -> ChartTable {
    volume_table(&volumes(points), "Requests")
}

/// The table of [`provider_chart`]: one provider's calls, errors and p95 per bucket.
pub fn provider_table(points: &[ProviderPoint]) -> ChartTable {
    volume_table(&volumes(points), "Calls")
}

fn volume_table(points: &[Volume], total: &str) -> ChartTable {
    let mut table = ChartTable::new(&["Bucket", total, "Errors", "p95"]);
    table.rows = points
        .iter()
        .map(|p| {
            vec![
                instant(EpochMillis(p.t)),
                p.total.to_string(),
                p.errors.to_string(),
                millis(p.p95_ms),
            ]
        })
        .collect();
    table
}

/// Colour of successful requests.
pub const OK_COLOR: &str = "#3b82f6";
/// Colour of failed requests; red everywhere on the dashboard.
pub const ERROR_COLOR: &str = "#ef4444";

/// Label of a bucket: `14:00` (hours of a day), `Mon 14:00` (hours of a week), `Nov 22` (days).
pub fn bucket_label(start_ms: i64, bucket_ms: i64, buckets: usize) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(start_ms) else {
        return String::new();
    };
    let format = if bucket_ms >= crate::time::DAY_MS {
        "%b %d"
    } else if buckets > 24 {
        "%a %H:00"
    } else {
        "%H:00"
    };
    t.format(format).to_string()
}

pub(crate) fn labels(ts: impl Iterator<Item = i64>, bucket_ms: i64) -> Vec<String> {
    let ts: Vec<i64> = ts.collect();
    let n = ts.len();
    ts.into_iter()
        .map(|t| bucket_label(t, bucket_ms, n))
        .collect()
}

pub(crate) fn base(grid_bottom: i64) -> Chart {
    Chart::new()
        // The card's surface shows through, in ECharts' dark theme too.
        .background_color("transparent")
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .grid(Grid::new().left(56).right(16).top(16).bottom(grid_bottom))
}

/// Stacked bars of successful and failed requests per bucket.
pub fn requests_chart(points: &[RequestPoint], bucket_ms: i64) -> Chart {
    base(48)
        .color(vec![Color::from(OK_COLOR), Color::from(ERROR_COLOR)])
        .legend(Legend::new().data(vec!["OK", "Errors"]).bottom(0))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(points.iter().map(|p| p.t.ms()), bucket_ms)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(
            Bar::new()
                .name("OK")
                .stack("requests")
                .data(points.iter().map(|p| p.ok).collect()),
        )
        .series(
            Bar::new()
                .name("Errors")
                .stack("requests")
                .data(points.iter().map(|p| p.errors).collect()),
        )
}

/// Colour of an error status: 5xx in reds, 429 amber, other 4xx in oranges and yellows.
pub fn status_color(status: i32) -> &'static str {
    match status {
        500 => "#dc2626",
        502 => "#b91c1c",
        503 => "#f43f5e",
        504 => "#9f1239",
        s if s >= 500 => "#ef4444",
        429 => "#f59e0b",
        401 | 403 => "#a855f7",
        404 => "#64748b",
        _ => "#fb923c",
    }
}

/// A donut of failed requests by status code.
pub fn errors_donut(breakdown: &[StatusCount]) -> Chart {
    let data: Vec<(i64, String)> = breakdown
        .iter()
        .map(|s| (s.count, s.status.to_string()))
        .collect();
    Chart::new()
        .background_color("transparent")
        .color(
            breakdown
                .iter()
                .map(|s| Color::from(status_color(s.status)))
                .collect(),
        )
        .tooltip(
            Tooltip::new()
                .trigger(Trigger::Item)
                .formatter("{b}: {c} ({d}%)"),
        )
        .series(
            Pie::new()
                .name("Errors")
                .radius(vec!["50%", "78%"])
                .center(vec!["50%", "50%"])
                .label(Label::new().show(false))
                .data(data),
        )
}

/// Palette of series that are not outcomes (models, percentiles).
pub(crate) const SERIES_COLORS: [&str; 7] = [
    "#6366f1", "#14b8a6", "#f59e0b", "#ec4899", "#0ea5e9", "#84cc16", "#94a3b8",
];

/// Stacked bars of cost (USD) per bucket, by model.
pub fn costs_chart(costs: &CostSeries, bucket_ms: i64) -> Chart {
    stacked_costs_chart(&costs.models, &costs.points, bucket_ms)
}

/// Stacked bars of cost (USD) per bucket, a series a name (model, provider).
pub fn stacked_costs_chart(names: &[String], points: &[CostPoint], bucket_ms: i64) -> Chart {
    let mut chart = base(48)
        .color(SERIES_COLORS.iter().map(|c| Color::from(*c)).collect())
        .legend(Legend::new().bottom(0))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(points.iter().map(|p| p.t.ms()), bucket_ms)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).name("USD"));
    for (i, model) in names.iter().enumerate() {
        let data: Vec<f64> = points.iter().map(|p| p.cost_micros[i].usd()).collect();
        chart = chart.series(Bar::new().name(model.as_str()).stack("cost").data(data));
    }
    chart
}

/// Lines of the 50th, 95th and 99th latency percentiles per bucket (ms).
pub fn latency_chart(points: &[LatencyPoint], bucket_ms: i64) -> Chart {
    // Solid, dashed and dotted: the lines differ in shape as well as in colour.
    let line = |name: &str, style: LineStyleType, f: fn(&LatencyPoint) -> Option<f64>| {
        let data: Vec<DataPoint> = points
            .iter()
            .map(|p| match f(p) {
                Some(v) => DataPoint::from((v * 10.0).round() / 10.0),
                None => DataPoint::from(CompositeValue::from("-")),
            })
            .collect();
        Line::new()
            .name(name)
            .show_symbol(false)
            .line_style(LineStyle::new().type_(style).width(2.0))
            .data(data)
    };
    base(48)
        .color(vec![
            Color::from("#14b8a6"),
            Color::from("#f59e0b"),
            Color::from(ERROR_COLOR),
        ])
        .legend(Legend::new().data(vec!["p50", "p95", "p99"]).bottom(0))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(points.iter().map(|p| p.t.ms()), bucket_ms)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).name("ms"))
        .series(line("p50", LineStyleType::Solid, |p| p.p50))
        .series(line("p95", LineStyleType::Dashed, |p| p.p95))
        .series(line("p99", LineStyleType::Dotted, |p| p.p99))
}

/// One endpoint per bucket: stacked bars of successful and failed requests, and its
/// p95 latency as a dashed line on a second axis (ms).
pub fn endpoint_chart(points: &[EndpointPoint], bucket_ms: i64) -> Chart {
    volume_chart(&volumes(points), bucket_ms)
}

/// One provider per bucket: stacked bars of successful and failed calls, and their p95
/// latency as a dashed line on a second axis (ms).
pub fn provider_chart(points: &[ProviderPoint], bucket_ms: i64) -> Chart {
    volume_chart(&volumes(points), bucket_ms)
}

fn volume_chart(points: &[Volume], bucket_ms: i64) -> Chart {
    let p95: Vec<DataPoint> = points
        .iter()
        .map(|p| match p.p95_ms {
            Some(v) => DataPoint::from((v * 10.0).round() / 10.0),
            None => DataPoint::from(CompositeValue::from("-")),
        })
        .collect();
    base(48)
        .grid(Grid::new().left(56).right(56).top(24).bottom(48))
        .color(vec![
            Color::from(OK_COLOR),
            Color::from(ERROR_COLOR),
            Color::from("#f59e0b"),
        ])
        .legend(Legend::new().data(vec!["OK", "Errors", "p95"]).bottom(0))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(points.iter().map(|p| p.t), bucket_ms)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .y_axis(Axis::new().type_(AxisType::Value).name("ms"))
        .series(
            Bar::new().name("OK").stack("requests").data(
                points
                    .iter()
                    .map(|p| p.total.saturating_sub(p.errors))
                    .collect(),
            ),
        )
        .series(
            Bar::new()
                .name("Errors")
                .stack("requests")
                .data(points.iter().map(|p| p.errors).collect()),
        )
        .series(
            Line::new()
                .name("p95")
                .y_axis_index(1.0)
                .show_symbol(false)
                .line_style(LineStyle::new().type_(LineStyleType::Dashed).width(2.0))
                .data(p95),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CostPoint;
    use crate::units::Micros;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn requests_chart_stacks_ok_and_errors_per_bucket() {
        let points = vec![
            RequestPoint {
                t: EpochMillis(0),
                ok: 7,
                errors: 1,
            },
            RequestPoint {
                t: EpochMillis(HOUR),
                ok: 0,
                errors: 4,
            },
        ];
        let json = serde_json::to_value(requests_chart(&points, HOUR)).unwrap();
        assert_eq!(json["xAxis"]["data"], serde_json::json!(["00:00", "01:00"]));
        assert_eq!(json["series"][0]["name"], "OK");
        assert_eq!(json["series"][0]["data"], serde_json::json!([7, 0]));
        assert_eq!(json["series"][1]["data"], serde_json::json!([1, 4]));
        assert_eq!(json["series"][1]["stack"], "requests");
        assert_eq!(json["color"], serde_json::json!([OK_COLOR, ERROR_COLOR]));
    }

    #[test]
    fn costs_are_dollars_per_model_and_days_are_dates() {
        let costs = CostSeries {
            models: vec!["gpt-4o".into(), "other".into()],
            points: vec![CostPoint {
                t: EpochMillis(0),
                cost_micros: vec![Micros(1_500_000), Micros(250_000)],
            }],
        };
        let json = serde_json::to_value(costs_chart(&costs, crate::time::DAY_MS)).unwrap();
        assert_eq!(json["xAxis"]["data"], serde_json::json!(["Jan 01"]));
        assert_eq!(json["series"][0]["data"], serde_json::json!([1.5]));
        assert_eq!(json["series"][1]["name"], "other");
    }

    #[test]
    fn every_chart_has_a_table_of_its_figures() {
        let requests = requests_table(&[RequestPoint {
            t: EpochMillis(HOUR),
            ok: 7,
            errors: 1,
        }]);
        assert_eq!(requests.columns, ["Bucket", "OK", "Errors"]);
        assert_eq!(requests.rows, [["1970-01-01 01:00 UTC", "7", "1"]]);
        let costs = costs_table(&CostSeries {
            models: vec!["gpt-4o".into(), "other".into()],
            points: vec![CostPoint {
                t: EpochMillis(0),
                cost_micros: vec![Micros(1_500_000), Micros::ZERO],
            }],
        });
        assert_eq!(costs.columns, ["Bucket", "gpt-4o", "other"]);
        assert_eq!(costs.rows, [["1970-01-01 00:00 UTC", "$1.50", "$0"]]);
        let latency = latency_table(&[LatencyPoint {
            t: EpochMillis(0),
            p50: Some(120.0),
            p95: Some(1500.0),
            p99: None,
        }]);
        assert_eq!(latency.rows[0][1..], ["120 ms", "1.50 s", "–"]);
        let errors = errors_table(&[StatusCount {
            status: 503,
            count: 2,
        }]);
        assert_eq!(errors.rows, [["503", "2"]]);
    }

    #[test]
    fn an_endpoint_chart_has_requests_errors_and_its_p95_on_a_second_axis() {
        let points = vec![
            EndpointPoint {
                t: EpochMillis(0),
                requests: 5,
                errors: 2,
                p95_ms: Some(812.34),
            },
            EndpointPoint {
                t: EpochMillis(HOUR),
                requests: 0,
                errors: 0,
                p95_ms: None,
            },
        ];
        let json = serde_json::to_value(endpoint_chart(&points, HOUR)).unwrap();
        assert_eq!(json["series"][0]["data"], serde_json::json!([3, 0]));
        assert_eq!(json["series"][1]["data"], serde_json::json!([2, 0]));
        assert_eq!(json["series"][2]["data"], serde_json::json!([812.3, "-"]));
        assert_eq!(json["series"][2]["yAxisIndex"], 1.0);
        assert_eq!(json["yAxis"].as_array().map(Vec::len), Some(2));
        let table = endpoint_table(&points);
        assert_eq!(table.rows[0], ["1970-01-01 00:00 UTC", "5", "2", "812 ms"]);
        assert_eq!(table.rows[1][3], "–");
    }

    #[test]
    fn error_slices_keep_their_status_colours() {
        let json = serde_json::to_value(errors_donut(&[
            StatusCount {
                status: 503,
                count: 2,
            },
            StatusCount {
                status: 429,
                count: 1,
            },
        ]))
        .unwrap();
        assert_eq!(json["color"], serde_json::json!(["#f43f5e", "#f59e0b"]));
        assert_eq!(json["series"][0]["data"][0]["name"], "503");
    }
}
