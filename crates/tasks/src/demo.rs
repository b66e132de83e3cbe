//! The demo data (`assets/demo-data`), compiled in so the demo works from an installed binary:
//! made-up documents in every task's schema, written out to a folder on demand and read from
//! there like any local data folder.

use std::path::{Path, PathBuf};

use crate::data::DataSource;

/// Every demo file: path relative to the data folder, contents.
pub const FILES: [(&str, &str); 18] = [
    (
        "arc_challenge/test.jsonl",
        include_str!("../../../assets/demo-data/arc_challenge/test.jsonl"),
    ),
    (
        "arc_challenge/train.jsonl",
        include_str!("../../../assets/demo-data/arc_challenge/train.jsonl"),
    ),
    (
        "arc_easy/test.jsonl",
        include_str!("../../../assets/demo-data/arc_easy/test.jsonl"),
    ),
    (
        "arc_easy/train.jsonl",
        include_str!("../../../assets/demo-data/arc_easy/train.jsonl"),
    ),
    (
        "boolq/train.jsonl",
        include_str!("../../../assets/demo-data/boolq/train.jsonl"),
    ),
    (
        "boolq/validation.jsonl",
        include_str!("../../../assets/demo-data/boolq/validation.jsonl"),
    ),
    (
        "gsm8k/test.jsonl",
        include_str!("../../../assets/demo-data/gsm8k/test.jsonl"),
    ),
    (
        "gsm8k/train.jsonl",
        include_str!("../../../assets/demo-data/gsm8k/train.jsonl"),
    ),
    (
        "hellaswag/train.jsonl",
        include_str!("../../../assets/demo-data/hellaswag/train.jsonl"),
    ),
    (
        "hellaswag/validation.jsonl",
        include_str!("../../../assets/demo-data/hellaswag/validation.jsonl"),
    ),
    (
        "ifeval/train.jsonl",
        include_str!("../../../assets/demo-data/ifeval/train.jsonl"),
    ),
    (
        "mmlu/dev.jsonl",
        include_str!("../../../assets/demo-data/mmlu/dev.jsonl"),
    ),
    (
        "mmlu/test.jsonl",
        include_str!("../../../assets/demo-data/mmlu/test.jsonl"),
    ),
    (
        "piqa/train.jsonl",
        include_str!("../../../assets/demo-data/piqa/train.jsonl"),
    ),
    (
        "piqa/validation.jsonl",
        include_str!("../../../assets/demo-data/piqa/validation.jsonl"),
    ),
    (
        "truthfulqa_mc/validation.jsonl",
        include_str!("../../../assets/demo-data/truthfulqa_mc/validation.jsonl"),
    ),
    (
        "winogrande/train.jsonl",
        include_str!("../../../assets/demo-data/winogrande/train.jsonl"),
    ),
    (
        "winogrande/validation.jsonl",
        include_str!("../../../assets/demo-data/winogrande/validation.jsonl"),
    ),
];

/// The MMLU subjects the demo data has.
pub const MMLU_SUBJECTS: [&str; 2] = ["astronomy", "high_school_geography"];

/// The demo data folder of the source tree, when this crate is built from one and it exists.
pub fn source_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo-data"
    ));
    dir.is_dir().then_some(dir)
}

/// Write the demo files under `dir` (created if needed; existing files are overwritten) and
/// return a data source reading only from it.
pub fn materialize(dir: &Path) -> std::io::Result<DataSource> {
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    Ok(DataSource::local(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::PrepareOptions;

    #[test]
    fn every_demo_suite_task_loads_and_prepares() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = materialize(dir.path()).expect("write demo");
        let suite = crate::suites::find("demo").expect("demo suite");
        let kwargs = std::collections::BTreeMap::new();
        for sel in &suite.tasks {
            for leaf in crate::resolve(&sel.name).expect("resolve").leaves() {
                let task = crate::load(&leaf, &data).unwrap_or_else(|e| panic!("{leaf}: {e}"));
                let opts = PrepareOptions {
                    limit: None,
                    num_fewshot: None,
                    fewshot_seed: 1234,
                    chat_template: None,
                    fewshot_as_multiturn: false,
                    system_instruction: None,
                    gen_kwargs: &kwargs,
                };
                let docs = task
                    .prepare(&opts)
                    .unwrap_or_else(|e| panic!("{leaf}: {e}"));
                assert_eq!(docs.len(), task.num_docs(), "{leaf}");
                assert!(docs.len() >= 3, "{leaf}");
                if leaf != "ifeval" && !leaf.starts_with("truthfulqa") {
                    // Every task with a training split can do a 2-shot prompt from the demo data.
                    let two = PrepareOptions {
                        num_fewshot: Some(2),
                        ..opts
                    };
                    task.prepare(&two)
                        .unwrap_or_else(|e| panic!("{leaf} 2-shot: {e}"));
                }
            }
        }
        let gsm = crate::load("gsm8k", &data).expect("gsm8k");
        assert_eq!(gsm.num_fewshot(None), 5);
    }

    #[test]
    fn missing_mmlu_subject_is_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = materialize(dir.path()).expect("write demo");
        let err = crate::load("mmlu_anatomy", &data)
            .err()
            .expect("no anatomy rows");
        let msg = err.to_string();
        assert!(
            msg.contains("mmlu_anatomy") && msg.contains("subject"),
            "{msg}"
        );
    }

    #[test]
    fn embedded_files_match_the_source_tree() {
        let Some(dir) = source_dir() else {
            eprintln!("skipped: not built from a source tree with assets/demo-data");
            return;
        };
        for (rel, text) in FILES {
            assert_eq!(
                std::fs::read_to_string(dir.join(rel)).expect("read"),
                text,
                "{rel}"
            );
        }
    }
}
