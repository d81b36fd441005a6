//! Model selection, as dbt users know it: `NAME`, `NAME+` (and everything downstream),
//! `+NAME` (and everything it needs), `+NAME+`; several selectors combine.

use std::collections::BTreeSet;

use super::{Project, did_you_mean};
use crate::error::{Error, Result};

impl Project {
    /// The names of the models the selectors pick; an unknown name is an error with a hint.
    pub fn select(&self, selectors: &[String]) -> Result<BTreeSet<String>> {
        let mut chosen = BTreeSet::new();
        for selector in selectors
            .iter()
            .flat_map(|s| s.split([',', ' ']))
            .filter(|s| !s.is_empty())
        {
            let ancestors = selector.starts_with('+');
            let descendants = selector.ends_with('+');
            let name = selector.trim_matches('+').to_lowercase();
            if self.model(&name).is_none() {
                let hint = did_you_mean(&name, self.models.iter().map(|m| m.name.as_str()))
                    .map_or_else(
                        || "; `cxpipe list` shows the models".to_string(),
                        |m| format!("; did you mean `{m}`?"),
                    );
                return Err(Error::Usage(format!(
                    "--select '{selector}': no model `{name}`{hint}"
                )));
            }
            chosen.insert(name.clone());
            if ancestors {
                chosen.extend(
                    self.related(&name, |model, other| model.depends_on.contains(&other.name)),
                );
            }
            if descendants {
                chosen.extend(
                    self.related(&name, |model, other| other.depends_on.contains(&model.name)),
                );
            }
        }
        Ok(chosen)
    }

    /// Every model reachable from `name` along `linked(from, to)`.
    fn related(
        &self,
        name: &str,
        linked: impl Fn(&super::Model, &super::Model) -> bool,
    ) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut frontier = vec![name.to_string()];
        while let Some(current) = frontier.pop() {
            let Some(model) = self.model(&current) else {
                continue;
            };
            for other in &self.models {
                if linked(model, other) && found.insert(other.name.clone()) {
                    frontier.push(other.name.clone());
                }
            }
        }
        found
    }
}
