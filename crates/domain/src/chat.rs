//! Paid chat (docs/chat.md): a chat session is a call of type `CHAT` (same row, rules, meter and
//! settlement); this module holds what is chat's own: its status names, messages and masking.
//!
//! ```
//! use talktime_domain::chat::{mask_contacts, MessageText};
//!
//! assert_eq!(mask_contacts("call me on +91 98765 43210 ok"), "call me on *** ok");
//! assert_eq!(mask_contacts("mail a.b@example.com or see www.example.com/x"), "mail *** or see ***");
//! assert_eq!(mask_contacts("I am 25, born 1999"), "I am 25, born 1999");
//! assert!(MessageText::parse("hello\nthere").is_ok());
//! assert!(MessageText::parse("bell\u{7}").is_err());
//! assert!(MessageText::parse("   ").is_err());
//! ```

use chrono::{DateTime, Utc};

use crate::call::CallStatus;
use crate::ids::{AccountId, CallId};

/// The longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// The longest `clientId`, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

wire_enum!(
    /// A chat's status as its apps see it: the call states under chat's names.
    ChatStatus {
        Requested => "REQUESTED",
        Active => "ACTIVE",
        Completed => "COMPLETED",
        Rejected => "REJECTED",
        Missed => "MISSED",
        Cancelled => "CANCELLED",
    }
);

impl From<CallStatus> for ChatStatus {
    fn from(status: CallStatus) -> Self {
        match status {
            CallStatus::Ringing => ChatStatus::Requested,
            CallStatus::Accepted => ChatStatus::Active,
            CallStatus::Completed => ChatStatus::Completed,
            CallStatus::Rejected => ChatStatus::Rejected,
            CallStatus::Missed => ChatStatus::Missed,
            CallStatus::Cancelled => ChatStatus::Cancelled,
        }
    }
}

impl From<ChatStatus> for CallStatus {
    fn from(status: ChatStatus) -> Self {
        match status {
            ChatStatus::Requested => CallStatus::Ringing,
            ChatStatus::Active => CallStatus::Accepted,
            ChatStatus::Completed => CallStatus::Completed,
            ChatStatus::Rejected => CallStatus::Rejected,
            ChatStatus::Missed => CallStatus::Missed,
            ChatStatus::Cancelled => CallStatus::Cancelled,
        }
    }
}

/// A message's text, checked: 1–2,000 characters, not only whitespace, no control character
/// but the newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("A message is 1 to 2000 characters")]
    Length,
    #[error("A message may not hold control characters other than newlines")]
    ControlCharacter,
}

impl MessageText {
    pub fn parse(text: &str) -> Result<Self, MessageError> {
        let chars = text.chars().count();
        if chars == 0 || chars > MAX_MESSAGE_CHARS || text.trim().is_empty() {
            return Err(MessageError::Length);
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(MessageError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text with contacts masked ([`mask_contacts`]).
    pub fn masked(&self) -> Self {
        Self(mask_contacts(&self.0))
    }
}

/// What replaces a masked contact (shorter than any contact it hides, so a masked message stays
/// within the limit).
pub const MASK: &str = "***";

/// Masks telephone numbers (seven digits or more, with spaces, dots, dashes, brackets or a
/// leading `+` between them), e-mail addresses and links (`http(s)://…`, `www.…`, or a word
/// ending in a common top-level domain), so parties cannot take the relationship off the
/// platform. Everything else is kept as it was.
pub fn mask_contacts(text: &str) -> String {
    let words: String = split_keeping_space(text)
        .into_iter()
        .map(|word| if is_email(word) || is_link(word) { MASK } else { word })
        .collect();
    mask_numbers(&words)
}

/// The text cut into words and the whitespace between them, in order.
fn split_keeping_space(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            parts.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| matches!(c, '.' | ',' | '!' | '?' | ';' | ':' | '(' | ')' | '"' | '\'' | '<' | '>'))
}

fn is_email(word: &str) -> bool {
    let word = trim_punctuation(word);
    match word.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.ends_with('.'),
        None => false,
    }
}

const TLDS: &[&str] =
    &["com", "in", "net", "org", "io", "me", "co", "ly", "app", "xyz", "info", "link", "site", "online", "gg"];

fn is_link(word: &str) -> bool {
    let lower = trim_punctuation(word).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
        return true;
    }
    let host = lower.split(['/', '?', '#']).next().unwrap_or_default();
    let mut labels = host.rsplit('.');
    let tld = labels.next().unwrap_or_default();
    let name = labels.next().unwrap_or_default();
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && TLDS.contains(&tld)
}

/// Replaces every run of seven digits or more (allowing separators between them) with [`MASK`].
fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut end = i;
            let mut last_digit = i;
            let mut digits = 0;
            while end < chars.len()
                && (chars[end].is_ascii_digit() || matches!(chars[end], ' ' | '-' | '.' | '(' | ')' | '+'))
            {
                if chars[end].is_ascii_digit() {
                    digits += 1;
                    last_digit = end;
                }
                end += 1;
            }
            if digits >= 7 {
                out.push_str(MASK);
            } else {
                out.extend(&chars[i..=last_digit]);
            }
            i = last_digit + 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub call_id: CallId,
    pub seq: i64,
    pub sender_id: AccountId,
    pub client_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_emails_and_links_are_masked_and_nothing_else() {
        for (text, masked) in [
            ("9876543210", "***"),
            ("my no. is 98765-43210.", "my no. is ***."),
            ("(+91) 987 654 3210 call", "(*** call"),
            ("https://x.co/abc", "***"),
            ("find me at instagram.com/me", "find me at ***"),
            ("wa.me/919876543210", "***"),
            ("me@mail.in!", "***"),
            ("a 123 456 b", "a 123 456 b"),
            ("ok... see you", "ok... see you"),
            ("price 1,000 coins", "price 1,000 coins"),
        ] {
            assert_eq!(mask_contacts(text), masked, "{text}");
        }
    }

    #[test]
    fn masking_never_lengthens() {
        for text in ["1234567", "a@b.co", "x.io", "+1234567"] {
            assert!(mask_contacts(text).chars().count() <= text.chars().count(), "{text}");
        }
    }

    #[test]
    fn status_names_follow_calls() {
        assert_eq!(ChatStatus::from(CallStatus::Ringing), ChatStatus::Requested);
        assert_eq!(ChatStatus::from(CallStatus::Accepted).as_str(), "ACTIVE");
    }
}
