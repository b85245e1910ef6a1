//! The chart options of the dashboard, built from its data. Plain data, so they are
//! unit-tested on the host; the browser hands them to ECharts as they are.

use charming::{
    Chart,
    component::{Axis, Grid, Legend},
    element::{AxisType, Color, Tooltip, Trigger},
    series::Bar,
};

use crate::dto::RequestOverview;

/// Colour of successful requests.
pub const OK_COLOR: &str = "#3b82f6";
/// Colour of failed requests; red everywhere on the dashboard.
pub const ERROR_COLOR: &str = "#ef4444";

/// Stacked bars of successful and failed requests per bucket.
pub fn requests_over_time(overview: &RequestOverview) -> Chart {
    let labels: Vec<String> = overview
        .buckets
        .iter()
        .map(|b| hour_label(b.start))
        .collect();
    let ok: Vec<i64> = overview.buckets.iter().map(|b| b.ok).collect();
    let errors: Vec<i64> = overview.buckets.iter().map(|b| b.errors).collect();
    Chart::new()
        .color(vec![Color::from(OK_COLOR), Color::from(ERROR_COLOR)])
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().data(vec!["OK", "Errors"]).bottom(0))
        .grid(Grid::new().left(48).right(16).top(16).bottom(48))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(Bar::new().name("OK").stack("requests").data(ok))
        .series(Bar::new().name("Errors").stack("requests").data(errors))
}

/// `HH:00` in UTC, the label of an hourly bucket.
fn hour_label(start_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(start_ms)
        .map(|t| t.format("%H:00").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::RequestBucket;

    #[test]
    fn requests_chart_stacks_ok_and_errors_per_hour() {
        let hour = 3_600_000;
        let overview = RequestOverview {
            start: 0,
            end: 2 * hour,
            bucket_ms: hour,
            buckets: vec![
                RequestBucket {
                    start: 0,
                    ok: 7,
                    errors: 1,
                },
                RequestBucket {
                    start: hour,
                    ok: 0,
                    errors: 4,
                },
            ],
            generated_at: 2 * hour,
        };
        let json = serde_json::to_value(requests_over_time(&overview)).unwrap();
        assert_eq!(json["xAxis"]["data"], serde_json::json!(["00:00", "01:00"]));
        assert_eq!(json["series"][0]["name"], "OK");
        assert_eq!(json["series"][0]["data"], serde_json::json!([7, 0]));
        assert_eq!(json["series"][1]["name"], "Errors");
        assert_eq!(json["series"][1]["data"], serde_json::json!([1, 4]));
        assert_eq!(json["series"][1]["stack"], "requests");
        assert_eq!(json["color"], serde_json::json!([OK_COLOR, ERROR_COLOR]));
    }
}
