//! Keyset pages, as every list query reads them: the query fetches one row more than
//! the page shows ([`fetch_limit`]), so whether another page follows is known without
//! a COUNT, and [`next_cursor`] drops that row and says where the next page starts.

/// The `LIMIT` of a query for a page of `limit` rows.
pub(super) fn fetch_limit(limit: i64) -> i64 {
    limit + 1
}

/// Cuts `rows`, fetched with [`fetch_limit`], to the page's `limit`; when a row was
/// cut, the cursor `cursor` makes of the page's last row, else `None` (the last page).
pub(super) fn next_cursor<T, C>(
    rows: &mut Vec<T>,
    limit: i64,
    cursor: impl FnOnce(&T) -> C,
) -> Option<C> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_to_its_limit_and_only_a_cut_one_has_a_next() {
        let mut rows: Vec<i64> = (1..=fetch_limit(3)).collect();
        assert_eq!(next_cursor(&mut rows, 3, |r| r * 10), Some(30));
        assert_eq!(rows, [1, 2, 3]);
        assert_eq!(next_cursor(&mut rows, 3, |r| r * 10), None);
        assert_eq!(rows, [1, 2, 3]);
        let mut none: Vec<i64> = Vec::new();
        assert_eq!(next_cursor(&mut none, 3, |r| *r), None);
    }
}
