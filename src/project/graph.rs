//! Run order from the dependencies each model's SQL names. Unknown tables (with a
//! did-you-mean) and cycles (as `a -> b -> a`) are reported together.

use std::collections::{BTreeMap, BTreeSet};

use super::Model;
use super::SOURCES;

/// Orders models so each runs after the models it reads; ties broken by name so the order is
/// stable. Returns every problem found.
pub fn order(models: Vec<Model>) -> Result<Vec<Model>, Vec<String>> {
    let names: BTreeSet<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let mut problems = Vec::new();
    for model in &models {
        for table in &model.depends_on {
            if !names.contains(table.as_str()) && !SOURCES.contains(&table.as_str()) {
                let (line, column) = model.locate(table);
                let known = names.iter().copied().chain(SOURCES);
                let hint = match did_you_mean(table, known) {
                    Some(best) => format!("; did you mean `{best}`?"),
                    None => "; add queries/<name>.sql or fix the name".to_string(),
                };
                problems.push(format!(
                    "{}:{line}:{column}: model `{}` reads unknown table `{table}`{hint}",
                    model.path.display(),
                    model.name
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // Kahn's algorithm over model-to-model edges.
    let mut waiting: BTreeMap<String, BTreeSet<String>> = models
        .iter()
        .map(|m| {
            let deps = m
                .depends_on
                .iter()
                .filter(|d| names.contains(d.as_str()) && **d != m.name)
                .cloned()
                .collect();
            (m.name.clone(), deps)
        })
        .collect();
    let self_references: Vec<&Model> = models
        .iter()
        .filter(|m| m.depends_on.contains(&m.name))
        .collect();
    for model in self_references {
        problems.push(format!(
            "{}: circular dependency `{0} -> {0}`: a model cannot read itself",
            model.path.display()
        ));
    }
    let mut by_name: BTreeMap<String, Model> =
        models.into_iter().map(|m| (m.name.clone(), m)).collect();
    let mut ordered = Vec::new();
    loop {
        let ready: Vec<String> = waiting
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        for name in ready {
            waiting.remove(&name);
            for deps in waiting.values_mut() {
                deps.remove(&name);
            }
            if let Some(model) = by_name.remove(&name) {
                ordered.push(model);
            }
        }
    }
    if !waiting.is_empty() {
        let cycle = find_cycle(&waiting);
        // Point at where the cycle's first model reads the next one.
        let location = match (cycle.first().and_then(|m| by_name.get(m)), cycle.get(1)) {
            (Some(model), Some(next)) => {
                let (line, column) = model.locate(next);
                format!("{}:{line}:{column}: ", model.path.display())
            }
            _ => String::new(),
        };
        problems.push(format!(
            "{location}circular dependency `{}`; break it by moving the shared logic into a model both read",
            cycle.join(" -> ")
        ));
    }
    if problems.is_empty() {
        Ok(ordered)
    } else {
        Err(problems)
    }
}

/// A cycle among models that could not be ordered, starting and ending with the same name.
fn find_cycle(waiting: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let Some(start) = waiting.keys().next() else {
        return Vec::new();
    };
    let mut path = vec![start.clone()];
    let mut current = start.clone();
    // Every waiting model has a waiting dependency, so walking always finds a repeat.
    loop {
        let Some(next) = waiting.get(&current).and_then(|deps| deps.iter().next()) else {
            return path;
        };
        if let Some(at) = path.iter().position(|n| n == next) {
            let mut cycle = path[at..].to_vec();
            cycle.push(next.clone());
            return cycle;
        }
        path.push(next.clone());
        current = next.clone();
    }
}

/// The closest known name, if close enough to be a likely typo.
pub fn did_you_mean<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (levenshtein(wrong, k), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min()
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["stg_surveys", "customer_experience"];
        assert_eq!(
            did_you_mean("stg_survey", known.into_iter()),
            Some("stg_surveys")
        );
        assert_eq!(did_you_mean("orders", known.into_iter()), None);
    }

    #[test]
    fn finds_a_cycle() {
        let waiting: BTreeMap<String, BTreeSet<String>> = [
            ("a".to_string(), BTreeSet::from(["b".to_string()])),
            ("b".to_string(), BTreeSet::from(["a".to_string()])),
        ]
        .into();
        assert_eq!(find_cycle(&waiting), ["a", "b", "a"]);
    }
}
