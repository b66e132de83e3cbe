//! From a [`RunSpec`]'s task names to a [`Plan`]: groups resolved into their leaves through
//! `sparkbench_tasks`, each leaf loaded once from the spec's data source, per-task limits and
//! few-shot overrides applied.

use sparkbench_protocol::RunSpec;
use sparkbench_tasks::{DataSource, TaskTree};

use crate::error::EngineError;
use crate::plan::{LoadedTask, Plan, TaskNode};

fn to_node(tree: &TaskTree) -> TaskNode {
    match tree {
        TaskTree::Leaf(name) => TaskNode::Leaf { name: name.clone() },
        TaskTree::Group {
            name,
            alias,
            version,
            children,
        } => TaskNode::Group {
            name: name.clone(),
            alias: alias.clone(),
            version: version.clone(),
            children: children.iter().map(to_node).collect(),
        },
    }
}

/// Resolve and load the spec's tasks. A leaf named twice (directly and through a group) is
/// evaluated once, with the settings of its first mention.
pub fn load_plan(spec: &RunSpec) -> Result<Plan, EngineError> {
    let data = DataSource::from_env().with_data_dir(spec.data_dir.clone());
    let mut tasks: Vec<LoadedTask> = Vec::new();
    let mut tree = Vec::new();
    for sel in &spec.tasks {
        let resolved =
            sparkbench_tasks::resolve(&sel.name).map_err(|source| EngineError::Task {
                task: sel.name.clone(),
                source,
            })?;
        for leaf in resolved.leaves() {
            if tasks.iter().any(|t| t.task.name() == leaf) {
                continue;
            }
            let task =
                sparkbench_tasks::load(&leaf, &data).map_err(|source| EngineError::Task {
                    task: leaf.clone(),
                    source,
                })?;
            tasks.push(LoadedTask {
                task,
                limit: sel.limit.or(spec.limit),
                num_fewshot: sel.num_fewshot.or(spec.num_fewshot),
            });
        }
        tree.push(to_node(&resolved));
    }
    Ok(Plan { tasks, tree })
}
