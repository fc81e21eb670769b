//! One timer structure per node for every call deadline it knows (ring timeout, grace, the
//! balance warning, the paid time, the media deadline): a sorted set of (instant, call) and one
//! task that sleeps until the earliest. A call's entries are dropped when it ends, so memory
//! follows the live calls, not every deadline ever set. The sweeper stays the safety net.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use talktime_domain::ids::CallId;
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Default)]
pub(super) struct Timers {
    state: Mutex<State>,
    /// Woken when a new earliest deadline arrives.
    changed: Notify,
}

#[derive(Default)]
struct State {
    queue: BTreeSet<(Instant, CallId)>,
    by_call: HashMap<CallId, Vec<Instant>>,
}

impl Timers {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Acts on `call` at `at`.
    pub(super) fn schedule(&self, call: CallId, at: Instant) {
        let earliest = {
            let mut state = self.state();
            if !state.queue.insert((at, call)) {
                return;
            }
            state.by_call.entry(call).or_default().push(at);
            state.queue.first() == Some(&(at, call))
        };
        if earliest {
            self.changed.notify_one();
        }
    }

    /// Forgets every deadline of `call` (it ended).
    pub(super) fn cancel(&self, call: CallId) {
        let mut state = self.state();
        if let Some(instants) = state.by_call.remove(&call) {
            for at in instants {
                state.queue.remove(&(at, call));
            }
        }
    }

    /// Deadlines waiting.
    pub(super) fn len(&self) -> usize {
        self.state().queue.len()
    }

    /// The next call whose deadline passed (waits for it).
    pub(super) async fn next_due(&self) -> CallId {
        loop {
            let changed = self.changed.notified();
            let next = {
                let mut state = self.state();
                match state.queue.first().copied() {
                    Some((at, call)) if at <= Instant::now() => {
                        state.queue.remove(&(at, call));
                        if let Some(instants) = state.by_call.get_mut(&call) {
                            instants.retain(|i| *i != at);
                            if instants.is_empty() {
                                state.by_call.remove(&call);
                            }
                        }
                        return call;
                    }
                    other => other.map(|(at, _)| at),
                }
            };
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deadlines_come_due_in_order_and_cancelled_calls_never_do() {
        let timers = Timers::default();
        let (first, second, ended) = (CallId::new(), CallId::new(), CallId::new());
        let now = Instant::now();
        timers.schedule(second, now + Duration::from_secs(2));
        timers.schedule(ended, now + Duration::from_secs(1));
        timers.schedule(first, now + Duration::from_millis(500));
        timers.schedule(ended, now + Duration::from_secs(3));
        assert_eq!(timers.len(), 4);
        timers.cancel(ended);
        assert_eq!(timers.len(), 2);
        assert_eq!(timers.next_due().await, first);
        assert_eq!(timers.next_due().await, second);
        assert_eq!(timers.len(), 0);
        assert!(tokio::time::timeout(Duration::from_secs(60), timers.next_due()).await.is_err());
    }
}
