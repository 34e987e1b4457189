//! A shop's own product photos: recorded once their images are stored,
//! listed newest first, hidden when deleted (the row and images stay, for
//! what was made from them).

use mannequin_domain::ids::{AccountId, ProductId};
use mannequin_domain::request::Cursor;

use super::db::{Bind, Columns, Int, Text};
use super::{Store, StoreResult};

/// A product as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub image_key: String,
    pub thumb_key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub size_bytes: i64,
    pub created_at: i64,
    /// When it was deleted; `None` while it is listed.
    pub deleted_at: Option<i64>,
}

/// Why a product was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AddProductError {
    /// The account holds its limit of products already.
    #[error("the account holds {0} products, its limit")]
    TooMany(u32),
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

const COLUMNS: &str = "id, name, image_key, thumb_key, content_type, width, height, size_bytes,
     created_at, deleted_at";

fn product(c: &mut dyn Columns) -> StoreResult<Product> {
    let number = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok(Product {
        id: ProductId::trusted(c.text()?),
        name: c.text()?,
        image_key: c.text()?,
        thumb_key: c.text()?,
        content_type: c.text()?,
        width: number(c.int()?),
        height: number(c.int()?),
        size_bytes: c.int()?,
        created_at: c.int()?,
        deleted_at: c.opt_int()?,
    })
}

impl Store {
    /// How many products the account lists now.
    pub async fn product_count(&self, account: &AccountId) -> StoreResult<u32> {
        let n = self
            .pools
            .fetch(
                "SELECT COUNT(*) FROM products WHERE account_id = $1 AND deleted_at IS NULL",
                &[Text(account.as_str())],
                |c| c.int(),
            )
            .await?;
        Ok(n.first()
            .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)))
    }

    /// Records `product` for `account` unless it lists `max` already (the
    /// account's row serializes two uploads at the limit).
    pub async fn add_product(
        &self,
        account: &AccountId,
        product: &Product,
        max: u32,
    ) -> Result<(), AddProductError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE accounts SET name = name WHERE id = $1",
            &[Text(account.as_str())],
        )
        .await?;
        let n = tx
            .fetch_one(
                "SELECT COUNT(*) FROM products WHERE account_id = $1 AND deleted_at IS NULL",
                &[Text(account.as_str())],
                |c| c.int(),
            )
            .await?
            .unwrap_or(0);
        if n >= i64::from(max) {
            tx.rollback().await?;
            return Err(AddProductError::TooMany(max));
        }
        tx.execute(
            &format!(
                "INSERT INTO products (account_id, {COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)"
            ),
            &[
                Text(account.as_str()),
                Text(product.id.as_str()),
                Text(&product.name),
                Text(&product.image_key),
                Text(&product.thumb_key),
                Text(&product.content_type),
                Int(i64::from(product.width)),
                Int(i64::from(product.height)),
                Int(product.size_bytes),
                Int(product.created_at),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's listed products, newest first, after `cursor`.
    pub async fn list_products(
        &self,
        account: &AccountId,
        cursor: Option<&Cursor<ProductId>>,
        limit: u32,
    ) -> StoreResult<Vec<Product>> {
        let mut sql =
            format!("SELECT {COLUMNS} FROM products WHERE account_id = $1 AND deleted_at IS NULL");
        let mut binds: Vec<Bind<'_>> = vec![Text(account.as_str())];
        if let Some(c) = cursor {
            sql.push_str(" AND (created_at, id) < ($2, $3)");
            binds.extend([Int(c.created_at_ms), Text(c.id.as_str())]);
        }
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
        self.pools.fetch(&sql, &binds, product).await
    }

    /// The account's product `id`, deleted or not; `None` when the account
    /// has no such product.
    pub async fn product(
        &self,
        account: &AccountId,
        id: &ProductId,
    ) -> StoreResult<Option<Product>> {
        let rows = self
            .pools
            .fetch(
                &format!("SELECT {COLUMNS} FROM products WHERE account_id = $1 AND id = $2"),
                &[Text(account.as_str()), Text(id.as_str())],
                product,
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Deletes the account's listed product `id` at `now`: `false` when it
    /// has no such product listed.
    pub async fn delete_product(
        &self,
        account: &AccountId,
        id: &ProductId,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE products SET deleted_at = $3
                 WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL",
                &[Text(account.as_str()), Text(id.as_str()), Int(now)],
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}
