//! Ledger writes: every credit movement is an appended entry and the same
//! change to the account's cached balances, both derived from the entry's kind
//! through [`LedgerKind::effect`], the one statement of what each kind does.

use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ids::{AccountId, ModelId, ReservationId};
use sqlx::AssertSqlSafe;

use super::{StoreError, StoreResult, Tx, values_rows};

/// One ledger row to append.
pub(super) struct Entry<'a> {
    pub account_id: &'a AccountId,
    pub kind: LedgerKind,
    pub amount: Credits,
    pub reservation_id: Option<&'a ReservationId>,
    pub model_id: Option<&'a ModelId>,
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
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.account_id.as_str())
                .bind(e.kind.as_str())
                .bind(e.amount.get())
                .bind(e.reservation_id.map(|r| r.as_str()))
                .bind(e.model_id.map(|m| m.as_str()))
                .bind(e.correlation_id)
                .bind(e.note)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
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
    let moved = sqlx::query(
        "UPDATE accounts SET available = available + $1, reserved = reserved + $2,
             consumed = consumed + $3
         WHERE id = $4 AND available + $1 >= 0",
    )
    .bind(d.available.get())
    .bind(d.reserved.get())
    .bind(d.consumed.get())
    .bind(account.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Records one movement: the entry and its change to the balances. Returns
/// false (and appends nothing) when the account could not afford it.
pub(super) async fn record(tx: &mut Tx, entry: Entry<'_>, now: i64) -> StoreResult<bool> {
    if !move_balances(tx, entry.account_id, entry.kind, entry.amount).await? {
        return Ok(false);
    }
    append(tx, &[entry], now).await?;
    Ok(true)
}
