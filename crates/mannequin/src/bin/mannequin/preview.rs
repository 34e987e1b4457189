//! `mannequin preview`: renders the ideas a text would give, to files, with the
//! same reading and renderer the service uses, without a server or database,
//! and prints each idea's prompt and seed as an image server would get them
//! (with the default template).

use mannequin_domain::prompt::Template;
use serde_json::json;

use crate::cli::PreviewArgs;
use mannequin::error::BoxError;

/// Renders the ideas of `args.preferences` to `args.out`.
pub fn preview(args: &PreviewArgs) -> Result<(), BoxError> {
    let prefs = mannequin_domain::Preferences::parse(&args.preferences)?;
    let brief = mannequin_domain::Brief::new(prefs.clone())?;
    let kind = if args.scenery {
        mannequin_domain::AssetKind::Scenery
    } else {
        mannequin_domain::AssetKind::Model
    };
    let count = mannequin_domain::Count::of_kind(Some(i128::from(args.count)), kind)?;
    std::fs::create_dir_all(&args.out)?;
    let seed = mannequin_domain::ideas::seed(&args.seed, prefs.as_str());
    if args.scenery {
        return sceneries(args, prefs.as_str(), count.get(), seed);
    }
    let attributes = brief.reading();
    let ideas = attributes.ideas(count.get(), seed);
    let names = attributes.names(&ideas);
    for (i, (idea, name)) in ideas.iter().zip(names).enumerate() {
        write(args, i, &mannequin_render::render(idea)?)?;
        println!(
            "{}",
            json!({
                "file": format!("{}.png", i + 1),
                "name": name,
                "idea": idea.describe(),
                "seed": idea.seed,
                "prompt": Template::default().render(prefs.as_str(), idea),
                "notDrawn": attributes.not_drawn(idea),
                "notUnderstood": attributes.not_understood,
            })
        );
    }
    Ok(())
}

/// Renders the sceneries of `text` to `args.out`.
fn sceneries(args: &PreviewArgs, text: &str, count: u32, seed: u64) -> Result<(), BoxError> {
    use mannequin_domain::ideas::scenery::{self, SceneryReading};
    let reading = SceneryReading::read(text);
    let ideas = scenery::plan(&reading, count, seed);
    for (i, (idea, name)) in ideas.iter().zip(scenery::names(&ideas)).enumerate() {
        write(args, i, &mannequin_render::render_scenery(idea)?)?;
        println!(
            "{}",
            json!({
                "file": format!("{}.png", i + 1),
                "name": name,
                "idea": idea,
                "prompt": scenery::scenery_prompt(text, idea, &reading),
                "notDrawn": mannequin_render::scenery_notes(idea),
            })
        );
    }
    Ok(())
}

/// Writes the `i`th idea's images as `<i + 1>.png` and `<i + 1>.jpg`.
fn write(args: &PreviewArgs, i: usize, r: &mannequin_render::Rendered) -> std::io::Result<()> {
    std::fs::write(args.out.join(format!("{}.png", i + 1)), &r.full_png)?;
    std::fs::write(args.out.join(format!("{}.jpg", i + 1)), &r.thumb_jpeg)
}
