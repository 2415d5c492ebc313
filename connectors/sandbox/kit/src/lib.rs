//! Plumbing the two CRM simulators share. Only the simulators use it: the connector
//! clients must stay an independent implementation of each wire protocol (seam 2 in
//! ARCHITECTURE.md), and nothing here speaks a protocol.

mod reqlog;

pub use reqlog::{LoggedRequest, RequestLog, endpoint_of};

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
