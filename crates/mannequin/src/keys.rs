//! API keys: minting, hashing and checking.
//!
//! Only SHA-256 of the secret is stored. Secrets carry 238 random bits, so a fast
//! hash is right and a slow password hash would only cap the request rate.

use mannequin_domain::ids::{self, AccountId, ApiKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock;
use crate::store::{KeyRecord, NewKey};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The GET endpoints.
    Read,
    /// The POSTs that spend credits.
    Register,
    /// Webhook endpoints: create, list, delete, read their deliveries.
    Webhooks,
    /// The account's API keys, from the console: create, list, revoke.
    Keys,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Register, Scope::Webhooks, Scope::Keys];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "content.read",
            Scope::Register => "content.register",
            Scope::Webhooks => "webhooks.manage",
            Scope::Keys => "keys.manage",
        }
    }

    /// What the scope lets a key do, in a few words.
    pub fn purpose(self) -> &'static str {
        match self {
            Scope::Read => "read models, pictures, batches and credits",
            Scope::Register => "order (spends credits), vote, cancel, upload products",
            Scope::Webhooks => "manage webhook endpoints",
            Scope::Keys => "create and revoke API keys in the console",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A freshly minted key: what to store and what to show once.
pub struct Minted {
    pub record: NewKey,
    pub api_key: crate::SecretString,
}

pub fn mint(account_id: &AccountId, scopes: &[Scope], expires_at: Option<i64>) -> Minted {
    let key_id = clock::random_string(ids::LOWER36, ids::KEY_ID_LEN);
    let secret = clock::random_string(ids::BASE62, ids::SECRET_LEN);
    let scopes = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Minted {
        api_key: ApiKey::format(&key_id, &secret).into(),
        record: NewKey {
            key_id,
            account_id: account_id.clone(),
            secret_hash: hash_secret(&secret),
            scopes,
            expires_at,
        },
    }
}

/// The account and scopes a presented key grants, when it is valid now.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    pub account_id: AccountId,
    pub scopes: Vec<Scope>,
}

/// Checks a stored key against the presented secret and the time. Every reason
/// for refusal looks the same to the caller.
pub fn verify(record: &KeyRecord, secret: &str, now: i64) -> Option<Principal> {
    let hash_ok: bool = record.secret_hash.ct_eq(&hash_secret(secret)).into();
    let principal = live(record, now);
    principal.filter(|_| hash_ok)
}

/// What a stored key grants now, when it is neither revoked nor expired: for
/// a console session, which proved the secret when it signed in.
pub fn live(record: &KeyRecord, now: i64) -> Option<Principal> {
    let live = record.revoked_at.is_none() && record.expires_at.is_none_or(|e| now < e);
    live.then(|| Principal {
        key_id: record.key_id.clone(),
        account_id: record.account_id.clone(),
        scopes: record
            .scopes
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExposeSecret;

    fn account() -> AccountId {
        AccountId::parse("acct_1").unwrap()
    }

    fn record(m: &Minted) -> KeyRecord {
        KeyRecord {
            key_id: m.record.key_id.clone(),
            account_id: m.record.account_id.clone(),
            secret_hash: m.record.secret_hash.clone(),
            scopes: m.record.scopes.clone(),
            expires_at: m.record.expires_at,
            revoked_at: None,
        }
    }

    #[test]
    fn minted_keys_verify_and_wrong_secrets_do_not() {
        let m = mint(&account(), &[Scope::Read], None);
        let parsed = ApiKey::parse(m.api_key.expose_secret()).unwrap();
        assert_eq!(parsed.key_id, m.record.key_id);
        let p = verify(&record(&m), parsed.secret, 0).unwrap();
        assert_eq!(p.scopes, vec![Scope::Read]);
        let mut wrong = parsed.secret.to_string();
        wrong.replace_range(0..1, if wrong.starts_with('a') { "b" } else { "a" });
        assert!(verify(&record(&m), &wrong, 0).is_none());
    }

    #[test]
    fn revoked_and_expired_keys_are_refused() {
        let m = mint(&account(), &Scope::ALL, Some(1000));
        let secret = ApiKey::parse(m.api_key.expose_secret())
            .unwrap()
            .secret
            .to_string();
        assert!(verify(&record(&m), &secret, 999).is_some());
        assert!(verify(&record(&m), &secret, 1000).is_none());
        let mut r = record(&m);
        r.expires_at = None;
        r.revoked_at = Some(5);
        assert!(verify(&r, &secret, 0).is_none());
    }

    #[test]
    fn secrets_are_long_and_random() {
        let a = mint(&account(), &Scope::ALL, None).api_key;
        let b = mint(&account(), &Scope::ALL, None).api_key;
        assert_ne!(a.expose_secret(), b.expose_secret());
        let secret = ApiKey::parse(a.expose_secret()).unwrap().secret.len();
        assert!(secret >= ids::MIN_SECRET_LEN);
    }
}
