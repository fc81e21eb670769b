//! What a scenario measured: a table line for people, a JSON object for scripts.

use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub struct Report {
    pub scenario: &'static str,
    /// (name, value), in the order they are printed.
    pub figures: Vec<(&'static str, f64)>,
    /// Whether the scenario's own checks passed (the books balance, no call failed…).
    pub ok: bool,
    /// Why not, when not.
    pub problems: Vec<String>,
}

impl Report {
    pub fn new(scenario: &'static str) -> Self {
        Self { scenario, figures: Vec::new(), ok: true, problems: Vec::new() }
    }

    pub fn figure(mut self, name: &'static str, value: f64) -> Self {
        self.figures.push((name, value));
        self
    }

    /// Records a failed check.
    pub fn fail(&mut self, problem: impl Into<String>) {
        self.ok = false;
        self.problems.push(problem.into());
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    pub fn line(&self) -> String {
        let figures: Vec<String> =
            self.figures.iter().map(|(name, value)| format!("{name}={}", pretty(*value))).collect();
        let verdict = if self.ok { "ok".to_owned() } else { format!("FAILED: {}", self.problems.join("; ")) };
        format!("{:<7} | {} | {verdict}", self.scenario, figures.join("  "))
    }

    pub fn json(&self) -> Value {
        let figures: Map<String, Value> =
            self.figures.iter().map(|(name, value)| ((*name).to_owned(), json!(value))).collect();
        json!({ "scenario": self.scenario, "figures": figures, "ok": self.ok, "problems": self.problems })
    }
}

fn pretty(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { format!("{value:.2}") }
}
