//! Ages written in numbers: years ("6 years old", "6yo", "aged 8-10"),
//! months ("9 month old") and decades ("in her 30s", "forties",
//! "thirty-something"), told apart from eras ("70s style") and from numbers
//! that are no age ("2 models", "size 10").

use super::Attributes;
use super::lists::ERA_WORDS;
use super::reading::blank;
use super::vocabulary::Age;
use super::words;

impl Attributes {
    /// Ages in years and decades: "6 years old", "6yo", "aged 6-8", "in her
    /// 30s", "forties", "thirty-something". A decade next to a word of an era
    /// ("70s style", "the 90s") is not an age, nor is a number without an
    /// age's unit or lead ("2 models", "size 10").
    pub(super) fn ages_in_numbers(&mut self, w: &mut [&str]) {
        let n = w.len();
        let mut i = 0;
        while i < n {
            let mut p = i;
            while p > 0 && matches!(w[p - 1], "about" | "around" | "roughly" | "approximately") {
                p -= 1;
            }
            let lead = p > 0 && matches!(w[p - 1], "age" | "aged" | "ages");
            if let Some(first) = words::number(w[i]) {
                let (mut lo, mut hi, mut j) = (first, first, i + 1);
                if let Some(m) = w.get(j).and_then(|x| words::number(x)) {
                    if first >= 20 && first.is_multiple_of(10) && (1..10).contains(&m) {
                        // "twenty five"
                        lo = first + m;
                        hi = lo;
                    } else {
                        hi = m;
                    }
                    j += 1;
                } else if matches!(w.get(j), Some(&"to" | &"and"))
                    && let Some(m) = w.get(j + 1).and_then(|x| words::number(x))
                {
                    hi = m;
                    j += 2;
                }
                let old = |k: usize| w.get(k) == Some(&"old");
                let end = match w.get(j).copied() {
                    Some("years" | "yo" | "yrs" | "yr") => {
                        Some(if old(j + 1) { j + 2 } else { j + 1 })
                    }
                    Some("year") if old(j + 1) => Some(j + 2),
                    Some("month" | "months") if old(j + 1) => {
                        lo = 0;
                        hi = 0;
                        Some(j + 2)
                    }
                    Some("something") if lo == hi && lo >= 20 && lo.is_multiple_of(10) => {
                        hi = lo + 9;
                        Some(j + 1)
                    }
                    _ if lead => Some(j),
                    _ => None,
                };
                if let Some(end) = end
                    && lo.max(hi) <= 120
                {
                    self.push_years(lo.min(hi), lo.max(hi));
                    blank(w, p.saturating_sub(usize::from(lead)), end);
                    i = end;
                    continue;
                }
            } else if let Some(d) = words::decade(w[i]) {
                // "in her early 30s", "aged 40s", "30s woman", "woman, 30s".
                let mut k = i;
                while k > 0 && matches!(w[k - 1], "early" | "mid" | "late") {
                    k -= 1;
                }
                while k > 0 && matches!(w[k - 1], "her" | "his" | "their" | "my" | "your") {
                    k -= 1;
                }
                let led =
                    k > 0 && (matches!(w[k - 1], "age" | "aged") || (w[k - 1] == "in" && k < i));
                let era = w.get(i + 1).is_some_and(|x| ERA_WORDS.contains(x))
                    || (i > 0
                        && (matches!(w[i - 1], "the" | "from" | "of")
                            || ERA_WORDS.contains(&w[i - 1])));
                if led || !era {
                    self.push_years(d, d + 9);
                    w[i] = "";
                    for word in &mut w[k..i] {
                        if matches!(*word, "early" | "mid" | "late") {
                            *word = "";
                        }
                    }
                }
            } else if lead
                && !w[i].is_empty()
                && !Age::ALL.iter().any(|a| {
                    a.phrases()
                        .iter()
                        .any(|ph| ph.split(' ').next() == Some(w[i]))
                })
            {
                // "aged well": a word after "aged" that is no age the reader knows.
                self.settled.age = true;
                self.not_understood.push(format!("age: {}", w[i]));
            }
            i += 1;
        }
    }

    fn push_years(&mut self, lo: u32, hi: u32) {
        self.years = Some(match self.years {
            Some((a, b)) => (a.min(lo), b.max(hi)),
            None => (lo, hi),
        });
        let mut years = lo;
        loop {
            let age = Age::of_years(years);
            if !self.age.contains(&age) {
                self.age.push(age);
            }
            if years >= hi {
                break;
            }
            years = (years + 1).min(hi);
        }
    }
}
