//! The buckets a card reads and the rollup rows that cover them: [`Buckets`], bound as
//! `$1, $2, $3` into a query over one grain, or split into spans so that an hourly
//! range reads its whole UTC days from the daily rows (the same sums, far fewer rows).

use sightline_app::range::TimeRange;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, FromRow};

use crate::store::{Store, StoreError};

/// The buckets `start <= bucket_start < end` of the rollup rows at `grain` (the bucket
/// size in ms): what every card query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buckets {
    pub grain: i64,
    pub start: i64,
    pub end: i64,
}

impl From<&TimeRange> for Buckets {
    fn from(r: &TimeRange) -> Buckets {
        Buckets {
            grain: r.bucket_ms,
            start: r.start.ms(),
            end: r.end.ms(),
        }
    }
}

impl Buckets {
    /// Binds `grain, start, end`, in that order, after what `query` has bound already.
    pub(in crate::store) fn bind<'q, O>(
        self,
        query: QueryAs<'q, Any, O, AnyArguments<'q>>,
    ) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        query.bind(self.grain).bind(self.start).bind(self.end)
    }

    /// The spans that cover these buckets: an hourly range with whole UTC days inside
    /// it reads those days at the daily grain and only its ragged ends hourly.
    fn spans(self) -> Vec<Buckets> {
        use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};
        let first_day = floor_ms(self.start + DAY_MS - 1, DAY_MS);
        let last_day = floor_ms(self.end, DAY_MS);
        if self.grain == HOUR_MS && last_day > first_day {
            let span = |grain, start, end| Buckets { grain, start, end };
            vec![
                span(DAY_MS, first_day, last_day),
                span(HOUR_MS, self.start, first_day),
                span(HOUR_MS, last_day, self.end),
            ]
        } else {
            vec![self]
        }
    }
}

impl Store {
    /// Runs `sql` with `$1 = grain, $2 = start, $3 = end`: the shape of every query over
    /// the buckets of one grain.
    pub(in crate::store) async fn over_buckets<T>(
        &self,
        sql: &str,
        buckets: Buckets,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        Ok(buckets
            .bind(sqlx::query_as(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Runs `outer`, whose `{rows}` stands for the `columns` of `table`'s rows covering
    /// the buckets (see [`Buckets::spans`]).
    pub(in crate::store) async fn over_spans<T>(
        &self,
        table: &str,
        columns: &str,
        outer: &str,
        buckets: Buckets,
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let (rows, spans) = span_rows(table, columns, buckets);
        let sql = outer.replace("{rows}", &rows);
        Ok(bind_spans(sqlx::query_as(&sql), &spans)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// `columns` of `table` over the spans covering `buckets`, bound as `($1, $2, $3)`,
/// `($4, $5, $6)`, …, and those spans.
pub(super) fn span_rows(table: &str, columns: &str, buckets: Buckets) -> (String, Vec<Buckets>) {
    let spans = buckets.spans();
    let sql = (0..spans.len())
        .map(|i| {
            format!(
                "SELECT {columns} FROM {table} \
                 WHERE bucket_ms = ${} AND bucket_start >= ${} AND bucket_start < ${}",
                3 * i + 1,
                3 * i + 2,
                3 * i + 3
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    (sql, spans)
}

/// Binds every span of [`span_rows`], in order.
pub(super) fn bind_spans<'q, O>(
    mut query: QueryAs<'q, Any, O, AnyArguments<'q>>,
    spans: &[Buckets],
) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
    for span in spans {
        query = span.bind(query);
    }
    query
}
