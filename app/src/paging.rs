//! Keyset pagination, as every list view does it: a page of rows and where the next one
//! starts. No total: counting millions of rows for every page would cost more than the
//! page (the threats view, whose bulk actions need one, counts apart).

use serde::{Deserialize, Serialize};

use crate::query::QueryError;
use crate::query::{in_bounds, param};
use crate::units::EpochMillis;

/// One page of a list, ordered by the key its cursor `C` holds, descending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T, C = Cursor> {
    pub rows: Vec<T>,
    /// The next page, if there is one.
    pub next: Option<C>,
}

// By hand: a derive would ask `T` and `C` for a default they need not have.
impl<T, C> Default for Page<T, C> {
    fn default() -> Self {
        Page {
            rows: Vec::new(),
            next: None,
        }
    }
}

/// Where a page ordered by an instant, then by row id, starts: after the row at `at`
/// with id `id` (a session's start, a threat's last sighting; newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cursor {
    pub at: EpochMillis,
    pub id: i64,
}

impl Cursor {
    /// Reads `<at>_<id>`.
    pub fn parse(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('_')?;
        Some(Cursor {
            at: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }

    /// The URL form, `<at>_<id>`.
    pub fn to_param(self) -> String {
        format!("{}_{}", self.at, self.id)
    }

    /// The `after` parameter at `now`: absent or blank is the first page; a cursor that
    /// does not read, or whose instant is out of bounds, is an error.
    pub fn from_param(
        after: &Option<String>,
        now: EpochMillis,
    ) -> Result<Option<Cursor>, QueryError> {
        param(after)
            .map(|a| {
                Cursor::parse(&a)
                    .filter(|c| in_bounds(c.at, now))
                    .ok_or(QueryError::Cursor)
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_372_396_000;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = Cursor {
            at: EpochMillis(7),
            id: 9,
        };
        assert_eq!(Cursor::parse(&c.to_param()), Some(c));
        assert_eq!(
            Cursor::from_param(&Some(" 1795372000000_42 ".into()), EpochMillis(NOW)),
            Ok(Some(Cursor {
                at: EpochMillis(1_795_372_000_000),
                id: 42
            }))
        );
        assert_eq!(
            Cursor::from_param(&Some(" ".into()), EpochMillis(NOW)),
            Ok(None)
        );
        for bad in ["42", "x_1", "-1_1", "99999999999999999_1"] {
            assert_eq!(
                Cursor::from_param(&Some(bad.into()), EpochMillis(NOW)).map_err(|e| e.to_string()),
                Err("bad page cursor".into()),
                "{bad}"
            );
        }
    }
}
