//! Coins and rupees. Coins are whole numbers; rupee amounts are kept in paise.

use serde::{Deserialize, Serialize};

/// A number of wallet coins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Coins(pub i64);

/// An amount of Indian rupees in paise (1/100 rupee).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Paise(pub i64);

impl Paise {
    /// The amount in rupees for display (the admin panel shows rupees).
    pub fn as_rupees(self) -> f64 {
        self.0 as f64 / 100.0
    }
}
