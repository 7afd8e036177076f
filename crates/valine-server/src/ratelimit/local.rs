//! The in-process counter store (one instance, or the fallback when Redis is down).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{BoxFut, CounterStore, Window};

/// Above this many keys, expired windows are swept — at most once a second, so a flood
/// of distinct keys cannot make every hit pay for a full scan.
const SWEEP_AT: usize = 100_000;
const SWEEP_EVERY_MS: i64 = 1_000;

#[derive(Default)]
pub struct LocalStore {
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    map: HashMap<String, Window>,
    last_sweep_ms: i64,
}

impl CounterStore for LocalStore {
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> BoxFut<'a, Result<Window, String>> {
        Box::pin(async move {
            let now = valine_store::now_ms();
            let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            let mut guard = self
                .windows
                .lock()
                .map_err(|_| "lock poisoned".to_string())?;
            if guard.map.len() > SWEEP_AT && now - guard.last_sweep_ms >= SWEEP_EVERY_MS {
                guard.map.retain(|_, w| w.reset_at_ms > now);
                guard.last_sweep_ms = now;
            }
            let w = guard.map.entry(key.to_string()).or_insert(Window {
                count: 0,
                reset_at_ms: now.saturating_add(window_ms),
            });
            if w.reset_at_ms <= now {
                *w = Window {
                    count: 0,
                    reset_at_ms: now.saturating_add(window_ms),
                };
            }
            w.count += 1;
            Ok(*w)
        })
    }

    fn peek<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<Option<Window>, String>> {
        Box::pin(async move {
            let now = valine_store::now_ms();
            let map = self
                .windows
                .lock()
                .map_err(|_| "lock poisoned".to_string())?;
            Ok(map.map.get(key).copied().filter(|w| w.reset_at_ms > now))
        })
    }

    fn reset<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<(), String>> {
        Box::pin(async move {
            let mut map = self
                .windows
                .lock()
                .map_err(|_| "lock poisoned".to_string())?;
            map.map.remove(key);
            Ok(())
        })
    }
}
