//! Colours: the outfit and backdrop palettes, skin tones and hair colours.

use super::*;

pub(super) struct Palette {
    pub(super) backdrop: (u32, u32),
    pub(super) main: u32,
    pub(super) accent: u32,
}

/// The headscarf colour of an idea.
pub(super) fn scarf(idea: &Idea) -> Color {
    rgb(SCARVES[(idea.palette % mannequin_domain::ideas::PALETTES) as usize])
}

impl Palette {
    /// A colour for headwear that stands out from both skin and backdrop:
    /// the accent, unless it is near white or near black.
    pub(super) fn accent_or_main(&self) -> u32 {
        let [r, g, b] = [
            self.accent >> 16,
            (self.accent >> 8) & 0xff,
            self.accent & 0xff,
        ];
        let light = (r * 3 + g * 6 + b) / 10;
        if (40..=215).contains(&light) {
            self.accent
        } else {
            self.main
        }
    }
}

/// Headscarf colours, one per palette: fabric tones that never read as hair.
pub(super) const SCARVES: [u32; mannequin_domain::ideas::PALETTES as usize] = [
    0x37474f, 0xad1457, 0x00695c, 0x283593, 0x556b2f, 0x7b1f3a, 0x6a1b9a, 0x424242,
];

pub(super) const PALETTES: [Palette; mannequin_domain::ideas::PALETTES as usize] = [
    Palette {
        backdrop: (0xd9d4cc, 0xefebe6),
        main: 0x2f6db5,
        accent: 0xf2f2f2,
    },
    Palette {
        backdrop: (0xcfd8e3, 0xeef2f6),
        main: 0xc0392b,
        accent: 0x222222,
    },
    Palette {
        backdrop: (0xcfdccf, 0xeef3ee),
        main: 0x2c3e50,
        accent: 0xe67e22,
    },
    Palette {
        backdrop: (0xead3d0, 0xf7ecea),
        main: 0x1c1c1c,
        accent: 0xd4af37,
    },
    Palette {
        backdrop: (0xe3d5bd, 0xf5eee2),
        main: 0x16a085,
        accent: 0xffffff,
    },
    Palette {
        backdrop: (0xd9d3e6, 0xf1eef7),
        main: 0x8e44ad,
        accent: 0xf1c40f,
    },
    Palette {
        backdrop: (0xc9ccd1, 0xeceef1),
        main: 0xe67e22,
        accent: 0x2c3e50,
    },
    Palette {
        backdrop: (0xece6d6, 0xfaf7ef),
        main: 0x27ae60,
        accent: 0xfefefe,
    },
];

pub(super) fn skin(t: SkinTone) -> Color {
    rgb(match t {
        SkinTone::Fair => 0xf3d9c6,
        SkinTone::Light => 0xe8c3a0,
        SkinTone::Medium => 0xc99a6e,
        SkinTone::Olive => 0xb98e5e,
        SkinTone::Tan => 0xa87550,
        SkinTone::Brown => 0x7a4e2d,
        SkinTone::Dark => 0x4a2f1f,
    })
}

pub(super) fn hair(c: HairColor) -> Color {
    rgb(match c {
        HairColor::Black => 0x1e1a18,
        HairColor::Brown => 0x5a3a22,
        HairColor::Blonde => 0xe0bd72,
        HairColor::Red => 0xa5432a,
        HairColor::Gray => 0xa9a9a9,
        HairColor::White => 0xe9e7e2,
        HairColor::Pastel => 0xe8a3c8,
    })
}
