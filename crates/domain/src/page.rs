//! A page of an admin list and how many rows there are in all.

/// Rows of one page, and the total across every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

impl<T> Page<T> {
    /// The same page with each row turned into a view.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { rows: self.rows.into_iter().map(f).collect(), total: self.total }
    }
}

/// Cuts rows read `limit + 1` at a time (the repository's lists do) to `limit`, answering
/// whether more follow.
///
/// ```
/// let mut rows = vec![1, 2, 3];
/// assert!(talktime_domain::page::cut_to(&mut rows, 2));
/// assert_eq!(rows, [1, 2]);
/// assert!(!talktime_domain::page::cut_to(&mut rows, 2));
/// ```
pub fn cut_to<T>(rows: &mut Vec<T>, limit: i64) -> bool {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    more
}
