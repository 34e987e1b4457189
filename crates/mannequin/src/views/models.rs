//! Models: the list's item and page, one model with everything known about
//! it, and the bodies of register-ideas, vote and cancel.

use mannequin_domain::ids::{AssetId, BatchId, OrderId, ReservationId};
use mannequin_domain::{Credits, ModelStatus, Preferences, RequestError, StatusFilter, Voting};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{Time, Url, examples};
use crate::blob::BlobStore;
use crate::store::{ModelDetail as Detail, ModelRef};

/// A model as the list, `GET /models/{id}`, the console and webhooks show it:
/// the contract's six fields, then ours (left out when they hold nothing).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Model, example = json!(examples::model()))]
pub struct Model<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// Absolute URL once DONE, else null.
    #[schema(required)]
    pub thumbnail: Option<Url<'a>>,
    pub status: ModelStatus,
    pub voting: Voting,
    pub created_at: Time,
    /// (ours)
    pub batch_id: &'a str,
    /// (ours) The full image once DONE, else null.
    #[schema(required)]
    pub image: Option<Url<'a>>,
    /// (ours) Only on FAILED models.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub failure_reason: Option<&'a str>,
    /// (ours) The prompt sent to the generator: the preferences verbatim in
    /// the template, with what the batch varies. Present once the model has
    /// settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub prompt: Option<&'a str>,
    /// (ours) The image seed, fixed per model. Present once the model has
    /// settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub seed: Option<i64>,
    /// (ours) Backend and model that made (or failed to make) the image.
    /// Present once the model has settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub generator: Option<&'a str>,
    /// (ours) What the generator could not follow, e.g. words the built-in
    /// renderer cannot draw.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub generator_notes: Option<&'a str>,
    /// (ours) A photo shoot picture's or packshot's product.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub product_id: Option<&'a str>,
    /// (ours) The model a picture was made from, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub model_id: Option<&'a str>,
    /// (ours) The scenery a picture was made from, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub scenery_id: Option<&'a str>,
}

impl<'a> Model<'a> {
    pub fn new(blobs: &'a dyn BlobStore, r: ModelRef<'a>) -> Model<'a> {
        Model {
            id: r.id,
            name: r.name,
            thumbnail: Url::of(blobs, r.thumb_key),
            status: r.status,
            voting: r.voting,
            created_at: Time(r.created_at),
            batch_id: r.batch_id,
            image: Url::of(blobs, r.image_key),
            failure_reason: r.failure_reason,
            prompt: r.prompt,
            seed: r.seed,
            generator: r.generator,
            generator_notes: r.generator_notes,
            product_id: r.made_from[0],
            model_id: r.made_from[1],
            scenery_id: r.made_from[2],
        }
    }
}

/// A page of the account's models, newest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"models": [examples::model()], "count": 1, "nextCursor": null}))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ModelList<'a> {
    pub models: Vec<Model<'a>>,
    /// Items in this response.
    pub count: u32,
    /// (ours) The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// A page of the account's sceneries, newest first: each shaped as a model.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"sceneries": [examples::scenery()], "count": 1, "nextCursor": null}))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct SceneryList<'a> {
    pub sceneries: Vec<Model<'a>>,
    /// Items in this response.
    pub count: u32,
    /// (ours) The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// The sceneries list's query: the models list's, with a scenery's cursor.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListSceneries {
    /// `approved`: only sceneries voted APPROVED. Case-insensitive.
    #[param(value_type = Option<StatusFilter>, default = "all")]
    pub status_filter: Option<String>,
    /// (ours) Only the sceneries of this batch.
    #[param(pattern = "^batch_[A-Za-z0-9_]{1,58}$")]
    pub batch_id: Option<String>,
    /// (ours) Sceneries on a page: 1–1000, 1000 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<String>,
    /// (ours) The nextCursor of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.scenery_[A-Za-z0-9_]{1,56}$")]
    pub cursor: Option<String>,
}

impl From<ListSceneries> for ListModels {
    fn from(q: ListSceneries) -> ListModels {
        ListModels {
            status_filter: q.status_filter,
            batch_id: q.batch_id,
            limit: q.limit,
            cursor: q.cursor,
        }
    }
}

/// The models list's query.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListModels {
    /// `approved`: only models voted APPROVED. Case-insensitive.
    #[param(value_type = Option<StatusFilter>, default = "all")]
    pub status_filter: Option<String>,
    /// (ours) Only the models of this batch.
    #[param(pattern = "^batch_[A-Za-z0-9_]{1,58}$")]
    pub batch_id: Option<String>,
    /// (ours) Models on a page: 1–1000, 1000 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<String>,
    /// (ours) The nextCursor of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.model_[A-Za-z0-9_]{1,58}$")]
    pub cursor: Option<String>,
}

/// One model with everything known about it (ours).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ModelDetail, example = json!(examples::model_detail()))]
pub struct ModelDetailView<'a> {
    #[serde(flatten)]
    pub model: Model<'a>,
    pub order_id: &'a str,
    /// The batch's text, as registered.
    pub preferences: &'a str,
    /// The attributes the idea decided: gender, age, build, skinTone,
    /// hairColor, hairLength, hairStyle, makeup, expression, pose, style,
    /// facialHair, eyewear, headwear, covered (a boolean: long sleeves and a
    /// long hem), and, when the text names them, garment, secondGarment and
    /// colour.
    #[schema(value_type = Object, additional_properties)]
    pub idea: Map<String, Value>,
    /// Generation attempts made: the failed ones and the one running or done.
    pub attempts: u32,
    /// When a worker first started it.
    #[schema(required)]
    pub started_at: Option<Time>,
    /// When it reached its terminal status.
    #[schema(required)]
    pub finished_at: Option<Time>,
}

impl<'a> ModelDetailView<'a> {
    pub fn new(blobs: &'a dyn BlobStore, d: &'a Detail) -> ModelDetailView<'a> {
        ModelDetailView {
            model: Model::new(blobs, d.row.as_ref()),
            order_id: d.order_id.as_str(),
            preferences: &d.preferences,
            idea: attributes(&d.idea),
            attempts: d.attempts,
            started_at: d.started_at.map(Time),
            finished_at: d.finished_at.map(Time),
        }
    }
}

/// `snake_case` to `camelCase`.
fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for ch in key.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The idea's attributes with camelCase names; the renderer's palette and the
/// seed (a field of the model) are left out.
fn attributes(idea: &mannequin_domain::AssetIdea) -> Map<String, Value> {
    match serde_json::to_value(idea) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| k != "palette" && k != "seed" && !v.is_null())
            .map(|(k, v)| (camel(&k), v))
            .collect(),
        _ => Map::new(),
    }
}

/// Register-ideas' body: the description and how many models to make.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"preferences": "young female model, athletic build, natural makeup, for sportswear", "count": 4}))]
pub struct RegisterIdeas {
    /// 1–2000 characters after trimming; no control characters but tabs and
    /// line breaks.
    #[schema(value_type = String, min_length = 1, max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub preferences: Preferences,
    /// Absent: 10. A present count must be an integer (null is refused).
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 20, default = 10)]
    pub count: Option<i128>,
}

impl RegisterIdeas {
    /// Reads the body with the contract's rules. `count` must be an integer:
    /// a JSON number without a fractional part, as JSON Schema counts
    /// integers (`3` and `3.0` alike; `2.5`, `"3"` and `null` are refused);
    /// absent means the kind's default; its range is the kind's
    /// (`Count::of_kind`).
    pub fn from_json(body: &Map<String, Value>) -> Result<RegisterIdeas, RequestError> {
        let preferences = match body.get("preferences") {
            None | Some(Value::Null) => return Err(RequestError::PreferencesMissing),
            Some(Value::String(s)) => Preferences::parse(s)?,
            Some(_) => return Err(RequestError::PreferencesNotString),
        };
        let count = count(body)?;
        Ok(RegisterIdeas { preferences, count })
    }
}

/// A register body's `count`: an integer (a JSON number without a
/// fractional part, `3` and `3.0` alike; `2.5`, `"3"` and `null` refused),
/// `None` when absent.
pub(super) fn count(body: &Map<String, Value>) -> Result<Option<i128>, RequestError> {
    match body.get("count") {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // 1e3 and 3.0: whole, and far inside i128 once in range.
                n.as_f64()
                    .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30)
                    .map(|f| f as i128)
            })
            .map(Some)
            .ok_or(RequestError::CountNotInteger),
        Some(_) => Err(RequestError::CountNotInteger),
    }
}

/// What register-ideas created, in one transaction.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "createdRecordIds": ["model_01j9zq3k5v8m2c4x6b7n9p0r1s", "model_01j9zq3k5v8m2c4x6b7n9p0r1t"],
    "batchId": "batch_01j9zq3k5v8m2c4x6b7n9p0r1a",
    "orderId": "order_01j9zq3k5v8m2c4x6b7n9p0r1b",
    "reservationId": "res_01j9zq3k5v8m2c4x6b7n9p0r1c",
    "creditsReserved": 20
}))]
pub struct Registered {
    #[schema(value_type = Vec<String>)]
    pub created_record_ids: Vec<AssetId>,
    /// (ours)
    #[schema(value_type = String)]
    pub batch_id: BatchId,
    /// (ours)
    #[schema(value_type = String)]
    pub order_id: OrderId,
    /// (ours)
    #[schema(value_type = String)]
    pub reservation_id: ReservationId,
    /// (ours)
    #[schema(value_type = i64)]
    pub credits_reserved: Credits,
}

/// A vote on a model (ours).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"voting": "APPROVED"}))]
pub struct Vote {
    /// Case-insensitive.
    pub voting: Voting,
}

impl Vote {
    pub fn from_json(body: &Map<String, Value>) -> Result<Vote, RequestError> {
        body.get("voting")
            .and_then(Value::as_str)
            .and_then(|v| Voting::parse(&v.to_ascii_uppercase()))
            .map(|voting| Vote { voting })
            .ok_or(RequestError::VotingInvalid)
    }
}

/// A model's vote, as set.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "model_01j9zq3k5v8m2c4x6b7n9p0r1s", "voting": "APPROVED"}))]
pub struct Voted {
    #[schema(value_type = String)]
    pub id: AssetId,
    pub voting: Voting,
}

/// What a cancel cancelled and refunded (ours).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"cancelledRecordIds": ["model_01j9zq3k5v8m2c4x6b7n9p0r1t"], "creditsRefunded": 10}))]
pub struct Cancelled {
    #[schema(value_type = Vec<String>)]
    pub cancelled_record_ids: Vec<AssetId>,
    #[schema(value_type = i64)]
    pub credits_refunded: Credits,
}
