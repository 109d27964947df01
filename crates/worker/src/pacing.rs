//! Client-side pacing of Connect calls.
//!
//! Connect's user APIs allow about 2 requests/s per account and Region (burst 5), and
//! `MaximumConcurrency` on the event source caps invocations, not requests. So every
//! Connect call of an invocation first takes a token from one shared bucket: bulk
//! provisioning runs at the quota instead of bouncing off it with 429s.

use std::sync::Mutex;
use std::time::Duration;

use okta_connect_core::config::{ConnectId, Pacing};
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};
use tokio::time::Instant;

/// Share of the configured rate actually used. Pacing at exactly Connect's quota keeps
/// Connect's own bucket at zero, where any network jitter between two calls yields a
/// 429; 3 % headroom lets it refill a margin that absorbs the jitter (measured: 160
/// 429s for 300 users at 1.00 × 2/s, none at 0.97 ×).
pub const HEADROOM: f64 = 0.97;

/// A token bucket: `rate` tokens per second, at most `burst` saved up. Starts full.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket pacing at [`HEADROOM`] × the configured rate.
    pub fn new(pacing: Pacing) -> Self {
        let burst = f64::from(pacing.burst.max(1));
        Self {
            rate: (pacing.requests_per_second * HEADROOM).max(0.001),
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Waits until a token is available and takes it. Fair enough for one process:
    /// each waiter reserves its token up front, so waiters are served in arrival order.
    pub async fn acquire(&self) {
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let (tokens, last) = *state;
            let refilled =
                (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
            // Going below zero reserves a future token; the deficit is the wait.
            let after = refilled - 1.0;
            *state = (after, now);
            if after >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-after / self.rate)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A [`UserDirectory`] whose every call first takes a token from a shared bucket.
#[derive(Debug)]
pub struct Paced<'a, D> {
    inner: &'a D,
    bucket: &'a TokenBucket,
}

impl<'a, D> Paced<'a, D> {
    pub fn new(inner: &'a D, bucket: &'a TokenBucket) -> Self {
        Self { inner, bucket }
    }
}

impl<D: UserDirectory> UserDirectory for Paced<'_, D> {
    async fn find_user(&self, username: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.bucket.acquire().await;
        self.inner.find_user(username).await
    }

    async fn describe_user(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.bucket.acquire().await;
        self.inner.describe_user(user_id).await
    }

    async fn create_user(&self, user: &DesiredUser) -> Result<CreatedUser, DirectoryError> {
        self.bucket.acquire().await;
        self.inner.create_user(user).await
    }

    async fn update_identity(
        &self,
        user_id: &str,
        identity: &IdentityInfo,
    ) -> Result<(), DirectoryError> {
        self.bucket.acquire().await;
        self.inner.update_identity(user_id, identity).await
    }

    async fn update_routing_profile(
        &self,
        user_id: &str,
        routing_profile_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.bucket.acquire().await;
        self.inner
            .update_routing_profile(user_id, routing_profile_id)
            .await
    }

    async fn update_security_profiles(
        &self,
        user_id: &str,
        security_profile_ids: &[ConnectId],
    ) -> Result<(), DirectoryError> {
        self.bucket.acquire().await;
        self.inner
            .update_security_profiles(user_id, security_profile_ids)
            .await
    }

    async fn update_hierarchy(
        &self,
        user_id: &str,
        hierarchy_group_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.bucket.acquire().await;
        self.inner
            .update_hierarchy(user_id, hierarchy_group_id)
            .await
    }

    async fn delete_user(&self, user_id: &str) -> Result<(), DirectoryError> {
        self.bucket.acquire().await;
        self.inner.delete_user(user_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_the_burst_then_the_rate() {
        let bucket = TokenBucket::new(Pacing {
            requests_per_second: 2.0,
            burst: 5,
        });
        let start = Instant::now();
        for _ in 0..5 {
            bucket.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..10 {
            bucket.acquire().await;
        }
        // 10 more tokens at 2/s (less the headroom): 5 s of (virtual) time.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((elapsed - 5.0 / HEADROOM).abs() < 0.01, "{elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_share_the_rate() {
        let bucket = std::sync::Arc::new(TokenBucket::new(Pacing {
            requests_per_second: 4.0,
            burst: 1,
        }));
        let start = Instant::now();
        let tasks: Vec<_> = (0..9)
            .map(|_| {
                let b = bucket.clone();
                tokio::spawn(async move { b.acquire().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // 1 free + 8 at 4/s (less the headroom) = 2 s.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((elapsed - 2.0 / HEADROOM).abs() < 0.01, "{elapsed}");
    }
}
