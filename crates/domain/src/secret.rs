//! Secrets (keys, passwords, tokens) that must never reach a log.
//!
//! ```
//! use talktime_domain::secret::Secret;
//!
//! let key = Secret::new("s3cr3t".to_owned());
//! assert_eq!(format!("{key:?}"), "Secret([redacted])");
//! assert_eq!(key.expose(), "s3cr3t");
//! ```

/// A secret value: its `Debug` shows nothing of it, it has no `Display` or `Serialize`, and
/// [`Secret::expose`] is the one way to read it, where it is used.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Read from configuration (a credentials file) straight into the wrapper.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret::new)
    }
}
