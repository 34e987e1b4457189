//! `mannequin admin …`: operator tasks on the database, printing JSON.

use mannequin_domain::Credits;
use mannequin_domain::ids::AccountId;
use serde_json::{Value, json};

use std::sync::Arc;

use crate::app::open_store;
use crate::clock::{new_id, now_ms};
use crate::config::{AccountCommand, AdminCommand, AdminDb, CreditsCommand, KeyCommand};
use crate::error::BoxError;
use crate::keys::{self, Scope};
use crate::metrics::Metrics;
use crate::operations::Accounts;
use crate::store::Store;

/// The database named holds no mannequin schema and `--create` was not given:
/// the process exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} holds no mannequin database; check --data-dir or --database-url \
     (MANNEQUIN_DATA_DIR, MANNEQUIN_DATABASE_URL), or add --create to make a new one"
)]
pub struct NoSchema(String);

/// Opens the database an admin command names: one that holds mannequin's
/// tables (migrated forward if older), or, with `--create`, any.
async fn open(target: &AdminDb) -> Result<Arc<Store>, BoxError> {
    if !target.create {
        let url = target.db.database_url();
        let shown = match &target.db.database_url {
            Some(_) => crate::app::redact(&url),
            None => target.db.data_dir.display().to_string(),
        };
        let found = Store::holds_schema(&url)
            .await
            .map_err(|e| format!("cannot open {shown}: {}", crate::error::Report(&e)))?;
        if !found {
            return Err(NoSchema(shown).into());
        }
    }
    open_store(&target.db).await
}

/// Runs one admin command. `Ok((json, success))`: the JSON to print and whether
/// the command succeeded (the audit prints its report either way).
pub async fn run(cmd: AdminCommand) -> Result<(Value, bool), BoxError> {
    match cmd {
        AdminCommand::Account(AccountCommand::List { db }) => {
            let store = open(&db).await?;
            let accounts = store.list_accounts().await?;
            Ok((json!({"accounts": accounts}), true))
        }
        AdminCommand::Account(AccountCommand::Create { db, name, credits }) => {
            if credits < 0 {
                return Err("--credits must not be negative".into());
            }
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let store = open(&db).await?;
            let id: AccountId = new_id();
            store
                .create_account(&id, name, Credits::new(credits), now_ms())
                .await?;
            Ok((json!({"accountId": id}), true))
        }
        AdminCommand::Account(AccountCommand::Disable { db, account }) => {
            let accounts = accounts(&db).await?;
            let account = AccountId::parse(&account).ok_or_else(|| no_account(&account))?;
            let disabled = accounts
                .disable(&account)
                .await?
                .ok_or_else(|| no_account(account.as_str()))?;
            Ok((
                json!({
                    "accountId": account,
                    "disabled": true,
                    "cancelledModels": disabled.cancellation.models.len(),
                    "refundedCredits": disabled.cancellation.refunded,
                }),
                true,
            ))
        }
        AdminCommand::Account(AccountCommand::Enable { db, account }) => {
            let accounts = accounts(&db).await?;
            let account = AccountId::parse(&account).ok_or_else(|| no_account(&account))?;
            if !accounts.enable(&account).await? {
                return Err(no_account(account.as_str()));
            }
            Ok((json!({"accountId": account, "disabled": false}), true))
        }
        AdminCommand::Key(KeyCommand::List { db, account }) => {
            let store = open(&db).await?;
            let account = known_account(&store, &account).await?;
            let keys = store.list_keys(&account).await?;
            Ok((json!({"accountId": account, "keys": keys}), true))
        }
        AdminCommand::Ledger { db, account, limit } => {
            let store = open(&db).await?;
            let account = known_account(&store, &account).await?;
            let entries = store.ledger_page(&account, None, limit).await?;
            // The same entries the API's `/credits/ledger` shows.
            let entries: Vec<crate::views::credits::LedgerEntry> =
                entries.into_iter().map(Into::into).collect();
            Ok((json!({"accountId": account, "entries": entries}), true))
        }
        AdminCommand::Key(KeyCommand::Create {
            db,
            account,
            scopes,
            expires_at,
        }) => {
            let scopes = if scopes.is_empty() {
                Scope::ALL.to_vec()
            } else {
                scopes
                    .iter()
                    .map(|s| {
                        Scope::parse(s).ok_or_else(|| {
                            format!("unknown scope {s:?}: use content.read or content.register")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            };
            let expires_at = expires_at
                .map(|e| {
                    mannequin_domain::time::parse_rfc3339(&e)
                        .ok_or_else(|| format!("--expires-at is not RFC 3339: {e:?}"))
                })
                .transpose()?;
            let store = open(&db).await?;
            let account = known_account(&store, &account).await?;
            let minted = keys::mint(&account, &scopes, expires_at);
            store.create_key(&minted.record, now_ms()).await?;
            Ok((
                json!({
                    "keyId": minted.record.key_id,
                    "apiKey": crate::ExposeSecret::expose_secret(&minted.api_key),
                }),
                true,
            ))
        }
        AdminCommand::Key(KeyCommand::Revoke { db, key_id }) => {
            let store = open(&db).await?;
            if !store.revoke_key(&key_id, now_ms()).await? {
                return Err(format!("no key {key_id}").into());
            }
            Ok((json!({"keyId": key_id, "revoked": true}), true))
        }
        AdminCommand::Credits(CreditsCommand::Grant {
            db,
            account,
            amount,
        }) => {
            let store = open(&db).await?;
            let account = known_account(&store, &account).await?;
            let balance = Accounts::new(store, Arc::new(Metrics::new()))
                .grant(&account, Credits::new(amount))
                .await?
                .ok_or("the adjustment would make available credits negative")?;
            Ok((serde_json::to_value(balance)?, true))
        }
        AdminCommand::Credits(CreditsCommand::Show { db, account }) => {
            let store = open(&db).await?;
            let account = known_account(&store, &account).await?;
            let balance = store
                .balances(&account)
                .await?
                .ok_or_else(|| format!("no account {account}"))?;
            Ok((serde_json::to_value(balance)?, true))
        }
        AdminCommand::Backup { db, to } => crate::backup::backup(&db, &to).await,
        AdminCommand::Restore { db, from } => crate::backup::restore(&db, &from).await,
        AdminCommand::Audit(db) => {
            let store = open(&db).await?;
            let report = store.audit(now_ms()).await?;
            let ok = report.ok;
            Ok((serde_json::to_value(report)?, ok))
        }
    }
}

/// The account operations on the database an admin command names. The
/// metrics they count are this process's own, and end with it.
async fn accounts(target: &AdminDb) -> Result<Accounts, BoxError> {
    Ok(Accounts::new(open(target).await?, Arc::new(Metrics::new())))
}

fn no_account(raw: &str) -> BoxError {
    format!("no account {raw}").into()
}

/// The account an operator named, when it exists.
async fn known_account(store: &crate::store::Store, raw: &str) -> Result<AccountId, BoxError> {
    let account = AccountId::parse(raw).ok_or_else(|| no_account(raw))?;
    if !store.account_exists(&account).await? {
        return Err(no_account(raw));
    }
    Ok(account)
}
