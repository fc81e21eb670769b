//! Reading variables: each concern's reader asks for its own by name; the names asked for are
//! remembered, so a test can hold them against `.env.example` and the README.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::{AppEnv, ConfigError};

pub(super) struct Vars {
    map: HashMap<String, String>,
    pub(super) problems: Vec<String>,
    /// Every name asked for (documented variables are checked against it).
    read: RefCell<BTreeSet<String>>,
}

impl Vars {
    pub(super) fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { map: vars.into_iter().collect(), problems: Vec::new(), read: RefCell::default() }
    }

    /// The value, with empty strings treated as unset.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.read.borrow_mut().insert(name.to_owned());
        self.map.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub(super) fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub(super) fn parsed<T: std::str::FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.get(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name} must be {what} (got `{raw}`)"));
                default
            }),
        }
    }

    /// Milliseconds, at least 10 (a timer of 0 would spin).
    pub(super) fn millis(&mut self, name: &str, default: u64) -> Duration {
        Duration::from_millis(self.parsed(name, default, "milliseconds").max(10))
    }

    pub(super) fn secs(&mut self, name: &str, default: u64) -> Duration {
        Duration::from_secs(self.parsed(name, default, "a number of seconds"))
    }

    /// A setting that `by` (the provider chosen) needs: reported when missing.
    pub(super) fn required(&mut self, name: &str, by: &str) -> String {
        self.get(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is missing (required by {by})"));
            String::new()
        })
    }

    /// A production problem: `problem` is reported when `prod`.
    pub(super) fn refuse_in_production(&mut self, prod: bool, problem: impl Into<String>) {
        if prod {
            self.problems.push(problem.into());
        }
    }

    /// `APP_ENV`: production unless development is asked for, so a forgotten APP_ENV never puts
    /// the development secrets and features on a server.
    pub(super) fn app_env(&mut self) -> AppEnv {
        match self.get("APP_ENV").map(|e| e.to_ascii_lowercase()).as_deref() {
            None | Some("production" | "prod") => AppEnv::Production,
            Some("development" | "dev" | "test") => AppEnv::Development,
            Some(other) => {
                self.problems.push(format!("APP_ENV must be `production`, `development` or `test` (got `{other}`)"));
                AppEnv::Production
            }
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`); anything else is reported.
    pub(super) fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => default,
            Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            Some(other) => {
                self.problems.push(format!("{name} must be true or false (got `{other}`)"));
                default
            }
        }
    }

    pub(super) fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    /// The names asked for so far.
    #[cfg(test)]
    pub(super) fn read(&self) -> BTreeSet<String> {
        self.read.borrow().clone()
    }

    /// The problems found, if any; when APP_ENV was not given, the first says that this is
    /// why production's rules applied.
    pub(super) fn finish<T>(mut self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            return Ok(value);
        }
        if self.get("APP_ENV").is_none() {
            self.problems.insert(
                0,
                "APP_ENV is not set, so this runs as production (set APP_ENV=development for a local development \
                 server)"
                    .into(),
            );
        }
        Err(ConfigError { problems: self.problems })
    }
}

/// `3600`, `45s`, `30m`, `12h` or `7d`.
pub(super) fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}
