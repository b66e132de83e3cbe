//! What a run evaluates: the loaded leaf tasks with their limits and few-shot overrides, and the
//! group tree above them (for `group_subtasks` and group aggregates in the results file).

use serde::{Deserialize, Serialize};
use sparkbench_tasks::Task;

/// A leaf task ready to prepare.
pub struct LoadedTask {
    /// The task.
    pub task: Box<dyn Task>,
    /// lm-eval `--limit` for this task (< 1.0 a fraction, else a count).
    pub limit: Option<f64>,
    /// `--num-fewshot` for this task.
    pub num_fewshot: Option<usize>,
}

/// A node of the task tree as the results file reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskNode {
    /// A leaf task, by name (one of the plan's tasks).
    Leaf {
        /// Task name.
        name: String,
    },
    /// A group aggregating its leaves by size.
    Group {
        /// Group name (`mmlu`, `mmlu_stem`).
        name: String,
        /// Display alias.
        alias: String,
        /// Version as lm-eval writes it for groups (a string).
        version: String,
        /// Children in order.
        children: Vec<TaskNode>,
    },
}

impl TaskNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        match self {
            TaskNode::Leaf { name } | TaskNode::Group { name, .. } => name,
        }
    }

    /// Names of the leaves under this node, in order.
    pub fn leaves(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_leaves(&mut out);
        out
    }

    fn collect_leaves(&self, out: &mut Vec<String>) {
        match self {
            TaskNode::Leaf { name } => out.push(name.clone()),
            TaskNode::Group { children, .. } => children.iter().for_each(|c| c.collect_leaves(out)),
        }
    }
}

/// The tasks of a run and their tree.
pub struct Plan {
    /// Leaf tasks in evaluation order (no duplicates).
    pub tasks: Vec<LoadedTask>,
    /// Top-level nodes in the order the run asked for them.
    pub tree: Vec<TaskNode>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_collected_depth_first() {
        let tree = TaskNode::Group {
            name: "g".into(),
            alias: "g".into(),
            version: "2".into(),
            children: vec![
                TaskNode::Group {
                    name: "s".into(),
                    alias: "s".into(),
                    version: "2".into(),
                    children: vec![TaskNode::Leaf { name: "a".into() }],
                },
                TaskNode::Leaf { name: "b".into() },
            ],
        };
        assert_eq!(tree.leaves(), vec!["a".to_string(), "b".to_string()]);
    }
}
