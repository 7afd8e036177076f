//! Counters in Redis: one Lua script per hit (INCR, and PEXPIRE on the first hit), so the
//! check is atomic and shared by every instance. Calls are bounded by a short timeout;
//! errors make the limiter fall back to the in-process store.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

use super::{BoxFut, CounterStore, Window};

const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

const PEEK: &str = r"
local count = redis.call('GET', KEYS[1])
if not count then return {0, -2} end
return {tonumber(count), redis.call('PTTL', KEYS[1])}
";

const CALL_TIMEOUT: Duration = Duration::from_millis(300);
const RECONNECT_EVERY_MS: i64 = 2_000;

pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    conn: Mutex<(Option<ConnectionManager>, i64)>,
    hit: redis::Script,
    peek: redis::Script,
}

impl RedisStore {
    pub fn new(url: &str, prefix: &str) -> Result<RedisStore, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        Ok(RedisStore {
            client,
            prefix: prefix.to_string(),
            conn: Mutex::new((None, 0)),
            hit: redis::Script::new(HIT),
            peek: redis::Script::new(PEEK),
        })
    }

    /// A connection, creating one at most every couple of seconds while Redis is down (so a
    /// dead Redis costs a fast error, not a connect timeout per request).
    async fn connection(&self) -> Result<ConnectionManager, String> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = &guard.0 {
            return Ok(c.clone());
        }
        let now = valine_store::now_ms();
        if now - guard.1 < RECONNECT_EVERY_MS {
            return Err("redis unavailable (waiting to reconnect)".into());
        }
        guard.1 = now;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(CALL_TIMEOUT)
            .set_response_timeout(CALL_TIMEOUT);
        let manager = tokio::time::timeout(
            CALL_TIMEOUT * 3,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| "redis connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
        guard.0 = Some(manager.clone());
        Ok(manager)
    }

    /// Pings Redis (for `/ready`).
    pub async fn ping(&self) -> bool {
        let Ok(mut c) = self.connection().await else {
            return false;
        };
        tokio::time::timeout(
            CALL_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut c),
        )
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// After a failure the connection is dropped, so for the next couple of seconds calls
    /// fail at once (falling back locally) instead of each waiting for a timeout.
    async fn broken(&self, error: String) -> String {
        let mut guard = self.conn.lock().await;
        guard.0 = None;
        guard.1 = valine_store::now_ms();
        error
    }

    async fn run(&self, script: &redis::Script, key: &str, arg: i64) -> Result<(i64, i64), String> {
        let mut c = self.connection().await?;
        let mut invocation = script.key(self.key(key));
        invocation.arg(arg);
        match tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async::<(i64, i64)>(&mut c))
            .await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.broken(e.to_string()).await),
            Err(_) => Err(self.broken("redis call timed out".to_string()).await),
        }
    }
}

impl CounterStore for RedisStore {
    fn hit<'a>(&'a self, key: &'a str, window: Duration) -> BoxFut<'a, Result<Window, String>> {
        Box::pin(async move {
            let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            let (count, ttl) = self.run(&self.hit, key, window_ms).await?;
            Ok(Window {
                count: u64::try_from(count).unwrap_or(0),
                reset_at_ms: valine_store::now_ms() + ttl.max(0),
            })
        })
    }

    fn peek<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<Option<Window>, String>> {
        Box::pin(async move {
            let (count, ttl) = self.run(&self.peek, key, 0).await?;
            Ok((count > 0 && ttl > 0).then(|| Window {
                count: u64::try_from(count).unwrap_or(0),
                reset_at_ms: valine_store::now_ms() + ttl,
            }))
        })
    }

    fn reset<'a>(&'a self, key: &'a str) -> BoxFut<'a, Result<(), String>> {
        Box::pin(async move {
            let mut c = self.connection().await?;
            match tokio::time::timeout(
                CALL_TIMEOUT,
                redis::cmd("DEL")
                    .arg(self.key(key))
                    .query_async::<i64>(&mut c),
            )
            .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(self.broken(e.to_string()).await),
                Err(_) => Err(self.broken("redis call timed out".to_string()).await),
            }
        })
    }
}
