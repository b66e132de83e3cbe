//! What the wizard needs from the rest of the program: models found under outputs/, usable
//! backends, suites with time estimates, batch-size suggestions and the real output paths.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sparkbench_runs::discover::{ModelEntry, discover_models};
use sparkbench_runs::layout::{RunKind, benchmark_json_path, plan_run};
use sparkbench_runs::throughput::{SizeBucket, ThroughputStore};
use sparkbench_tui::{
    BackendChoice, BaseInfo, LastBenchmark, ModelChoice, SuiteChoice, TaskChoice, WizardAnswers,
    WizardSource,
};

use crate::args::BackendArg;
use crate::select::{OLLAMA_DEFAULT, backend_from_id, backend_id, backend_options};

/// Loglikelihood tasks, which servers without prompt log-probs cannot score.
pub const LOGLIKELIHOOD_TASKS: &[&str] = &[
    "hellaswag",
    "mmlu",
    "arc_easy",
    "arc_challenge",
    "winogrande",
    "truthfulqa_mc1",
    "truthfulqa_mc2",
    "piqa",
    "boolq",
];

/// Evaluation-split sizes of the built-in tasks, for estimates before data is loaded.
fn official_size(task: &str) -> usize {
    match task {
        "ifeval" => 541,
        "gsm8k" => 1319,
        "hellaswag" => 10042,
        "mmlu" => 14042,
        "arc_easy" => 2376,
        "arc_challenge" => 1172,
        "winogrande" => 1267,
        "truthfulqa_mc1" | "truthfulqa_mc2" => 817,
        "piqa" => 1838,
        "boolq" => 3270,
        t if t.starts_with("mmlu_") => 250,
        _ => 100,
    }
}

/// The demo data a model folder carries (`sparkbench demo` puts it there).
pub fn demo_data_of(model_dir: &Path) -> Option<PathBuf> {
    let d = model_dir.join("demo-data");
    d.is_dir().then_some(d)
}

/// The wizard's view of the machine.
pub struct Source {
    outputs: PathBuf,
    entries: Vec<ModelEntry>,
    store: ThroughputStore,
}

impl Source {
    /// Look at `outputs`.
    pub fn new(outputs: &Path) -> Self {
        let entries = discover_models(
            outputs,
            std::env::var("INFERENCE_BASE_MODEL").ok().as_deref(),
        )
        .unwrap_or_default();
        let store = ThroughputStore::load(outputs).unwrap_or_default();
        Self {
            outputs: outputs.to_path_buf(),
            entries,
            store,
        }
    }
}

fn backend_label(b: BackendArg) -> &'static str {
    match b {
        BackendArg::Safetensors => "Native safetensors (merged model)",
        BackendArg::Lora => "Native LoRA (adapter applied on the base, no merge step)",
        BackendArg::Gguf => "Native GGUF",
        BackendArg::Ollama => "Ollama",
        BackendArg::Openai => "OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp server)",
    }
}

impl WizardSource for Source {
    fn models(&self) -> Vec<ModelChoice> {
        self.entries
            .iter()
            .map(|e| ModelChoice {
                name: e.name.clone(),
                path: e.path.clone(),
                formats: e
                    .formats
                    .iter()
                    .map(|f| f.format.label().to_string())
                    .collect(),
                size_bytes: e.size_bytes(),
                last_benchmark: e.last_benchmark.as_ref().map(|b| LastBenchmark {
                    date: b.date.clone(),
                    headline: b
                        .headline
                        .as_ref()
                        .map(|h| format!("{} {:.2}%", h.task, h.score * 100.0))
                        .unwrap_or_else(|| "no score".into()),
                }),
                base: e.base.as_ref().map(|b| BaseInfo {
                    name: b.name.clone(),
                    source: Some(b.describe()),
                    reusable_result: plan_run(
                        &e.path,
                        RunKind::Base,
                        sparkbench_protocol::Backend::Safetensors,
                    )
                    .lm_eval_dir()
                    .read_dir()
                    .map(|mut d| {
                        d.any(|f| {
                            f.is_ok_and(|f| f.file_name().to_string_lossy().starts_with("results_"))
                        })
                    })
                    .unwrap_or(false),
                }),
            })
            .collect()
    }

    fn backends(&self, model: &ModelChoice) -> Vec<BackendChoice> {
        let base_local = crate::select::detect_base(&model.path, &self.outputs, None)
            .ok()
            .flatten()
            .is_some();
        let mut out: Vec<BackendChoice> = backend_options(&model.path, base_local)
            .into_iter()
            .map(|(b, usable)| BackendChoice {
                id: backend_id(b).into(),
                label: backend_label(b).into(),
                usable,
                unsupported_tasks: vec![],
            })
            .collect();
        let endpoint = std::env::var("OLLAMA_BASE_URL").unwrap_or_else(|_| OLLAMA_DEFAULT.into());
        let ollama = match sparkbench_http::ollama::list_models(&endpoint) {
            Ok(names) => {
                let want = model.name.to_lowercase();
                if names
                    .iter()
                    .any(|n| n == &want || n.strip_suffix(":latest") == Some(&want))
                {
                    Ok(())
                } else {
                    Err(format!(
                        "Ollama at {endpoint} has no model `{want}` (ollama create {want} -f Modelfile)"
                    ))
                }
            }
            Err(e) => Err(format!("Ollama not answering at {endpoint}: {e}")),
        };
        out.push(BackendChoice {
            id: "ollama".into(),
            label: backend_label(BackendArg::Ollama).into(),
            usable: ollama,
            unsupported_tasks: LOGLIKELIHOOD_TASKS.iter().map(|s| s.to_string()).collect(),
        });
        out.push(BackendChoice {
            id: "openai".into(),
            label: backend_label(BackendArg::Openai).into(),
            usable: Err("needs a server URL: sparkbench run --backend openai --endpoint URL --served-model NAME".into()),
            unsupported_tasks: vec![],
        });
        out
    }

    fn suites(&self, model: &ModelChoice, backend: &BackendChoice) -> Vec<SuiteChoice> {
        let size = SizeBucket::from_bytes(model.size_bytes, 2.0);
        let demo =
            demo_data_of(&model.path).is_some() && std::env::var_os("SPARKBENCH_DATA").is_none();
        let demo_tasks: Vec<String> = sparkbench_tasks::suites::find("demo")
            .map(|s| s.tasks.into_iter().map(|t| t.name).collect())
            .unwrap_or_default();
        sparkbench_tasks::suites::builtin()
            .into_iter()
            .filter(|s| s.name != "demo")
            .map(|s| {
                let mut tasks: Vec<String> = s.tasks.iter().map(|t| t.name.clone()).collect();
                let mut label = s.label.clone();
                if demo && s.name == "test" {
                    tasks = demo_tasks.clone();
                    label = format!("{label}, on the bundled demo data");
                }
                let planned: Vec<(String, usize)> = tasks
                    .iter()
                    .map(|t| {
                        let n = official_size(t);
                        (t.clone(), s.limit.map(|l| (l as usize).min(n)).unwrap_or(n))
                    })
                    .collect();
                let est = self.store.estimate(&planned, &backend.id, size);
                SuiteChoice {
                    name: s.name,
                    label,
                    tasks,
                    estimate: est
                        .complete
                        .then(|| Duration::from_secs_f64(est.known_seconds)),
                }
            })
            .collect()
    }

    fn tasks(&self) -> Vec<TaskChoice> {
        sparkbench_tasks::known_tasks()
            .into_iter()
            .map(|t| TaskChoice {
                name: t.to_string(),
                description: None,
            })
            .collect()
    }

    fn suggested_batch_size(&self, model: &ModelChoice, backend: &BackendChoice) -> usize {
        if backend.id == "ollama" || backend.id == "openai" {
            return 8;
        }
        suggest_batch_size(model.size_bytes, available_memory())
    }

    fn parse_timeout(&self, text: &str) -> Result<Duration, String> {
        sparkbench_supervisor::parse_timeout(text).map_err(|e| e.to_string())
    }

    fn output_paths(&self, answers: &WizardAnswers) -> Vec<(String, PathBuf)> {
        let dir = &answers.model.path;
        let backend = backend_from_id(&answers.backend.id)
            .map(crate::select::backend_family)
            .unwrap_or(sparkbench_protocol::Backend::Safetensors);
        let mut out = vec![(
            "results".to_string(),
            plan_run(dir, RunKind::FineTuned, backend).dir,
        )];
        if answers.compare_base {
            out.push((
                "base results".into(),
                plan_run(
                    dir,
                    RunKind::Base,
                    sparkbench_protocol::Backend::Safetensors,
                )
                .dir,
            ));
        }
        out.push(("summary".into(), benchmark_json_path(dir)));
        out
    }
}

/// Bytes of memory available now (MemAvailable), when known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A batch size from the model's size on disk and the free memory: small models batch more; a
/// model that barely fits runs one row at a time.
pub fn suggest_batch_size(model_bytes: u64, available: Option<u64>) -> usize {
    // f32 on CPU widens 16-bit weights: about twice the size on disk in memory.
    let need = model_bytes.saturating_mul(2);
    if let Some(avail) = available
        && need > avail / 2
    {
        return 1;
    }
    match model_bytes {
        b if b < 1 << 30 => 8,
        b if b < 4 << 30 => 4,
        b if b < 16 << 30 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_follows_size_and_memory() {
        assert_eq!(suggest_batch_size(100 << 20, Some(16 << 30)), 8);
        assert_eq!(suggest_batch_size(3 << 30, Some(64 << 30)), 4);
        assert_eq!(suggest_batch_size(3 << 30, Some(8 << 30)), 1);
        assert_eq!(suggest_batch_size(40 << 30, None), 1);
    }
}
