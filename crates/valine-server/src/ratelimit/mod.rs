//! Rate limiting: fixed-window counters behind one interface, kept in process by default
//! or in Redis (`REDIS_URL`) so every instance shares one budget. If Redis fails, checks
//! fall back to the in-process store (counted in `/metrics`) rather than failing requests.

pub mod local;
pub mod redis_store;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;

/// A window's count after a hit, and when the window resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub count: u64,
    pub reset_at_ms: i64,
}

/// The verdict for one limit.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    pub reset_at_ms: i64,
}

impl Decision {
    pub fn retry_after_secs(&self, now_ms: i64) -> u64 {
        u64::try_from(((self.reset_at_ms - now_ms) + 999) / 1000)
            .unwrap_or(1)
            .max(1)
    }

    fn from_window(w: Window, limit: u64) -> Decision {
        Decision {
            allowed: w.count <= limit,
            limit,
            remaining: limit.saturating_sub(w.count),
            reset_at_ms: w.reset_at_ms,
        }
    }
}

/// A limit: `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u64,
    pub window: Duration,
}

impl Rule {
    pub const fn new(max: u64, window_secs: u64) -> Rule {
        Rule {
            max,
            window: Duration::from_secs(window_secs),
        }
    }

    /// `"N/SECONDS"`, as in `RATE_LIMIT_AUTH=10/900`.
    pub fn parse(s: &str) -> Option<Rule> {
        let (n, secs) = s.trim().split_once('/')?;
        let max = n.trim().parse().ok()?;
        let secs: u64 = secs.trim().parse().ok()?;
        (max > 0 && secs > 0).then(|| Rule::new(max, secs))
    }
}

/// Where counters live. Implementations must make `hit` atomic per key.
pub trait CounterStore: Send + Sync {
    /// Counts one event under `key` and returns the window after it.
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> BoxFut<'a, Result<Window, String>>;
    /// The current window without counting (None if there is none).
    fn peek<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<Option<Window>, String>>;
    /// Forgets `key` (a successful login resets its failure count).
    fn reset<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<(), String>>;
}

pub type BoxFut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The limiter handlers and layers use.
#[derive(Clone)]
pub struct Limiter {
    local: Arc<local::LocalStore>,
    redis: Option<Arc<redis_store::RedisStore>>,
    fallbacks: Counter,
}

impl Limiter {
    pub fn new(redis: Option<Arc<redis_store::RedisStore>>, fallbacks: Counter) -> Limiter {
        Limiter {
            local: Arc::new(local::LocalStore::default()),
            redis,
            fallbacks,
        }
    }

    /// Counts an event against `rule` and says whether it is allowed.
    pub async fn check(&self, key: &str, rule: Rule) -> Decision {
        let w = match &self.redis {
            Some(r) => match r.hit(key, rule.window).await {
                Ok(w) => w,
                Err(e) => {
                    self.fallback(&e);
                    self.local_hit(key, rule.window).await
                }
            },
            None => self.local_hit(key, rule.window).await,
        };
        Decision::from_window(w, rule.max)
    }

    /// Whether `key` is already over `rule` (without counting).
    pub async fn over(&self, key: &str, rule: Rule) -> Option<Decision> {
        let w = match &self.redis {
            Some(r) => match r.peek(key).await {
                Ok(w) => w,
                Err(e) => {
                    self.fallback(&e);
                    self.local.peek(key).await.ok().flatten()
                }
            },
            None => self.local.peek(key).await.ok().flatten(),
        }?;
        (w.count >= rule.max).then_some(Decision {
            allowed: false,
            limit: rule.max,
            remaining: 0,
            reset_at_ms: w.reset_at_ms,
        })
    }

    pub async fn reset(&self, key: &str) {
        if let Some(r) = &self.redis
            && let Err(e) = r.reset(key).await
        {
            self.fallback(&e);
        }
        let _ = self.local.reset(key).await;
    }

    async fn local_hit(&self, key: &str, window: Duration) -> Window {
        // The local store cannot fail; a poisoned lock still yields a window.
        self.local.hit(key, window).await.unwrap_or(Window {
            count: 0,
            reset_at_ms: valine_store::now_ms(),
        })
    }

    fn fallback(&self, error: &str) {
        self.fallbacks.inc();
        tracing::warn!(
            error,
            "rate-limit store unavailable; using the in-process store"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        assert_eq!(Rule::parse("10/900"), Some(Rule::new(10, 900)));
        assert_eq!(Rule::parse(" 5 / 3600 "), Some(Rule::new(5, 3600)));
        for bad in ["", "10", "0/10", "10/0", "a/b", "-1/5"] {
            assert_eq!(Rule::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn local_limiter_allows_exactly_max_per_window() {
        let l = Limiter::new(None, Counter::default());
        let rule = Rule::new(3, 60);
        for i in 0..3 {
            let d = l.check("k", rule).await;
            assert!(d.allowed, "hit {i}");
            assert_eq!(d.remaining, 2 - i);
        }
        let d = l.check("k", rule).await;
        assert!(!d.allowed);
        assert!(d.retry_after_secs(valine_store::now_ms()) <= 60);
        assert!(l.check("other", rule).await.allowed, "keys are independent");
        assert!(l.over("k", rule).await.is_some());
        l.reset("k").await;
        assert!(l.over("k", rule).await.is_none());
        assert!(l.check("k", rule).await.allowed);
    }

    #[tokio::test]
    async fn windows_expire() {
        let l = Limiter::new(None, Counter::default());
        let rule = Rule {
            max: 1,
            window: Duration::from_millis(50),
        };
        assert!(l.check("k", rule).await.allowed);
        assert!(!l.check("k", rule).await.allowed);
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(l.check("k", rule).await.allowed);
    }
}
