//! SQLite's reads outside a transaction, on connections of their own that
//! run the statement in place, on the calling thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends every
//! row across a channel, each value copied with SQLite's allocator: for the
//! model list that was most of the request's time, spent handing rows between
//! threads. A read in WAL mode does not wait for the writer, so it can run
//! where it is asked for: a page of 100 models takes about as long as
//! waking another thread twice would. Values are read where SQLite keeps
//! them ([`Columns::str`] borrows them) and statements are prepared once per
//! connection and kept, both through SQLite's C interface ([`statement`]).
//!
//! The connections are opened on demand and kept while idle, at most one per
//! thread that reads at once (each is in use only during one call, which does
//! not wait on anything else).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::db::{Bind, Each};
use super::{StoreError, StoreResult};
use statement::Reader;

mod row;
mod statement;

/// Statements kept per connection: the list's shapes and the key lookup.
const STATEMENTS: usize = 64;
/// How long a read waits for SQLite's locks (held only briefly by readers and
/// by a checkpoint in WAL mode) before the request answers 503.
const BUSY: Duration = Duration::from_secs(2);

pub(super) struct Readers {
    path: PathBuf,
    /// Idle connections; `None` once closed.
    idle: Mutex<Option<Vec<Reader>>>,
}

/// A read asked of readers that were closed.
#[derive(Debug, thiserror::Error)]
#[error("the database's readers are closed")]
struct Closed;

impl Readers {
    /// Readers of the database file at `path` (which the writer created).
    pub(super) fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Some(Vec::new())),
        }
    }

    /// Closes the idle connections; reads from now on fail as unavailable.
    pub(super) fn close(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Reader>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self) -> StoreResult<Reader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", -4000)?;
        Ok(Reader::new(conn, STATEMENTS))
    }

    /// Runs `sql` with `binds` and hands each row to `each`, in order.
    pub(super) fn each(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
        each: &mut Each<'_>,
    ) -> StoreResult<()> {
        let idle = match self.lock().as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(StoreError::Unavailable(std::sync::Arc::new(Closed))),
        };
        let mut reader = match idle {
            Some(reader) => reader,
            None => self.open()?,
        };
        let read = reader.run(sql, binds, each);
        if let Some(idle) = self.lock().as_mut() {
            idle.push(reader);
        }
        read
    }
}

/// The text as `str`. Most of what the service stores is ASCII, which
/// [`is_ascii`] confirms in half the time of a full UTF-8 check (13 texts a
/// model listed, a long prompt among them); anything else is checked whole.
fn utf8(bytes: &[u8]) -> StoreResult<&str> {
    if is_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|e| StoreError::internal(e.to_string()))
}

/// Whether no byte has its high bit set: the bytes ORed sixteen at a time
/// with SSE2 (part of every x86-64), eight at a time elsewhere and for
/// texts shorter than sixteen bytes.
#[cfg(target_arch = "x86_64")]
fn is_ascii(bytes: &[u8]) -> bool {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_setzero_si128,
    };
    if bytes.len() < 16 {
        return is_ascii_words(bytes);
    }
    // SAFETY: SSE2 is part of x86-64; each load reads 16 bytes at an index
    // at most `bytes.len() - 16`.
    unsafe {
        let load = |i: usize| _mm_loadu_si128(bytes.as_ptr().add(i).cast::<__m128i>());
        let mut any = _mm_setzero_si128();
        let mut i = 0;
        while i + 16 <= bytes.len() {
            any = _mm_or_si128(any, load(i));
            i += 16;
        }
        // The last 16 bytes, overlapping bytes already seen.
        any = _mm_or_si128(any, load(bytes.len() - 16));
        _mm_movemask_epi8(any) == 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn is_ascii(bytes: &[u8]) -> bool {
    is_ascii_words(bytes)
}

/// [`is_ascii`] eight bytes at a time, which the compiler turns into wide
/// loads without a branch per word.
fn is_ascii_words(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut high = 0u64;
    for w in &mut words {
        high |= u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
    }
    let tail = words.remainder().iter().fold(0u8, |a, &b| a | b);
    high & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_high_byte_anywhere_is_found() {
        for len in 0..70 {
            let clean = vec![b'a'; len];
            assert!(is_ascii(&clean) && is_ascii_words(&clean), "{len}");
            for at in 0..len {
                let mut bytes = clean.clone();
                bytes[at] = 0x80;
                assert!(!is_ascii(&bytes), "{len} {at}");
                assert!(!is_ascii_words(&bytes), "{len} {at}");
            }
        }
    }

    proptest! {
        #[test]
        fn text_reads_as_std_reads_it(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(is_ascii(&bytes), bytes.is_ascii());
            prop_assert_eq!(is_ascii_words(&bytes), bytes.is_ascii());
            prop_assert_eq!(utf8(&bytes).ok(), std::str::from_utf8(&bytes).ok());
        }
    }
}
