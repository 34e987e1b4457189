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

            /// Every phrase split into its words, with its value, longest
            /// first: what the reader matches, made once.
            pub(crate) fn candidates() -> &'static [($name, Vec<&'static str>)] {
                static CANDIDATES: std::sync::OnceLock<Vec<($name, Vec<&'static str>)>> =
                    std::sync::OnceLock::new();
                CANDIDATES.get_or_init(|| {
                    let mut all: Vec<($name, Vec<&'static str>)> = $name::ALL
                        .iter()
                        .flat_map(|v| v.phrases().iter().map(move |p| (*v, p.split(' ').collect())))
                        .collect();
                    all.sort_by_key(|c| std::cmp::Reverse(c.1.len()));
                    all
                })
            }
        }
    };
}

pub(crate) use attribute;

attribute!(Gender {
    Female => "Female": ["female", "females", "woman", "women", "womens", "womenswear", "girl", "girls", "lady", "ladies", "feminine", "she", "her", "hers", "mother", "mom", "mum", "mama", "wife", "bride", "daughter", "granddaughter", "grandmother", "grandma", "hijabi", "mujer", "mujeres", "femme", "femmes", "donna", "frau", "nina", "ninas", "niña", "niñas", "menina", "bambina"],
    Male => "Male": ["male", "males", "man", "men", "mens", "menswear", "guy", "guys", "boy", "boys", "gentleman", "gentlemen", "masculine", "he", "his", "him", "father", "dad", "husband", "groom", "son", "grandson", "grandfather", "grandpa", "hombre", "hombres", "homme", "hommes", "uomo", "nino", "ninos", "niño", "niños", "menino", "bambino"],
});

attribute!(
    /// Adults unless the text asks for children or teenagers: a free choice is
    /// always an adult age ([`Age::FREE`]). Ages in numbers ("6 years old",
    /// "in her 30s") are read by [`Age::of_years`]; decades in words by the
    /// reader, which tells an age ("in her forties") from an era ("forties
    /// style").
    Age {
    Baby => "baby": ["baby", "babies", "infant", "infants", "newborn", "newborns", "babywear", "bebe"],
    Toddler => "toddler": ["toddler", "toddlers", "toddlerwear"],
    Child => "child": ["child", "children", "childrens", "childs", "kid", "kids", "kidswear", "kiddie", "kiddies", "little girl", "little boy", "little girls", "little boys", "young girl", "young boy", "young girls", "young boys", "preschool", "preschooler", "preschoolers", "kindergarten", "school age", "schoolgirl", "schoolgirls", "schoolboy", "schoolboys", "grade school", "primary school", "elementary school", "nina", "ninas", "nino", "ninos", "niña", "niñas", "niño", "niños", "enfant", "enfants", "kinder", "bambino", "bambina", "bambini", "menina", "menino", "crianca", "criança"],
    Teen => "teenage": ["teen", "teens", "teenage", "teenaged", "teenager", "teenagers", "adolescent", "adolescents", "tween", "tweens", "preteen", "preteens", "high school", "highschool"],
    YoungAdult => "young adult": ["young", "youthful", "college", "student", "students", "university", "young adult", "young adults", "gen z"],
    Adult => "adult": ["adult", "adults", "grown", "grown up", "grownup"],
    MiddleAged => "middle-aged": ["middle aged", "middle age", "mature", "midlife"],
    Senior => "senior": ["senior", "seniors", "elderly", "older", "old", "grandmother", "grandfather", "grandma", "grandpa", "grandparent", "grandparents", "retired", "retiree", "pensioner", "octogenarian", "septuagenarian", "nonagenarian"],
});

impl Age {
    /// The ages a batch varies over when the text names none.
    pub const FREE: &'static [Age] = &[Age::YoungAdult, Age::Adult, Age::MiddleAged, Age::Senior];

    /// The ages of a minor the text does not age more closely ("school",
    /// "junior", "girls").
    pub const MINORS: &'static [Age] = &[Age::Child, Age::Teen];

    /// Babies, toddlers, children and teenagers: never swimwear, lingerie,
    /// crop tops, makeup or facial hair.
    pub fn is_minor(self) -> bool {
        matches!(self, Age::Baby | Age::Toddler | Age::Child | Age::Teen)
    }

    /// The age a number of years is.
    pub fn of_years(years: u32) -> Age {
        match years {
            0..=1 => Age::Baby,
            2..=3 => Age::Toddler,
            4..=12 => Age::Child,
            13..=17 => Age::Teen,
            18..=29 => Age::YoungAdult,
            30..=39 => Age::Adult,
            40..=59 => Age::MiddleAged,
            _ => Age::Senior,
        }
    }
}

attribute!(Build {
    Slim => "slim": ["slim", "slender", "thin", "petite", "lean", "skinny"],
    Athletic => "athletic": ["athletic", "athletic build", "athletic body", "athletic figure", "fit", "toned", "sporty"],
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
    Bold => "bold makeup": ["bold makeup", "dramatic makeup", "red lips", "red lipstick", "lipstick", "smoky eyes", "smokey eyes", "bold lips", "heavy makeup", "eyeliner"],
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

attribute!(
    /// What the clothes are for: the outfit a batch varies when the text names
    /// no garment. Swimwear and lingerie come only from the text.
    Style {
    Sportswear => "Sportswear": ["sportswear", "sports", "sport", "athletic wear", "athleisure", "gym", "fitness", "running", "yoga", "training", "workout", "tennis", "sports wear"],
    Casual => "Casual": ["casual", "everyday", "smart casual", "relaxed fit", "daywear", "weekend"],
    Formal => "Formal": ["formal", "formalwear", "formal wear", "evening", "evening wear", "eveningwear", "black tie", "cocktail", "gala", "wedding", "occasion wear", "partywear", "party wear", "red carpet", "prom"],
    Streetwear => "Streetwear": ["streetwear", "street wear", "street style", "urban", "hip hop", "skater"],
    Swimwear => "Swimwear": ["swim", "swimming", "beachwear", "beach wear", "resort wear", "resortwear", "poolside"],
    Lingerie => "Lingerie": ["intimates", "intimate apparel", "boudoir", "shapewear"],
    Outdoor => "Outdoor": ["outdoor", "outdoors", "hiking", "camping", "trekking", "mountain", "outerwear", "ski", "skiing", "winter wear"],
    Business => "Business": ["business", "office", "corporate", "workwear", "professional", "business casual", "businesswear", "office wear"],
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
    Hijab => "hijab": ["hijab", "hijabs", "hijabi", "hijabis", "headscarf", "head scarf", "headscarves", "head scarves", "headcovering", "head covering", "khimar", "al amira", "shayla", "tudung", "chador"],
    Niqab => "niqab": ["niqab", "niqabs", "niqabi", "burqa", "burqas", "burka", "burkas", "face veil"],
    Cap => "cap": ["cap", "baseball cap", "snapback", "trucker cap"],
    Beanie => "beanie": ["beanie", "knit hat", "knitted hat", "woolly hat", "wool hat", "toque"],
});

attribute!(
    /// A garment the text names: what the idea wears, its name says and the
    /// built-in draws. Only ever from the text.
    Garment {
    Dress => "Dress": ["dress", "frock"],
    LongDress => "Long Dress": ["long dress", "floor length dress", "ankle length dress", "full length dress", "long sleeved dress", "long sleeve dress"],
    MaxiDress => "Maxi Dress": ["maxi dress", "maxi", "maxidress"],
    MidiDress => "Midi Dress": ["midi dress", "midi", "mididress"],
    MiniDress => "Mini Dress": ["mini dress", "minidress", "short dress"],
    EveningDress => "Evening Dress": ["evening dress", "evening gown", "ball gown", "ballgown", "gown", "formal dress", "prom dress", "long gown"],
    PartyDress => "Party Dress": ["party dress", "cocktail dress", "occasion dress", "holiday dress"],
    SummerDress => "Summer Dress": ["summer dress", "sundress", "sun dress", "beach dress"],
    WrapDress => "Wrap Dress": ["wrap dress"],
    ShirtDress => "Shirt Dress": ["shirt dress", "shirtdress"],
    WeddingDress => "Wedding Dress": ["wedding dress", "wedding gown", "bridal gown", "bridal dress", "bridal"],
    Skirt => "Skirt": ["skirt", "pencil skirt", "pleated skirt", "a line skirt", "midi skirt", "denim skirt"],
    LongSkirt => "Long Skirt": ["long skirt", "maxi skirt", "floor length skirt", "ankle length skirt"],
    MiniSkirt => "Mini Skirt": ["mini skirt", "miniskirt", "short skirt"],
    Blouse => "Blouse": ["blouse", "tunic"],
    Shirt => "Shirt": ["shirt", "button down", "button up", "dress shirt", "oxford shirt", "flannel shirt", "flannel"],
    TShirt => "T-Shirt": ["t shirt", "tshirt", "tee", "tank top", "vest top", "camisole"],
    Polo => "Polo Shirt": ["polo", "polo shirt"],
    Hoodie => "Hoodie": ["hoodie", "hoody", "sweatshirt", "hooded sweatshirt"],
    Knitwear => "Knitwear": ["knitwear", "sweater", "jumper", "cardigan", "pullover", "turtleneck", "knit sweater", "knitted sweater"],
    Suit => "Suit": ["suit", "business suit", "two piece suit", "three piece suit", "pantsuit", "pant suit", "trouser suit"],
    Tuxedo => "Tuxedo": ["tuxedo", "tux", "dinner jacket"],
    Blazer => "Blazer": ["blazer", "sport coat", "sports coat"],
    Jeans => "Jeans": ["jeans", "denim jeans", "skinny jeans", "mom jeans"],
    Trousers => "Trousers": ["trousers", "pants", "chinos", "slacks", "joggers", "sweatpants", "cargo pants", "culottes", "wide leg trousers"],
    Shorts => "Shorts": ["shorts", "bermuda shorts"],
    Coat => "Coat": ["coat", "trench coat", "trench", "overcoat", "puffer", "puffer jacket", "parka", "raincoat", "rain coat", "down jacket", "peacoat"],
    Jacket => "Jacket": ["jacket", "bomber", "bomber jacket", "leather jacket", "denim jacket", "rain jacket", "windbreaker", "anorak", "gilet"],
    Activewear => "Activewear": ["activewear", "active wear", "leggings", "tracksuit", "track suit", "gym wear", "gymwear", "gym clothes", "workout clothes", "sports kit", "yoga pants"],
    Swimwear => "Swimwear": ["swimwear", "swimsuit", "swim suit", "bathing suit", "bikini", "trunks", "swim trunks", "swim shorts", "boardshorts", "board shorts", "speedo", "tankini", "monokini", "one piece swimsuit"],
    Lingerie => "Lingerie": ["lingerie", "underwear", "bra", "panties", "knickers", "briefs", "boxers", "boxer briefs", "undies", "thong", "corset", "negligee", "nightie", "chemise", "babydoll", "garter", "stockings"],
    CropTop => "Crop Top": ["crop top", "cropped top", "croptop", "bralette", "tube top", "bandeau", "sports bra", "bare midriff", "midriff", "cropped tee", "cropped t shirt"],
    Uniform => "Uniform": ["uniform", "scrubs", "school uniform", "work uniform", "chef whites", "lab coat"],
    Abaya => "Abaya": ["abaya", "jilbab", "jilbaab"],
    Kaftan => "Kaftan": ["kaftan", "caftan", "djellaba", "jellabiya", "galabiya"],
    Thobe => "Thobe": ["thobe", "thawb", "dishdasha", "kandura", "jubba"],
    Sari => "Sari": ["sari", "saree", "lehenga"],
    SalwarKameez => "Salwar Kameez": ["salwar kameez", "shalwar kameez", "salwar", "kurta", "kurti", "churidar", "anarkali"],
    Kimono => "Kimono": ["kimono", "yukata"],
    Hanbok => "Hanbok": ["hanbok"],
    Cheongsam => "Cheongsam": ["cheongsam", "qipao"],
    Jumpsuit => "Jumpsuit": ["jumpsuit", "playsuit", "romper", "overalls", "dungarees", "boilersuit", "boiler suit", "coveralls"],
    Sleepwear => "Sleepwear": ["pajamas", "pyjamas", "pjs", "sleepwear", "nightwear", "loungewear", "lounge wear", "bathrobe", "dressing gown", "onesie", "robe"],
    ModestSwimwear => "Modest Swimwear": ["burkini", "burqini", "modest swimwear", "modest swimsuit", "full coverage swimsuit"],
});

impl Garment {
    /// Worn by women, so a batch that leaves the gender open makes women.
    pub fn is_female(self) -> bool {
        use Garment::*;
        self.is_dress()
            || matches!(
                self,
                Skirt | LongSkirt | MiniSkirt | Blouse | Abaya | Sari | Cheongsam | ModestSwimwear
            )
    }

    /// Worn by men, so a batch that leaves the gender open makes men.
    pub fn is_male(self) -> bool {
        matches!(self, Garment::Thobe | Garment::Tuxedo)
    }

    /// Shows the body: never on a minor, never added to a modest batch.
    pub fn is_revealing(self) -> bool {
        matches!(
            self,
            Garment::Swimwear | Garment::Lingerie | Garment::CropTop
        )
    }

    /// Covers arms and legs whatever else is worn.
    pub fn covers(self) -> bool {
        matches!(
            self,
            Garment::Abaya | Garment::Kaftan | Garment::Thobe | Garment::ModestSwimwear
        )
    }

    /// A dress of any kind.
    pub fn is_dress(self) -> bool {
        use Garment::*;
        matches!(
            self,
            Dress
                | LongDress
                | MaxiDress
                | MidiDress
                | MiniDress
                | EveningDress
                | PartyDress
                | SummerDress
                | WrapDress
                | ShirtDress
                | WeddingDress
        )
    }

    /// What the garment is for, as the idea's style says it.
    pub fn style(self) -> Style {
        use Garment::*;
        match self {
            EveningDress | PartyDress | WeddingDress | Tuxedo | Cheongsam | Sari | Hanbok
            | LongDress | MaxiDress => Style::Formal,
            Suit | Blazer | Blouse | Shirt | Skirt | LongSkirt | WrapDress | ShirtDress => {
                Style::Business
            }
            Activewear => Style::Sportswear,
            Hoodie => Style::Streetwear,
            Coat | Jacket => Style::Outdoor,
            Swimwear => Style::Swimwear,
            Lingerie => Style::Lingerie,
            _ => Style::Casual,
        }
    }
}

attribute!(
    /// A colour the text gives the clothes ("a long red dress", "in black").
    Colour {
    Red => "red": ["red", "scarlet", "crimson", "cherry"],
    Burgundy => "burgundy": ["burgundy", "maroon", "wine", "oxblood", "bordeaux"],
    Pink => "pink": ["pink", "fuchsia", "magenta", "blush", "rose", "hot pink"],
    Orange => "orange": ["orange", "rust", "terracotta", "coral", "peach"],
    Yellow => "yellow": ["yellow", "mustard", "lemon"],
    Gold => "gold": ["gold", "golden"],
    Green => "green": ["green", "emerald", "sage", "mint", "forest green", "bottle green"],
    Olive => "olive": ["olive", "khaki", "army green"],
    Teal => "teal": ["teal", "turquoise", "aqua"],
    Blue => "blue": ["blue", "cobalt", "royal blue", "sky blue", "light blue", "baby blue", "denim blue"],
    Navy => "navy": ["navy", "navy blue", "midnight blue", "dark blue"],
    Purple => "purple": ["purple", "violet", "lilac", "lavender", "plum", "mauve"],
    Brown => "brown": ["brown", "chocolate", "camel", "cognac", "tan"],
    Beige => "beige": ["beige", "nude", "sand", "taupe", "cream", "ivory", "ecru", "stone", "oatmeal"],
    White => "white": ["white", "off white", "all white"],
    Black => "black": ["black", "all black", "jet black"],
    Gray => "grey": ["grey", "gray", "charcoal", "silver", "heather grey"],
});

impl Colour {
    /// The colour as RGB, for the built-in renderer.
    pub fn rgb(self) -> u32 {
        match self {
            Colour::Red => 0xc8_2a2a,
            Colour::Burgundy => 0x6e_1a2b,
            Colour::Pink => 0xe8_7aa4,
            Colour::Orange => 0xe0_7a2e,
            Colour::Yellow => 0xe8_c53a,
            Colour::Gold => 0xc9_a23f,
            Colour::Green => 0x3f_8a4f,
            Colour::Olive => 0x6b_6b3a,
            Colour::Teal => 0x2a_9a9a,
            Colour::Blue => 0x3a_6fc8,
            Colour::Navy => 0x1f_2d4a,
            Colour::Purple => 0x7a_4aa8,
            Colour::Brown => 0x7a_5230,
            Colour::Beige => 0xd8_c6a8,
            Colour::White => 0xf6_f4ef,
            Colour::Black => 0x1b_1b1f,
            Colour::Gray => 0x80_8288,
        }
    }
}

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
