//! Keys read in the last second, so that a request does not cost a database
//! read for its key. A key revoked through this store is forgotten at once;
//! one revoked by another process (`mannequin admin key revoke`, another API
//! process) is refused here within [`KEY_TTL`]. Expiry is checked against the
//! time on every request, from the record, so it is exact. Only keys that
//! exist are kept: an unknown key id costs a read each time, as it did.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::KeyRecord;

/// How long a key read from the database is used before it is read again.
pub const KEY_TTL: Duration = Duration::from_secs(1);
/// Keys kept at most; past it, those read longer ago than the TTL are dropped.
const MAX_KEYS: usize = 10_000;

/// Each key id: when it was read and what, or when it was revoked here
/// (`None`), so that a read that began before the revocation is not kept.
type Entries = HashMap<String, (Instant, Option<KeyRecord>)>;

#[derive(Default)]
pub(super) struct KeyCache {
    keys: Mutex<Entries>,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key, when it was read less than [`KEY_TTL`] ago.
    pub(super) fn get(&self, key_id: &str) -> Option<KeyRecord> {
        let keys = self.lock();
        match keys.get(key_id)? {
            (read_at, Some(record)) if read_at.elapsed() < KEY_TTL => Some(record.clone()),
            _ => None,
        }
    }

    /// Keeps `record`, read from the database at `read_at`, unless this
    /// store revoked it since.
    pub(super) fn put(&self, record: &KeyRecord, read_at: Instant) {
        let mut keys = self.lock();
        if let Some((revoked_at, None)) = keys.get(&record.key_id)
            && *revoked_at >= read_at
        {
            return;
        }
        if keys.len() >= MAX_KEYS {
            keys.retain(|_, (at, _)| at.elapsed() < KEY_TTL);
            if keys.len() >= MAX_KEYS {
                keys.clear();
            }
        }
        keys.insert(record.key_id.clone(), (read_at, Some(record.clone())));
    }

    /// Forgets a key this store revoked.
    pub(super) fn forget(&self, key_id: &str) {
        self.lock()
            .insert(key_id.to_string(), (Instant::now(), None));
    }
}
