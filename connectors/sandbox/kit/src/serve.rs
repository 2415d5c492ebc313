//! Starting a simulator: the listen address, binding, serving until shutdown (on connections
//! that can be cut, for lost answers), and the doubling back-off both simulators use to
//! redeliver notifications.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
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

/// A bound listener whose connections can be cut from a handler (see [`Tap`]).
#[derive(Debug)]
pub struct Listener(TcpListener);

/// A bound listener and the address it really got (port 0 resolved).
pub async fn bind(addr: SocketAddr) -> Result<(Listener, SocketAddr), BindError> {
    let err = |source| BindError { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
    Ok((Listener(listener), local))
}

/// A handle on one accepted connection, in every request's extensions as
/// `ConnectInfo<Tap>`: `cut` makes the connection refuse all further reads and writes, so
/// the server drops it without sending what it was about to send.
#[derive(Debug, Clone)]
pub struct Tap {
    peer: SocketAddr,
    cut: Arc<AtomicBool>,
}

impl Tap {
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, Listener>> for Tap {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP connection that fails every read and write once its [`Tap`] is cut.
#[derive(Debug)]
pub struct TapStream {
    io: TcpStream,
    cut: Arc<AtomicBool>,
}

impl TapStream {
    fn check(&self) -> io::Result<()> {
        if self.cut.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "answer lost on purpose (sandbox fault)",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for TapStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for TapStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl axum::serve::Listener for Listener {
    type Io = TapStream;
    type Addr = Tap;

    async fn accept(&mut self) -> (TapStream, Tap) {
        loop {
            match self.0.accept().await {
                Ok((io, peer)) => {
                    let cut = Arc::new(AtomicBool::new(false));
                    return (TapStream { io, cut: cut.clone() }, Tap { peer, cut });
                }
                // A connection that failed before it was accepted concerns only its client.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
                    ) => {}
                // Out of file descriptors or the like: wait a little rather than spin.
                Err(e) => {
                    tracing::error!("sandbox listener cannot accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Tap> {
        Ok(Tap {
            peer: self.0.local_addr()?,
            cut: Arc::default(),
        })
    }
}

/// Serves `app` until `stop` turns true, then lets in-flight requests finish. Requests carry
/// `ConnectInfo<Tap>`.
pub fn spawn(listener: Listener, app: Router, mut stop: watch::Receiver<bool>, name: &'static str) -> JoinHandle<()> {
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<Tap>();
        let serve = axum::serve(listener, service).with_graceful_shutdown(async move {
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
