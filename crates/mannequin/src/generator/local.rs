//! Generators that need no server: the built-in renderer and the no-op swatch.

use std::time::Duration;

use async_trait::async_trait;
use mannequin_domain::ideas::scenery::SceneryReading;
use mannequin_domain::{AssetIdea, Attributes};

use super::{GenerateError, Generator, Made, Reason, Request};

/// The built-in renderer; `delay` is an optional extra pause per model, to
/// stand in for a slower model server in tests and load experiments. It
/// draws what the idea's attributes say, always at its own size (a model
/// 640×960, a scenery 960×640), and tells what of the text it could not
/// draw.
pub struct Builtin {
    pub delay: Duration,
}

#[async_trait]
impl Generator for Builtin {
    fn name(&self) -> String {
        "builtin".to_string()
    }

    async fn generate(&self, request: &Request<'_>) -> Result<Made, GenerateError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let not_drawn = match request.idea {
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
            AssetIdea::Model(idea) => mannequin_render::render(idea),
            AssetIdea::Scenery(idea) => mannequin_render::render_scenery(idea),
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

/// A stand-in that returns one small image (a 16×24 swatch, drawn once) for
/// every idea at once: what remains is the cost of the queue, the ledger and
/// the blob store, which is what the benchmark's no-op column measures.
pub struct Noop;

#[async_trait]
impl Generator for Noop {
    fn name(&self) -> String {
        "noop".to_string()
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
