//! Proportions that follow gender and build, and the pose's arm and leg
//! positions, around fixed landmarks of the design space.

use super::*;

pub(super) const CX: f32 = 300.0;
pub(super) const HEAD_Y: f32 = 140.0;
pub(super) const SHOULDER_Y: f32 = 214.0;
pub(super) const WAIST_Y: f32 = 372.0;
pub(super) const HIP_Y: f32 = 456.0;
pub(super) const CROTCH_Y: f32 = 492.0;
pub(super) const KNEE_Y: f32 = 640.0;
pub(super) const ANKLE_Y: f32 = 792.0;
pub(super) const FLOOR_Y: f32 = 700.0;

/// How tall the figure stands, as a share of an adult's height: children and
/// teenagers are drawn smaller, standing on the same floor.
pub(super) fn figure_scale(age: Age) -> f32 {
    match age {
        Age::Baby => 0.38,
        Age::Toddler => 0.5,
        Age::Child => 0.66,
        Age::Teen => 0.88,
        _ => 1.0,
    }
}

/// Proportions that follow gender and build.
pub(super) struct Body {
    pub(super) shoulder: f32,
    pub(super) waist: f32,
    pub(super) hip: f32,
    pub(super) arm: f32,
    pub(super) thigh: f32,
    pub(super) head_rx: f32,
    pub(super) head_ry: f32,
    pub(super) neck: f32,
    pub(super) arms: [Vec<Pt>; 2],
    pub(super) legs: [Vec<Pt>; 2],
}

impl Body {
    pub(super) fn new(idea: &Idea) -> Body {
        let female = idea.gender == Gender::Female;
        let (mut shoulder, mut waist, mut hip, mut arm, mut thigh) = if female {
            (60.0, 40.0, 64.0, 24.0, 44.0)
        } else {
            (76.0, 54.0, 58.0, 30.0, 46.0)
        };
        let (s, w, h, l) = match idea.build {
            Build::Slim => (0.9, 0.86, 0.88, 0.85),
            Build::Athletic => (1.07, 0.95, 0.98, 1.05),
            Build::Average => (1.0, 1.04, 1.02, 1.0),
            Build::Curvy => (1.0, 1.02, 1.2, 1.1),
            Build::PlusSize => (1.18, 1.5, 1.36, 1.35),
            Build::Muscular => (1.25, 1.02, 1.04, 1.3),
        };
        // Children and teenagers are drawn smaller (see `figure_scale`) and
        // slighter, with a head large for their body.
        let (young, head) = match idea.age {
            Age::Baby | Age::Toddler => (1.0, 1.5),
            Age::Child => (0.96, 1.3),
            Age::Teen => (0.94, 1.1),
            _ => (1.0, 1.0),
        };
        shoulder *= s * young;
        waist *= w * young;
        hip *= h * young;
        arm *= l * young;
        thigh *= l * young;
        let sx = shoulder - arm * 0.45;
        let sy = SHOULDER_Y + 12.0;
        let arm_at = |side: f32, pose: Pose| -> Vec<Pt> {
            let s = Pt(CX + side * sx, sy);
            let (e, h) = match pose {
                Pose::Standing => (
                    Pt(s.0 + side * 14.0, sy + 122.0),
                    Pt(s.0 + side * 20.0, sy + 232.0),
                ),
                Pose::HandsOnHips => (
                    Pt(s.0 + side * 66.0, sy + 100.0),
                    Pt(CX + side * (waist + 8.0), WAIST_Y + 14.0),
                ),
                Pose::Walking => {
                    let swing = side * 26.0;
                    (
                        Pt(s.0 + side * 10.0 + swing * 0.4, sy + 120.0),
                        Pt(s.0 + side * 12.0 + swing, sy + 226.0),
                    )
                }
                Pose::ArmsCrossed => (
                    Pt(s.0 + side * 16.0, sy + 108.0),
                    Pt(CX - side * (shoulder * 0.55), sy + 88.0),
                ),
                Pose::Waving if side > 0.0 => {
                    (Pt(s.0 + 56.0, sy - 48.0), Pt(s.0 + 48.0, sy - 150.0))
                }
                Pose::Waving => (Pt(s.0 - 14.0, sy + 122.0), Pt(s.0 - 20.0, sy + 232.0)),
            };
            vec![s, e, h]
        };
        let leg_at = |side: f32| -> Vec<Pt> {
            let top = Pt(CX + side * (hip - thigh * 0.5), HIP_Y + 10.0);
            let (knee, ankle) = if idea.pose == Pose::Walking {
                let d = side * 34.0;
                (
                    Pt(top.0 + d * 0.5, KNEE_Y),
                    Pt(top.0 + d, ANKLE_Y - side.max(0.0) * 8.0),
                )
            } else {
                (
                    Pt(CX + side * (hip * 0.5 + 2.0), KNEE_Y),
                    Pt(CX + side * (hip * 0.42 + 6.0), ANKLE_Y),
                )
            };
            vec![top, knee, ankle]
        };
        let (head_rx, head_ry) = if female { (35.0, 45.0) } else { (38.0, 47.0) };
        let (head_rx, head_ry) = (head_rx * head, head_ry * head);
        Body {
            shoulder,
            waist,
            hip,
            arm,
            thigh,
            head_rx,
            head_ry,
            neck: if female { 26.0 } else { 34.0 }
                * if idea.build == Build::Muscular {
                    1.2
                } else {
                    1.0
                },
            arms: [arm_at(-1.0, idea.pose), arm_at(1.0, idea.pose)],
            legs: [leg_at(-1.0), leg_at(1.0)],
        }
    }

    /// Half the torso's width at height `y`.
    pub(super) fn half_width(&self, y: f32) -> f32 {
        let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t.clamp(0.0, 1.0);
        if y < SHOULDER_Y + 20.0 {
            let t = (y - SHOULDER_Y) / 20.0;
            lerp(self.shoulder * 0.72, self.shoulder, t.sqrt().max(0.0))
        } else if y < WAIST_Y {
            lerp(
                self.shoulder,
                self.waist,
                (y - SHOULDER_Y - 20.0) / (WAIST_Y - SHOULDER_Y - 20.0),
            )
        } else if y < HIP_Y {
            lerp(self.waist, self.hip, (y - WAIST_Y) / (HIP_Y - WAIST_Y))
        } else {
            self.hip
        }
    }

    /// Hips down to the crotch, widened by `grow`: a band at hip width that
    /// narrows to the crotch between the thighs.
    pub(super) fn pelvis(&self, grow: f32) -> Vec<Pt> {
        let (h, g) = (self.hip, grow);
        vec![
            Pt(CX - h - g, HIP_Y - 12.0),
            Pt(CX + h + g, HIP_Y - 12.0),
            Pt(CX + h + g, HIP_Y + 16.0),
            Pt(CX + 10.0 + g, CROTCH_Y + 10.0),
            Pt(CX - 10.0 - g, CROTCH_Y + 10.0),
            Pt(CX - h - g, HIP_Y + 16.0),
        ]
    }

    /// The torso between two heights, widened by `grow` on each side.
    pub(super) fn torso(&self, top: f32, bottom: f32, grow: f32) -> Vec<Pt> {
        let steps = ((bottom - top) / 8.0).ceil().max(1.0) as usize;
        let ys: Vec<f32> = (0..=steps)
            .map(|i| top + (bottom - top) * i as f32 / steps as f32)
            .collect();
        let mut pts: Vec<Pt> = ys
            .iter()
            .map(|y| Pt(CX - self.half_width(*y) - grow, *y))
            .collect();
        pts.extend(
            ys.iter()
                .rev()
                .map(|y| Pt(CX + self.half_width(*y) + grow, *y)),
        );
        pts
    }
}
