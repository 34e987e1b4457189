//! Drawing primitives in the design space: points, colours, and a canvas that
//! fills and strokes shapes under one transform.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Pt(pub(super) f32, pub(super) f32);

pub(super) fn rgb(hex: u32) -> Color {
    Color::from_rgba8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8, 255)
}

pub(super) fn rgba(hex: u32, alpha: u8) -> Color {
    Color::from_rgba8((hex >> 16) as u8, (hex >> 8) as u8, hex as u8, alpha)
}

/// The colour `f` of the way towards black (f < 0 lightens towards white).
pub(super) fn shade(c: Color, f: f32) -> Color {
    let m = |v: f32| {
        if f >= 0.0 {
            v * (1.0 - f)
        } else {
            v + (1.0 - v) * -f
        }
    };
    Color::from_rgba(m(c.red()), m(c.green()), m(c.blue()), c.alpha()).unwrap_or(c)
}

/// A thin wrapper that draws filled and stroked shapes under one transform.
pub(super) struct Canvas<'a> {
    pub(super) pixmap: &'a mut Pixmap,
    pub(super) transform: Transform,
}

impl Canvas<'_> {
    pub(super) fn paint(color: Color) -> Paint<'static> {
        Paint {
            shader: Shader::SolidColor(color),
            anti_alias: true,
            ..Default::default()
        }
    }

    pub(super) fn fill(&mut self, path: Option<Path>, color: Color) {
        if let Some(p) = path {
            self.pixmap.fill_path(
                &p,
                &Self::paint(color),
                FillRule::Winding,
                self.transform,
                None,
            );
        }
    }

    pub(super) fn stroke(&mut self, path: Option<Path>, color: Color, width: f32) {
        if let Some(p) = path {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Default::default()
            };
            self.pixmap
                .stroke_path(&p, &Self::paint(color), &stroke, self.transform, None);
        }
    }

    pub(super) fn ellipse(&mut self, c: Pt, rx: f32, ry: f32, color: Color) {
        let rect = tiny_skia::Rect::from_xywh(c.0 - rx, c.1 - ry, 2.0 * rx, 2.0 * ry);
        self.fill(rect.and_then(PathBuilder::from_oval), color);
    }

    /// The rectangle from (`x0`, `y0`) to (`x1`, `y1`).
    pub(super) fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, color: Color) {
        self.poly(&[Pt(x0, y0), Pt(x1, y0), Pt(x1, y1), Pt(x0, y1)], color);
    }

    pub(super) fn poly(&mut self, pts: &[Pt], color: Color) {
        self.fill(poly_path(pts), color);
    }

    pub(super) fn line(&mut self, pts: &[Pt], color: Color, width: f32) {
        let mut pb = PathBuilder::new();
        for (i, p) in pts.iter().enumerate() {
            if i == 0 {
                pb.move_to(p.0, p.1);
            } else {
                pb.line_to(p.0, p.1);
            }
        }
        self.stroke(pb.finish(), color, width);
    }

    pub(super) fn quad_line(&mut self, a: Pt, ctrl: Pt, b: Pt, color: Color, width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(a.0, a.1);
        pb.quad_to(ctrl.0, ctrl.1, b.0, b.1);
        self.stroke(pb.finish(), color, width);
    }

    /// A limb along `pts` whose width goes from `w0` to `w1`: tapered quads with
    /// round joints.
    pub(super) fn limb(&mut self, pts: &[Pt], w0: f32, w1: f32, color: Color) {
        let n = pts.len().saturating_sub(1).max(1) as f32;
        for (i, seg) in pts.windows(2).enumerate() {
            let wa = w0 + (w1 - w0) * i as f32 / n;
            let wb = w0 + (w1 - w0) * (i + 1) as f32 / n;
            let (a, b) = (seg[0], seg[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = (dx * dx + dy * dy).sqrt().max(0.001);
            let (nx, ny) = (-dy / len, dx / len);
            self.poly(
                &[
                    Pt(a.0 + nx * wa / 2.0, a.1 + ny * wa / 2.0),
                    Pt(b.0 + nx * wb / 2.0, b.1 + ny * wb / 2.0),
                    Pt(b.0 - nx * wb / 2.0, b.1 - ny * wb / 2.0),
                    Pt(a.0 - nx * wa / 2.0, a.1 - ny * wa / 2.0),
                ],
                color,
            );
            self.ellipse(a, wa / 2.0, wa / 2.0, color);
            self.ellipse(b, wb / 2.0, wb / 2.0, color);
        }
    }
}

pub(super) fn poly_path(pts: &[Pt]) -> Option<Path> {
    let mut pb = PathBuilder::new();
    for (i, p) in pts.iter().enumerate() {
        if i == 0 {
            pb.move_to(p.0, p.1);
        } else {
            pb.line_to(p.0, p.1);
        }
    }
    pb.close();
    pb.finish()
}

/// The part of a polyline from its start to fraction `t` of its length.
pub(super) fn partial(pts: &[Pt], t: f32) -> Vec<Pt> {
    let lens: Vec<f32> = pts
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
        .collect();
    let mut left = lens.iter().sum::<f32>() * t.clamp(0.0, 1.0);
    let mut out = vec![pts[0]];
    for (i, len) in lens.iter().enumerate() {
        if left >= *len {
            out.push(pts[i + 1]);
            left -= len;
        } else {
            let f = if *len > 0.0 { left / len } else { 0.0 };
            let (a, b) = (pts[i], pts[i + 1]);
            out.push(Pt(a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f));
            break;
        }
    }
    out
}
