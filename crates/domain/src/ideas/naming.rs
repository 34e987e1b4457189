//! Names for the models of a batch: the contract's `"<Gender> Model -
//! <Outfit>"`, with the outfit the text asked for, and, where two ideas of
//! the batch would share a name, what tells them apart (only what the batch
//! varies, so a name never says what the text did not).

use super::{Attributes, Idea};

/// Title case: "curly black hair" → "Curly Black Hair".
pub(super) fn title(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Attributes {
    /// One name per idea, in order, no two alike.
    pub fn names(&self, ideas: &[Idea]) -> Vec<String> {
        let bases: Vec<String> = ideas.iter().map(|i| self.base_name(i)).collect();
        let parts: Vec<Vec<String>> = ideas.iter().map(|i| self.distinctions(i)).collect();
        let mut names = bases.clone();
        let mut done = vec![false; ideas.len()];
        for i in 0..ideas.len() {
            if done[i] {
                continue;
            }
            let group: Vec<usize> = (i..ideas.len()).filter(|&j| bases[j] == bases[i]).collect();
            for &j in &group {
                done[j] = true;
            }
            if group.len() < 2 {
                continue;
            }
            // Only what differs within the group tells it apart: the
            // fewest such distinctions, in order, that do.
            let longest = group.iter().map(|&j| parts[j].len()).max().unwrap_or(0);
            let telling: Vec<usize> = (0..longest)
                .filter(|&c| {
                    let first = parts[group[0]].get(c);
                    group.iter().any(|&j| parts[j].get(c) != first)
                })
                .collect();
            let pick = |j: usize, k: usize| -> Vec<String> {
                telling[..k]
                    .iter()
                    .filter_map(|&c| parts[j].get(c).cloned())
                    .collect()
            };
            let k = (1..=telling.len())
                .find(|&k| {
                    let mut seen: Vec<Vec<String>> = Vec::new();
                    group.iter().all(|&j| {
                        let p = pick(j, k);
                        let new = !seen.contains(&p);
                        seen.push(p);
                        new
                    })
                })
                .unwrap_or(telling.len());
            for &j in &group {
                let p = pick(j, k);
                if !p.is_empty() {
                    names[j] = format!("{}, {}", bases[j], p.join(", "));
                }
            }
            // Whatever still collides is numbered in batch order.
            let mut counts: Vec<(String, u32)> = Vec::new();
            for &j in &group {
                let total = group.iter().filter(|&&x| names[x] == names[j]).count();
                if total > 1 {
                    let n = match counts.iter_mut().find(|(name, _)| *name == names[j]) {
                        Some((_, n)) => {
                            *n += 1;
                            *n
                        }
                        None => {
                            counts.push((names[j].clone(), 1));
                            1
                        }
                    };
                    names[j] = format!("{} #{n}", names[j]);
                }
            }
        }
        names
    }

    /// `"<Gender> Model - <Outfit>"`, where the outfit is what the text
    /// asked for: its garments, or a clothing word the reader did not know
    /// (in the text's own word), or the style.
    fn base_name(&self, idea: &Idea) -> String {
        let person = if self.settled.gender {
            "Model".to_string()
        } else {
            format!("{} Model", idea.gender.label())
        };
        let unknown = self
            .not_understood
            .iter()
            .find_map(|n| n.strip_prefix("clothing: "));
        let outfit = match unknown {
            Some(word) if idea.garment.is_none() && self.style.is_empty() => title(word),
            _ => idea.outfit_label(),
        };
        format!("{person} - {outfit}")
    }

    /// What may tell this idea from another of its batch, most telling
    /// first: only attributes the batch varies.
    fn distinctions(&self, idea: &Idea) -> Vec<String> {
        let mut out = Vec::new();
        if self.varies_hair() && !idea.hair_covered() {
            out.push(idea.hair_name());
        }
        if self.varies_age() {
            out.push(title(idea.age.label()));
        }
        if self.varies_skin_tone() {
            out.push(title(&format!("{} skin", idea.skin_tone.label())));
        }
        if self.varies_build() {
            out.push(title(&format!("{} build", idea.build.label())));
        }
        if self.varies_expression() {
            out.push(title(idea.expression.label()));
        }
        if self.varies_pose() {
            out.push(title(idea.pose.label()));
        }
        if self.varies_colour()
            && let Some(c) = idea.colour
        {
            out.push(title(c.label()));
        }
        out
    }
}
