//! Reading the row a statement stands on, column after column, through
//! SQLite's C interface: a column is its type and then its value.

use std::ffi::c_int;
use std::marker::PhantomData;
use std::ptr::NonNull;

use rusqlite::ffi;

use super::super::db::Columns;
use super::super::{StoreError, StoreResult};
use super::utf8;

/// The row a statement stands on, and the position of the next column to read.
pub(super) struct Row<'r> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    columns: usize,
    next: usize,
    row: PhantomData<&'r ()>,
}

/// What a column holds, as SQLite's fundamental types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Integer,
    Text,
    Blob,
    Real,
}

impl<'r> Row<'r> {
    /// The row `stmt` stands on, which has `columns` columns; it is valid
    /// until the statement steps or resets, which the caller does not do for
    /// as long as `'r` lasts.
    pub(super) fn new(stmt: NonNull<ffi::sqlite3_stmt>, columns: usize) -> Row<'r> {
        Row {
            stmt,
            columns,
            next: 0,
            row: PhantomData,
        }
    }

    /// The next column and the kind of its value.
    fn column(&mut self) -> StoreResult<(c_int, Kind)> {
        let i = self.next;
        if i >= self.columns {
            return Err(StoreError::internal(format!(
                "read column {} of a row of {}",
                i + 1,
                self.columns
            )));
        }
        self.next += 1;
        // SAFETY: the statement stands on a row and `i` is one of its columns.
        // The type is asked before any conversion, as SQLite requires.
        let kind = match unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), i as c_int) } {
            ffi::SQLITE_NULL => Kind::Null,
            ffi::SQLITE_INTEGER => Kind::Integer,
            ffi::SQLITE_TEXT => Kind::Text,
            ffi::SQLITE_BLOB => Kind::Blob,
            _ => Kind::Real,
        };
        Ok((i as c_int, kind))
    }

    /// Column `i`'s bytes, as text or as a blob, valid until the next step.
    fn bytes_of(&self, i: c_int, kind: Kind) -> &'r [u8] {
        let stmt = self.stmt.as_ptr();
        // SAFETY: the statement stands on a row and `i` is a text or blob
        // column; the pointer is asked before the length, as SQLite
        // requires, and stays valid until the statement steps or resets,
        // which does not happen while the row is lent out (`'r`).
        unsafe {
            let p: *const u8 = if kind == Kind::Text {
                ffi::sqlite3_column_text(stmt, i)
            } else {
                ffi::sqlite3_column_blob(stmt, i).cast()
            };
            let len = ffi::sqlite3_column_bytes(stmt, i) as usize;
            if p.is_null() || len == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p, len)
            }
        }
    }

    fn int_of(&self, i: c_int) -> i64 {
        // SAFETY: the statement stands on a row and `i` is one of its columns.
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i) }
    }
}

fn mismatch(what: &str, got: Kind) -> StoreError {
    let got = match got {
        Kind::Null => "null",
        Kind::Integer => "an integer",
        Kind::Text => "text",
        Kind::Blob => "a blob",
        Kind::Real => "a real number",
    };
    StoreError::internal(format!("expected {what}, read {got}"))
}

impl<'r> Columns<'r> for Row<'r> {
    fn text(&mut self) -> StoreResult<String> {
        self.str().map(str::to_owned)
    }

    fn opt_text(&mut self) -> StoreResult<Option<String>> {
        Ok(self.opt_str()?.map(str::to_owned))
    }

    fn str(&mut self) -> StoreResult<&'r str> {
        match self.column()? {
            (i, Kind::Text) => utf8(self.bytes_of(i, Kind::Text)),
            (_, other) => Err(mismatch("text", other)),
        }
    }

    fn opt_str(&mut self) -> StoreResult<Option<&'r str>> {
        match self.column()? {
            (_, Kind::Null) => Ok(None),
            (i, Kind::Text) => utf8(self.bytes_of(i, Kind::Text)).map(Some),
            (_, other) => Err(mismatch("text or null", other)),
        }
    }

    fn int(&mut self) -> StoreResult<i64> {
        match self.column()? {
            (i, Kind::Integer) => Ok(self.int_of(i)),
            (_, other) => Err(mismatch("an integer", other)),
        }
    }

    fn opt_int(&mut self) -> StoreResult<Option<i64>> {
        match self.column()? {
            (_, Kind::Null) => Ok(None),
            (i, Kind::Integer) => Ok(Some(self.int_of(i))),
            (_, other) => Err(mismatch("an integer or null", other)),
        }
    }

    fn bytes(&mut self) -> StoreResult<Vec<u8>> {
        match self.column()? {
            (i, Kind::Blob) => Ok(self.bytes_of(i, Kind::Blob).to_vec()),
            (_, other) => Err(mismatch("a blob", other)),
        }
    }

    fn opt_bytes(&mut self) -> StoreResult<Option<Vec<u8>>> {
        match self.column()? {
            (_, Kind::Null) => Ok(None),
            (i, Kind::Blob) => Ok(Some(self.bytes_of(i, Kind::Blob).to_vec())),
            (_, other) => Err(mismatch("a blob or null", other)),
        }
    }
}
