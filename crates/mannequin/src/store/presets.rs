//! An account's own presets (the system presets live in the code): made,
//! listed newest first, read and deleted.

use mannequin_domain::ids::{AccountId, PresetId};

use super::db::{Columns, Int, OptText, Text};
use super::{Store, StoreResult};

/// A preset as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub id: PresetId,
    pub name: String,
    pub guidelines: String,
    pub quantity_guidelines: String,
    pub quality_guidelines: String,
    pub cover_key: Option<String>,
    pub gallery_keys: Vec<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, name, guidelines, quantity_guidelines, quality_guidelines,
     cover_key, gallery_keys, created_at";

fn preset(c: &mut dyn Columns) -> StoreResult<Preset> {
    Ok(Preset {
        id: PresetId::trusted(c.text()?),
        name: c.text()?,
        guidelines: c.opt_text()?.unwrap_or_default(),
        quantity_guidelines: c.text()?,
        quality_guidelines: c.text()?,
        cover_key: c.opt_text()?,
        gallery_keys: serde_json::from_str(&c.text()?)?,
        created_at: c.int()?,
    })
}

impl Store {
    /// Records the account's new preset.
    pub async fn add_preset(&self, account: &AccountId, p: &Preset) -> StoreResult<()> {
        let gallery = serde_json::to_string(&p.gallery_keys)?;
        let mut tx = self.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO presets (account_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                Text(account.as_str()),
                Text(p.id.as_str()),
                Text(&p.name),
                OptText((!p.guidelines.is_empty()).then_some(p.guidelines.as_str())),
                Text(&p.quantity_guidelines),
                Text(&p.quality_guidelines),
                OptText(p.cover_key.as_deref()),
                Text(&gallery),
                Int(p.created_at),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's presets, newest first, at most `limit`.
    pub async fn list_presets(&self, account: &AccountId, limit: u32) -> StoreResult<Vec<Preset>> {
        self.pools
            .fetch(
                &format!(
                    "SELECT {COLUMNS} FROM presets WHERE account_id = $1 AND deleted_at IS NULL
                     ORDER BY created_at DESC, id DESC LIMIT {limit}"
                ),
                &[Text(account.as_str())],
                preset,
            )
            .await
    }

    /// The account's preset `id` while it is listed.
    pub async fn preset(&self, account: &AccountId, id: &PresetId) -> StoreResult<Option<Preset>> {
        let rows = self
            .pools
            .fetch(
                &format!(
                    "SELECT {COLUMNS} FROM presets
                     WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
                ),
                &[Text(account.as_str()), Text(id.as_str())],
                preset,
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Deletes the account's listed preset `id`: `false` when it has none.
    pub async fn delete_preset(
        &self,
        account: &AccountId,
        id: &PresetId,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE presets SET deleted_at = $3
                 WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL",
                &[Text(account.as_str()), Text(id.as_str()), Int(now)],
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}
