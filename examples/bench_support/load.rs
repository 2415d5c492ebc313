//! The benchmarks' load generator: a lean keep-alive HTTP/1.1 client that sends the
//! same GET again and again (as wrk or oha would), a closed loop for throughput and an
//! open loop for latency at a fixed rate. Both sides share this machine's cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Throughput {
    pub requests: u64,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
}

/// `connections` connections, each sending its next request when the last is answered,
/// for `length`.
pub async fn closed_loop(target: &Target, connections_wanted: usize, length: Duration) -> anyhow::Result<Throughput> {
    let mut connections = Vec::with_capacity(connections_wanted);
    for _ in 0..connections_wanted {
        let mut connection = target.connect().await?;
        // Warm up: connections open, statements prepared, templates cached.
        for _ in 0..10 {
            connection.get().await?;
        }
        connections.push(connection);
    }
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + length;
    let mut workers = tokio::task::JoinSet::new();
    for mut connection in connections {
        let done = Arc::clone(&done);
        workers.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let at = Instant::now();
                connection.get().await?;
                latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(joined) = workers.join_next().await {
        latencies.extend(joined??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let requests = done.load(Ordering::Relaxed);
    Ok(Throughput {
        requests,
        per_second: requests as f64 / elapsed,
        p50: super::pct(&latencies, 0.50),
        p99: super::pct(&latencies, 0.99),
    })
}

pub struct Latency {
    pub requests: u64,
    pub late: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Requests started on a fixed schedule of `rate` per second, whatever the answers do;
/// each latency counts from its scheduled start (no coordinated omission).
pub async fn open_loop(target: &Target, rate: u64, length: Duration) -> anyhow::Result<Latency> {
    const IN_FLIGHT: usize = 256;
    let mut idle = Vec::with_capacity(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        idle.push(target.connect().await?);
    }
    // A request takes an idle connection, or waits for one (and is late by as much).
    let (give_back, mut idle_connections) = tokio::sync::mpsc::channel::<Connection>(IN_FLIGHT);
    for connection in idle {
        give_back.send(connection).await?;
    }
    let total = rate * length.as_secs();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = tokio::time::Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    let mut late = 0;
    for i in 0..total {
        let scheduled = started + interval * u32::try_from(i)?;
        let now = tokio::time::Instant::now();
        if scheduled > now {
            tokio::time::sleep_until(scheduled).await;
        } else if now - scheduled > Duration::from_millis(1) {
            late += 1;
        }
        let mut connection = idle_connections.recv().await.expect("connections come back");
        let give_back = give_back.clone();
        requests.spawn(async move {
            connection.get().await?;
            let latency = scheduled.elapsed().as_secs_f64() * 1000.0;
            give_back.send(connection).await?;
            anyhow::Ok(latency)
        });
    }
    let mut latencies = Vec::with_capacity(usize::try_from(total)?);
    while let Some(joined) = requests.join_next().await {
        latencies.push(joined??);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Latency {
        requests: total,
        late,
        p50: super::pct(&latencies, 0.50),
        p95: super::pct(&latencies, 0.95),
        p99: super::pct(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}

/// The mean time for one page with nothing else going on.
pub async fn one_at_a_time(target: &Target, requests: u32) -> anyhow::Result<f64> {
    let mut connection = target.connect().await?;
    connection.get().await?;
    let started = Instant::now();
    for _ in 0..requests {
        connection.get().await?;
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0 / f64::from(requests))
}

/// The page to load: where, and the request that asks for it.
pub struct Target {
    address: std::net::SocketAddr,
    request: Arc<[u8]>,
    /// The length of the page as checked in full: every answer must have it.
    page_length: usize,
}

impl Target {
    pub fn new(address: std::net::SocketAddr, path: &str, cookie: &str, page_length: usize) -> Self {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nAccept: text/html\r\n\r\n");
        Self {
            address,
            request: request.into_bytes().into(),
            page_length,
        }
    }

    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let stream = tokio::net::TcpStream::connect(self.address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            request: Arc::clone(&self.request),
            page_length: self.page_length,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }
}

/// One keep-alive HTTP/1.1 connection that sends the same GET again and again.
///
/// The load generator shares the two cores with the server, so it is kept lean, as
/// wrk or oha would be: the request is written once and reused, and an answer is
/// read by its Content-Length with no parsing beyond the status line and that header.
/// A client library costs a sizeable share of the cores at these rates; this leaves
/// them to the server. The answer is still checked: a 200 whose whole body arrived.
pub struct Connection {
    stream: tokio::net::TcpStream,
    request: Arc<[u8]>,
    page_length: usize,
    buffer: Vec<u8>,
}

impl Connection {
    pub async fn get(&mut self) -> anyhow::Result<usize> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.stream.write_all(&self.request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(at) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            anyhow::ensure!(
                self.stream.read_buf(&mut self.buffer).await? > 0,
                "the server closed the connection"
            );
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])?;
        anyhow::ensure!(
            head.starts_with("HTTP/1.1 200 "),
            "the page answered {}",
            head.lines().next().unwrap_or_default()
        );
        let length: usize = head
            .lines()
            .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("content-length")))
            .map(|(_, value)| value.trim().parse())
            .transpose()?
            .ok_or_else(|| anyhow::anyhow!("the page came without a Content-Length"))?;
        anyhow::ensure!(
            length == self.page_length,
            "a page of {length} bytes, not the {} checked",
            self.page_length
        );
        // The whole body is read: a page only counts once it has arrived.
        while self.buffer.len() < head_end + length {
            anyhow::ensure!(
                self.stream.read_buf(&mut self.buffer).await? > 0,
                "the server closed the connection"
            );
        }
        anyhow::ensure!(self.buffer.len() == head_end + length, "more bytes than the page");
        Ok(length)
    }
}

/// Each of `requests` pages alone, one after another on one connection: their times in
/// milliseconds, sorted (after one unmeasured warm-up).
pub async fn each_alone(target: &Target, requests: u32) -> anyhow::Result<Vec<f64>> {
    let mut connection = target.connect().await?;
    connection.get().await?;
    let mut times = Vec::with_capacity(requests as usize);
    for _ in 0..requests {
        let at = Instant::now();
        connection.get().await?;
        times.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}
