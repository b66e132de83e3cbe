//! Suites: named task lists kept as data in `assets/suites/*.toml` (compiled in), user suite
//! files in the same format, and comma-separated task lists.
//!
//! Format: `name`, `label`, `description`, optional `limit` (lm-eval `--limit` semantics), and
//! `tasks`, a list whose entries are task names or tables `{ name, limit, num_fewshot }`.

use std::path::Path;

use serde::Deserialize;
use sparkbench_protocol::TaskSelection;

use crate::registry::resolve;

/// A named list of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Short name (`core`).
    pub name: String,
    /// Display label.
    pub label: String,
    /// One line saying what it measures.
    pub description: String,
    /// The tasks, in order.
    pub tasks: Vec<TaskSelection>,
    /// `--limit` for every task without its own.
    pub limit: Option<f64>,
}

/// Why a suite could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file could not be read.
    #[error("{path}: cannot read the suite file: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has the wrong shape.
    #[error("{origin}: not a valid suite: {message}")]
    Parse {
        /// File or built-in name.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A task name is not known.
    #[error("{origin}: {message}")]
    UnknownTask {
        /// File or built-in name.
        origin: String,
        /// The resolver's message.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    limit: Option<f64>,
    tasks: Vec<TaskEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TaskEntry {
    Name(String),
    Full(TaskTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskTable {
    name: String,
    #[serde(default)]
    limit: Option<f64>,
    #[serde(default)]
    num_fewshot: Option<usize>,
}

const BUILTIN: [(&str, &str); 5] = [
    ("test", include_str!("../../../assets/suites/test.toml")),
    ("quick", include_str!("../../../assets/suites/quick.toml")),
    ("core", include_str!("../../../assets/suites/core.toml")),
    ("full", include_str!("../../../assets/suites/full.toml")),
    ("demo", include_str!("../../../assets/suites/demo.toml")),
];

fn check_limit(limit: Option<f64>, origin: &str, what: &str) -> Result<(), SuiteError> {
    match limit {
        Some(l) if !(l.is_finite() && l >= 0.0) => Err(SuiteError::Parse {
            origin: origin.to_string(),
            message: format!(
                "{what}: limit must be a non-negative number (below 1.0 a fraction, else a count), found {l}"
            ),
        }),
        _ => Ok(()),
    }
}

/// Parse suite TOML; `origin` names it in errors. Task names are checked.
pub fn parse(text: &str, origin: &str) -> Result<Suite, SuiteError> {
    let file: SuiteFile = toml::from_str(text).map_err(|e| SuiteError::Parse {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    check_limit(file.limit, origin, "suite")?;
    if file.tasks.is_empty() {
        return Err(SuiteError::Parse {
            origin: origin.to_string(),
            message: "`tasks` is empty".into(),
        });
    }
    let mut tasks = Vec::with_capacity(file.tasks.len());
    for entry in file.tasks {
        let sel = match entry {
            TaskEntry::Name(n) => TaskSelection::named(n),
            TaskEntry::Full(t) => {
                check_limit(t.limit, origin, &format!("task `{}`", t.name))?;
                TaskSelection {
                    name: t.name,
                    limit: t.limit,
                    num_fewshot: t.num_fewshot,
                }
            }
        };
        resolve(&sel.name).map_err(|e| SuiteError::UnknownTask {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        tasks.push(sel);
    }
    Ok(Suite {
        label: file.label.unwrap_or_else(|| file.name.clone()),
        description: file.description.unwrap_or_default(),
        name: file.name,
        tasks,
        limit: file.limit,
    })
}

/// Read a user suite file.
pub fn load_file(path: &Path) -> Result<Suite, SuiteError> {
    let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// A comma-separated task list (`gsm8k,hellaswag`), each name checked.
pub fn parse_list(list: &str) -> Result<Vec<TaskSelection>, SuiteError> {
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(SuiteError::Parse {
            origin: "--tasks".into(),
            message: "no task names given".into(),
        });
    }
    names
        .into_iter()
        .map(|n| {
            resolve(n).map_err(|e| SuiteError::UnknownTask {
                origin: "--tasks".into(),
                message: e.to_string(),
            })?;
            Ok(TaskSelection::named(n))
        })
        .collect()
}

/// The built-in suites (`test`, `quick`, `core`, `full`, `demo`).
pub fn builtin() -> Vec<Suite> {
    // The built-in files are part of the build and covered by tests, so a parse failure is a
    // bug in this crate; such a suite is left out rather than crashing the program.
    BUILTIN
        .iter()
        .filter_map(|(name, text)| parse(text, &format!("built-in suite `{name}`")).ok())
        .collect()
}

/// A built-in suite by name.
pub fn find(name: &str) -> Option<Suite> {
    builtin().into_iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_suites_parse() {
        for (name, text) in BUILTIN {
            let s = parse(text, name).expect("builtin parses");
            assert_eq!(s.name, name);
        }
        assert_eq!(builtin().len(), BUILTIN.len());
        let test = find("test").expect("test");
        assert_eq!(test.limit, Some(5.0));
        let names: Vec<&str> = test.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["ifeval", "gsm8k", "hellaswag", "mmlu"]);
        let full = find("full").expect("full");
        assert_eq!(full.tasks.len(), 4);
        assert_eq!(
            find("quick").expect("quick").tasks,
            vec![TaskSelection::named("ifeval")]
        );
        assert!(find("nope").is_none());
    }

    #[test]
    fn user_suite_with_tables() {
        let text = "name = \"mine\"\ntasks = [\"gsm8k\", { name = \"arc_challenge\", num_fewshot = 25, limit = 0.5 }]\n";
        let s = parse(text, "mine.toml").expect("parse");
        assert_eq!(s.label, "mine");
        assert_eq!(
            s.tasks[1],
            TaskSelection {
                name: "arc_challenge".into(),
                limit: Some(0.5),
                num_fewshot: Some(25)
            }
        );
    }

    #[test]
    fn bad_suites_are_explained() {
        let e = parse("name = \"x\"\ntasks = [\"gsm9k\"]\n", "x.toml").expect_err("unknown");
        assert!(
            e.to_string().starts_with("x.toml: unknown task `gsm9k`"),
            "{e}"
        );
        let e = parse("name = \"x\"\ntasks = []\n", "x.toml").expect_err("empty");
        assert!(e.to_string().contains("empty"), "{e}");
        let e =
            parse("name = \"x\"\nlimit = -1\ntasks = [\"gsm8k\"]\n", "x.toml").expect_err("limit");
        assert!(e.to_string().contains("non-negative"), "{e}");
        let e = parse("nme = \"x\"", "x.toml").expect_err("shape");
        assert!(matches!(e, SuiteError::Parse { .. }));
        let e = load_file(Path::new("/nonexistent/suite.toml")).expect_err("io");
        assert!(e.to_string().contains("/nonexistent/suite.toml"), "{e}");
    }

    #[test]
    fn task_lists() {
        let l = parse_list("gsm8k, hellaswag,,mmlu").expect("list");
        assert_eq!(l.len(), 3);
        assert!(parse_list("gsm8k,nope").is_err());
        assert!(parse_list(" , ").is_err());
    }
}
