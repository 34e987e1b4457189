//! Filling an account with many settled models at once, for benchmarks of
//! listing at scale (`mannequin bench-fill`). The rows are synthetic: one
//! batch holds them all, each is DONE at price 0 with a shared image key and
//! the prompt, seed and generator a settled model carries, and one in a
//! hundred is approved. Not for accounts people use.

use mannequin_domain::ids::{AccountId, AssetId, BatchId, OrderId, ReservationId};

use super::db::{Bind, Int, Text};
use super::{Store, StoreResult, values_rows};
use crate::clock::{new_id, random_bytes};

/// Rows per INSERT (13 values each: within SQLite's limit of bound values).
const CHUNK: u64 = 1000;

impl Store {
    /// Adds `models` DONE models to `account`, the newest at `now`, 1 ms apart;
    /// returns how many it wrote.
    pub async fn fill_account(
        &self,
        account: &AccountId,
        models: u64,
        now: i64,
    ) -> StoreResult<u64> {
        let batch: BatchId = new_id();
        let order: OrderId = new_id();
        let reservation: ReservationId = new_id();
        const PREFERENCES: &str =
            "young female model, athletic build, natural makeup, for sportswear";
        let idea = mannequin_domain::Attributes::read(PREFERENCES)
            .ideas(1, 1)
            .remove(0);
        let prompt = mannequin_domain::prompt::Template::default().render(PREFERENCES, &idea);
        let idea =
            serde_json::to_string(&idea).map_err(|e| super::StoreError::internal(e.to_string()))?;
        let oldest = now - i64::try_from(models).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id,
                 created_at) VALUES ($1, $2, $3, $4, $5, 'bench-fill', $6)",
            &[
                Text(batch.as_str()),
                Text(account.as_str()),
                Text(order.as_str()),
                Text(PREFERENCES),
                Int(i64::try_from(models).unwrap_or(i64::MAX)),
                Int(oldest),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO reservations (id, account_id, batch_id, amount, deadline, closed_at,
                 created_at) VALUES ($1, $2, $3, 0, $4, $4, $4)",
            &[
                Text(reservation.as_str()),
                Text(account.as_str()),
                Text(batch.as_str()),
                Int(oldest),
            ],
        )
        .await?;
        tx.commit().await?;
        let mut written = 0;
        while written < models {
            let n = CHUNK.min(models - written);
            let rows: Vec<(String, i64, &str)> = (0..n)
                .map(|i| {
                    let k = written + i;
                    let at = oldest + i64::try_from(k).unwrap_or(0) + 1;
                    let mut r = [0u8; 10];
                    random_bytes(&mut r);
                    let id = AssetId::new(
                        mannequin_domain::AssetKind::Model,
                        u64::try_from(at).unwrap_or(0),
                        r,
                    )
                    .into_string();
                    let voting = if k % 100 == 99 { "APPROVED" } else { "PENDING" };
                    (id, at, voting)
                })
                .collect();
            let positions: Vec<i64> = (0..n)
                .map(|i| i64::try_from(written + i).unwrap_or(0))
                .collect();
            let mut binds: Vec<Bind<'_>> = Vec::with_capacity(rows.len() * 13);
            for ((id, at, voting), position) in rows.iter().zip(&positions) {
                binds.extend([
                    Text(id),
                    Text(account.as_str()),
                    Text(batch.as_str()),
                    Text(reservation.as_str()),
                    Int(*position),
                    Text("Female Model - Bench"),
                    Text(&idea),
                    Text(voting),
                    Text("bench/fill.thumb.jpg"),
                    Int(*at),
                    Int(*at),
                    Text(&prompt),
                    Int(*at % 4_294_967_296),
                ]);
            }
            let sql = format!(
                "INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea,
                     voting, thumb_key, created_at, updated_at, prompt, seed, price, status,
                     image_key, generator)
                 VALUES {}",
                values_rows(
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'DONE', 'bench/fill.png', 'builtin')",
                    rows.len()
                )
            );
            let mut tx = self.begin().await?;
            tx.execute(&sql, &binds).await?;
            tx.commit().await?;
            written += n;
        }
        Ok(written)
    }
}
