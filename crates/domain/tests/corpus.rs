//! Realistic shop requests and what must and must not come of them: the
//! ideas, the names and the words the service adds to the prompt. Every
//! wrong reading found later becomes a case here.
//!
//! A case is the text and a list of expectations:
//!
//! - `refused`: the request is refused (a minor with adult styling);
//! - `gender=female`, `age=child`, `garment=Long Dress`, `colour=red`,
//!   `style=Business`, `headwear=hijab`: every idea has it (`age=minor`,
//!   `age=adult` for any such age);
//! - `covered`: every idea is covered (long sleeves, long hem);
//! - `name:X` / `!name:X`: every name holds X / no name does;
//! - `added:X` / `!added:X`: what the service adds to the prompt holds X in
//!   every idea / in none (case-insensitive);
//! - `note:X`: the reading's note to the customer holds X.
//!
//! Every case is also checked against the rules ([`Attributes::check`]), for
//! several counts and seeds, and its names must be distinct.

use mannequin_domain::Attributes;
use mannequin_domain::ideas::{Age, Idea};

const CASES: &[(&str, &[&str])] = &[
    // The issue's own examples.
    (
        "girl, 6 years old, party dress",
        &[
            "gender=female",
            "age=child",
            "garment=Party Dress",
            "name:Female Model - Party Dress",
            "!added:glam",
            "!added:bold",
            "added:no makeup",
            "!added:gray",
            "!name:Lingerie",
            "!name:Sportswear",
        ],
    ),
    (
        "Hijab model for our modest wear collection",
        &[
            "gender=female",
            "headwear=hijab",
            "covered",
            "age=adult",
            "!added:swimwear",
            "!added: man",
            "!added:glam",
            "!added:bold",
            "!added:hair",
            "!name:Male",
            "!name:Swimwear",
        ],
    ),
    (
        "woman in a long red dress",
        &[
            "gender=female",
            "garment=Long Dress",
            "colour=red",
            "name:Long Dress",
            "!name:Swimwear",
            "!name:Business",
            "!name:Outdoor",
            "!added:wearing",
        ],
    ),
    (
        "young woman wearing a hijab, modest fashion, long dress",
        &[
            "gender=female",
            "headwear=hijab",
            "covered",
            "garment=Long Dress",
            "name:Long Dress",
            "!name:Lingerie",
            "!added:hair",
        ],
    ),
    (
        "man, casual",
        &["gender=male", "style=Casual", "name:Male Model - Casual"],
    ),
    // Ages in every form.
    (
        "6yo boy, t-shirt and shorts",
        &[
            "gender=male",
            "age=child",
            "garment=T-Shirt",
            "name:T-Shirt and Shorts",
            "!added:beard",
            "!added:stubble",
        ],
    ),
    (
        "6 yo girl in a summer dress",
        &["age=child", "garment=Summer Dress", "gender=female"],
    ),
    (
        "six year old girl, yellow raincoat",
        &["age=child", "garment=Coat", "colour=yellow"],
    ),
    (
        "Girl aged 8-10, school uniform",
        &[
            "age=child",
            "garment=Uniform",
            "gender=female",
            "added:no makeup",
        ],
    ),
    (
        "kids aged 4 to 6 in pyjamas",
        &["age=child", "garment=Sleepwear"],
    ),
    (
        "toddler boy in dungarees",
        &["age=toddler", "gender=male", "garment=Jumpsuit"],
    ),
    ("Toddlers, knitwear", &["age=toddler", "garment=Knitwear"]),
    (
        "baby in a white onesie",
        &["age=baby", "garment=Sleepwear", "colour=white"],
    ),
    ("newborn photography, knitted outfit", &["age=baby"]),
    ("9 month old baby girl", &["age=baby", "gender=female"]),
    (
        "teen girl, streetwear, hoodie",
        &[
            "age=teen",
            "gender=female",
            "garment=Hoodie",
            "!added:glam",
            "!added:natural makeup",
        ],
    ),
    (
        "teenage boys in tracksuits",
        &["age=teen", "gender=male", "garment=Activewear"],
    ),
    (
        "Teenager, 15, jeans and sneakers",
        &["age=teen", "garment=Jeans"],
    ),
    ("15 year old skater", &["age=teen"]),
    ("tweens back to school collection", &["age=minor"]),
    (
        "woman in her 30s, business suit",
        &[
            "age=adult",
            "gender=female",
            "garment=Suit",
            "!added:senior",
            "!added:young adult",
        ],
    ),
    (
        "man in his early 40s, blazer and chinos",
        &[
            "age=middle_aged",
            "gender=male",
            "garment=Blazer",
            "name:Blazer and Trousers",
        ],
    ),
    (
        "woman in her forties, wrap dress",
        &["age=middle_aged", "garment=Wrap Dress"],
    ),
    (
        "forties man, wool coat",
        &["age=middle_aged", "garment=Coat"],
    ),
    (
        "woman, 30s, linen trousers",
        &["age=adult", "garment=Trousers"],
    ),
    (
        "thirty-something dad in a polo shirt",
        &["age=adult", "gender=male", "garment=Polo Shirt"],
    ),
    (
        "25 year old woman, yoga",
        &["age=young_adult", "style=Sportswear"],
    ),
    (
        "woman aged 65, cardigan",
        &["age=senior", "garment=Knitwear"],
    ),
    (
        "senior couple, outdoor clothing",
        &["age=senior", "style=Outdoor"],
    ),
    (
        "elderly man with a walking stick, tweed jacket",
        &["age=senior", "gender=male", "garment=Jacket"],
    ),
    (
        "middle-aged woman, midi dress",
        &["age=middle_aged", "garment=Midi Dress"],
    ),
    (
        "mature woman, evening gown",
        &["age=middle_aged", "garment=Evening Dress", "style=Formal"],
    ),
    (
        "grandmother in a floral blouse",
        &["age=senior", "gender=female", "garment=Blouse"],
    ),
    ("retired man, golf wear", &["age=senior", "gender=male"]),
    (
        "young man, slim fit suit",
        &["age=young_adult", "gender=male", "garment=Suit"],
    ),
    (
        "70s style woman, flared jeans",
        &["age=adult", "garment=Jeans"],
    ),
    (
        "90s fashion, oversized denim jacket",
        &["age=adult", "garment=Jacket"],
    ),
    (
        "college student, backpack, casual",
        &["age=young_adult", "style=Casual"],
    ),
    // People words.
    (
        "lady in a cocktail dress",
        &["gender=female", "garment=Party Dress"],
    ),
    ("ladies' coats", &["gender=female", "garment=Coat"]),
    (
        "gentleman in a tuxedo",
        &["gender=male", "garment=Tuxedo", "style=Formal"],
    ),
    ("guys, streetwear", &["gender=male", "style=Streetwear"]),
    ("two guys in hoodies", &["gender=male", "garment=Hoodie"]),
    (
        "women's activewear, leggings",
        &["gender=female", "garment=Activewear"],
    ),
    ("MENS SUITS", &["gender=male", "garment=Suit"]),
    (
        "WOMAN IN A RED DRESS",
        &["gender=female", "garment=Dress", "colour=red"],
    ),
    (
        "Women, Maxi Dresses",
        &["gender=female", "garment=Maxi Dress"],
    ),
    ("boys, football kit", &["gender=male", "age=minor"]),
    (
        "girls party dresses",
        &["gender=female", "age=minor", "garment=Party Dress"],
    ),
    ("little girl in a tutu", &["age=child", "gender=female"]),
    (
        "kids clothing",
        &["age=minor", "!added:glam", "!added:natural makeup"],
    ),
    ("children's knitwear", &["age=minor", "garment=Knitwear"]),
    (
        "junior range, polo shirts",
        &["age=minor", "garment=Polo Shirt"],
    ),
    (
        "kids' line of rain jackets",
        &["age=minor", "garment=Jacket"],
    ),
    ("youth football shirts", &["age=minor", "garment=Shirt"]),
    (
        "bride in a wedding dress",
        &["gender=female", "garment=Wedding Dress"],
    ),
    (
        "groom, navy suit",
        &["gender=male", "garment=Suit", "colour=navy"],
    ),
    ("it girl, mini dress", &["age=adult", "garment=Mini Dress"]),
    ("old school tracksuit", &["age=adult", "garment=Activewear"]),
    (
        "school teacher, cardigan",
        &["age=adult", "garment=Knitwear"],
    ),
    (
        "girl, 25 years old, bikini",
        &["age=young_adult", "gender=female", "garment=Swimwear"],
    ),
    // Dresses and their kinds.
    (
        "long dress",
        &["gender=female", "garment=Long Dress", "name:Long Dress"],
    ),
    ("maxi dress", &["garment=Maxi Dress", "name:Maxi Dress"]),
    ("midi dress, silk", &["garment=Midi Dress"]),
    ("mini dress", &["garment=Mini Dress"]),
    (
        "evening dress",
        &["garment=Evening Dress", "name:Evening Dress"],
    ),
    ("party dress", &["garment=Party Dress"]),
    ("summer dress", &["garment=Summer Dress"]),
    ("wrap dress", &["garment=Wrap Dress"]),
    (
        "black evening gown",
        &["garment=Evening Dress", "colour=black"],
    ),
    ("ball gown", &["garment=Evening Dress"]),
    ("sundress, floral", &["garment=Summer Dress"]),
    ("floral summer dresses", &["garment=Summer Dress"]),
    (
        "a dress",
        &["garment=Dress", "gender=female", "!added:wearing"],
    ),
    ("dres for summer", &["garment=Dress"]),
    ("long sleeved dress", &["garment=Long Dress", "covered"]),
    ("short red skirt", &["garment=Mini Skirt", "colour=red"]),
    (
        "pleated midi skirt and blouse",
        &["garment=Skirt", "gender=female", "name:Skirt and Blouse"],
    ),
    ("maxi skirt", &["garment=Long Skirt", "gender=female"]),
    // Other garments.
    ("man in a blazer", &["garment=Blazer", "gender=male"]),
    (
        "white shirt and black trousers",
        &["garment=Shirt", "name:Shirt and Trousers"],
    ),
    (
        "jeans and a white tee",
        &["garment=Jeans", "name:Jeans and T-Shirt"],
    ),
    ("denim jeans", &["garment=Jeans"]),
    ("cargo pants", &["garment=Trousers"]),
    ("bermuda shorts", &["garment=Shorts"]),
    ("trench coat, beige", &["garment=Coat"]),
    ("puffer jacket for winter", &["garment=Coat"]),
    ("leather jacket", &["garment=Jacket"]),
    (
        "knitwear collection",
        &["garment=Knitwear", "name:Knitwear"],
    ),
    ("chunky sweater", &["garment=Knitwear"]),
    ("activewear", &["garment=Activewear", "style=Sportswear"]),
    ("uniform for nurses: scrubs", &["garment=Uniform"]),
    ("chef uniform", &["garment=Uniform"]),
    ("kimono", &["garment=Kimono", "name:Kimono"]),
    ("silk kimono robe", &["garment=Kimono"]),
    ("sari, red and gold", &["garment=Sari", "gender=female"]),
    ("saree", &["garment=Sari"]),
    ("woman in a kaftan", &["garment=Kaftan", "covered"]),
    ("caftan", &["garment=Kaftan"]),
    (
        "abaya",
        &[
            "garment=Abaya",
            "gender=female",
            "covered",
            "name:Abaya",
            "!name:Male",
        ],
    ),
    (
        "black abayas",
        &["garment=Abaya", "colour=black", "covered"],
    ),
    (
        "Abaya collection for Ramadan",
        &["garment=Abaya", "covered"],
    ),
    (
        "abaya and hijab",
        &["garment=Abaya", "headwear=hijab", "covered", "!added:hair"],
    ),
    ("man in a thobe", &["garment=Thobe", "gender=male"]),
    ("kurta", &["garment=Salwar Kameez"]),
    ("qipao", &["garment=Cheongsam", "gender=female"]),
    ("jumpsuit", &["garment=Jumpsuit"]),
    ("dress or jumpsuit", &["!name:Dress and Jumpsuit"]),
    (
        "swimwear",
        &["garment=Swimwear", "style=Swimwear", "age=adult"],
    ),
    ("woman in a bikini", &["garment=Swimwear", "age=adult"]),
    ("men's swim trunks", &["garment=Swimwear", "gender=male"]),
    ("lingerie", &["garment=Lingerie", "age=adult"]),
    ("underwear for men", &["garment=Lingerie", "gender=male"]),
    ("crop top and jeans", &["garment=Crop Top", "age=adult"]),
    // Modesty.
    (
        "modest fashion",
        &["covered", "!added:swimwear", "!added:lingerie"],
    ),
    ("modest", &["covered"]),
    (
        "covered, long sleeves, long skirt",
        &["covered", "garment=Long Skirt"],
    ),
    ("long sleeves", &["covered"]),
    (
        "hijabi model",
        &["headwear=hijab", "gender=female", "covered", "!added:hair"],
    ),
    ("woman in hijab", &["headwear=hijab", "covered"]),
    (
        "model wearing a hijab",
        &["headwear=hijab", "gender=female", "covered"],
    ),
    (
        "headscarf, casual",
        &["headwear=hijab", "gender=female", "covered", "style=Casual"],
    ),
    ("niqab", &["headwear=niqab", "gender=female", "covered"]),
    (
        "woman in niqab and abaya",
        &["headwear=niqab", "garment=Abaya", "covered"],
    ),
    ("HIJAB", &["headwear=hijab", "gender=female"]),
    ("hijaab modest wear", &["headwear=hijab", "covered"]),
    (
        "hijab model, swimwear",
        &["covered", "garment=Modest Swimwear", "name:Modest Swimwear"],
    ),
    (
        "burkini",
        &["garment=Modest Swimwear", "covered", "gender=female"],
    ),
    ("modest swimwear", &["garment=Modest Swimwear", "covered"]),
    // Colours, fabrics, patterns: kept as words.
    ("navy blue blazer", &["garment=Blazer", "colour=navy"]),
    ("woman dressed in black", &["colour=black"]),
    ("red or blue dress", &["garment=Dress"]),
    ("striped shirt", &["garment=Shirt", "!added:wearing"]),
    ("polka dot dress", &["garment=Dress"]),
    ("plaid flannel shirt", &["garment=Shirt"]),
    ("velvet evening gown", &["garment=Evening Dress"]),
    ("cashmere sweater in cream", &["garment=Knitwear"]),
    (
        "black woman in a white dress",
        &["colour=white", "garment=Dress", "!added:skin"],
    ),
    (
        "asian man, grey suit",
        &["colour=grey", "garment=Suit", "!added:skin"],
    ),
    ("red hair, green dress", &["colour=green", "garment=Dress"]),
    // Not understood: nothing of its kind varied, and the customer told.
    (
        "woman wearing a dirndl",
        &["note:dirndl", "name:Dirndl", "!added:wearing"],
    ),
    (
        "man wearing a sherwani",
        &["note:sherwani", "!added:wearing"],
    ),
    ("woman in skiwear", &["note:skiwear", "!added:wearing"]),
    (
        "non-binary model, oversized shirt",
        &["!added:woman", "!added: man", "!name:Female", "!name:Male"],
    ),
    ("androgynous model", &["!added:woman", "!added: man"]),
    ("woman sitting on a stool, jeans", &["!added:pose"]),
    // Minors with adult styling: refused.
    ("girls swimwear line", &["refused"]),
    ("kids swimwear, 8 years old", &["refused"]),
    ("children's swimsuits", &["refused"]),
    ("teen bikini", &["refused"]),
    ("6 year old girl with glam makeup", &["refused"]),
    ("girl, 10, red lipstick", &["refused"]),
    ("sexy schoolgirl outfit", &["refused"]),
    ("teen girl in lingerie", &["refused"]),
    ("kids underwear", &["refused"]),
    ("girl, crop top", &["refused"]),
    ("junior sizes, bikini", &["refused"]),
    ("toddler swim shorts", &["refused"]),
    ("ninos, swimwear", &["refused"]),
    ("13 year old, high heels", &["refused"]),
    ("boy, 12, bare midriff", &["refused"]),
    // Minors kept safe in everything else.
    ("girl, natural makeup", &["age=minor", "added:no makeup"]),
    ("teen boy, beard", &["age=teen"]),
    ("kids formal wear", &["age=minor", "style=Formal"]),
    ("school girl, plaid skirt", &["age=minor", "garment=Skirt"]),
    ("boy, sportswear", &["age=minor", "style=Sportswear"]),
    ("kid, 7, summer clothes", &["age=child"]),
    // Typos, plurals, case.
    ("femal model, jeens", &["gender=female", "garment=Jeans"]),
    ("womens dresses", &["gender=female", "garment=Dress"]),
    ("Womens Blouses", &["gender=female", "garment=Blouse"]),
    ("chidren, coats", &["age=minor", "garment=Coat"]),
    ("Teenagers, Hoodies", &["age=teen", "garment=Hoodie"]),
    ("MAN, BUISNESS", &["gender=male", "style=Business"]),
    (
        "sportwear for women",
        &["gender=female", "style=Sportswear"],
    ),
    ("swimware, woman", &["garment=Swimwear", "gender=female"]),
    // The contract's own example and other plain requests.
    (
        "young female model, athletic build, natural makeup, for sportswear",
        &[
            "gender=female",
            "age=young_adult",
            "style=Sportswear",
            "name:Female Model - Sportswear",
        ],
    ),
    (
        "a model",
        &["age=adult", "!added:swimwear", "!added:lingerie"],
    ),
    (
        "model for our webshop",
        &["age=adult", "!added:swimwear", "!added:lingerie"],
    ),
    (
        "fashion model, studio",
        &["age=adult", "!name:Swimwear", "!name:Lingerie"],
    ),
    (
        "older man, grey beard, business suit",
        &["age=senior", "gender=male", "garment=Suit"],
    ),
    (
        "blonde woman, smiling, casual",
        &["gender=female", "style=Casual", "!added:black hair"],
    ),
];

/// What an idea wears, as `garment=` names it.
fn garment(i: &Idea) -> String {
    i.garment.map(|g| g.label().to_string()).unwrap_or_default()
}

fn age_matches(want: &str, age: Age) -> bool {
    match want {
        "minor" => age.is_minor(),
        "adult" => !age.is_minor(),
        w => {
            age.label().replace([' ', '-'], "_") == w
                || (w == "middle_aged" && age == Age::MiddleAged)
                || (w == "young_adult" && age == Age::YoungAdult)
                || (w == "teen" && age == Age::Teen)
        }
    }
}

fn check_case(text: &str, expect: &[&str], count: u32, seed: u64) -> Result<(), String> {
    let a = Attributes::read(text);
    if expect.contains(&"refused") {
        return match a.refusal() {
            Some(_) => Ok(()),
            None => Err("not refused".into()),
        };
    }
    if let Some(r) = a.refusal() {
        return Err(format!("refused: {r}"));
    }
    let ideas = a.ideas(count, seed);
    let names = a.names(&ideas);
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(format!("two ideas named {n:?}"));
        }
    }
    for (idea, name) in ideas.iter().zip(&names) {
        a.check(idea)
            .map_err(|b| format!("{name}: {b}: {idea:?}"))?;
        let added = idea.parts(Some(&a)).join(", ").to_lowercase();
        for e in expect {
            let (not, e) = match e.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, *e),
            };
            let ok = if let Some((key, want)) = e.split_once('=') {
                match key {
                    "gender" => idea.gender.label().eq_ignore_ascii_case(want),
                    "age" => age_matches(want, idea.age),
                    "garment" => garment(idea) == want,
                    "colour" => idea.colour.is_some_and(|c| c.label() == want),
                    "style" => idea.style.label() == want,
                    "headwear" => idea.headwear.label() == want,
                    other => return Err(format!("unknown expectation {other}")),
                }
            } else if let Some(x) = e.strip_prefix("name:") {
                name.contains(x)
            } else if let Some(x) = e.strip_prefix("added:") {
                added.contains(&x.to_lowercase())
            } else if let Some(x) = e.strip_prefix("note:") {
                a.reading_note().is_some_and(|n| n.contains(x))
            } else if e == "covered" {
                idea.covered
            } else {
                return Err(format!("unknown expectation {e}"));
            };
            if ok == not {
                return Err(format!(
                    "{}{e} fails for {name:?}; added: {added:?}; idea: {}",
                    if not { "!" } else { "" },
                    idea.describe()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_corpus_has_enough_cases() {
    assert!(CASES.len() >= 150, "{} cases", CASES.len());
}

#[test]
fn every_request_of_the_corpus_is_read_as_a_shop_means_it() {
    let mut failures = Vec::new();
    for (text, expect) in CASES {
        for (count, seed) in [(1, 1), (4, 2), (10, 3), (20, 4)] {
            if let Err(e) = check_case(text, expect, count, seed) {
                failures.push(format!("{text:?} (count {count}): {e}"));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn names_within_a_batch_are_distinct_for_every_count() {
    for text in [
        "man, casual",
        "a model",
        "young woman, slim, fair skin, long straight blonde hair, natural makeup, smiling, standing, casual",
        "hijab",
        "girl, 6 years old, party dress",
    ] {
        let a = Attributes::read(text);
        for count in 1..=20 {
            let ideas = a.ideas(count, u64::from(count));
            let names = a.names(&ideas);
            let mut sorted = names.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{text:?} × {count}: {names:?}");
        }
    }
}
