//! Accounts, roles and the fixed lists of the product.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::AccountId;
use crate::rating::RatingTally;
wire_enum!(
    /// Who a token speaks for.
    Role { User => "USER", Telecaller => "TELECALLER", Admin => "ADMIN" }
);

wire_enum!(
    /// Whether a phone account may use the product.
    AccountStatus { Active => "ACTIVE", Suspended => "SUSPENDED", Deleted => "DELETED" }
);

wire_enum!(
    /// A telecaller's standing with the admins.
    ApprovalStatus { Pending => "PENDING", Approved => "APPROVED", Rejected => "REJECTED" }
);

wire_enum!(
    Gender { Male => "MALE", Female => "FEMALE", Other => "OTHER" }
);

wire_enum!(
    Language {
        English => "english",
        Hindi => "hindi",
        Tamil => "tamil",
        Telugu => "telugu",
        Kannada => "kannada",
        Malayalam => "malayalam",
        Bengali => "bengali",
        Marathi => "marathi",
        Gujarati => "gujarati",
        Punjabi => "punjabi",
        Urdu => "urdu",
        Odia => "odia",
    }
);

wire_enum!(
    /// The built-in profile pictures (field `profile`).
    Avatar {
        Avatar1 => "avatar-1",
        Avatar2 => "avatar-2",
        Avatar3 => "avatar-3",
        Avatar4 => "avatar-4",
        Avatar5 => "avatar-5",
        Avatar6 => "avatar-6",
        Avatar7 => "avatar-7",
        Avatar8 => "avatar-8",
    }
);

/// A phone account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub phone: String,
    pub role: Role,
    pub status: AccountStatus,
    pub name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub gender: Option<Gender>,
    pub language: Option<Language>,
    pub profile: Option<Avatar>,
    /// Tokens carrying an older version are revoked.
    pub token_version: i32,
    pub created_at: DateTime<Utc>,
    /// What another user gives to say this account referred her.
    pub referral_code: String,
    /// Present once the account applied to be a telecaller.
    pub telecaller: Option<TelecallerProfile>,
}

/// What a telecaller wrote about herself and where the admins stand on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelecallerProfile {
    pub about: String,
    pub approval_status: ApprovalStatus,
    pub verification_notes: Option<String>,
    /// Whether she may be rung through a push while her app has no connection (AWAY).
    pub reachable_by_push: bool,
    /// Her own prices (`None`: the platform's default) and when she last set them.
    pub rates: crate::pricing::HostRates,
    pub rates_set_at: Option<DateTime<Utc>>,
    /// Her own commission, hundredths of a percent (`None`: the platform's).
    pub commission_hundredths: Option<i32>,
}

impl Account {
    pub fn is_suspended(&self) -> bool {
        self.status == AccountStatus::Suspended
    }

    /// A profile is complete once the name and date of birth were given.
    pub fn is_profile_complete(&self) -> bool {
        self.name.is_some() && self.dob.is_some()
    }

    pub fn approval_status(&self) -> Option<ApprovalStatus> {
        self.telecaller.as_ref().map(|t| t.approval_status)
    }

    /// Her own prices (none for a user or a telecaller who never set one).
    pub fn host_rates(&self) -> crate::pricing::HostRates {
        self.telecaller.as_ref().map(|t| t.rates).unwrap_or_default()
    }
}

impl Role {
    /// Phone accounts are users or telecallers; admins live elsewhere.
    pub fn is_phone_account(self) -> bool {
        matches!(self, Role::User | Role::Telecaller)
    }
}

/// A row of the admin account lists.
#[derive(Debug, Clone)]
pub struct ListedAccount {
    pub id: AccountId,
    pub phone: String,
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub language: Option<Language>,
    pub status: AccountStatus,
    pub approval_status: Option<ApprovalStatus>,
    pub created_at: DateTime<Utc>,
    /// Telecallers: her rating tally and the platform's (all `None` for users).
    pub rating_sum: Option<i64>,
    pub rating_count: Option<i64>,
    pub platform_sum: Option<i64>,
    pub platform_count: Option<i64>,
}

impl ListedAccount {
    pub fn rating(&self) -> Option<crate::rating::RatingTally> {
        Some(crate::rating::RatingTally {
            sum: self.rating_sum?,
            count: self.rating_count?,
            platform_sum: self.platform_sum?,
            platform_count: self.platform_count?,
        })
    }
}

/// An approved, active telecaller as listed to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelecallerCard {
    pub id: AccountId,
    pub name: Option<String>,
    pub profile: Option<crate::account::Avatar>,
    pub language: Option<crate::account::Language>,
    pub about: String,
    pub rating: RatingTally,
    /// Her own prices (`None`: the platform's default).
    pub rates: crate::pricing::HostRates,
}

/// Outcome of saving a favorite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FavoriteAdded {
    Added,
    AlreadySaved,
    /// The user already has `cap` favorites.
    Full,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        for language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>().unwrap(), *language);
        }
        assert_eq!(Avatar::ALL.len(), 8);
        assert!("avatar-9".parse::<Avatar>().is_err());
        assert!("user".parse::<Role>().is_err());
    }
}

wire_enum!(
    /// A telecaller's live state. AWAY: no connection, but she can be rung through a push.
    Presence { Online => "ONLINE", OnCall => "ON_CALL", Away => "AWAY", Offline => "OFFLINE" }
);

impl Presence {
    /// Where she comes in the list: connected and free first, then connected in a call, then
    /// away (reached through a push, so slower to answer).
    pub fn listing_rank(self) -> u8 {
        match self {
            Presence::Online => 0,
            Presence::OnCall => 1,
            Presence::Away => 2,
            Presence::Offline => 3,
        }
    }

    /// ONLINE or ON_CALL: what `onlineTelecallers` counts.
    pub fn is_connected(self) -> bool {
        matches!(self, Presence::Online | Presence::OnCall)
    }
}
