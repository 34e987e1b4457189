//! What clients read and mark: the model list, votes, and the queue's figures.

use super::db::{Bind, Columns, Int, Text};
use super::{JobState, ListQuery, ModelRef, ModelRow, QueueStats, Store, StoreError, StoreResult};
use mannequin_domain::ids::{AccountId, AssetId};
use mannequin_domain::{AssetKind, Credits, ModelStatus, StatusFilter, Voting};

use super::Dialect;

pub(super) fn model_row(c: &mut dyn Columns) -> StoreResult<ModelRow> {
    Ok(model_ref(c)?.to_row())
}

/// The list's columns, in order, borrowed from the row.
fn model_ref<'r>(c: &mut dyn Columns<'r>) -> StoreResult<ModelRef<'r>> {
    let id = c.str()?;
    let batch_id = c.str()?;
    let name = c.str()?;
    let status = c.str()?;
    let voting = c.str()?;
    Ok(ModelRef {
        id,
        batch_id,
        name,
        status: ModelStatus::parse(status)
            .ok_or_else(|| StoreError::internal(format!("unknown status {status}")))?,
        voting: Voting::parse(voting)
            .ok_or_else(|| StoreError::internal(format!("unknown voting {voting}")))?,
        thumb_key: c.opt_str()?,
        image_key: c.opt_str()?,
        failure_reason: c.opt_str()?,
        created_at: c.int()?,
        prompt: c.opt_str()?,
        seed: c.opt_int()?,
        generator: c.opt_str()?,
        generator_notes: c.opt_str()?,
        made_from: [c.opt_str()?, c.opt_str()?, c.opt_str()?],
    })
}

/// The list's statement and its values. The cursor is a row-value
/// comparison in the index's order, `(created_at, id) < (…, …)`, which both
/// databases turn into a range of the account's index: a page deep in a large
/// account costs what the first does.
fn list_statement<'a>(
    dialect: &Dialect,
    account: &'a AccountId,
    query: &'a ListQuery,
) -> (String, Vec<Bind<'a>>) {
    let mut sql = String::from(
        "SELECT id, batch_id, name, status, voting, thumb_key, image_key, failure_reason,
             created_at, prompt, seed, generator, generator_notes, product_id, input_model_id,
             input_set_id
         FROM models WHERE account_id = $1",
    );
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    sql.push_str(&filters(dialect, query, &mut next));
    if query.cursor.is_some() {
        let (a, b) = (next(), next());
        sql.push_str(&format!(" AND (created_at, id) < (${a}, ${b})"));
    }
    // The limit is written into the statement, not bound: SQLite plans with
    // a bound limit's value, so binding it (even to the same value) expires
    // the prepared statement and every page was parsed and planned again.
    // Statements are kept per text, one for each limit in use.
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {}",
        query.limit
    ));
    let mut binds = vec![Text(account.as_str())];
    filter_binds(query, &mut binds);
    if let Some(c) = &query.cursor {
        binds.extend([Int(c.created_at_ms), Text(c.id.as_str())]);
    }
    (sql, binds)
}

/// The condition that keeps one kind's assets: their ids' range, from the
/// kind's prefix to the prefix with its last character's successor (ids are
/// ASCII; the prefixes are this service's own words, written as literals).
fn kind_filter(dialect: &Dialect, kind: AssetKind) -> String {
    let prefix = kind.declaration().prefix;
    let (head, last) = prefix.split_at(prefix.len() - 1);
    let after = char::from(last.as_bytes()[0] + 1);
    let id = dialect.id_unindexed;
    format!(" AND {id} >= '{prefix}' AND {id} < '{head}{after}'")
}

/// The query's filters as SQL conditions, its kind's first; the batch id takes the next
/// placeholder. Statuses and votes are this service's own words, written as
/// literals so the partial index on approved models serves them.
fn filters(dialect: &Dialect, query: &ListQuery, next: &mut impl FnMut() -> usize) -> String {
    let mut sql = kind_filter(dialect, query.kind);
    if query.filter == StatusFilter::Approved {
        sql.push_str(&format!(" AND voting = '{}'", Voting::Approved.as_str()));
    }
    if query.batch_id.is_some() {
        sql.push_str(&format!(" AND batch_id = ${}", next()));
    }
    if query.product_id.is_some() {
        sql.push_str(&format!(" AND product_id = ${}", next()));
    }
    if let Some(status) = query.status {
        sql.push_str(&format!(" AND status = '{}'", status.as_str()));
    }
    if let Some(voting) = query.voting {
        sql.push_str(&format!(" AND voting = '{}'", voting.as_str()));
    }
    // Each word in the name, the prompt or the order's text (its batch's).
    for _ in &query.words {
        let w = next();
        sql.push_str(&format!(
            " AND (LOWER(name) LIKE ${w} ESCAPE '\\' OR LOWER(COALESCE(prompt, '')) LIKE ${w} ESCAPE '\\'
                  OR batch_id IN (SELECT b.id FROM batches b WHERE b.account_id = $1
                                  AND LOWER(b.preferences) LIKE ${w} ESCAPE '\\'))"
        ));
    }
    sql
}

/// The values `filters` binds, in its order (after the account's `$1`).
fn filter_binds<'a>(query: &'a ListQuery, binds: &mut Vec<Bind<'a>>) {
    if let Some(batch) = &query.batch_id {
        binds.push(Text(batch.as_str()));
    }
    if let Some(product) = &query.product_id {
        binds.push(Text(product.as_str()));
    }
    for w in &query.words {
        binds.push(Text(w));
    }
}

/// The words of a search as the list's patterns: lower case, each
/// `%word%` with LIKE's own characters escaped (`\` escapes), at most eight.
pub fn search_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .take(8)
        .map(|w| {
            let escaped = w
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
        .collect()
}

impl Store {
    /// The account's models, newest first, after the query's cursor.
    pub async fn list_models(
        &self,
        account: &AccountId,
        query: &ListQuery,
    ) -> StoreResult<Vec<ModelRow>> {
        self.fold_models(account, query, Vec::new(), |rows, row| {
            rows.push(row.to_row())
        })
        .await
    }

    /// The same models as [`Store::list_models`], each handed to `step` as
    /// it is read, borrowed from the row, with the state that starts as
    /// `init` and is returned: for a caller that writes them out.
    pub async fn fold_models<S: Send + 'static>(
        &self,
        account: &AccountId,
        query: &ListQuery,
        init: S,
        mut step: impl FnMut(&mut S, ModelRef<'_>) + Send + 'static,
    ) -> StoreResult<S> {
        let (sql, binds) = list_statement(self.dialect, account, query);
        self.pools
            .fold(&sql, &binds, init, move |state, c| {
                step(state, model_ref(c)?);
                Ok(())
            })
            .await
    }

    /// How the database runs the list for `query`: the lines of its plan
    /// (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` on PostgreSQL with
    /// sequential scans off, so the plan shows what the indexes can do
    /// whatever the table's size). For tests and operators.
    pub async fn list_plan(
        &self,
        account: &AccountId,
        query: &ListQuery,
    ) -> StoreResult<Vec<String>> {
        let (sql, binds) = list_statement(self.dialect, account, query);
        let mut tx = self.begin().await?;
        let lines = if self.dialect.name == "postgres" {
            tx.execute("SET LOCAL enable_seqscan = off", &[]).await?;
            tx.fetch(&format!("EXPLAIN (COSTS OFF) {sql}"), &binds, |c| c.text())
                .await?
        } else {
            tx.fetch(&format!("EXPLAIN QUERY PLAN {sql}"), &binds, |c| {
                c.int()?;
                c.int()?;
                c.int()?;
                c.text()
            })
            .await?
        };
        tx.rollback().await?;
        Ok(lines)
    }

    /// The model just newer than `here` in the list's order, with the
    /// query's filters (its cursor and limit aside): the console's "previous".
    pub async fn newer_model(
        &self,
        account: &AccountId,
        here: &mannequin_domain::request::Cursor,
        query: &ListQuery,
    ) -> StoreResult<Option<AssetId>> {
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        let mut sql = String::from("SELECT id FROM models WHERE account_id = $1");
        sql.push_str(&filters(self.dialect, query, &mut next));
        let (a, b) = (next(), next());
        sql.push_str(&format!(
            " AND (created_at, id) > (${a}, ${b}) ORDER BY created_at ASC, id ASC LIMIT 1"
        ));
        let mut binds = vec![Text(account.as_str())];
        filter_binds(query, &mut binds);
        binds.extend([Int(here.created_at_ms), Text(here.id.as_str())]);
        Ok(self
            .pools
            .fetch(&sql, &binds, |c| Ok(AssetId::trusted(c.text()?)))
            .await?
            .pop())
    }

    /// Sets a model's vote; false when the model is not the account's.
    pub async fn set_voting(
        &self,
        account: &AccountId,
        model: &AssetId,
        voting: Voting,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = tx
            .execute(
                "UPDATE models SET voting = $1, updated_at = $2 WHERE id = $3 AND account_id = $4",
                &[
                    Text(voting.as_str()),
                    Int(now),
                    Text(model.as_str()),
                    Text(account.as_str()),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(done == 1)
    }

    /// Live figures for `/metrics`.
    pub async fn queue_stats(&self) -> StoreResult<QueueStats> {
        // States as literals, so the partial indexes on them serve the counts.
        let (queued, running) = (JobState::Queued.as_str(), JobState::Running.as_str());
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE state = '{queued}'),
                    (SELECT COUNT(*) FROM jobs WHERE state = '{running}'),
                    (SELECT COUNT(*) FROM jobs WHERE published_at IS NULL AND state = '{queued}'),
                    (SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) FROM accounts)"
        );
        let stats = self
            .pools
            .fetch(&sql, &[], |c| {
                Ok(QueueStats {
                    queued: c.int()?,
                    running: c.int()?,
                    unpublished: c.int()?,
                    credits_reserved: Credits::new(c.int()?),
                })
            })
            .await?;
        Ok(stats.into_iter().next().unwrap_or_default())
    }
}
