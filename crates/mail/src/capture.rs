//! A small SMTP capture server: it speaks enough of RFC 5321 for lettre (EHLO/HELO,
//! AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), keeps every
//! message it accepts, and can be told to refuse at RCPT or after DATA, to refuse
//! credentials, or to never answer at all. `handoff demo` uses it to show the
//! invitation emails handoff sends; tests use it to check them over real SMTP.
//!
//! A message is stored before the final 250 is written, so once `Mailer::send` returns
//! `Ok` the message is already in [`SmtpCapture::messages`]: no waiting in tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server misbehaves.
#[derive(Debug, Clone, Default)]
pub enum Behaviour {
    #[default]
    Accept,
    /// This reply (e.g. "550 5.1.1 no such user") to every RCPT TO.
    RefuseRcpt(&'static str),
    /// This reply after the message's final dot, instead of 250.
    RefuseData(&'static str),
    /// This reply to AUTH.
    RefuseAuth(&'static str),
    /// Accept the connection and never say anything.
    Silent,
    /// Take the whole message, then never answer the final dot: the sender cannot tell
    /// whether it was accepted. Such messages are listed by
    /// [`SmtpCapture::unacknowledged`], not [`SmtpCapture::messages`].
    StallAfterData,
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-unstuffed, lines joined with CRLF.
    pub raw: String,
    /// The user name given with AUTH PLAIN on this connection, if any.
    pub auth_user: Option<String>,
}

pub struct SmtpCapture {
    addr: SocketAddr,
    messages: Arc<Mutex<Vec<Captured>>>,
    unacknowledged: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpCapture {
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Behaviour::Accept).await
    }

    /// Listens on an ephemeral port of 127.0.0.1.
    pub async fn start_with(behaviour: Behaviour) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let messages = Arc::new(Mutex::new(Vec::new()));
        let unacknowledged = Arc::new(Mutex::new(Vec::new()));
        let store = Kept {
            accepted: Arc::clone(&messages),
            unacknowledged: Arc::clone(&unacknowledged),
        };
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, behaviour) = (store.clone(), behaviour.clone());
                tokio::spawn(async move {
                    // A client that hangs up mid-session is not the server's problem.
                    let _ = serve(stream, behaviour, store).await;
                });
            }
        });
        Ok(Self {
            addr,
            messages,
            unacknowledged,
            task,
        })
    }

    /// `smtp://127.0.0.1:PORT`: loopback, so the mailer speaks plain SMTP.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Messages received in full but never acknowledged ([`Behaviour::StallAfterData`]).
    pub fn unacknowledged(&self) -> Vec<Captured> {
        self.unacknowledged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Where a connection keeps what it received.
#[derive(Clone)]
struct Kept {
    accepted: Arc<Mutex<Vec<Captured>>>,
    unacknowledged: Arc<Mutex<Vec<Captured>>>,
}

#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

async fn serve(stream: TcpStream, behaviour: Behaviour, store: Kept) -> std::io::Result<()> {
    if matches!(behaviour, Behaviour::Silent) {
        // Hold the connection open, unanswered, until the client gives up.
        let mut reader = BufReader::new(stream);
        let mut sink = Vec::new();
        while reader.read_until(b'\n', &mut sink).await? > 0 {}
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut tx = Transaction::default();
    let mut auth_user = None;
    write.write_all(b"220 capture.test ESMTP ready\r\n").await?;
    while let Some(line) = read_line(&mut reader).await? {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-capture.test\r\n250-8BITMIME\r\n250 AUTH PLAIN".into()
        } else if upper.starts_with("HELO") {
            "250 capture.test".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let mut encoded = line[10..].trim().to_owned();
            if encoded.is_empty() {
                write.write_all(b"334 \r\n").await?;
                encoded = read_line(&mut reader).await?.unwrap_or_default();
            }
            auth_user = plain_user(&encoded);
            match behaviour {
                Behaviour::RefuseAuth(reply) => reply.into(),
                _ => "235 2.7.0 authenticated".into(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            tx = Transaction {
                mail_from: Some(angle_path(&line[10..])),
                rcpt_to: Vec::new(),
            };
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            match behaviour {
                Behaviour::RefuseRcpt(reply) => reply.into(),
                _ if tx.mail_from.is_none() => "503 5.5.1 MAIL first".into(),
                _ => {
                    tx.rcpt_to.push(angle_path(&line[8..]));
                    "250 2.1.5 ok".into()
                }
            }
        } else if upper == "DATA" {
            if tx.rcpt_to.is_empty() {
                "503 5.5.1 RCPT first".into()
            } else {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let raw = read_data(&mut reader).await?;
                let done = std::mem::take(&mut tx);
                let captured = Captured {
                    mail_from: done.mail_from.unwrap_or_default(),
                    rcpt_to: done.rcpt_to,
                    raw,
                    auth_user: auth_user.clone(),
                };
                match behaviour {
                    Behaviour::RefuseData(reply) => reply.into(),
                    Behaviour::StallAfterData => {
                        keep(&store.unacknowledged, captured);
                        let mut sink = Vec::new();
                        while reader.read_until(b'\n', &mut sink).await? > 0 {
                            sink.clear();
                        }
                        return Ok(());
                    }
                    _ => {
                        keep(&store.accepted, captured);
                        "250 2.0.0 queued".into()
                    }
                }
            }
        } else if upper == "RSET" {
            tx = Transaction::default();
            "250 2.0.0 ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 command not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
    Ok(())
}

fn keep(list: &Mutex<Vec<Captured>>, message: Captured) {
    list.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(message);
}

/// One line without its CRLF; `None` at end of stream.
async fn read_line(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if reader.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// The message up to the lone dot, with the leading dot that the client doubled on
/// lines starting with one removed (RFC 5321 §4.5.2).
async fn read_data(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<String> {
    let mut lines = Vec::new();
    while let Some(line) = read_line(reader).await? {
        if line == "." {
            break;
        }
        lines.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
    }
    Ok(lines.join("\r\n"))
}

/// `<a@b> SIZE=123` → `a@b`.
fn angle_path(arg: &str) -> String {
    let arg = arg.trim();
    let end = arg.find('>').map_or(arg.len(), |i| i + 1);
    arg[..end].trim_start_matches('<').trim_end_matches('>').to_owned()
}

/// AUTH PLAIN's payload is base64 of `authzid \0 user \0 password`; keep the user only.
fn plain_user(encoded: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.split('\0').nth(1).map(str::to_owned)
}
