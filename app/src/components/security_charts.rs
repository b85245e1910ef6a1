//! The security view's chart options and the tables of their figures, built from its
//! report. Plain data, unit-tested on the host like the dashboard's.

use charming::{
    Chart,
    component::{Axis, Legend},
    element::{AxisType, Color},
    series::{Bar, Line},
};

use crate::components::charts::{ChartTable, ERROR_COLOR, SERIES_COLORS, base, labels};
use crate::format::instant;
use crate::security::{AUTH_EVENT_TYPES, AuthPoint, DailyPoint};

/// The table of [`auth_events_chart`]: per bucket, the events of each type and the failed ones.
pub fn auth_events_table(points: &[AuthPoint]) -> ChartTable {
    let mut columns = vec!["Bucket"];
    columns.extend(AUTH_EVENT_TYPES.iter().map(|(_, label)| *label));
    columns.push("Failed");
    let mut table = ChartTable::new(&columns);
    table.rows = points
        .iter()
        .map(|p| {
            std::iter::once(instant(p.t))
                .chain(p.counts().iter().map(i64::to_string))
                .chain(std::iter::once(p.failures.to_string()))
                .collect()
        })
        .collect();
    table
}

/// Stacked bars of the events per bucket by type (failed logins in red), and a line of
/// every failed event.
pub fn auth_events_chart(points: &[AuthPoint], bucket_ms: i64) -> Chart {
    let mut colors: Vec<Color> = SERIES_COLORS[..3].iter().map(|c| Color::from(*c)).collect();
    colors.push(Color::from(ERROR_COLOR));
    colors.extend(SERIES_COLORS[3..5].iter().map(|c| Color::from(*c)));
    colors.push(Color::from("#991b1b"));
    let mut chart = base(56)
        .color(colors)
        .legend(Legend::new().bottom(0))
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(points.iter().map(|p| p.t.ms()), bucket_ms)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1));
    for (i, (_, label)) in AUTH_EVENT_TYPES.iter().enumerate() {
        let data: Vec<i64> = points.iter().map(|p| p.counts()[i]).collect();
        chart = chart.series(Bar::new().name(*label).stack("events").data(data));
    }
    chart.series(
        Line::new()
            .name("Failed")
            .show_symbol(false)
            .data(points.iter().map(|p| p.failures).collect()),
    )
}

/// The table of [`daily_chart`].
pub fn daily_table(days: &[DailyPoint]) -> ChartTable {
    let mut table = ChartTable::new(&["Day", "Active users", "Signups"]);
    table.rows = days
        .iter()
        .map(|d| {
            vec![
                crate::components::charts::bucket_label(
                    d.day.ms(),
                    crate::time::DAY_MS,
                    days.len(),
                ),
                d.active_users.to_string(),
                d.signups.to_string(),
            ]
        })
        .collect();
    table
}

/// Bars of the active users per day, a line of the signups.
pub fn daily_chart(days: &[DailyPoint]) -> Chart {
    base(48)
        .color(vec![
            Color::from(SERIES_COLORS[0]),
            Color::from(SERIES_COLORS[1]),
        ])
        .legend(
            Legend::new()
                .data(vec!["Active users", "Signups"])
                .bottom(0),
        )
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .data(labels(days.iter().map(|d| d.day.ms()), crate::time::DAY_MS)),
        )
        .y_axis(Axis::new().type_(AxisType::Value).min_interval(1))
        .series(
            Bar::new()
                .name("Active users")
                .data(days.iter().map(|d| d.active_users).collect()),
        )
        .series(
            Line::new()
                .name("Signups")
                .data(days.iter().map(|d| d.signups).collect()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::EpochMillis;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn events_stack_by_type_and_failures_are_a_line() {
        let points = vec![
            AuthPoint {
                t: EpochMillis(0),
                login: 3,
                login_failed: 2,
                failures: 2,
                ..AuthPoint::default()
            },
            AuthPoint {
                t: EpochMillis(HOUR),
                signup: 1,
                ..AuthPoint::default()
            },
        ];
        let json = serde_json::to_value(auth_events_chart(&points, HOUR)).unwrap();
        assert_eq!(json["series"][0]["name"], "Signups");
        assert_eq!(json["series"][0]["data"], serde_json::json!([0, 1]));
        assert_eq!(json["series"][1]["data"], serde_json::json!([3, 0]));
        assert_eq!(json["series"][3]["name"], "Failed logins");
        assert_eq!(json["series"][3]["stack"], "events");
        assert_eq!(json["series"][6]["name"], "Failed");
        assert_eq!(json["series"][6]["data"], serde_json::json!([2, 0]));
        assert_eq!(json["color"][3], ERROR_COLOR);
        let table = auth_events_table(&points);
        assert_eq!(table.columns.len(), 8);
        assert_eq!(
            table.rows[0],
            ["1970-01-01 00:00 UTC", "0", "3", "0", "2", "0", "0", "2"]
        );
    }

    #[test]
    fn days_show_active_users_and_signups() {
        let days = [DailyPoint {
            day: EpochMillis(0),
            active_users: 4,
            signups: 1,
        }];
        let json = serde_json::to_value(daily_chart(&days)).unwrap();
        assert_eq!(json["xAxis"]["data"], serde_json::json!(["Jan 01"]));
        assert_eq!(json["series"][0]["data"], serde_json::json!([4]));
        assert_eq!(json["series"][1]["data"], serde_json::json!([1]));
        assert_eq!(daily_table(&days).rows, [["Jan 01", "4", "1"]]);
    }
}
