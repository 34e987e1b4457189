//! Ledger writes: every credit movement is an appended entry and the same
//! change to the account's cached balances, both derived from the entry's kind
//! through [`LedgerKind::effect`], the one statement of what each kind does.

use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ids::{AccountId, AssetId, ReservationId};

use super::db::{Bind, Int, OptText, Text};
use super::{StoreError, StoreResult, Tx, values_rows};

/// One ledger row to append.
pub(super) struct Entry<'a> {
    pub account_id: &'a AccountId,
    pub kind: LedgerKind,
    pub amount: Credits,
    pub reservation_id: Option<&'a ReservationId>,
    pub model_id: Option<&'a AssetId>,
    pub correlation_id: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Most rows in one INSERT: 8 parameters each stays well under SQLite's limit.
const ROWS_PER_INSERT: usize = 100;

/// Appends `entries`, in order.
pub(super) async fn append(tx: &mut Tx, entries: &[Entry<'_>], now: i64) -> StoreResult<()> {
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO ledger (account_id, kind, amount, reservation_id, model_id,
                 correlation_id, note, created_at)
             VALUES {}",
            values_rows("(?, ?, ?, ?, ?, ?, ?, ?)", chunk.len())
        );
        let mut binds: Vec<Bind<'_>> = Vec::with_capacity(chunk.len() * 8);
        for e in chunk {
            binds.extend([
                Text(e.account_id.as_str()),
                Text(e.kind.as_str()),
                Int(e.amount.get()),
                OptText(e.reservation_id.map(|r| r.as_str())),
                OptText(e.model_id.map(|m| m.as_str())),
                OptText(e.correlation_id),
                OptText(e.note),
                Int(now),
            ]);
        }
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}

/// Moves `account`'s balances as `amount` of `kind` does, unless that would
/// make `available` negative. Returns false when the account is missing or
/// could not afford it; nothing changed then.
pub(super) async fn move_balances(
    tx: &mut Tx,
    account: &AccountId,
    kind: LedgerKind,
    amount: Credits,
) -> StoreResult<bool> {
    let d = Balances::delta(kind, amount)
        .ok_or_else(|| StoreError::internal("credit amount overflows"))?;
    let moved = tx
        .execute(
            "UPDATE accounts SET available = available + $1, reserved = reserved + $2,
                 consumed = consumed + $3
             WHERE id = $4 AND available + $1 >= 0",
            &[
                Int(d.available.get()),
                Int(d.reserved.get()),
                Int(d.consumed.get()),
                Text(account.as_str()),
            ],
        )
        .await?;
    Ok(moved == 1)
}

/// Records one movement: the entry, then its change to the balances, last, so
/// that the account's row (which every request and settle of the account
/// updates) is locked only from there to the commit. Returns false when the
/// account could not afford it: the caller must then roll back, which takes
/// the entry back too.
pub(super) async fn record(tx: &mut Tx, entry: Entry<'_>, now: i64) -> StoreResult<bool> {
    let (account, kind, amount) = (entry.account_id, entry.kind, entry.amount);
    append(tx, &[entry], now).await?;
    move_balances(tx, account, kind, amount).await
}
