//! The evaluation settings shared by the base and fine-tuned runs, and the RunSpec built from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sparkbench_protocol::{ModelSource, RunSpec, TaskSelection};

/// Settings that apply to every run of one invocation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Tasks, in order.
    pub tasks: Vec<TaskSelection>,
    /// The suite they came from.
    pub suite: Option<String>,
    /// `--limit`.
    pub limit: Option<f64>,
    /// `--num-fewshot`.
    pub num_fewshot: Option<usize>,
    /// `--batch-size`.
    pub batch_size: usize,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--apply-chat-template`.
    pub apply_chat_template: bool,
    /// `--fewshot-as-multiturn`.
    pub fewshot_as_multiturn: Option<bool>,
    /// `--system-instruction`.
    pub system_instruction: Option<String>,
    /// `--gen-kwargs`.
    pub gen_kwargs: BTreeMap<String, serde_json::Value>,
    /// `--dtype`.
    pub dtype: Option<String>,
    /// `--device`.
    pub device: Option<String>,
    /// `--concurrency`.
    pub concurrency: Option<usize>,
    /// `--approximate-loglikelihood`.
    pub approximate_loglikelihood: bool,
}

impl Settings {
    /// The RunSpec of one run.
    pub fn spec(&self, label: &str, model: ModelSource, output_dir: &Path) -> RunSpec {
        RunSpec {
            label: label.to_string(),
            model,
            tasks: self.tasks.clone(),
            suite: self.suite.clone(),
            limit: self.limit,
            num_fewshot: self.num_fewshot,
            fewshot_seed: 1234,
            apply_chat_template: self.apply_chat_template,
            fewshot_as_multiturn: self.fewshot_as_multiturn,
            system_instruction: self.system_instruction.clone(),
            gen_kwargs: self.gen_kwargs.clone(),
            batch_size: self.batch_size.max(1),
            max_length: None,
            dtype: self.dtype.clone(),
            device: self.device.clone(),
            data_dir: self.data_dir.clone(),
            output_dir: output_dir.to_path_buf(),
            concurrency: self.concurrency,
            approximate_loglikelihood: self.approximate_loglikelihood,
        }
    }
}

/// Tasks and limit from `--suite` or `--tasks`.
pub fn tasks_from(
    suite: Option<&str>,
    tasks: &[String],
    limit: Option<f64>,
) -> Result<(Vec<TaskSelection>, Option<String>, Option<f64>)> {
    if let Some(name) = suite {
        let found = match sparkbench_tasks::suites::find(name) {
            Some(s) => s,
            None if Path::new(name).is_file() => {
                sparkbench_tasks::suites::load_file(Path::new(name))?
            }
            None => {
                let known: Vec<String> = sparkbench_tasks::suites::builtin()
                    .into_iter()
                    .map(|s| s.name)
                    .collect();
                bail!(
                    "unknown suite `{name}`; known suites: {} (or give a suite file)",
                    known.join(", ")
                );
            }
        };
        return Ok((found.tasks, Some(found.name), limit.or(found.limit)));
    }
    if tasks.is_empty() {
        bail!("say what to run: --suite test|quick|core|full, or --tasks a,b (lm-eval task names)");
    }
    let list = sparkbench_tasks::suites::parse_list(&tasks.join(","))?;
    Ok((list, None, limit))
}

/// Parse lm-eval's `--gen_kwargs` (`k=v,k2=v2`): integers, floats and booleans are typed,
/// the rest are strings.
pub fn parse_gen_kwargs(text: Option<&str>) -> Result<BTreeMap<String, serde_json::Value>> {
    let mut out = BTreeMap::new();
    let Some(text) = text else { return Ok(out) };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').with_context(|| {
            format!("--gen-kwargs: `{part}` is not key=value (e.g. max_gen_toks=64)")
        })?;
        let v = v.trim();
        let value = if let Ok(i) = v.parse::<i64>() {
            serde_json::json!(i)
        } else if let Ok(f) = v.parse::<f64>() {
            serde_json::json!(f)
        } else {
            match v.to_ascii_lowercase().as_str() {
                "true" => serde_json::json!(true),
                "false" => serde_json::json!(false),
                _ => serde_json::json!(v),
            }
        };
        out.insert(k.trim().to_string(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_kwargs_are_typed() {
        let kw = parse_gen_kwargs(Some(
            "max_gen_toks=64, temperature=0.0,do_sample=False,until=END",
        ))
        .expect("parse");
        assert_eq!(kw["max_gen_toks"], serde_json::json!(64));
        assert_eq!(kw["temperature"], serde_json::json!(0.0));
        assert_eq!(kw["do_sample"], serde_json::json!(false));
        assert_eq!(kw["until"], serde_json::json!("END"));
        assert!(parse_gen_kwargs(Some("oops")).is_err());
    }

    #[test]
    fn an_unknown_suite_lists_the_known_ones() {
        let err = tasks_from(Some("nope"), &[], None)
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("core"), "{err}");
        let err = tasks_from(None, &[], None)
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("--suite"), "{err}");
    }
}
