//! Retrying transient failures inside one invocation.

use std::time::Duration;

use tokio::time::Instant;

/// Exponential backoff with jitter that gives up when the next wait would end too close
/// to the invocation's deadline.
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
    margin: Duration,
    deadline: Instant,
}

impl Backoff {
    pub(crate) fn new(first: Duration, max: Duration, margin: Duration, deadline: Instant) -> Self {
        Self {
            next: first,
            max,
            margin,
            deadline,
        }
    }

    /// The next wait, or `None` when there is no time left for another attempt.
    pub(crate) fn next_wait(&mut self) -> Option<Duration> {
        let jittered = self.next.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        if Instant::now() + jittered + self.margin >= self.deadline {
            return None;
        }
        self.next = (self.next * 2).min(self.max);
        Some(jittered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_jitter_and_stop_before_the_deadline() {
        let first = Duration::from_millis(100);
        let mut backoff = Backoff::new(
            first,
            Duration::from_millis(400),
            Duration::from_millis(50),
            Instant::now() + Duration::from_secs(60),
        );
        let waits: Vec<Duration> = (0..5).filter_map(|_| backoff.next_wait()).collect();
        assert_eq!(waits.len(), 5);
        for (wait, nominal) in waits.iter().zip([100u64, 200, 400, 400, 400]) {
            let nominal = Duration::from_millis(nominal);
            assert!(
                *wait >= nominal / 2 && *wait <= nominal,
                "{wait:?} vs {nominal:?}"
            );
        }
        let mut late = Backoff::new(
            first,
            first,
            Duration::from_secs(1),
            Instant::now() + Duration::from_millis(500),
        );
        assert_eq!(
            late.next_wait(),
            None,
            "no attempt that would end past the margin"
        );
    }
}
