//! Each kind's own generator flags (`--photo-shoot-generator`, …): a kind
//! made by another image server, or the same one with another model or
//! workflow, than the general `--generator` settings name.

use std::path::PathBuf;

use clap::Args;

use super::WorkerArgs;
use crate::generator::GeneratorKind;

pub(super) fn image_inputs(s: &str) -> Result<crate::generator::ImageInputs, String> {
    crate::generator::ImageInputs::parse(s)
}

/// One kind's own generator settings: each unset one is the general one's.
pub struct KindGenerator<'a> {
    pub generator: Option<GeneratorKind>,
    pub url: Option<&'a str>,
    pub model: Option<&'a str>,
    pub comfyui_workflow: Option<&'a std::path::Path>,
    pub replicate_image_inputs: Option<&'a crate::generator::ImageInputs>,
}

impl KindGenerator<'_> {
    /// Whether it says anything of its own.
    pub fn is_set(&self) -> bool {
        self.generator.is_some()
            || self.url.is_some()
            || self.model.is_some()
            || self.comfyui_workflow.is_some()
            || self.replicate_image_inputs.is_some()
    }
}

/// A kind's generator flags: `--<flag>-generator`, `-generator-url`,
/// `-generator-model`, `-comfyui-workflow`, `-replicate-image-inputs`, and
/// their variables (`MANNEQUIN_<ENV>_GENERATOR`, …); its API key from
/// `MANNEQUIN_<ENV>_GENERATOR_API_KEY` alone.
macro_rules! kind_generator_args {
    ($name:ident, $flag:literal, $env:literal, $what:literal) => {
        #[derive(Debug, Clone, Default, Args)]
        pub struct $name {
            #[doc = concat!("The generator of ", $what, "; default: --generator.")]
            #[arg(id = concat!($flag, "-generator"), long = concat!($flag, "-generator"),
                  env = concat!("MANNEQUIN_", $env, "_GENERATOR"), value_enum)]
            pub generator: Option<GeneratorKind>,
            #[doc = concat!("Its --generator-url, for ", $what, ".")]
            #[arg(id = concat!($flag, "-generator-url"), long = concat!($flag, "-generator-url"),
                  env = concat!("MANNEQUIN_", $env, "_GENERATOR_URL"))]
            pub url: Option<String>,
            #[doc = concat!("Its --generator-model, for ", $what, ".")]
            #[arg(id = concat!($flag, "-generator-model"), long = concat!($flag, "-generator-model"),
                  env = concat!("MANNEQUIN_", $env, "_GENERATOR_MODEL"))]
            pub model: Option<String>,
            #[doc = concat!("Its --comfyui-workflow, for ", $what, ".")]
            #[arg(id = concat!($flag, "-comfyui-workflow"), long = concat!($flag, "-comfyui-workflow"),
                  env = concat!("MANNEQUIN_", $env, "_COMFYUI_WORKFLOW"))]
            pub comfyui_workflow: Option<PathBuf>,
            #[doc = concat!("Its --replicate-image-inputs, for ", $what, ".")]
            #[arg(id = concat!($flag, "-replicate-image-inputs"),
                  long = concat!($flag, "-replicate-image-inputs"),
                  env = concat!("MANNEQUIN_", $env, "_REPLICATE_IMAGE_INPUTS"),
                  value_parser = image_inputs)]
            pub replicate_image_inputs: Option<crate::generator::ImageInputs>,
        }

        impl $name {
            pub fn settings(&self) -> KindGenerator<'_> {
                KindGenerator {
                    generator: self.generator,
                    url: self.url.as_deref(),
                    model: self.model.as_deref(),
                    comfyui_workflow: self.comfyui_workflow.as_deref(),
                    replicate_image_inputs: self.replicate_image_inputs.as_ref(),
                }
            }
        }
    };
}

kind_generator_args!(ModelGeneratorArgs, "model", "MODEL", "models");
kind_generator_args!(SceneryGeneratorArgs, "scenery", "SCENERY", "sceneries");
kind_generator_args!(
    PhotoShootGeneratorArgs,
    "photo-shoot",
    "PHOTO_SHOOT",
    "photo shoots"
);
kind_generator_args!(PackshotGeneratorArgs, "packshot", "PACKSHOT", "packshots");

impl WorkerArgs {
    /// Each kind's own generator settings, in [`mannequin_domain::AssetKind::ALL`]'s order.
    pub fn kind_generators(&self) -> [KindGenerator<'_>; 4] {
        [
            self.model_generator.settings(),
            self.scenery_generator.settings(),
            self.photo_shoot_generator.settings(),
            self.packshot_generator.settings(),
        ]
    }
}
