//! The SQL both backends share, written once. Both dialects read `$n`
//! placeholders, `RETURNING` and `CAST(… AS BIGINT)` alike, so one text serves
//! SQLite and PostgreSQL; what differs (transactions, claiming with
//! `SKIP LOCKED`, migrations, snapshots) each backend supplies as inherent items:
//! `tx()`, `snapshot()`, `migrate_schema()`, `lock_idempotency_key()`,
//! `CLAIM_JOBS`, `CLAIM_OUTBOX`, and the `read`/`write` pools and `err` mapping.

macro_rules! sql_store {
    ($store:ident, $db:ty, $row:ty) => {
        /// Applies the migrations `tx` has not seen, recording each in
        /// `schema_migrations`, all in `tx`.
        async fn apply_migrations(
            tx: &mut Transaction<'static, $db>,
            migrations: &[(i64, &str, &str)],
        ) -> StoreResult<()> {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut **tx)
            .await
            .map_err(err)?;
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                .fetch_all(&mut **tx)
                .await
                .map_err(err)?;
            for (version, name, sql) in migrations {
                if applied.contains(version) {
                    continue;
                }
                sqlx::raw_sql(AssertSqlSafe(*sql))
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(*version)
                .bind(*name)
                .bind(crate::clock::now_ms())
                .execute(&mut **tx)
                .await
                .map_err(err)?;
            }
            Ok(())
        }

        /// One ledger row to append.
        struct Entry<'a> {
            account_id: &'a str,
            kind: LedgerKind,
            amount: i64,
            reservation_id: Option<&'a str>,
            model_id: Option<&'a str>,
            correlation_id: Option<&'a str>,
            note: Option<&'a str>,
        }

        async fn ledger(tx: &mut Transaction<'static, $db>, e: Entry<'_>, now: i64) -> StoreResult<()> {
            let Entry {
                account_id,
                kind,
                amount,
                reservation_id,
                model_id,
                correlation_id,
                note,
            } = e;
            sqlx::query(
                "INSERT INTO ledger (account_id, kind, amount, reservation_id, model_id, correlation_id, note, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(account_id.to_string())
            .bind(kind.as_str())
            .bind(amount)
            .bind(reservation_id.map(str::to_string))
            .bind(model_id.map(str::to_string))
            .bind(correlation_id.map(str::to_string))
            .bind(note.map(str::to_string))
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
            Ok(())
        }

        /// Moves models to the terminal status `outcome` and settles their prices,
        /// in `tx`; returns one result per item, in order. The model's status is the
        /// guard against settling twice (`WHERE status IN (PENDING, PROCESSING)`).
        ///
        /// Locks are taken in one order everywhere: jobs, models (by id),
        /// reservations (by id), then accounts (by id) last, each once per
        /// transaction with the summed amount. Concurrent settles and claims
        /// therefore do not deadlock, and the hot account row is held only from
        /// its update to the commit.
        async fn settle_many(
            tx: &mut Transaction<'static, $db>,
            outcome: ModelStatus,
            items: &[ToSettle<'_>],
            now: i64,
        ) -> StoreResult<Vec<Settled>> {
            debug_assert!(outcome.is_terminal());
            let from = settle_from(outcome);
            let update = format!(
                "UPDATE models SET status = $1, failure_reason = $2, image_key = $3, thumb_key = $4, updated_at = $5
                 WHERE id = $6 AND status IN ({from})
                 RETURNING account_id, reservation_id, price"
            );
            let mut order: Vec<usize> = (0..items.len()).collect();
            order.sort_by_key(|&i| items[i].model_id);
            // The models' jobs are locked first, as claims lock them (job, then
            // model): a claim skips a job being settled instead of deadlocking
            // with the settle on PostgreSQL.
            for chunk in order.chunks(500) {
                let sql = format!(
                    "UPDATE jobs SET updated_at = updated_at WHERE model_id IN ({})",
                    list(1, chunk.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for &i in chunk {
                    q = q.bind(items[i].model_id.to_string());
                }
                q.execute(&mut **tx).await.map_err(err)?;
            }
            let mut results = vec![Settled::Now; items.len()];
            let mut sums = Sums::default();
            let mut entries = Vec::new();
            for i in order {
                let item = &items[i];
                let row = sqlx::query(AssertSqlSafe(update.clone()))
                    .bind(outcome.as_str())
                    .bind(item.reason.map(str::to_string))
                    .bind(item.keys.map(|k| k.0.to_string()))
                    .bind(item.keys.map(|k| k.1.to_string()))
                    .bind(now)
                    .bind(item.model_id.to_string())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(err)?;
                let Some(row) = row else {
                    let status: Option<String> =
                        sqlx::query_scalar("SELECT status FROM models WHERE id = $1")
                            .bind(item.model_id.to_string())
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(err)?;
                    let status = status
                        .as_deref()
                        .and_then(ModelStatus::parse)
                        .ok_or_else(|| internal(format!("no model {}", item.model_id)))?;
                    results[i] = Settled::Already(status);
                    continue;
                };
                let account_id: String = row.try_get(0).map_err(err)?;
                let reservation_id: String = row.try_get(1).map_err(err)?;
                let price: i64 = row.try_get(2).map_err(err)?;
                sums.add(&account_id, &reservation_id, price);
                entries.push((account_id, reservation_id, price, i));
            }
            if entries.is_empty() {
                return Ok(results);
            }
            let kind = if outcome == ModelStatus::Done {
                LedgerKind::Consume
            } else {
                LedgerKind::Refund
            };
            for chunk in entries.chunks(100) {
                let sql = format!(
                    "INSERT INTO ledger (account_id, kind, amount, reservation_id, model_id, correlation_id, note, created_at)
                     VALUES {}",
                    numbered("(?, ?, ?, ?, ?, ?, ?, ?)", chunk.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (account_id, reservation_id, price, i) in chunk {
                    let item = &items[*i];
                    q = q
                        .bind(account_id.clone())
                        .bind(kind.as_str())
                        .bind(*price)
                        .bind(reservation_id.clone())
                        .bind(item.model_id.to_string())
                        .bind(item.correlation_id.to_string())
                        .bind(item.reason.map(str::to_string))
                        .bind(now);
                }
                q.execute(&mut **tx).await.map_err(err)?;
                let sql = format!(
                    "UPDATE jobs SET state = $1, lease_owner = NULL, lease_expires_at = NULL, updated_at = $2
                     WHERE model_id IN ({})",
                    list(3, chunk.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql))
                    .bind(job_state(outcome))
                    .bind(now);
                for (_, _, _, i) in chunk {
                    q = q.bind(items[*i].model_id.to_string());
                }
                q.execute(&mut **tx).await.map_err(err)?;
            }
            let (reservation_sql, account_sql) = if outcome == ModelStatus::Done {
                (
                    "UPDATE reservations SET consumed = consumed + $1,
                         closed_at = CASE WHEN consumed + refunded + $1 = amount THEN $3 ELSE closed_at END
                     WHERE id = $2",
                    "UPDATE accounts SET reserved = reserved - $1, consumed = consumed + $1 WHERE id = $2",
                )
            } else {
                (
                    "UPDATE reservations SET refunded = refunded + $1,
                         closed_at = CASE WHEN consumed + refunded + $1 = amount THEN $3 ELSE closed_at END
                     WHERE id = $2",
                    "UPDATE accounts SET reserved = reserved - $1, available = available + $1 WHERE id = $2",
                )
            };
            for (reservation_id, amount) in &sums.reservations {
                sqlx::query(reservation_sql)
                    .bind(*amount)
                    .bind(reservation_id.clone())
                    .bind(now)
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
            }
            for (account_id, amount) in &sums.accounts {
                sqlx::query(account_sql)
                    .bind(*amount)
                    .bind(account_id.clone())
                    .execute(&mut **tx)
                    .await
                    .map_err(err)?;
            }
            Ok(results)
        }

        /// [`settle_many`] for one model.
        async fn settle(
            tx: &mut Transaction<'static, $db>,
            outcome: ModelStatus,
            item: ToSettle<'_>,
            now: i64,
        ) -> StoreResult<Settled> {
            Ok(settle_many(tx, outcome, &[item], now).await?[0])
        }

        /// The job rows an `UPDATE jobs … RETURNING id, model_id,
        /// correlation_id, attempts, max_attempts` gave back.
        fn job_rows(rows: &[$row]) -> StoreResult<Vec<JobRow>> {
            rows.iter()
                .map(|r| {
                    Ok(JobRow {
                        job_id: r.try_get(0).map_err(err)?,
                        model_id: r.try_get(1).map_err(err)?,
                        correlation_id: r.try_get(2).map_err(err)?,
                        attempts: r.try_get(3).map_err(err)?,
                        max_attempts: r.try_get(4).map_err(err)?,
                    })
                })
                .collect()
        }

        /// Moves the jobs' models to PROCESSING, in one statement, and reads what
        /// the worker needs. A model settled meanwhile (deadline, cancel) closes
        /// its job instead and gives `None`. One result per job, in order.
        async fn begin_models(
            tx: &mut Transaction<'static, $db>,
            jobs: Vec<JobRow>,
            now: i64,
        ) -> StoreResult<Vec<Option<ClaimedJob>>> {
            if jobs.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "UPDATE models SET status = 'PROCESSING', updated_at = $1
                 WHERE id IN ({}) AND status IN ('PENDING', 'PROCESSING')
                 RETURNING id, account_id, idea, price",
                list(2, jobs.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now);
            for job in &jobs {
                q = q.bind(job.model_id.clone());
            }
            let mut models = std::collections::HashMap::new();
            for r in q.fetch_all(&mut **tx).await.map_err(err)? {
                let id: String = r.try_get(0).map_err(err)?;
                let account_id: String = r.try_get(1).map_err(err)?;
                let idea: String = r.try_get(2).map_err(err)?;
                let price: i64 = r.try_get(3).map_err(err)?;
                models.insert(id, (account_id, idea, price));
            }
            let closed: Vec<&JobRow> = jobs
                .iter()
                .filter(|j| !models.contains_key(&j.model_id))
                .collect();
            if !closed.is_empty() {
                let sql = format!(
                    "UPDATE jobs SET state = 'done', lease_owner = NULL WHERE id IN ({})",
                    list(1, closed.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for job in closed {
                    q = q.bind(job.job_id.clone());
                }
                q.execute(&mut **tx).await.map_err(err)?;
            }
            jobs.into_iter()
                .map(|job| match models.remove(&job.model_id) {
                    Some((account_id, idea, price)) => {
                        job.claimed(account_id, price, &idea).map(Some)
                    }
                    None => Ok(None),
                })
                .collect()
        }

        fn model_row(r: &$row) -> StoreResult<ModelRow> {
            let status: String = r.try_get("status").map_err(err)?;
            let voting: String = r.try_get("voting").map_err(err)?;
            Ok(ModelRow {
                id: r.try_get("id").map_err(err)?,
                batch_id: r.try_get("batch_id").map_err(err)?,
                name: r.try_get("name").map_err(err)?,
                status: ModelStatus::parse(&status).ok_or_else(|| internal(format!("status {status}")))?,
                voting: Voting::parse(&voting).ok_or_else(|| internal(format!("voting {voting}")))?,
                thumb_key: r.try_get("thumb_key").map_err(err)?,
                image_key: r.try_get("image_key").map_err(err)?,
                failure_reason: r.try_get("failure_reason").map_err(err)?,
                created_at: r.try_get("created_at").map_err(err)?,
            })
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> StoreResult<()> {
                self.migrate_schema().await
            }

            async fn close(&self) {
                self.write.close().await;
                self.read.close().await;
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.read)
                    .await
                    .map_err(err)?;
                Ok(())
            }

            async fn create_account(
                &self,
                id: &str,
                name: &str,
                credits: Credits,
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.tx().await?;
                insert_account(&mut tx, id, name, credits, now).await?;
                tx.commit().await.map_err(err)
            }

            async fn create_first_account(
                &self,
                id: &str,
                name: &str,
                credits: Credits,
                key: &NewKey,
                now: i64,
            ) -> StoreResult<bool> {
                let mut tx = self.tx().await?;
                let any: Option<i64> = sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM accounts LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                if any.is_some() {
                    return Ok(false);
                }
                insert_account(&mut tx, id, name, credits, now).await?;
                insert_key(&mut tx, key, now).await?;
                tx.commit().await.map_err(err)?;
                Ok(true)
            }

            async fn account_exists(&self, id: &str) -> StoreResult<bool> {
                let found: Option<i64> = sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM accounts WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.read)
                    .await
                    .map_err(err)?;
                Ok(found.is_some())
            }

            async fn list_accounts(&self) -> StoreResult<Vec<AccountSummary>> {
                let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT id, name, available, reserved, consumed FROM accounts ORDER BY created_at, id",
                )
                .fetch_all(&self.read)
                .await
                .map_err(err)?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(account_id, name, available, reserved, consumed)| AccountSummary {
                            account_id,
                            name,
                            available,
                            reserved,
                            consumed,
                        },
                    )
                    .collect())
            }

            async fn grant_credits(
                &self,
                account_id: &str,
                amount: Credits,
                note: &str,
                now: i64,
            ) -> StoreResult<Option<Balance>> {
                let mut tx = self.tx().await?;
                let updated = sqlx::query(
                    "UPDATE accounts SET available = available + $1 WHERE id = $2 AND available + $1 >= 0",
                )
                .bind(amount.0)
                .bind(account_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if updated.rows_affected() == 0 {
                    return Ok(None);
                }
                let kind = if amount.0 >= 0 {
                    LedgerKind::Grant
                } else {
                    LedgerKind::Adjustment
                };
                let entry = Entry {
                    account_id,
                    kind,
                    amount: amount.0,
                    reservation_id: None,
                    model_id: None,
                    correlation_id: None,
                    note: Some(note),
                };
                ledger(&mut tx, entry, now).await?;
                tx.commit().await.map_err(err)?;
                self.balance(account_id).await
            }

            async fn balance(&self, account_id: &str) -> StoreResult<Option<Balance>> {
                let row = sqlx::query("SELECT available, reserved, consumed FROM accounts WHERE id = $1")
                    .bind(account_id.to_string())
                    .fetch_optional(&self.write)
                    .await
                    .map_err(err)?;
                row.map(|r| {
                    Ok(Balance {
                        available: r.try_get(0).map_err(err)?,
                        reserved: r.try_get(1).map_err(err)?,
                        consumed: r.try_get(2).map_err(err)?,
                    })
                })
                .transpose()
            }

            async fn create_key(&self, key: &NewKey, now: i64) -> StoreResult<()> {
                let mut tx = self.tx().await?;
                insert_key(&mut tx, key, now).await?;
                tx.commit().await.map_err(err)
            }

            async fn find_key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>> {
                let row = sqlx::query(
                    "SELECT id, account_id, secret_hash, scopes, expires_at, revoked_at FROM api_keys WHERE id = $1",
                )
                .bind(key_id.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(err)?;
                row.map(|r| {
                    Ok(KeyRecord {
                        key_id: r.try_get(0).map_err(err)?,
                        account_id: r.try_get(1).map_err(err)?,
                        secret_hash: r.try_get(2).map_err(err)?,
                        scopes: r.try_get(3).map_err(err)?,
                        expires_at: r.try_get(4).map_err(err)?,
                        revoked_at: r.try_get(5).map_err(err)?,
                    })
                })
                .transpose()
            }

            async fn revoke_key(&self, key_id: &str, now: i64) -> StoreResult<bool> {
                let mut tx = self.tx().await?;
                let found: Option<i64> = sqlx::query_scalar("SELECT CAST(1 AS BIGINT) FROM api_keys WHERE id = $1")
                    .bind(key_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(key_id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(found.is_some())
            }

            async fn register_batch(&self, b: &NewBatch, now: i64) -> Result<Registration, RegisterError> {
                let count =
                    u32::try_from(b.models.len()).map_err(internal)?;
                let required = b
                    .price_per_model
                    .times(count)
                    .ok_or_else(|| internal("price overflow"))?;
                let mut tx = self.tx().await?;
                if let Some(idem) = &b.idempotency {
                    Self::lock_idempotency_key(&mut tx, &b.account_id, &idem.key).await?;
                    let seen: Option<(Vec<u8>, String)> = sqlx::query_as(
                        "SELECT request_hash, batch_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
                    )
                    .bind(b.account_id.clone())
                    .bind(idem.key.clone())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(err)?;
                    if let Some((hash, batch_id)) = seen {
                        if hash != idem.request_hash {
                            return Err(RegisterError::IdempotencyKeyReused);
                        }
                        let (order_id, reservation_id, amount): (String, String, i64) = sqlx::query_as(
                            "SELECT b.order_id, r.id, r.amount FROM batches b JOIN reservations r ON r.batch_id = b.id
                             WHERE b.id = $1",
                        )
                        .bind(batch_id.clone())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?;
                        let model_ids: Vec<String> = sqlx::query_scalar(
                            "SELECT id FROM models WHERE batch_id = $1 ORDER BY position",
                        )
                        .bind(batch_id.clone())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?;
                        return Ok(Registration {
                            batch_id,
                            order_id,
                            reservation_id,
                            model_ids,
                            credits_reserved: amount,
                            replayed: true,
                        });
                    }
                }
                // A plain read first: an unknown account, or one that plainly cannot
                // pay, is answered without writing anything.
                let available: Option<i64> =
                    sqlx::query_scalar("SELECT available FROM accounts WHERE id = $1")
                        .bind(b.account_id.clone())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(err)?;
                match available {
                    None => return Err(RegisterError::UnknownAccount),
                    Some(a) if a < required.0 => {
                        return Err(RegisterError::InsufficientCredits {
                            required,
                            available: Credits(a),
                        });
                    }
                    Some(_) => {}
                }
                sqlx::query(
                    "INSERT INTO batches (id, account_id, order_id, preferences, count, correlation_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(b.batch_id.clone())
                .bind(b.account_id.clone())
                .bind(b.order_id.clone())
                .bind(b.preferences.clone())
                .bind(i64::from(count))
                .bind(b.correlation_id.clone())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                sqlx::query(
                    "INSERT INTO reservations (id, account_id, batch_id, amount, deadline, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(b.reservation_id.clone())
                .bind(b.account_id.clone())
                .bind(b.batch_id.clone())
                .bind(required.0)
                .bind(b.deadline)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                let entry = Entry {
                    account_id: &b.account_id,
                    kind: LedgerKind::Reserve,
                    amount: required.0,
                    reservation_id: Some(&b.reservation_id),
                    model_id: None,
                    correlation_id: Some(&b.correlation_id),
                    note: None,
                };
                ledger(&mut tx, entry, now).await?;
                // One multi-row INSERT each for models and jobs: 20 rows is well under
                // SQLite's limit on bound parameters.
                let model_sql = format!(
                    "INSERT INTO models (id, account_id, batch_id, reservation_id, position, name, idea, price, status, created_at, updated_at) VALUES {}",
                    numbered("(?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?)", b.models.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(model_sql));
                for (i, (model_id, _, idea)) in b.models.iter().enumerate() {
                    let idea_json =
                        serde_json::to_string(idea).map_err(internal)?;
                    q = q
                        .bind(model_id.clone())
                        .bind(b.account_id.clone())
                        .bind(b.batch_id.clone())
                        .bind(b.reservation_id.clone())
                        .bind(i as i64)
                        .bind(idea.name())
                        .bind(idea_json)
                        .bind(b.price_per_model.0)
                        .bind(now)
                        .bind(now);
                }
                q.execute(&mut *tx).await.map_err(err)?;
                let job_sql = format!(
                    "INSERT INTO jobs (id, model_id, correlation_id, state, max_attempts, run_at, created_at, updated_at) VALUES {}",
                    numbered("(?, ?, ?, 'queued', ?, ?, ?, ?)", b.models.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(job_sql));
                for (model_id, job_id, _) in &b.models {
                    q = q
                        .bind(job_id.clone())
                        .bind(model_id.clone())
                        .bind(b.correlation_id.clone())
                        .bind(i64::from(b.max_attempts))
                        .bind(now)
                        .bind(now)
                        .bind(now);
                }
                q.execute(&mut *tx).await.map_err(err)?;
                if let Some(idem) = &b.idempotency {
                    sqlx::query(
                        "INSERT INTO idempotency_keys (account_id, key, request_hash, batch_id, created_at)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(b.account_id.clone())
                    .bind(idem.key.clone())
                    .bind(idem.request_hash.clone())
                    .bind(b.batch_id.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                }
                // The conditional reserve comes last, so the account row (which every
                // request and settle of this account updates) is locked only from
                // here to the commit. Not enough credits: everything above rolls back.
                let reserved = sqlx::query(
                    "UPDATE accounts SET available = available - $1, reserved = reserved + $1
                     WHERE id = $2 AND available >= $1",
                )
                .bind(required.0)
                .bind(b.account_id.clone())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if reserved.rows_affected() == 0 {
                    let available: Option<i64> =
                        sqlx::query_scalar("SELECT available FROM accounts WHERE id = $1")
                            .bind(b.account_id.clone())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(err)?;
                    return Err(match available {
                        Some(a) => RegisterError::InsufficientCredits {
                            required,
                            available: Credits(a),
                        },
                        None => RegisterError::UnknownAccount,
                    });
                }
                tx.commit().await.map_err(err)?;
                Ok(Registration {
                    batch_id: b.batch_id.clone(),
                    order_id: b.order_id.clone(),
                    reservation_id: b.reservation_id.clone(),
                    model_ids: b.models.iter().map(|m| m.0.clone()).collect(),
                    credits_reserved: required.0,
                    replayed: false,
                })
            }

            async fn cancel_pending(
                &self,
                account_id: &str,
                target: &CancelTarget,
                now: i64,
            ) -> StoreResult<Option<Vec<(String, i64)>>> {
                let (column, id) = match target {
                    CancelTarget::Model(id) => ("id", id),
                    CancelTarget::Batch(id) => ("batch_id", id),
                };
                let mut tx = self.tx().await?;
                let rows: Vec<(String, i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT m.id, m.price, b.correlation_id FROM models m JOIN batches b ON b.id = m.batch_id
                     WHERE m.account_id = $1 AND m.{column} = $2 ORDER BY m.position"
                )))
                .bind(account_id.to_string())
                .bind(id.clone())
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
                if rows.is_empty() {
                    return Ok(None);
                }
                // Settling refuses models a worker has started: only PENDING may be cancelled.
                let items: Vec<ToSettle<'_>> = rows
                    .iter()
                    .map(|(model_id, _, correlation_id)| ToSettle {
                        model_id,
                        reason: Some("cancelled by the client"),
                        keys: None,
                        correlation_id,
                    })
                    .collect();
                let settled = settle_many(&mut tx, ModelStatus::Cancelled, &items, now).await?;
                tx.commit().await.map_err(err)?;
                Ok(Some(
                    rows.iter()
                        .zip(settled)
                        .filter(|(_, s)| *s == Settled::Now)
                        .map(|((model_id, price, _), _)| (model_id.clone(), *price))
                        .collect(),
                ))
            }

            async fn prune_idempotency_keys(&self, before: i64) -> StoreResult<u64> {
                let mut tx = self.tx().await?;
                let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(r.rows_affected())
            }

            async fn list_models(&self, account_id: &str, query: &ListQuery) -> StoreResult<Vec<ModelRow>> {
                let mut sql = String::from(
                    "SELECT id, batch_id, name, status, voting, thumb_key, image_key, failure_reason, created_at
                     FROM models WHERE account_id = $1",
                );
                let mut n = 1;
                let mut next = || {
                    n += 1;
                    n
                };
                if query.filter == StatusFilter::Approved {
                    sql.push_str(" AND voting = 'APPROVED'");
                }
                if query.batch_id.is_some() {
                    sql.push_str(&format!(" AND batch_id = ${}", next()));
                }
                if query.cursor.is_some() {
                    let (a, b) = (next(), next());
                    sql.push_str(&format!(
                        " AND (created_at < ${a} OR (created_at = ${a} AND id < ${b}))"
                    ));
                }
                sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT ${}", next()));
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(account_id.to_string());
                if let Some(batch) = &query.batch_id {
                    q = q.bind(batch.clone());
                }
                if let Some(c) = &query.cursor {
                    q = q.bind(c.created_at_ms).bind(c.id.clone());
                }
                let rows = q
                    .bind(i64::from(query.limit))
                    .fetch_all(&self.read)
                    .await
                    .map_err(err)?;
                rows.iter().map(model_row).collect()
            }

            async fn set_voting(
                &self,
                account_id: &str,
                model_id: &str,
                voting: Voting,
                now: i64,
            ) -> StoreResult<bool> {
                let mut tx = self.tx().await?;
                let done = sqlx::query(
                    "UPDATE models SET voting = $1, updated_at = $2 WHERE id = $3 AND account_id = $4",
                )
                .bind(voting.as_str())
                .bind(now)
                .bind(model_id.to_string())
                .bind(account_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(done.rows_affected() == 1)
            }

            /// Jobs whose lease ran out come first (they are the oldest work, and a dead
            /// worker's jobs must not wait behind a backlog), then due jobs in time order.
            async fn claim_jobs(
                &self,
                worker: &str,
                max: u32,
                now: i64,
                lease_until: i64,
            ) -> StoreResult<Vec<ClaimedJob>> {
                if max == 0 {
                    return Ok(Vec::new());
                }
                let mut tx = self.tx().await?;
                let rows = sqlx::query(Self::CLAIM_JOBS)
                .bind(worker.to_string())
                .bind(lease_until)
                .bind(now)
                .bind(i64::from(max))
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
                let started = begin_models(&mut tx, job_rows(&rows)?, now).await?;
                tx.commit().await.map_err(err)?;
                Ok(started.into_iter().flatten().collect())
            }

            async fn start_jobs(
                &self,
                job_ids: &[String],
                worker: &str,
                now: i64,
                lease_until: i64,
            ) -> StoreResult<Vec<Option<ClaimedJob>>> {
                if job_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
                         deliveries = deliveries + 1, updated_at = $3
                     WHERE id IN ({}) AND state IN ('queued', 'running')
                     RETURNING id, model_id, correlation_id, attempts, max_attempts",
                    list(4, job_ids.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql))
                    .bind(worker.to_string())
                    .bind(lease_until)
                    .bind(now);
                for id in job_ids {
                    q = q.bind(id.clone());
                }
                let mut tx = self.tx().await?;
                let rows = q.fetch_all(&mut *tx).await.map_err(err)?;
                let begun = begin_models(&mut tx, job_rows(&rows)?, now).await?;
                let mut by_id: std::collections::HashMap<String, ClaimedJob> = begun
                    .into_iter()
                    .flatten()
                    .map(|j| (j.job_id.clone(), j))
                    .collect();
                let started = job_ids.iter().map(|id| by_id.remove(id)).collect();
                tx.commit().await.map_err(err)?;
                Ok(started)
            }

            async fn claim_outbox(&self, max: u32, now: i64, until: i64) -> StoreResult<Vec<String>> {
                let mut tx = self.tx().await?;
                let ids: Vec<String> = sqlx::query_scalar(Self::CLAIM_OUTBOX)
                .bind(until)
                .bind(now)
                .bind(i64::from(max))
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(ids)
            }

            async fn mark_published(&self, job_ids: &[String], now: i64) -> StoreResult<()> {
                if job_ids.is_empty() {
                    return Ok(());
                }
                let mut tx = self.tx().await?;
                for chunk in job_ids.chunks(500) {
                    let sql = format!(
                        "UPDATE jobs SET published_at = $1, relay_until = NULL WHERE id IN ({})",
                        list(2, chunk.len())
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(now);
                    for id in chunk {
                        q = q.bind(id.clone());
                    }
                    q.execute(&mut *tx).await.map_err(err)?;
                }
                tx.commit().await.map_err(err)
            }

            async fn extend_leases(&self, worker: &str, lease_until: i64) -> StoreResult<u64> {
                let mut tx = self.tx().await?;
                let r = sqlx::query(
                    "UPDATE jobs SET lease_expires_at = $1 WHERE lease_owner = $2 AND state = 'running'",
                )
                .bind(lease_until)
                .bind(worker.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(r.rows_affected())
            }

            async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64> {
                let mut tx = self.tx().await?;
                let r = sqlx::query(
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, run_at = $1, updated_at = $1
                     WHERE lease_owner = $2 AND state = 'running'",
                )
                .bind(now)
                .bind(worker.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(r.rows_affected())
            }

            async fn complete_models(
                &self,
                done: &[Completion<'_>],
                now: i64,
            ) -> StoreResult<Vec<Settled>> {
                if done.is_empty() {
                    return Ok(Vec::new());
                }
                let items: Vec<ToSettle<'_>> = done
                    .iter()
                    .map(|c| ToSettle {
                        model_id: &c.job.model_id,
                        reason: None,
                        keys: Some((c.image_key, c.thumb_key)),
                        correlation_id: &c.job.correlation_id,
                    })
                    .collect();
                let mut tx = self.tx().await?;
                let settled = settle_many(&mut tx, ModelStatus::Done, &items, now).await?;
                tx.commit().await.map_err(err)?;
                Ok(settled)
            }

            async fn fail_model(&self, job: &ClaimedJob, reason: &str, now: i64) -> StoreResult<Settled> {
                let mut tx = self.tx().await?;
                sqlx::query("UPDATE jobs SET last_error = $1, attempts = attempts + 1 WHERE id = $2")
                    .bind(reason.to_string())
                    .bind(job.job_id.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                let item = ToSettle {
                    model_id: &job.model_id,
                    reason: Some(reason),
                    keys: None,
                    correlation_id: &job.correlation_id,
                };
                let s = settle(&mut tx, ModelStatus::Failed, item, now).await?;
                tx.commit().await.map_err(err)?;
                Ok(s)
            }

            async fn retry_job(
                &self,
                job: &ClaimedJob,
                worker: &str,
                error: &str,
                run_at: i64,
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.tx().await?;
                sqlx::query(
                    "UPDATE jobs SET state = 'queued', attempts = attempts + 1, last_error = $1, run_at = $2,
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
                     WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
                )
                .bind(error.to_string())
                .bind(run_at)
                .bind(now)
                .bind(job.job_id.clone())
                .bind(worker.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)
            }

            async fn expire_reservations(&self, now: i64) -> StoreResult<u64> {
                let mut tx = self.tx().await?;
                let expired: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM reservations WHERE closed_at IS NULL AND deadline <= $1 LIMIT 100",
                )
                .bind(now)
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
                let mut failed = 0;
                for reservation in expired {
                    let open: Vec<(String, String)> = sqlx::query_as(
                        "SELECT m.id, b.correlation_id FROM models m JOIN batches b ON b.id = m.batch_id
                         WHERE m.reservation_id = $1 AND m.status IN ('PENDING', 'PROCESSING')",
                    )
                    .bind(reservation.clone())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                    let items: Vec<ToSettle<'_>> = open
                        .iter()
                        .map(|(model_id, correlation_id)| ToSettle {
                            model_id,
                            reason: Some("timed out"),
                            keys: None,
                            correlation_id,
                        })
                        .collect();
                    let settled = settle_many(&mut tx, ModelStatus::Failed, &items, now).await?;
                    failed += settled.iter().filter(|s| **s == Settled::Now).count() as u64;
                    sqlx::query("UPDATE reservations SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
                        .bind(now)
                        .bind(reservation)
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                tx.commit().await.map_err(err)?;
                Ok(failed)
            }

            async fn queue_stats(&self) -> StoreResult<QueueStats> {
                let (queued, running, unpublished): (i64, i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'queued'),
                            (SELECT COUNT(*) FROM jobs WHERE state = 'running'),
                            (SELECT COUNT(*) FROM jobs WHERE published_at IS NULL AND state = 'queued')",
                )
                .fetch_one(&self.read)
                .await
                .map_err(err)?;
                let credits_reserved: i64 =
                    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM accounts")
                        .fetch_one(&self.read)
                        .await
                        .map_err(err)?;
                Ok(QueueStats {
                    queued,
                    running,
                    unpublished,
                    credits_reserved,
                })
            }

            async fn audit(&self) -> StoreResult<AuditReport> {
                let mut tx = self.snapshot().await?;
                let facts = AuditFacts {
                    accounts: sqlx::query_as(audit::ACCOUNTS)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?,
                    ledger_sums: sqlx::query_as(audit::LEDGER_SUMS)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?,
                    reservations: sqlx::query_as(audit::RESERVATIONS)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?,
                    unsettled_models: sqlx::query_as(audit::BAD_MODELS)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(err)?,
                    counts: sqlx::query_as(audit::COUNTS)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(err)?,
                };
                tx.rollback().await.map_err(err)?;
                Ok(facts.check())
            }
        }

        async fn insert_account(
            tx: &mut Transaction<'static, $db>,
            id: &str,
            name: &str,
            credits: Credits,
            now: i64,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO accounts (id, name, available, reserved, consumed, created_at) VALUES ($1, $2, $3, 0, 0, $4)",
            )
            .bind(id.to_string())
            .bind(name.to_string())
            .bind(credits.0)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
            let entry = Entry {
                account_id: id,
                kind: LedgerKind::Grant,
                amount: credits.0,
                reservation_id: None,
                model_id: None,
                correlation_id: None,
                note: Some("account created"),
            };
            ledger(tx, entry, now).await
        }

        async fn insert_key(
            tx: &mut Transaction<'static, $db>,
            key: &NewKey,
            now: i64,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO api_keys (id, account_id, secret_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(key.key_id.clone())
            .bind(key.account_id.clone())
            .bind(key.secret_hash.clone())
            .bind(key.scopes.clone())
            .bind(now)
            .bind(key.expires_at)
            .execute(&mut **tx)
            .await
            .map_err(err)?;
            Ok(())
        }
    };
}

pub(crate) use sql_store;
