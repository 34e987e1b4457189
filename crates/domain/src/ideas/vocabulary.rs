//! The attributes an idea decides and the phrases that name their values.

use serde::{Deserialize, Serialize};

macro_rules! attribute {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $label:literal : [$($phrase:literal),*]),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// A human label, as used in names and descriptions.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Phrases (space-separated lowercase words) that name each value.
            pub fn phrases(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($phrase),*]),+ }
            }
        }
    };
}

attribute!(Gender {
    Female => "Female": ["female", "woman", "women", "girl", "girls", "lady", "ladies", "feminine", "she", "her"],
    Male => "Male": ["male", "man", "men", "guy", "guys", "boy", "boys", "gentleman", "masculine", "he", "his"],
});

attribute!(
    /// Adults unless the text asks for children or teenagers: a free choice is
    /// always an adult age ([`Age::FREE`]).
    Age {
    Child => "child": ["child", "children", "childrens", "kid", "kids", "kidswear", "toddler", "toddlers", "little girl", "little boy", "little girls", "little boys", "preschool", "school age"],
    Teen => "teenage": ["teen", "teens", "teenage", "teenager", "teenagers", "adolescent", "tween", "tweens"],
    YoungAdult => "young adult": ["young", "youthful", "20s", "twenties", "student", "young adult"],
    Adult => "adult": ["adult", "30s", "thirties", "grown"],
    MiddleAged => "middle-aged": ["middle aged", "middle age", "mature", "40s", "50s", "forties", "fifties"],
    Senior => "senior": ["senior", "seniors", "elderly", "older", "old", "60s", "70s", "80s", "grandmother", "grandfather", "grandma", "grandpa", "retired", "aged"],
});

impl Age {
    /// The ages a batch varies over when the text names none.
    pub const FREE: &'static [Age] = &[Age::YoungAdult, Age::Adult, Age::MiddleAged, Age::Senior];

    /// Children and teenagers: never swimwear, lingerie or facial hair.
    pub fn is_minor(self) -> bool {
        matches!(self, Age::Child | Age::Teen)
    }
}

attribute!(Build {
    Slim => "slim": ["slim", "slender", "thin", "petite", "lean", "skinny"],
    Athletic => "athletic": ["athletic build", "athletic body", "athletic figure", "fit", "toned", "sporty"],
    Average => "average": ["average", "regular build", "medium build", "normal build"],
    Curvy => "curvy": ["curvy", "hourglass", "voluptuous"],
    PlusSize => "plus-size": ["plus size", "plus sized", "full figured", "heavyset", "curvy plus", "large build", "big"],
    Muscular => "muscular": ["muscular", "muscles", "bodybuilder", "strong", "buff", "broad shouldered"],
});

attribute!(SkinTone {
    Fair => "fair": ["fair", "pale", "porcelain", "fair skin", "fair skinned"],
    Light => "light": ["light skin", "light skinned", "light complexion"],
    Medium => "medium": ["medium skin", "medium complexion"],
    Olive => "olive": ["olive", "olive skin"],
    Tan => "tan": ["tan", "tanned", "sun kissed", "bronzed"],
    Brown => "brown": ["brown skin", "brown skinned"],
    Dark => "dark": ["dark skin", "dark skinned", "deep skin", "ebony"],
});

attribute!(HairColor {
    Black => "black": ["black hair", "dark hair", "black haired", "raven"],
    Brown => "brown": ["brown hair", "brown haired", "brunette", "chestnut"],
    Blonde => "blonde": ["blonde", "blond", "golden hair", "light hair"],
    Red => "red": ["red hair", "red haired", "redhead", "ginger", "auburn"],
    Gray => "gray": ["gray hair", "grey hair", "gray haired", "grey haired", "silver hair", "silver haired", "salt and pepper", "greying", "graying"],
    White => "white": ["white hair", "white haired", "snow white hair"],
    Pastel => "pastel pink": ["pink hair", "pastel hair", "dyed hair"],
});

attribute!(HairLength {
    Bald => "bald": ["bald", "shaved head", "buzz cut", "buzzcut"],
    Short => "short": ["short hair", "short haired", "pixie", "crew cut", "bob"],
    Medium => "medium": ["medium hair", "shoulder length", "medium length"],
    Long => "long": ["long hair", "long haired", "waist length"],
});

attribute!(HairStyle {
    Straight => "straight": ["straight hair", "sleek"],
    Wavy => "wavy": ["wavy", "waves"],
    Curly => "curly": ["curly", "curls", "afro", "coily"],
    Ponytail => "ponytail": ["ponytail", "pony tail"],
    Bun => "bun": ["bun", "updo", "top knot"],
    Braids => "braided": ["braids", "braided", "braid", "cornrows"],
});

attribute!(Makeup {
    None => "no makeup": ["no makeup", "without makeup", "makeup free", "bare faced", "bare face"],
    Natural => "natural makeup": ["natural makeup", "light makeup", "minimal makeup", "subtle makeup", "natural look"],
    Glam => "glam makeup": ["glam", "glamorous", "full makeup", "glam makeup"],
    Bold => "bold makeup": ["bold makeup", "dramatic makeup", "red lips", "red lipstick", "smoky eyes", "bold lips"],
});

attribute!(Expression {
    Neutral => "neutral": ["neutral", "calm", "relaxed", "natural expression"],
    Smiling => "smiling": ["smile", "smiling", "happy", "cheerful", "friendly", "joyful", "laughing"],
    Serious => "serious": ["serious", "stern", "moody", "editorial", "fierce"],
    Confident => "confident": ["confident", "bold expression", "proud", "empowered"],
});

attribute!(Pose {
    Standing => "standing": ["standing", "standing straight", "front facing", "neutral pose"],
    HandsOnHips => "hands on hips": ["hands on hips", "hand on hip", "power pose"],
    Walking => "walking": ["walking", "stride", "striding", "in motion", "runway"],
    ArmsCrossed => "arms crossed": ["arms crossed", "crossed arms", "arms folded", "folded arms"],
    Waving => "waving": ["waving", "wave", "arm raised", "raised arm", "hand up"],
});

attribute!(Style {
    Sportswear => "Sportswear": ["sportswear", "sports", "activewear", "athletic wear", "athleisure", "gym", "fitness", "running", "yoga", "training", "workout"],
    Casual => "Casual": ["casual", "everyday", "jeans", "t shirt", "tee"],
    Formal => "Formal": ["formal", "evening", "gown", "tuxedo", "black tie", "cocktail", "gala", "wedding"],
    Streetwear => "Streetwear": ["streetwear", "street wear", "street style", "urban", "hoodie", "sneakers", "hip hop"],
    Swimwear => "Swimwear": ["swimwear", "swimsuit", "swim", "bikini", "beachwear", "beach", "swimming", "trunks"],
    Lingerie => "Lingerie": ["lingerie", "underwear", "intimates", "bra", "loungewear"],
    Outdoor => "Outdoor": ["outdoor", "outdoors", "hiking", "camping", "trekking", "mountain", "rain jacket", "parka"],
    Business => "Business": ["business", "office", "corporate", "suit", "workwear", "professional", "blazer"],
});

attribute!(
    /// Only when the text asks for it; never for children or teenagers.
    FacialHair {
    None => "clean-shaven": ["clean shaven", "clean shaved", "beardless", "no beard"],
    Stubble => "stubble": ["stubble", "stubbled", "five o clock shadow", "scruffy"],
    Beard => "beard": ["beard", "bearded", "full beard", "goatee"],
    Moustache => "moustache": ["moustache", "mustache", "moustached", "mustached"],
});

attribute!(
    /// Only when the text asks for it.
    Eyewear {
    None => "no glasses": ["no glasses", "without glasses"],
    Glasses => "glasses": ["glasses", "eyeglasses", "spectacles", "specs", "eyewear", "optical frames"],
    Sunglasses => "sunglasses": ["sunglasses", "sun glasses", "shades"],
});

attribute!(
    /// Only when the text asks for it.
    Headwear {
    None => "bare head": ["no hat", "bare head", "bareheaded"],
    Hijab => "hijab": ["hijab", "hijabi", "headscarf", "head scarf", "headscarves", "khimar"],
    Cap => "cap": ["cap", "baseball cap", "snapback", "trucker cap"],
    Beanie => "beanie": ["beanie", "knit hat", "knitted hat", "woolly hat", "wool hat", "toque"],
});

macro_rules! default_none {
    ($($t:ident),+) => {$(
        impl Default for $t {
            fn default() -> $t {
                $t::None
            }
        }
    )+};
}
default_none!(FacialHair, Eyewear, Headwear);

impl Style {
    /// What a person of this style wears, as a prompt names it.
    pub fn clothes(self) -> &'static str {
        match self {
            Style::Sportswear => "sportswear",
            Style::Casual => "casual clothes",
            Style::Formal => "formal wear",
            Style::Streetwear => "streetwear",
            Style::Swimwear => "swimwear",
            Style::Lingerie => "lingerie",
            Style::Outdoor => "outdoor clothing",
            Style::Business => "business attire",
        }
    }
}
