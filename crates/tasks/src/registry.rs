//! Task names: groups resolved to their leaves (`mmlu` -> four categories -> 57 subjects),
//! leaf loading, the list of known names, and lm-eval's `--limit` rule.

use std::sync::OnceLock;

use crate::TaskError;
use crate::data::DataSource;
use crate::task::Task;
use crate::tasks::{self, mmlu};

/// A task name resolved: a leaf, or a group with its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskTree {
    /// A leaf task (`gsm8k`, `mmlu_anatomy`).
    Leaf(String),
    /// A group (`mmlu`, `mmlu_stem`).
    Group {
        /// Group name.
        name: String,
        /// Display alias (`stem`, `social sciences`).
        alias: String,
        /// Version as lm-eval HEAD writes it for groups (`"2"`).
        version: String,
        /// Direct children, in lm-eval's order.
        children: Vec<TaskTree>,
    },
}

impl TaskTree {
    /// The group or leaf name.
    pub fn name(&self) -> &str {
        match self {
            TaskTree::Leaf(n) => n,
            TaskTree::Group { name, .. } => name,
        }
    }

    /// All leaf names under this node, in order.
    pub fn leaves(&self) -> Vec<String> {
        match self {
            TaskTree::Leaf(n) => vec![n.clone()],
            TaskTree::Group { children, .. } => {
                children.iter().flat_map(TaskTree::leaves).collect()
            }
        }
    }
}

fn category_group(suffix: &str, alias: &str, subjects: &[&str]) -> TaskTree {
    TaskTree::Group {
        name: format!("mmlu_{suffix}"),
        alias: alias.to_string(),
        version: "2".to_string(),
        children: subjects
            .iter()
            .map(|s| TaskTree::Leaf(format!("mmlu_{s}")))
            .collect(),
    }
}

/// Resolve a task or group name.
pub fn resolve(name: &str) -> Result<TaskTree, TaskError> {
    if name == "mmlu" {
        return Ok(TaskTree::Group {
            name: "mmlu".into(),
            alias: "mmlu".into(),
            version: "2".into(),
            children: mmlu::CATEGORIES
                .iter()
                .map(|(s, a, subs)| category_group(s, a, subs))
                .collect(),
        });
    }
    if let Some(suffix) = name.strip_prefix("mmlu_")
        && let Some((s, a, subs)) = mmlu::CATEGORIES.iter().find(|(s, _, _)| *s == suffix)
    {
        return Ok(category_group(s, a, subs));
    }
    if known_tasks().contains(&name) {
        return Ok(TaskTree::Leaf(name.to_string()));
    }
    Err(unknown(name))
}

fn unknown(name: &str) -> TaskError {
    TaskError::UnknownTask {
        name: name.to_string(),
        known: tasks::LEAVES
            .iter()
            .copied()
            .chain([
                "mmlu",
                "mmlu_stem",
                "mmlu_other",
                "mmlu_social_sciences",
                "mmlu_humanities",
            ])
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Load a leaf task. Groups are an error here: resolve them first.
pub fn load(name: &str, data: &DataSource) -> Result<Box<dyn Task>, TaskError> {
    if let Some(r) = tasks::load_leaf(name, data) {
        return r;
    }
    if let Ok(TaskTree::Group { .. }) = resolve(name) {
        return Err(TaskError::Other(format!(
            "`{name}` is a group; resolve it into its tasks first"
        )));
    }
    Err(unknown(name))
}

/// Every task and group name we know: the leaves, the 57 `mmlu_<subject>` tasks, and the
/// groups `mmlu`, `mmlu_stem`, `mmlu_other`, `mmlu_social_sciences`, `mmlu_humanities`.
pub fn known_tasks() -> Vec<&'static str> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut v: Vec<String> = tasks::LEAVES
            .iter()
            .filter(|n| !n.contains('<'))
            .map(|s| s.to_string())
            .collect();
        v.push("mmlu".into());
        for (suffix, _, subjects) in mmlu::CATEGORIES {
            v.push(format!("mmlu_{suffix}"));
            v.extend(subjects.iter().map(|s| format!("mmlu_{s}")));
        }
        v
    });
    names.iter().map(String::as_str).collect()
}

/// lm-eval's `--limit`: below 1.0 a fraction of the documents (rounded up), otherwise a
/// count (`int(limit)`, so 1.0 means one document); never more than `n_docs`.
pub fn resolve_limit(limit: Option<f64>, n_docs: usize) -> usize {
    match limit {
        None => n_docs,
        Some(l) if l < 1.0 => ((n_docs as f64) * l).ceil().max(0.0) as usize,
        Some(l) => (l.trunc() as usize).min(n_docs),
    }
    .min(n_docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmlu_resolves_to_57_subjects_in_four_groups() {
        let tree = resolve("mmlu").expect("mmlu");
        let TaskTree::Group {
            children, version, ..
        } = &tree
        else {
            panic!("not a group")
        };
        assert_eq!(version, "2");
        let names: Vec<&str> = children.iter().map(TaskTree::name).collect();
        assert_eq!(
            names,
            vec![
                "mmlu_stem",
                "mmlu_other",
                "mmlu_social_sciences",
                "mmlu_humanities"
            ]
        );
        let leaves = tree.leaves();
        assert_eq!(leaves.len(), 57);
        assert_eq!(leaves[0], "mmlu_abstract_algebra");
        assert_eq!(
            resolve("mmlu_anatomy").expect("leaf"),
            TaskTree::Leaf("mmlu_anatomy".into())
        );
        let TaskTree::Group { alias, .. } = resolve("mmlu_social_sciences").expect("group") else {
            panic!()
        };
        assert_eq!(alias, "social sciences");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = resolve("gsm9k").expect_err("unknown");
        assert!(e.to_string().contains("gsm8k"), "{e}");
        assert!(resolve("mmlu_nonsense").is_err());
    }

    #[test]
    fn known_tasks_cover_everything() {
        let k = known_tasks();
        assert_eq!(k.len(), 10 + 1 + 4 + 57);
        assert!(k.contains(&"ifeval") && k.contains(&"mmlu_world_religions"));
    }

    #[test]
    fn limit_semantics() {
        assert_eq!(resolve_limit(None, 6), 6);
        assert_eq!(resolve_limit(Some(0.5), 6), 3);
        assert_eq!(resolve_limit(Some(0.01), 6), 1);
        assert_eq!(resolve_limit(Some(1.0), 6), 1);
        assert_eq!(resolve_limit(Some(5.0), 6), 5);
        assert_eq!(resolve_limit(Some(5.9), 6), 5);
        assert_eq!(resolve_limit(Some(100.0), 6), 6);
        assert_eq!(resolve_limit(Some(0.0), 6), 0);
    }
}
