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
