//! How many result pages are downloaded at once, decided by what they yield.
//!
//! Parallel downloads pay off when each download is limited on its own (Salesforce sends each
//! result download as one stream at a rate it sets), and cost CPU for nothing when the server
//! or the connector is the limit: a server short of CPU then splits it between the pages, the
//! page being emitted arrives at a fraction of the pace, and the pages ahead go through spool
//! files. So a job's pages start one at a time and a [`Controller`] watches the aggregate rate:
//! while the emitting side waits for bytes long enough that one more download could pay off
//! ([`starved_share`]), it opens one more download, keeps it when the
//! aggregate rate rose by at least half of what one more stream would add if streams were the
//! limit, and otherwise goes back and tries again later (waiting twice as long after each
//! failure). The level reached carries over to the read's next jobs.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// How often the controller looks at the rates.
pub(crate) const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Share of a tick the emitting side must have waited for bytes at `level` downloads before one
/// more is tried. A try is kept when the rate rises by half of what one more stream adds
/// (`1 + 0.5 / level` times the rate); the emitting side, busy `1 - waited` of the tick, can take
/// at most `1 / (1 - waited)` times today's rate, so a try can only pay off in the read when
/// `waited >= 0.5 / (level + 0.5)`: a third of the tick at one download, a fifth at two. Below
/// it the emitting side, or the server's CPU it shares with its other users, is the limit, and
/// a try would only move pages through spool files.
fn starved_share(level: usize) -> f64 {
    0.5 / (level as f64 + 0.5)
}

/// Longest pause between two tries, in ticks.
const MAX_BACKOFF_TICKS: u32 = 32;

/// Download slots: at most `level` downloads hold one at once; the level can change while they
/// run (a lower level takes effect as downloads finish).
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    freed: Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GateState {
    pub level: usize,
    pub active: usize,
}

/// One download's slot; freed when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    gate: Arc<Gate>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.lock().active -= 1;
        self.gate.freed.notify_waiters();
    }
}

impl Gate {
    pub(crate) fn new(level: usize) -> Arc<Gate> {
        Arc::new(Gate {
            state: Mutex::new(GateState {
                level: level.max(1),
                active: 0,
            }),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // The state is two counters: a panic elsewhere cannot leave them half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The level and the downloads running now.
    pub(crate) fn now(&self) -> GateState {
        *self.lock()
    }

    pub(crate) fn set_level(&self, level: usize) {
        self.lock().level = level.max(1);
        self.freed.notify_waiters();
    }

    /// Waits until no download holds a slot.
    pub(crate) async fn idle(&self) {
        loop {
            let freed = self.freed.notified();
            if self.lock().active == 0 {
                return;
            }
            freed.await;
        }
    }

    /// Waits for a free slot; returns it and the number of downloads that were running before.
    pub(crate) async fn acquire(self: &Arc<Self>) -> (Slot, usize) {
        loop {
            let freed = self.freed.notified();
            {
                let mut state = self.lock();
                if state.active < state.level {
                    let before = state.active;
                    state.active += 1;
                    return (Slot { gate: self.clone() }, before);
                }
            }
            freed.await;
        }
    }
}

/// What one tick saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observation {
    /// Bytes received by all downloads per second during the tick.
    pub rate: f64,
    /// Share of the tick the emitting side waited for bytes.
    pub waited: f64,
    /// Downloads running at the end of the tick.
    pub active: usize,
    /// A page is waiting for a slot (so one more download would have work).
    pub pending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// At `level`; the next try is in `wait` ticks.
    Steady,
    /// One more download was opened; this tick's rate mixes both levels.
    Settling { base: f64 },
    /// The tick that decides whether the download opened is kept.
    Measuring { base: f64 },
}

/// Decides the level from one observation per tick. Pure: the caller applies the level.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    level: usize,
    max: usize,
    phase: Phase,
    wait: u32,
    failures: u32,
    /// Ticks seen at this level since it was set: a try needs a whole tick at the level before
    /// (the first tick of a job or after a change is partial).
    steady: u32,
    /// The highest rate of a whole tick at this level: what a try must beat (one tick's rate dips
    /// while the server starts a page, and a try measured against the dip would be kept for a
    /// gain that is only the dip's end).
    best: f64,
}

impl Controller {
    pub(crate) fn new(level: usize, max: usize) -> Controller {
        let max = max.max(1);
        Controller {
            level: level.clamp(1, max),
            max,
            phase: Phase::Steady,
            wait: 0,
            failures: 0,
            steady: 0,
            best: 0.0,
        }
    }

    /// A controller for a new job, from what the read's previous jobs learned: their level, and
    /// the tries that failed in a row (the first try waits as long as the next would have).
    pub(crate) fn resume(level: usize, failures: u32, max: usize) -> Controller {
        let mut controller = Controller::new(level, max);
        controller.failures = failures.min(5);
        if failures > 0 {
            controller.wait = (2u32 << controller.failures).min(MAX_BACKOFF_TICKS);
        }
        controller
    }

    /// Tries of one more download that failed in a row.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    #[cfg(test)]
    fn level(&self) -> usize {
        self.level
    }

    /// The level without a download still on trial: where the read's next job starts.
    pub(crate) fn confirmed(&self) -> usize {
        match self.phase {
            Phase::Steady => self.level,
            Phase::Settling { .. } | Phase::Measuring { .. } => self.level - 1,
        }
    }

    /// Takes one tick's observation; returns the level to apply.
    pub(crate) fn tick(&mut self, seen: Observation) -> usize {
        match self.phase {
            Phase::Steady => {
                self.wait = self.wait.saturating_sub(1);
                self.steady += 1;
                if self.steady >= 2 {
                    self.best = self.best.max(seen.rate);
                }
                let limited_by_downloads = seen.waited >= starved_share(self.level)
                    && seen.active >= self.level
                    && seen.pending;
                if self.wait == 0
                    && self.steady >= 2
                    && self.level < self.max
                    && limited_by_downloads
                {
                    self.level += 1;
                    self.phase = Phase::Settling { base: self.best };
                }
            }
            Phase::Settling { base } => self.phase = Phase::Measuring { base },
            Phase::Measuring { base } => {
                self.phase = Phase::Steady;
                self.steady = 0;
                self.best = 0.0;
                if seen.active < self.level {
                    // Fewer pages than slots (the job's last pages): nothing to learn; try
                    // again once pages are waiting.
                    self.level -= 1;
                    return self.level;
                }
                // One more of `level - 1` streams adds `1 / (level - 1)` when streams are the
                // limit; half of that counts as a gain.
                let wanted = 1.0 + 0.5 / (self.level - 1) as f64;
                if seen.rate >= base * wanted {
                    // This tick was a whole one at the level: the next try may start from it.
                    self.failures = 0;
                    self.steady = 1;
                    self.best = seen.rate;
                } else {
                    self.level -= 1;
                    self.failures = (self.failures + 1).min(5);
                    self.wait = (2u32 << self.failures).min(MAX_BACKOFF_TICKS);
                }
            }
        }
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(rate: f64, waited: f64, active: usize, pending: bool) -> Observation {
        Observation {
            rate,
            waited,
            active,
            pending,
        }
    }

    fn seen(rate: f64, active: usize) -> Observation {
        observed(rate, 0.5, active, true)
    }

    /// Runs the controller against a server where each of the first `streams_help` downloads
    /// adds `per_stream` bytes/s and more add nothing.
    fn run(per_stream: f64, streams_help: usize, max: usize, ticks: usize) -> Vec<usize> {
        let mut controller = Controller::new(1, max);
        let mut levels = Vec::new();
        for _ in 0..ticks {
            let level = controller.level();
            let rate = per_stream * level.min(streams_help) as f64;
            levels.push(controller.tick(seen(rate, level)));
        }
        levels
    }

    #[test]
    fn rises_to_the_most_while_every_stream_adds_its_rate() {
        let levels = run(4e6, 10, 5, 20);
        assert_eq!(*levels.last().unwrap(), 5);
        // The first tick is partial; then each step costs a settling tick, a measuring tick and
        // the tick that tries the next.
        assert_eq!(&levels[..10], &[1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    }

    #[test]
    fn stays_at_one_when_a_second_stream_adds_nothing() {
        let levels = run(50e6, 1, 5, 40);
        assert!(levels.iter().all(|&l| l <= 2), "{levels:?}");
        assert_eq!(*levels.last().unwrap(), 1);
        // Tries back off: at most a handful of ticks at two in 40.
        let at_two = levels.iter().filter(|&&l| l == 2).count();
        assert!(at_two <= 8, "{at_two} ticks at two: {levels:?}");
    }

    #[test]
    fn stops_where_streams_stop_adding() {
        let levels = run(4e6, 3, 10, 60);
        assert_eq!(*levels.last().unwrap(), 3);
        assert!(levels.iter().all(|&l| l <= 4), "{levels:?}");
    }

    #[test]
    fn a_resumed_controller_waits_as_its_failures_say() {
        let mut fresh = Controller::resume(1, 0, 5);
        fresh.tick(seen(4e6, 1));
        assert_eq!(fresh.tick(seen(4e6, 1)), 2, "no failures: tries at once");
        let mut failed = Controller::resume(1, 3, 5);
        let levels: Vec<usize> = (0..15).map(|_| failed.tick(seen(4e6, 1))).collect();
        assert_eq!(levels[..15], [1; 15], "three failures: waits 16 ticks");
        assert_eq!(failed.tick(seen(4e6, 1)), 2);
    }

    #[test]
    fn tries_only_when_the_emitting_side_waits_long_enough_for_a_try_to_pay_off() {
        let ticks = |waited: f64, level: usize| {
            let mut controller = Controller::new(level, 5);
            (0..8)
                .map(|_| controller.tick(observed(40e6, waited, level, true)))
                .max()
                .unwrap()
        };
        // One download: the emitting side must wait a third of the time (it could then take
        // 1.5 times the rate, what a kept try must bring).
        assert_eq!(ticks(0.30, 1), 1, "30% waited at one download: no try");
        assert_eq!(ticks(0.34, 1), 2, "34% waited at one download: a try");
        // Two downloads: a fifth (1.25 times).
        assert_eq!(ticks(0.18, 2), 2, "18% waited at two: no try");
        assert_eq!(ticks(0.21, 2), 3, "21% waited at two: a try");
    }

    #[test]
    fn a_try_must_beat_the_best_whole_tick_not_a_dip() {
        // One download runs at 100 while the reader keeps up; then a tick dips to 40 (a page
        // starting) and the reader waits. A second download that brings nothing (100 again) is
        // not kept, though 100 >= 1.5 x 40.
        let mut controller = Controller::new(1, 5);
        let tick = |controller: &mut Controller, rate: f64, waited: f64, active: usize| {
            controller.tick(observed(rate, waited, active, true))
        };
        for _ in 0..3 {
            assert_eq!(tick(&mut controller, 100.0, 0.1, 1), 1);
        }
        assert_eq!(
            tick(&mut controller, 40.0, 0.6, 1),
            2,
            "a try after the dip"
        );
        assert_eq!(tick(&mut controller, 100.0, 0.3, 2), 2, "settling");
        assert_eq!(
            tick(&mut controller, 100.0, 0.3, 2),
            1,
            "no gain over 100: back to one"
        );
    }

    /// Asserts that twenty ticks of the same fast observation at `level` never move it.
    fn stays_at(level: usize, waited: f64, pending: bool) {
        let mut controller = Controller::new(level, 5);
        for _ in 0..20 {
            assert_eq!(
                controller.tick(observed(4e6, waited, level, pending)),
                level
            );
        }
    }

    #[test]
    fn never_rises_while_the_emitting_side_keeps_up() {
        stays_at(1, 0.05, true);
    }

    #[test]
    fn never_rises_without_pages_waiting_for_a_slot() {
        stays_at(2, 0.9, false);
    }

    #[test]
    fn a_try_without_pages_to_fill_the_slot_goes_back() {
        let mut controller = Controller::new(1, 5);
        assert_eq!(controller.tick(seen(4e6, 1)), 1);
        assert_eq!(controller.tick(seen(4e6, 1)), 2);
        assert_eq!(controller.tick(seen(4e6, 1)), 2);
        assert_eq!(controller.tick(seen(4e6, 1)), 1);
    }

    #[tokio::test]
    async fn the_gate_holds_downloads_at_its_level() {
        let gate = Gate::new(2);
        let (a, before_a) = gate.acquire().await;
        let (b, before_b) = gate.acquire().await;
        assert_eq!((before_a, before_b), (0, 1));
        let third = tokio::spawn({
            let gate = gate.clone();
            async move { gate.acquire().await.1 }
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished());
        assert_eq!(gate.now().active, 2);
        drop(a);
        // The third download ran (its slot is freed when its task ends).
        assert_eq!(third.await.unwrap(), 1);
        assert_eq!(gate.now().active, 1);
        gate.set_level(1);
        assert_eq!(
            gate.now(),
            GateState {
                level: 1,
                active: 1
            }
        );
        drop(b);
        assert_eq!(
            gate.now(),
            GateState {
                level: 1,
                active: 0
            }
        );
    }
}
