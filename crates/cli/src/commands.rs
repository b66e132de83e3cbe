//! The subcommands other than the wizard: run (flags), summary, readme, history, demo,
//! model init and bench.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use sparkbench_runs::compare::CompareOptions;
use sparkbench_runs::discover::discover_models;
use sparkbench_runs::history::{build_history, render_history};
use sparkbench_runs::update::refresh_model;
use sparkbench_tui::comparison_text;

use crate::args::RunArgs;
use crate::flow::{Plan, terminal_available};
use crate::select::{ServerFlags, resolve};
use crate::settings::{Settings, parse_gen_kwargs, tasks_from};
use crate::view::comparison_view;
use crate::wizard_source::{available_memory, demo_data_of, suggest_batch_size};

/// The demo model's folder name under outputs/.
pub const DEMO_NAME: &str = "demo-tiny";

/// `sparkbench run`.
pub fn run(rt: &tokio::runtime::Runtime, outputs: &Path, a: &RunArgs) -> Result<ExitCode> {
    let timeout = a
        .timeout
        .as_deref()
        .map(sparkbench_supervisor::parse_timeout)
        .transpose()?;
    let interactive = terminal_available() && !a.plain;
    if let Some(path) = &a.resume {
        return crate::flow::resume(rt, path, timeout, interactive);
    }
    if !a.yes && !terminal_available() {
        bail!("no terminal to confirm on: add --yes to run without questions");
    }
    let server = ServerFlags {
        endpoint: a.endpoint.clone(),
        served_model: a.served_model.clone(),
        tokenizer: a.tokenizer.clone(),
        api_key_env: a.api_key_env.clone(),
        chat: a.chat_completions,
    };
    let target = match &a.scripted {
        Some(script) => scripted_target(script, a.model.as_deref())?,
        None => resolve(
            outputs,
            a.model.as_deref(),
            a.backend,
            a.base.as_deref(),
            &server,
        )?,
    };
    let (tasks, suite, limit) = tasks_from(a.suite.as_deref(), &a.tasks, a.limit)?;
    let data_dir = a
        .data_dir
        .clone()
        .or_else(|| target.model_dir.as_deref().and_then(demo_data_of));
    let model_bytes = target
        .model_dir
        .as_deref()
        .map(sparkbench_runs::discover::dir_size)
        .unwrap_or(0);
    let settings = Settings {
        tasks,
        suite,
        limit,
        num_fewshot: a.num_fewshot,
        batch_size: a
            .batch_size
            .unwrap_or_else(|| suggest_batch_size(model_bytes, available_memory())),
        data_dir,
        apply_chat_template: a.apply_chat_template,
        fewshot_as_multiturn: a.fewshot_as_multiturn,
        system_instruction: a.system_instruction.clone(),
        gen_kwargs: parse_gen_kwargs(a.gen_kwargs.as_deref())?,
        dtype: a.dtype.clone(),
        device: a.device.clone(),
        concurrency: a.concurrency,
        approximate_loglikelihood: a.approximate_loglikelihood,
    };
    if a.batch_size == Some(0) {
        bail!("--batch-size must be a positive integer");
    }
    let compare = if a.compare_base {
        if target.base.is_none() {
            bail!(
                "--compare-base: {}",
                target.base_problem.clone().unwrap_or_else(|| {
                    "no base model was detected; pass --base DIR or set INFERENCE_BASE_MODEL".into()
                })
            );
        }
        true
    } else {
        !a.no_compare_base && a.output.is_none() && target.base.is_some()
    };
    let plan = Plan {
        target,
        settings,
        compare,
        timeout,
        output: a.output.clone(),
        interactive,
    };
    crate::flow::run(rt, &plan)
}

/// A target served by the scripted test model; results go to `--model`'s benchmarks/ when given.
fn scripted_target(script: &Path, model: Option<&Path>) -> Result<crate::select::Target> {
    let text = std::fs::read_to_string(script)
        .with_context(|| format!("reading --scripted {}", script.display()))?;
    let script: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing --scripted {}", script.display()))?;
    let label = script
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("scripted")
        .to_string();
    Ok(crate::select::Target {
        label,
        model_dir: model.map(Path::to_path_buf),
        finetuned: sparkbench_protocol::ModelSource::Scripted { script },
        base: None,
        base_problem: None,
    })
}

/// The model folder a command works on: the one given, or the only model under outputs/.
fn pick_model(outputs: &Path, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        if !p.is_dir() {
            bail!("{}: no such model folder", p.display());
        }
        return Ok(p.to_path_buf());
    }
    let models = discover_models(outputs, None)?;
    match models.as_slice() {
        [] => bail!(
            "no models found under {} (run `sparkbench demo` for a demo model)",
            outputs.display()
        ),
        [one] => Ok(one.path.clone()),
        many => bail!(
            "several models under {}: name one ({})",
            outputs.display(),
            many.iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `sparkbench summary`.
pub fn summary(outputs: &Path, model: Option<&Path>) -> Result<ExitCode> {
    let dir = pick_model(outputs, model)?;
    let refreshed = refresh_model(&dir, &CompareOptions::default(), false)?;
    let (s, path) = (refreshed.summary, refreshed.benchmark_json);
    let mut view = comparison_view(&s, &dir);
    view.benchmark_file = Some(path.clone());
    println!("{}", comparison_text(&view));
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `sparkbench readme`.
pub fn readme(outputs: &Path, model: Option<&Path>) -> Result<ExitCode> {
    let dir = pick_model(outputs, model)?;
    for u in refresh_model(&dir, &CompareOptions::default(), true)?.readmes {
        let what = if u.created {
            "created"
        } else if u.changed {
            "updated"
        } else {
            "unchanged"
        };
        println!("{what}: {}", u.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `sparkbench history`.
pub fn history(model: &Path) -> Result<ExitCode> {
    let h = build_history(model, false)?;
    println!("{}", render_history(&h));
    Ok(ExitCode::SUCCESS)
}

/// `sparkbench demo`: a random base model, a LoRA fine-tune of it and its merge, plus the bundled
/// demo data, under outputs/demo-tiny. Returns the model folder.
pub fn demo(outputs: &Path, force: bool) -> Result<PathBuf> {
    let dir = outputs.join(DEMO_NAME);
    if dir.join("merged_16bit/config.json").is_file() && !force {
        eprintln!(
            "sparkbench: the demo model already exists: {} (use --force to recreate it)",
            dir.display()
        );
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let base = dir.join("base");
    sparkbench_modelgen::init_model(sparkbench_modelgen::Shape::Tiny, &base, 0)?;
    sparkbench_modelgen::make_lora_adapter(&base, &dir.join("lora"), 1, 8, 16.0)?;
    sparkbench_modelgen::merge_lora(&base, &dir.join("lora"), &dir.join("merged_16bit"), true)?;
    sparkbench_tasks::demo::materialize(&dir.join("demo-data")).context("writing the demo data")?;
    std::fs::write(
        dir.join("README.md"),
        "# demo-tiny\n\nA random-weight demo model made by `sparkbench demo`: `base/` is the base model, `lora/` a LoRA\nfine-tune of it and `merged_16bit/` the merge. `demo-data/` holds a few made-up documents per task so\nthe whole flow runs offline. The scores mean nothing.\n",
    )?;
    eprintln!("sparkbench: demo model ready: {}", dir.display());
    Ok(dir)
}

/// `sparkbench model init`.
pub fn model_init(shape: &str, out: &Path, seed: u64) -> Result<ExitCode> {
    let shape: sparkbench_modelgen::Shape = shape
        .parse()
        .map_err(|e| anyhow::anyhow!("--shape {shape}: {e}"))?;
    let summary = sparkbench_modelgen::init_model(shape, out, seed)?;
    println!(
        "wrote {} ({:?}, {} parameters, tokenizer of {} tokens)",
        summary.dir.display(),
        shape,
        summary.num_parameters,
        summary.tokenizer_vocab_size
    );
    Ok(ExitCode::SUCCESS)
}

/// `sparkbench bench`.
pub fn bench(a: &crate::args::BenchArgs) -> Result<ExitCode> {
    let mut opts = sparkbench_candle::bench::BenchOptions {
        model_dir: a.model.clone(),
        ..Default::default()
    };
    if a.quick {
        opts.repeats = 1;
        opts.prompt_tokens = 128;
        opts.decode_tokens = 16;
        opts.loglikelihood_requests = 16;
    }
    // As in the worker: the allocator keeps freed buffers, the model runs on a pool thread.
    sparkbench_candle::device::keep_freed_memory();
    let report = sparkbench_candle::device::in_pool(|| sparkbench_candle::bench::run(&opts))?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
