//! The org's clock. Every timestamp the emulator writes comes from here, so tests can freeze,
//! set and advance time instead of sleeping, and two runs with the same requests answer the same
//! bytes.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug)]
enum Mode {
    /// Time stands still until set or advanced.
    Frozen(DateTime<Utc>),
    /// Time runs with the wall clock from `base`, measured from `since`.
    Running { base: DateTime<Utc>, since: Instant },
}

/// A shared handle on the org's time; clones see the same clock.
#[derive(Clone, Debug)]
pub struct Clock {
    mode: Arc<Mutex<Mode>>,
}

impl Clock {
    /// A clock that stands at `at` until moved.
    pub fn frozen(at: DateTime<Utc>) -> Clock {
        Clock {
            mode: Arc::new(Mutex::new(Mode::Frozen(at))),
        }
    }

    /// A clock that starts at `at` and runs with real time.
    pub fn running(at: DateTime<Utc>) -> Clock {
        Clock {
            mode: Arc::new(Mutex::new(Mode::Running {
                base: at,
                since: Instant::now(),
            })),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &*self.lock() {
            Mode::Frozen(at) => *at,
            Mode::Running { base, since } => {
                *base + Duration::from_std(since.elapsed()).unwrap_or_else(|_| Duration::zero())
            }
        }
    }

    /// Moves the clock to `at` (keeps running if it was running).
    pub fn set(&self, at: DateTime<Utc>) {
        let mut mode = self.lock();
        *mode = match &*mode {
            Mode::Frozen(_) => Mode::Frozen(at),
            Mode::Running { .. } => Mode::Running {
                base: at,
                since: Instant::now(),
            },
        };
    }

    /// Moves the clock forward (or back, for a negative duration).
    pub fn advance(&self, by: Duration) {
        let now = self.now();
        self.set(now + by);
    }

    /// Stops the clock at its current time.
    pub fn freeze(&self) {
        let now = self.now();
        *self.lock() = Mode::Frozen(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Mode> {
        // A poisoned clock still holds a valid time.
        self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let clock = Clock::frozen(at);
        assert_eq!(clock.now(), at);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), at + Duration::seconds(90));
        let shared = clock.clone();
        shared.set(at);
        assert_eq!(clock.now(), at);
    }
}
