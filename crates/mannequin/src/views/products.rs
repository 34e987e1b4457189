//! Products: a shop's own photos, as the list and one product show them,
//! and what an upload takes.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{Time, Url, examples};
use crate::blob::BlobStore;
use crate::store::Product as Stored;

/// A product as the list and `GET /products/{id}` show it: Qamera's five
/// fields (no `voting`), then ours.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Product, example = json!(examples::product()))]
pub struct Product<'a> {
    pub id: &'a str,
    /// The name given at upload, or the file's name.
    pub name: &'a str,
    pub thumbnail: Url<'a>,
    /// Always `UPLOADED`.
    #[schema(value_type = String, example = "UPLOADED")]
    pub status: &'static str,
    pub created_at: Time,
    /// (ours) The stored photo: turned upright, without its metadata.
    pub image: Url<'a>,
    /// (ours) Its size in pixels, as stored.
    pub width: u32,
    /// (ours)
    pub height: u32,
}

impl<'a> Product<'a> {
    pub fn new(blobs: &'a dyn BlobStore, p: &'a Stored) -> Product<'a> {
        Product {
            id: p.id.as_str(),
            name: &p.name,
            thumbnail: Url(blobs, &p.thumb_key),
            status: "UPLOADED",
            created_at: Time(p.created_at),
            image: Url(blobs, &p.image_key),
            width: p.width,
            height: p.height,
        }
    }
}

/// A page of the account's products, newest first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"products": [examples::product()], "count": 1, "nextCursor": null}))]
#[serde(rename_all = "camelCase")]
pub struct ProductList<'a> {
    pub products: Vec<Product<'a>>,
    /// Items in this response.
    pub count: u32,
    /// (ours) The cursor of the next page; null on the last.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// The products list's query (ours: Qamera's takes none).
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListProducts {
    /// (ours) Products on a page: 1–1000, 1000 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<String>,
    /// (ours) The nextCursor of the previous page.
    #[param(pattern = r"^[0-9]{1,18}\.prod_[A-Za-z0-9_]{1,59}$")]
    pub cursor: Option<String>,
}

/// An upload (ours): `multipart/form-data` with the photo and, optionally,
/// its name.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadProduct {
    /// A PNG, JPEG or WebP photo: at most 20 MB and 8,192 pixels a side. Its
    /// EXIF orientation is applied and every metadata block (EXIF with GPS,
    /// XMP, text chunks) is dropped before it is stored.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub image: Vec<u8>,
    /// Up to 200 characters after trimming, no control characters; the
    /// file's name (without its extension) when absent or empty.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<String>,
}

/// What a delete answers (ours).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "prod_01j9zq3k5v8m2c4x6b7n9p0r1s", "deleted": true}))]
pub struct Deleted<'a> {
    pub id: &'a str,
    pub deleted: bool,
}
