//! Accounts, their credits and their API keys.

use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances, LedgerKind};
use mannequin_domain::ids::AccountId;

use super::db::{Bytes, Columns, Int, OptInt, Text};
use super::ledger::{self, Entry};
use super::{AccountSummary, KeyRecord, KeySummary, NewKey, Store, StoreError, StoreResult, Tx};
use mannequin_domain::time::format_millis;

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
        tx.commit().await
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
        let any = tx
            .fetch_one("SELECT id FROM accounts LIMIT 1", &[], |_| Ok(()))
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
        let found = self
            .pools
            .fetch(
                "SELECT id FROM accounts WHERE id = $1",
                &[Text(id.as_str())],
                |_| Ok(()),
            )
            .await?;
        Ok(!found.is_empty())
    }

    /// Every account with its balances, oldest first.
    pub async fn list_accounts(&self) -> StoreResult<Vec<AccountSummary>> {
        self.pools
            .fetch(
                "SELECT id, name, available, reserved, consumed, disabled_at FROM accounts
                 ORDER BY created_at, id",
                &[],
                |c| {
                    Ok(AccountSummary {
                        account_id: AccountId::trusted(c.text()?),
                        name: c.text()?,
                        balances: balances(c)?,
                        disabled_at: c.opt_int()?.map(format_millis),
                    })
                },
            )
            .await
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
        // The balances first: an unknown account (which the entry's foreign key
        // would refuse) or a removal it cannot afford changes nothing.
        if !ledger::move_balances(&mut tx, account, kind, amount).await? {
            return Ok(None);
        }
        ledger::append(&mut tx, &[entry], now).await?;
        tx.commit().await?;
        self.balances(account).await
    }

    /// The account's balances, including this process's last write; `None`
    /// for an unknown account.
    pub async fn balances(&self, account: &AccountId) -> StoreResult<Option<Balances>> {
        let found = self
            .pools
            .fetch_fresh(
                "SELECT available, reserved, consumed FROM accounts WHERE id = $1",
                &[Text(account.as_str())],
                balances,
            )
            .await?;
        Ok(found.into_iter().next())
    }

    pub async fn create_key(&self, key: &NewKey, now: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_key(&mut tx, key, now).await?;
        tx.commit().await
    }

    /// The key with this id; every request looks one up. Read from the
    /// database at most once a second per key (see [`super::KEY_TTL`]).
    pub async fn find_key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        if let Some(record) = self.keys.get(key_id) {
            return Ok(Some(record));
        }
        let read_at = std::time::Instant::now();
        let found = self
            .pools
            .fetch(
                // A disabled account's keys read as revoked when it was disabled.
                "SELECT k.id, k.account_id, k.secret_hash, k.scopes, k.expires_at,
                     COALESCE(k.revoked_at, a.disabled_at)
                 FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.id = $1",
                &[Text(key_id)],
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
        let found = found.into_iter().next();
        if let Some(record) = &found {
            self.keys.put(record, read_at);
        }
        Ok(found)
    }

    /// The account's keys, oldest first, without their secrets.
    pub async fn list_keys(&self, account: &AccountId) -> StoreResult<Vec<KeySummary>> {
        self.pools
            .fetch(
                "SELECT id, scopes, created_at, expires_at, revoked_at FROM api_keys
                 WHERE account_id = $1 ORDER BY created_at, id",
                &[Text(account.as_str())],
                |c| {
                    Ok(KeySummary {
                        key_id: c.text()?,
                        scopes: c.text()?.split_whitespace().map(str::to_string).collect(),
                        created_at: format_millis(c.int()?),
                        expires_at: c.opt_int()?.map(format_millis),
                        revoked_at: c.opt_int()?.map(format_millis),
                    })
                },
            )
            .await
    }

    /// Disables the account (`Some(now)`: its keys are refused from then on)
    /// or enables it again (`None`); false for an unknown account. Keys other
    /// processes read stay good for up to [`super::KEY_TTL`].
    pub async fn set_account_disabled(
        &self,
        account: &AccountId,
        disabled_at: Option<i64>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let found = tx
            .fetch_one(
                "SELECT id FROM accounts WHERE id = $1",
                &[Text(account.as_str())],
                |_| Ok(()),
            )
            .await?;
        // Disabling twice keeps the first time.
        let sql = match disabled_at {
            Some(_) => "UPDATE accounts SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2",
            None => "UPDATE accounts SET disabled_at = $1 WHERE id = $2",
        };
        tx.execute(sql, &[OptInt(disabled_at), Text(account.as_str())])
            .await?;
        tx.commit().await?;
        Ok(found.is_some())
    }

    /// Revokes a key; false when there is no such key.
    pub async fn revoke_key(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let found = tx
            .fetch_one(
                "SELECT id FROM api_keys WHERE id = $1",
                &[Text(key_id)],
                |_| Ok(()),
            )
            .await?;
        tx.execute(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[Int(now), Text(key_id)],
        )
        .await?;
        tx.commit().await?;
        self.keys.forget(key_id);
        Ok(found.is_some())
    }
}

/// The next three columns: available, reserved, consumed.
fn balances(c: &mut dyn Columns) -> StoreResult<Balances> {
    Ok(Balances {
        available: Credits::new(c.int()?),
        reserved: Credits::new(c.int()?),
        consumed: Credits::new(c.int()?),
    })
}

async fn insert_account(
    tx: &mut Tx,
    id: &AccountId,
    name: &str,
    credits: Credits,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO accounts (id, name, available, reserved, consumed, created_at)
         VALUES ($1, $2, 0, 0, 0, $3)",
        &[Text(id.as_str()), Text(name), Int(now)],
    )
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
    tx.execute(
        "INSERT INTO api_keys (id, account_id, secret_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Text(&key.key_id),
            Text(key.account_id.as_str()),
            Bytes(&key.secret_hash),
            Text(&key.scopes),
            Int(now),
            OptInt(key.expires_at),
        ],
    )
    .await?;
    Ok(())
}
