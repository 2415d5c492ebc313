//! Test helpers around the library's SMTP capture server (handoff::mail::capture): it
//! receives handoff's emails over real SMTP; `mime` reads their parts.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code, clippy::unwrap_used)]

pub mod mime;

use std::net::SocketAddr;

pub use handoff::mail::capture::{Behaviour, Captured};

pub struct SmtpCapture(handoff::mail::capture::SmtpCapture);

impl SmtpCapture {
    pub async fn start() -> Self {
        Self(handoff::mail::capture::SmtpCapture::start().await.unwrap())
    }

    pub async fn start_with(behaviour: Behaviour) -> Self {
        Self(handoff::mail::capture::SmtpCapture::start_with(behaviour).await.unwrap())
    }

    pub fn url(&self) -> String {
        self.0.url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.0.messages()
    }

    pub fn unacknowledged(&self) -> Vec<Captured> {
        self.0.unacknowledged()
    }
}
