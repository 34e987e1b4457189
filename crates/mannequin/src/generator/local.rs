//! Generators that need no server: the built-in renderer and the no-op swatch.

use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::ideas::scenery::SceneryReading;
use mannequin_domain::ideas::shoot::{Angle, Category, PictureIdea};
use mannequin_domain::{AssetIdea, AssetKind, Attributes};

use super::{GenerateError, Generator, Intake, Made, Reason, Request, Role, Roles};

/// The built-in renderer; `delay` is an optional extra pause per model, to
/// stand in for a slower model server in tests and load experiments. It
/// draws what the idea's attributes say, always at its own size (a model
/// 640×960, a scenery 960×640), and tells what of the text it could not
/// draw.
pub struct Builtin {
    pub delay: Duration,
    /// Where a product whose name does not say sits on the model.
    pub category: Category,
}

/// The side of a built-in packshot when the order names none.
const PACKSHOT_SIDE: u32 = 1024;
/// What the built-in is sent of each input image.
const INTAKE: Intake = Intake {
    max_side: 1600,
    roles: Roles::ALL,
};

#[async_trait]
impl Generator for Builtin {
    fn name(&self) -> String {
        "builtin".to_string()
    }

    fn intake(&self, _kind: AssetKind) -> Option<Intake> {
        Some(INTAKE)
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if let Some(picture) = request.idea.picture() {
            return self.picture(request, picture).await;
        }
        let not_drawn = match request.idea {
            AssetIdea::PhotoShoot(_) | AssetIdea::Packshot(_) => Vec::new(),
            AssetIdea::Model(idea) => Attributes::read(request.preferences).not_drawn(idea),
            AssetIdea::Scenery(idea) => {
                let mut not_drawn = mannequin_render::scenery_notes(idea);
                if SceneryReading::read(request.preferences).people {
                    not_drawn.push("people".to_string());
                }
                not_drawn
            }
        };
        let idea = request.idea.clone();
        // CPU-bound: off the async threads. The worker's concurrency bounds how
        // many run at once.
        let r = tokio::task::spawn_blocking(move || match &idea {
            AssetIdea::Scenery(idea) => mannequin_render::render_scenery(idea),
            AssetIdea::Model(idea) => mannequin_render::render(idea),
            AssetIdea::PhotoShoot(_) | AssetIdea::Packshot(_) => Err(
                mannequin_render::RenderError::new("a picture made from a product is composed"),
            ),
        })
        .await
        .map_err(|e| GenerateError::Retryable(Reason::new("the renderer crashed", e)))?
        .map_err(|e| {
            GenerateError::Fatal(Reason::new("the renderer could not draw this idea", e))
        })?;
        Ok(Made {
            image: r.full_png,
            content_type: "image/png",
            extension: "png",
            thumb_jpeg: r.thumb_jpeg,
            notes: (!not_drawn.is_empty()).then(|| {
                format!(
                    "the built-in renderer could not draw: {}",
                    not_drawn.join(", ")
                )
            }),
        })
    }
}

impl Builtin {
    /// A packshot or a photo shoot picture, composed from the inputs.
    async fn picture(
        &self,
        request: &Request<'_>,
        picture: &PictureIdea,
    ) -> Result<Made, GenerateError> {
        let find = |role: Role| {
            request
                .inputs
                .iter()
                .find(|i| i.role == role)
                .map(|i| i.bytes.clone())
        };
        let product = find(Role::Product).ok_or_else(|| {
            GenerateError::fatal("the product's photo was not given", "no product input")
        })?;
        let (model, scenery) = (find(Role::Model), find(Role::Scenery));
        let kind = request.idea.kind();
        let picture = picture.clone();
        let category = picture.category.unwrap_or(self.category);
        tokio::task::spawn_blocking(move || {
            let decode = |bytes: &[u8]| {
                mannequin_render::decode(bytes)
                    .map_err(|e| GenerateError::fatal("an input image could not be read", e))
            };
            let product = decode(&product)?;
            let mut notes: Vec<String> = Vec::new();
            let image = if kind == AssetKind::Packshot {
                mannequin_render::picture_packshot(&product, &picture, PACKSHOT_SIDE, &mut notes)
            } else {
                let model = match model {
                    Some(m) => decode(&m)?,
                    None => mannequin_render::stand_in(picture.seed).map_err(|e| {
                        GenerateError::fatal("the renderer could not draw a model", e)
                    })?,
                };
                let scenery = scenery.map(|s| decode(&s)).transpose()?;
                let (width, height) = mannequin_render::FULL_SIZE;
                let shot = mannequin_render::photo_shoot(
                    scenery.as_ref(),
                    &model,
                    &product,
                    &mannequin_render::ShootLayout {
                        width,
                        height,
                        category,
                        framing: picture.framing,
                    },
                );
                notes.extend(shot.notes);
                if picture.angle != Angle::Front || picture.pose.is_some() {
                    notes.push(
                        "it shows the model as made, not turned or posed as the picture asks"
                            .to_string(),
                    );
                }
                shot.image
            };
            let jpeg = mannequin_render::encode_picture(&image).map_err(|e| {
                GenerateError::fatal("the built-in could not encode its picture", e)
            })?;
            let intake = mannequin_render::intake(&jpeg)
                .map_err(|e| GenerateError::fatal("the built-in made an unusable image", e))?;
            Ok(Made {
                image: jpeg,
                content_type: intake.content_type,
                extension: intake.extension,
                thumb_jpeg: intake.thumb_jpeg,
                notes: (!notes.is_empty()).then(|| format!("the built-in: {}", notes.join("; "))),
            })
        })
        .await
        .map_err(|e| GenerateError::Retryable(Reason::new("the renderer crashed", e)))?
    }
}

/// A stand-in that returns one small image (a 16×24 swatch, drawn once) for
/// every idea at once: what remains is the cost of the queue, the ledger and
/// the blob store, which is what the benchmark's no-op column measures.
pub struct Noop;

#[async_trait]
impl Generator for Noop {
    fn name(&self) -> String {
        "noop".to_string()
    }

    /// It is sent the product alone, small: what remains is the cost of
    /// reading and preparing it once per batch.
    fn intake(&self, _kind: AssetKind) -> Option<Intake> {
        Some(Intake {
            max_side: 64,
            roles: Roles::PRODUCT,
        })
    }

    async fn generate(&self, _: &Request<'_>) -> Result<Made, GenerateError> {
        static SWATCH: std::sync::OnceLock<Result<(Vec<u8>, Vec<u8>), String>> =
            std::sync::OnceLock::new();
        let swatch = SWATCH.get_or_init(|| {
            let idea = mannequin_domain::Attributes::read("").ideas(1, 1)[0];
            let pixmap = mannequin_render::draw(&idea, 16, 24).map_err(|e| e.to_string())?;
            let png = pixmap.encode_png().map_err(|e| e.to_string())?;
            let jpeg = mannequin_render::encode_jpeg(&pixmap, 80).map_err(|e| e.to_string())?;
            Ok((png, jpeg))
        });
        let (image, thumb_jpeg) = swatch
            .clone()
            .map_err(|e| GenerateError::Fatal(Reason::new("the renderer failed", e)))?;
        Ok(Made {
            image,
            content_type: "image/png",
            extension: "png",
            thumb_jpeg,
            notes: None,
        })
    }
}
