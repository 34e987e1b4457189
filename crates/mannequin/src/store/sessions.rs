//! Console sessions: a browser signed in with an API key. Found by the hash of
//! the cookie's token; alive while it has not ended or expired and its key is
//! neither revoked nor expired.

use mannequin_domain::ids::AccountId;

use super::db::{Bytes, Int, Text};
use super::{KeyRecord, Store, StoreResult};

/// A live session with the key it stands for.
#[derive(Debug, Clone)]
pub struct Session {
    pub key: KeyRecord,
    /// The account's name, for the console's header.
    pub account_name: String,
    /// The token its forms carry.
    pub csrf: String,
    pub expires_at: i64,
}

impl Store {
    /// Records a session for key `key_id` of `account`.
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        key_id: &str,
        account: &AccountId,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO console_sessions (token_hash, key_id, account_id, csrf, created_at,
                 expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Bytes(token_hash),
                Text(key_id),
                Text(account.as_str()),
                Text(csrf),
                Int(now),
                Int(expires_at),
            ],
        )
        .await?;
        tx.commit().await
    }

    /// The session whose token hashes to `token_hash`, unless it ended or
    /// expired; the caller checks its key.
    pub async fn find_session(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<Session>> {
        Ok(self
            .pools
            .fetch_fresh(
                "SELECT k.id, k.account_id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at,
                     s.csrf, s.expires_at, a.name
                 FROM console_sessions s JOIN api_keys k ON k.id = s.key_id
                 JOIN accounts a ON a.id = k.account_id
                 WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2",
                &[Bytes(token_hash), Int(now)],
                |c| {
                    Ok(Session {
                        key: KeyRecord {
                            key_id: c.text()?,
                            account_id: AccountId::trusted(c.text()?),
                            secret_hash: c.bytes()?,
                            scopes: c.text()?,
                            expires_at: c.opt_int()?,
                            revoked_at: c.opt_int()?,
                        },
                        csrf: c.text()?,
                        expires_at: c.int()?,
                        account_name: c.text()?,
                    })
                },
            )
            .await?
            .pop())
    }

    /// Ends a session (signing out).
    pub async fn end_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE console_sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL",
            &[Int(now), Bytes(token_hash)],
        )
        .await?;
        tx.commit().await
    }

    /// Forgets sessions that ended or expired before `before`.
    pub async fn prune_sessions(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "DELETE FROM console_sessions WHERE expires_at < $1 OR ended_at < $1",
                &[Int(before)],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}
