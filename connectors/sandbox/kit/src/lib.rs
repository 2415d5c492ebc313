//! Plumbing the two CRM simulators share. Only the simulators use it: the connector
//! clients must stay an independent implementation of each wire protocol (see
//! docs/ARCHITECTURE.md), and nothing here speaks a CRM's protocol. The kit decides *that* a
//! request fails, is slowed or goes unanswered, reads seed files, starts servers, logs
//! requests and draws the plain HTML of a consent page; how an error looks on the wire, what
//! a seed holds, which routes exist and which OAuth parameters and errors a CRM uses stay with
//! each simulator.

pub mod consent;
pub mod faults;
mod reqlog;
mod rng;
pub mod seed;
pub mod serve;

pub use faults::Switchboard;
pub use reqlog::{LoggedRequest, Observed, RequestLog, endpoint_of};
pub use rng::SplitMix;

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks a mutex; a panic elsewhere must not take the whole simulator down with it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

pub fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}
