//! How much CPU the tool and the server used during a scenario (from `/proc/<pid>/stat`), so a
//! latency figure can be told apart from the tool's own cost on a machine both share.

use std::time::Instant;

use crate::report::Report;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on every Linux architecture we run).
const TICKS_PER_S: f64 = 100.0;

/// CPU seconds (user + system) a process has used, if `/proc` has it.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / TICKS_PER_S)
}

/// CPU times at a scenario's start.
pub struct CpuClock {
    at: Instant,
    tool: Option<f64>,
    server: Option<(u32, f64)>,
}

impl CpuClock {
    pub fn start(server: Option<u32>) -> Self {
        let server = server.and_then(|pid| Some((pid, cpu_seconds(&pid.to_string())?)));
        Self { at: Instant::now(), tool: cpu_seconds("self"), server }
    }

    /// Adds `tool_cpu_pct` and `server_cpu_pct`: each process's CPU time since the start as a
    /// percentage of one core's wall time (200 is both cores of a 2-core machine).
    pub fn figures(&self, mut report: Report) -> Report {
        let wall = self.at.elapsed().as_secs_f64().max(1e-6);
        if let (Some(before), Some(now)) = (self.tool, cpu_seconds("self")) {
            report = report.figure("tool_cpu_pct", 100.0 * (now - before) / wall);
        }
        if let Some((pid, before)) = self.server
            && let Some(now) = cpu_seconds(&pid.to_string())
        {
            report = report.figure("server_cpu_pct", 100.0 * (now - before) / wall);
        }
        report
    }
}
