//! Writes a few renders to a folder: `cargo run -p mannequin-render --example sheet -- OUT "text" N`.
fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "out".into());
    let text = args.next().unwrap_or_else(|| "model".into());
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    std::fs::create_dir_all(&out).unwrap();
    let ideas = mannequin_domain::Attributes::read(&text).ideas(n, 1);
    for (i, idea) in ideas.iter().enumerate() {
        let r = mannequin_render::render(idea).unwrap();
        std::fs::write(format!("{out}/{i}.png"), &r.full_png).unwrap();
        std::fs::write(format!("{out}/{i}.jpg"), &r.thumb_jpeg).unwrap();
        println!("{i}: {} — {}", idea.name(), idea.describe());
    }
}
