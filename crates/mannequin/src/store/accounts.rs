//! Accounts, their credits and their API keys.

use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ids::AccountId;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::ledger::{self, Entry};
use super::native::Bind;
use super::{AccountSummary, KeyRecord, NewKey, Store, StoreError, StoreResult, Tx};

impl Store {
    /// Creates an account, granting `credits` through the ledger.
    pub async fn create_account(
        &self,
        id: &AccountId,
        name: &str,
        credits: Credits,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_account(&mut tx, id, name, credits, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates the account and its key only if the database holds no account
    /// yet; true if it did.
    pub async fn create_first_account(
        &self,
        id: &AccountId,
        name: &str,
        credits: Credits,
        key: &NewKey,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let any = sqlx::query("SELECT id FROM accounts LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if any.is_some() {
            return Ok(false);
        }
        insert_account(&mut tx, id, name, credits, now).await?;
        insert_key(&mut tx, key, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn account_exists(&self, id: &AccountId) -> StoreResult<bool> {
        let found = sqlx::query("SELECT id FROM accounts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }

    /// Every account with its balances, oldest first.
    pub async fn list_accounts(&self) -> StoreResult<Vec<AccountSummary>> {
        let rows = sqlx::query(
            "SELECT id, name, available, reserved, consumed FROM accounts ORDER BY created_at, id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountSummary {
                    account_id: AccountId::trusted(r.try_get(0)?),
                    name: r.try_get(1)?,
                    balances: balances(r, 2)?,
                })
            })
            .collect()
    }

    /// Adds `amount` to the available credits, or, negative, removes it as an
    /// adjustment. `None` for an unknown account, or when removing would make
    /// `available` negative; nothing changes then.
    pub async fn grant_credits(
        &self,
        account: &AccountId,
        amount: Credits,
        note: &str,
        now: i64,
    ) -> StoreResult<Option<Balances>> {
        let kind = if amount.is_negative() {
            LedgerKind::Adjustment
        } else {
            LedgerKind::Grant
        };
        let mut tx = self.begin().await?;
        let entry = Entry {
            account_id: account,
            kind,
            amount,
            reservation_id: None,
            model_id: None,
            correlation_id: None,
            note: Some(note),
        };
        if !ledger::record(&mut tx, entry, now).await? {
            return Ok(None);
        }
        tx.commit().await?;
        self.balances(account).await
    }

    /// The account's balances, read from the writer so that they include the
    /// caller's own last write; `None` for an unknown account.
    pub async fn balances(&self, account: &AccountId) -> StoreResult<Option<Balances>> {
        let row = sqlx::query("SELECT available, reserved, consumed FROM accounts WHERE id = $1")
            .bind(account.as_str())
            .fetch_optional(&self.write)
            .await?;
        Ok(row.map(|r| balances(&r, 0)).transpose()?)
    }

    pub async fn create_key(&self, key: &NewKey, now: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_key(&mut tx, key, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The key with this id; every request looks one up.
    pub async fn find_key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        let mut found = self
            .native
            .fetch(
                "SELECT id, account_id, secret_hash, scopes, expires_at, revoked_at
                 FROM api_keys WHERE id = $1",
                &[Bind::Text(key_id)],
                |c| {
                    Ok(KeyRecord {
                        key_id: c.text()?,
                        account_id: AccountId::trusted(c.text()?),
                        secret_hash: c.bytes()?,
                        scopes: c.text()?,
                        expires_at: c.opt_int()?,
                        revoked_at: c.opt_int()?,
                    })
                },
            )
            .await?;
        Ok(found.pop())
    }

    /// Revokes a key; false when there is no such key.
    pub async fn revoke_key(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let found = sqlx::query("SELECT id FROM api_keys WHERE id = $1")
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(found.is_some())
    }
}

/// Three balance columns starting at `first`.
fn balances(r: &AnyRow, first: usize) -> Result<Balances, sqlx::Error> {
    Ok(Balances {
        available: Credits::new(r.try_get(first)?),
        reserved: Credits::new(r.try_get(first + 1)?),
        consumed: Credits::new(r.try_get(first + 2)?),
    })
}

async fn insert_account(
    tx: &mut Tx,
    id: &AccountId,
    name: &str,
    credits: Credits,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO accounts (id, name, available, reserved, consumed, created_at)
         VALUES ($1, $2, 0, 0, 0, $3)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let entry = Entry {
        account_id: id,
        kind: LedgerKind::Grant,
        amount: credits,
        reservation_id: None,
        model_id: None,
        correlation_id: None,
        note: Some("account created"),
    };
    if ledger::record(tx, entry, now).await? {
        Ok(())
    } else {
        Err(StoreError::internal(
            "an account cannot start with negative credits",
        ))
    }
}

async fn insert_key(tx: &mut Tx, key: &NewKey, now: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, secret_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.key_id.as_str())
    .bind(key.account_id.as_str())
    .bind(key.secret_hash.as_slice())
    .bind(key.scopes.as_str())
    .bind(now)
    .bind(key.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
