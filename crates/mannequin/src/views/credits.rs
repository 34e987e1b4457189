//! Credits: the account's balances and its ledger.

use mannequin_domain::Credits;
use mannequin_domain::credits::{Balances as Held, LedgerKind};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{Time, examples};
use crate::store::LedgerEntry as Entry;

/// The account's balances (ours).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Credits, example = json!({"available": 960, "reserved": 20, "consumed": 20}))]
pub struct Balances {
    #[schema(value_type = i64)]
    pub available: Credits,
    /// Held by open reservations.
    #[schema(value_type = i64)]
    pub reserved: Credits,
    #[schema(value_type = i64)]
    pub consumed: Credits,
}

impl From<Held> for Balances {
    fn from(b: Held) -> Balances {
        Balances {
            available: b.available,
            reserved: b.reserved,
            consumed: b.consumed,
        }
    }
}

/// One ledger entry. What an entry is not about (a grant has no model) is
/// left out.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(examples::ledger_entry()))]
pub struct LedgerEntry {
    pub id: String,
    pub kind: LedgerKind,
    #[schema(value_type = i64)]
    pub amount: Credits,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub model_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reservation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub batch_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub note: Option<String>,
    pub created_at: Time,
}

impl From<Entry> for LedgerEntry {
    fn from(e: Entry) -> LedgerEntry {
        LedgerEntry {
            id: e.id.to_string(),
            kind: e.kind,
            amount: e.amount,
            model_id: e.model_id.map(|m| m.into_string()),
            reservation_id: e.reservation_id.map(|r| r.into_string()),
            batch_id: e.batch_id.map(|b| b.into_string()),
            correlation_id: e.correlation_id,
            note: e.note,
            created_at: Time(e.created_at),
        }
    }
}

/// A page of the ledger, newest first.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(as = Ledger, example = json!({"entries": [examples::ledger_entry()], "count": 1, "nextCursor": null}))]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub count: usize,
    /// The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// A page's query, for lists paged by row (the ledger, deliveries).
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries on a page: 1–1000, 1000 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<String>,
    /// The previous page's nextCursor.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}
