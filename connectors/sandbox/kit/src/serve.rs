//! Starting a simulator: the listen address, binding, serving until shutdown, and the
//! doubling back-off both simulators use to redeliver notifications.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How long an injected hang (or held answer) lasts at most before the simulator lets go.
pub const HOLD_LIMIT: Duration = Duration::from_secs(600);

/// `127.0.0.1:port`; port 0 picks a free port (tests).
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

/// A bound listener and the address it really got (port 0 resolved).
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), BindError> {
    let err = |source| BindError { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
    Ok((listener, local))
}

/// Serves `app` until `stop` turns true, then lets in-flight requests finish.
pub fn spawn(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>, name: &'static str) -> JoinHandle<()> {
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!("{name} sandbox server stopped: {e}");
        }
    })
}

/// Runs a slow, blocking piece of start-up (loading a large seed) off the async workers.
pub async fn off_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string())
}

/// Waits until `done` holds for what `snapshot` returns, re-checking whenever `progress` is
/// notified, or until `timeout` passes; returns the last snapshot (tests watching deliveries).
pub async fn wait_until<T>(progress: &Notify, timeout: Duration, snapshot: impl Fn() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let progressed = progress.notified();
        let now = snapshot();
        if done(&now) || tokio::time::Instant::now() >= deadline {
            return now;
        }
        let _ = tokio::time::timeout_at(deadline, progressed).await;
    }
}

/// The delay before retry number `n` (1-based): `initial` doubling each time, at most `max`.
pub fn backoff(initial: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1));
    initial.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let d = |n| backoff(Duration::from_secs(15), Duration::from_secs(100), n);
        assert_eq!(
            (d(1), d(2), d(3), d(4), d(60)),
            (
                Duration::from_secs(15),
                Duration::from_secs(30),
                Duration::from_secs(60),
                Duration::from_secs(100),
                Duration::from_secs(100)
            )
        );
    }
}
