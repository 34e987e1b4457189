//! Photo shoots and packshots: pictures made from the shop's product. Their
//! list items are a model's; their register body names what they are made
//! from (`config`) instead of describing it.

use mannequin_domain::Preferences;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::examples;
use super::models::{ListModels, Model};
use crate::http::error::ApiError;

/// A page of the account's photo shoot pictures, newest first: each shaped
/// as a model.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"images": [examples::picture("img_01j9zq3k5v8m2c4x6b7n9p0r1s", "Fashion Shoot - White T-Shirt (Full Body, Front)")], "count": 1, "nextCursor": null}))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct ImageList<'a> {
    pub images: Vec<Model<'a>>,
    /// Items in this response.
    pub count: u32,
    /// (ours) The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// A page of the account's packshots, newest first: each shaped as a model.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"packshots": [examples::picture("ps_01j9zq3k5v8m2c4x6b7n9p0r1s", "White T-Shirt Packshot")], "count": 1, "nextCursor": null}))]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct PackshotList<'a> {
    pub packshots: Vec<Model<'a>>,
    /// Items in this response.
    pub count: u32,
    /// (ours) The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// A picture list's query: the models list's, with the product they were
/// made from; its cursor is the kind's (`img_`, `ps_`).
macro_rules! list_pictures {
    ($name:ident, $what:literal, $cursor:literal) => {
        #[doc = concat!("The ", $what, " list's query.")]
        #[derive(Debug, Default, serde::Deserialize, IntoParams)]
        #[serde(rename_all = "camelCase")]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// `approved`: only pictures voted APPROVED. Case-insensitive.
            #[param(value_type = Option<mannequin_domain::StatusFilter>, default = "all")]
            pub status_filter: Option<String>,
            /// Only pictures made from this product (another id lists none).
            #[param(pattern = "^prod_[A-Za-z0-9_]{1,59}$")]
            pub product_id: Option<String>,
            /// (ours) Only the pictures of this batch.
            #[param(pattern = "^batch_[A-Za-z0-9_]{1,58}$")]
            pub batch_id: Option<String>,
            /// (ours) Pictures on a page: 1–1000, 1000 when absent.
            #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 1000)]
            pub limit: Option<String>,
            /// (ours) The nextCursor of the previous page.
            #[param(pattern = $cursor)]
            pub cursor: Option<String>,
        }

        impl $name {
            /// The models list's query, and the product filter apart.
            pub fn split(self) -> (ListModels, Option<String>) {
                (
                    ListModels {
                        status_filter: self.status_filter,
                        batch_id: self.batch_id,
                        limit: self.limit,
                        cursor: self.cursor,
                    },
                    self.product_id,
                )
            }
        }
    };
}

list_pictures!(
    ListImages,
    "photo shoot pictures'",
    r"^[0-9]{1,18}\.img_[A-Za-z0-9_]{1,60}$"
);
list_pictures!(
    ListPackshots,
    "packshots'",
    r"^[0-9]{1,18}\.ps_[A-Za-z0-9_]{1,61}$"
);

/// A record the config names.
#[derive(Debug, Clone, ToSchema)]
pub struct Ref {
    pub id: String,
}

/// What the pictures are made from.
#[derive(Debug, Clone, ToSchema)]
pub struct PictureConfig {
    /// The shop's product (required): an id from `GET /products`.
    pub product: Ref,
    /// An approved model to wear or hold it: a DONE model's id.
    #[schema(nullable = false)]
    pub model: Option<Ref>,
    /// Where: a DONE scenery's id.
    #[schema(nullable = false)]
    pub scenery: Option<Ref>,
    /// Photography guidelines: a preset's id (the system's or the account's).
    #[schema(nullable = false)]
    pub preset: Option<Ref>,
    /// What the shop sells, in its words (up to 2000 characters, no control
    /// characters but tabs and line breaks; blank is none).
    #[schema(value_type = Option<String>, nullable = false, max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub industry: Option<Preferences>,
    /// What the pictures should be like, in the shop's words (as industry);
    /// they come before the preset's guidance.
    #[schema(value_type = Option<String>, nullable = false, max_length = 2000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    pub suggestions: Option<Preferences>,
}

/// What a register body of pictures asks: the config and the count.
#[derive(Debug)]
pub struct RegisterPictures {
    pub config: PictureConfig,
    pub count: Option<i128>,
}

/// Photo shoots' register body.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"config": {"product": {"id": "prod_01j9zq3k5v8m2c4x6b7n9p0r1s"}, "model": {"id": "model_01j9zq3k5v8m2c4x6b7n9p0r1t"}, "scenery": {"id": "scenery_01j9zq3k5v8m2c4x6b7n9p0r1v"}, "preset": {"id": "preset_system_lifestyle"}, "suggestions": "bright summer light"}, "count": 4}))]
pub struct RegisterImageIdeas {
    pub config: PictureConfig,
    /// Absent: 10. A present count must be an integer (null is refused).
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 20, default = 10)]
    pub count: Option<i128>,
}

/// Packshots' register body.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"config": {"product": {"id": "prod_01j9zq3k5v8m2c4x6b7n9p0r1s"}, "preset": {"id": "preset_system_ecommerce_white"}}, "count": 8}))]
pub struct RegisterPackshotIdeas {
    pub config: PictureConfig,
    /// Absent: 10. A present count must be an integer (null is refused).
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 50, default = 10)]
    pub count: Option<i128>,
}

impl From<RegisterImageIdeas> for RegisterPictures {
    fn from(b: RegisterImageIdeas) -> RegisterPictures {
        RegisterPictures {
            config: b.config,
            count: b.count,
        }
    }
}

impl From<RegisterPackshotIdeas> for RegisterPictures {
    fn from(b: RegisterPackshotIdeas) -> RegisterPictures {
        RegisterPictures {
            config: b.config,
            count: b.count,
        }
    }
}

/// A refused body: 400 with code `invalid_config` and Qamera's words.
fn invalid(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_config",
        message: format!("Validation failed: {message}"),
    }
}

/// `config.<name>`: absent or null is `None`; else an object with a string
/// `id`.
fn reference(config: &Map<String, Value>, name: &str) -> Result<Option<Ref>, ApiError> {
    match config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => match o.get("id") {
            Some(Value::String(id)) => Ok(Some(Ref { id: id.clone() })),
            None | Some(Value::Null) => Err(invalid(format!("'config.{name}.id' is required."))),
            Some(_) => Err(invalid(format!("'config.{name}.id' must be a string."))),
        },
        Some(_) => Err(invalid(format!("'config.{name}' must be an object."))),
    }
}

/// `config.<name>`, the customer's words: a string as `preferences` is
/// (trimmed, 1–2000 characters, no control characters but tabs and line
/// breaks); absent, null or blank is `None`.
fn words(config: &Map<String, Value>, name: &str) -> Result<Option<Preferences>, ApiError> {
    match config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Preferences::parse(s).map(Some).map_err(|e| {
            invalid(
                e.to_string()
                    .replace("'preferences'", &format!("'config.{name}'")),
            )
        }),
        Some(_) => Err(invalid(format!("'config.{name}' must be a string."))),
    }
}

impl RegisterPictures {
    pub fn from_json(body: &Map<String, Value>) -> Result<RegisterPictures, ApiError> {
        let empty = Map::new();
        let config = match body.get("config") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(c)) => c,
            Some(_) => return Err(invalid("'config' must be an object.".into())),
        };
        let product = reference(config, "product")?
            .ok_or_else(|| invalid("'config.product.id' is required.".into()))?;
        let config = PictureConfig {
            product,
            model: reference(config, "model")?,
            scenery: reference(config, "scenery")?,
            preset: reference(config, "preset")?,
            industry: words(config, "industry")?,
            suggestions: words(config, "suggestions")?,
        };
        let count = super::models::count(body)?;
        Ok(RegisterPictures { config, count })
    }
}
