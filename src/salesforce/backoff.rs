//! Exponential backoff with decorrelated jitter, and the injectable sleep and randomness it uses.
//!
//! Each delay is drawn uniformly from `[initial, previous × multiplier]` and capped at `max`
//! ("decorrelated jitter", <https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>):
//! many connector processes hitting the same org spread out instead of retrying in lock step,
//! while the expected delay still grows exponentially.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};

/// Shape of one backoff sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct BackoffConfig {
    /// Smallest delay, and the first delay's lower bound.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Growth factor of the upper bound from one delay to the next (≥ 1).
    pub multiplier: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 3.0,
        }
    }
}

/// Where a delay falls inside `[low, high]`; real runs pick at random, tests pick fixed points.
pub(crate) trait Jitter: Send + Sync {
    /// A duration in `low..=high`.
    fn pick(&self, low: Duration, high: Duration) -> Duration;
}

/// Uniform random jitter from a seedable RNG.
pub(crate) struct RandomJitter(Mutex<rand::rngs::StdRng>);

impl RandomJitter {
    pub(crate) fn from_entropy() -> Self {
        RandomJitter(Mutex::new(rand::rngs::StdRng::from_entropy()))
    }

    /// Deterministic jitter, for reproducible runs.
    #[cfg(test)]
    pub(crate) fn seeded(seed: u64) -> Self {
        RandomJitter(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)))
    }
}

impl Jitter for RandomJitter {
    fn pick(&self, low: Duration, high: Duration) -> Duration {
        if high <= low {
            return low;
        }
        let mut rng = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let secs = rng.gen_range(low.as_secs_f64()..=high.as_secs_f64());
        Duration::from_secs_f64(secs)
    }
}

/// A future that resolves after a delay.
pub(crate) type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How the client waits between attempts and between job polls; tests record instead of sleeping.
pub(crate) trait Sleeper: Send + Sync {
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Sleeps on the tokio timer.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The delays of one retry loop.
pub(crate) struct Backoff {
    config: BackoffConfig,
    upper: Duration,
    jitter: Arc<dyn Jitter>,
}

impl Backoff {
    pub(crate) fn new(config: BackoffConfig, jitter: Arc<dyn Jitter>) -> Self {
        Backoff {
            upper: config.initial,
            config,
            jitter,
        }
    }

    /// The next delay to wait.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let high = self
            .upper
            .mul_f64(self.config.multiplier.max(1.0))
            .min(self.config.max);
        let low = self.config.initial.min(high);
        let delay = self.jitter.pick(low, high).min(self.config.max);
        self.upper = delay.max(self.config.initial);
        delay
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Always picks the upper bound, so delays are predictable.
    pub(crate) struct HighestJitter;

    impl Jitter for HighestJitter {
        fn pick(&self, _low: Duration, high: Duration) -> Duration {
            high
        }
    }

    /// Records every requested sleep and returns at once.
    #[derive(Default)]
    pub(crate) struct RecordingSleeper(pub(crate) Mutex<Vec<Duration>>);

    impl RecordingSleeper {
        pub(crate) fn delays(&self) -> Vec<Duration> {
            self.0.lock().unwrap().clone()
        }
    }

    impl Sleeper for RecordingSleeper {
        fn sleep(&self, duration: Duration) -> SleepFuture {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::HighestJitter;
    use super::*;

    #[test]
    fn delays_grow_by_the_multiplier_up_to_the_cap() {
        let config = BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            multiplier: 3.0,
        };
        let mut backoff = Backoff::new(config, Arc::new(HighestJitter));
        let delays: Vec<u128> = (0..5).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![300, 900, 2000, 2000, 2000]);
    }

    #[test]
    fn random_delays_stay_within_bounds_and_are_reproducible_with_a_seed() {
        let config = BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 3.0,
        };
        let run = || {
            let mut backoff = Backoff::new(config, Arc::new(RandomJitter::seeded(7)));
            (0..20).map(|_| backoff.next_delay()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(first
            .iter()
            .all(|d| *d >= config.initial && *d <= config.max));
    }
}
