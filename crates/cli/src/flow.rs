//! The benchmark flow shared by the wizard and `sparkbench run`: base run (or a reused base
//! result), fine-tuned run, then benchmark.json, README sections and the comparison table.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sparkbench_protocol::{Backend, RunSpec, WorkerExit};
use sparkbench_runs::compare::CompareOptions;
use sparkbench_runs::layout::{RunKind, plan_run};
use sparkbench_runs::summary::find_reusable_base;
use sparkbench_runs::update::refresh_model;
use sparkbench_tui::{HeaderInfo, comparison_text, show_results};

use crate::execute::{Display, Executed, execute};
use crate::select::Target;
use crate::settings::Settings;
use crate::view::comparison_view;

/// One invocation's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What to benchmark.
    pub target: Target,
    /// Settings of every run.
    pub settings: Settings,
    /// Also run (or reuse) the base.
    pub compare: bool,
    /// Watchdog.
    pub timeout: Option<Duration>,
    /// lm-eval-style output folder instead of the model's benchmarks/.
    pub output: Option<PathBuf>,
    /// Show the dashboard (a terminal and no --plain).
    pub interactive: bool,
}

/// Whether the dashboard can be used.
pub fn terminal_available() -> bool {
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

fn display_for(plan: &Plan, spec: &RunSpec, what: &str) -> Display {
    if !plan.interactive {
        return Display::Plain;
    }
    Display::Dashboard(HeaderInfo {
        model: format!("{} ({what})", spec.label),
        backend: spec.model.backend().id().to_string(),
        device: spec.device.clone(),
        dtype: spec.dtype.clone(),
        suite: spec.suite.clone().unwrap_or_else(|| {
            spec.tasks
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
                .join(",")
        }),
        output_dir: Some(spec.output_dir.clone()),
        timeout: plan.timeout,
        continues: what == "base",
    })
}

fn say(plan: &Plan, line: &str) {
    if plan.interactive {
        eprintln!("{line}");
    } else {
        println!("sparkbench: {line}");
    }
}

/// A base run folder that holds a run with other settings is moved aside so its files are never
/// mixed with the new run's (the seed reused stale base files).
fn clear_stale_base(run_dir: &Path, spec: &RunSpec) -> Result<()> {
    let lm_eval = run_dir.join("lm-eval");
    if !lm_eval.exists() {
        return Ok(());
    }
    let same = crate::resume::read_spec_in(&lm_eval)
        .ok()
        .flatten()
        .is_some_and(|s| s.fingerprint() == spec.fingerprint());
    if same {
        return Ok(());
    }
    let stamp = chrono::Local::now().format("%Y-%m-%dT%H-%M-%S");
    let parent = run_dir.parent().context("base run folder has no parent")?;
    let aside = parent.join("previous").join(format!(
        "{}-{stamp}",
        run_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "base".into())
    ));
    std::fs::create_dir_all(aside.parent().unwrap_or(parent))?;
    std::fs::rename(run_dir, &aside)
        .with_context(|| format!("moving the old base run {} aside", run_dir.display()))?;
    Ok(())
}

/// Run the plan; returns the process exit code.
pub fn run(rt: &tokio::runtime::Runtime, plan: &Plan) -> Result<ExitCode> {
    let s = &plan.settings;
    if let Some(out) = &plan.output {
        let spec = s.spec(&plan.target.label, plan.target.finetuned.clone(), out);
        let executed = execute(
            rt,
            &spec,
            None,
            plan.timeout,
            display_for(plan, &spec, "run"),
        )?;
        report_single(plan, &executed);
        return Ok(exit_code(&[executed]));
    }
    let Some(model_dir) = plan.target.model_dir.clone() else {
        bail!(
            "results need a home: give --output DIR (the model is a single file, not a model folder)"
        );
    };
    let mut runs = Vec::new();
    if plan.compare {
        match &plan.target.base {
            Some(base) => {
                let folder = plan_run(&model_dir, RunKind::Base, Backend::Safetensors);
                let spec = s.spec(&base.name, base.source.clone(), &folder.lm_eval_dir());
                if let Some(found) = find_reusable_base(&model_dir, &spec) {
                    say(
                        plan,
                        &format!(
                            "reusing the base result in {} (same settings)",
                            found.folder.dir.display()
                        ),
                    );
                } else {
                    clear_stale_base(&folder.dir, &spec)?;
                    say(
                        plan,
                        &format!(
                            "benchmarking the base model {} -> {}",
                            base.name,
                            folder.dir.display()
                        ),
                    );
                    let executed = execute(
                        rt,
                        &spec,
                        Some(&folder.dir),
                        plan.timeout,
                        display_for(plan, &spec, "base"),
                    )?;
                    let stop =
                        executed.signal.is_some() || matches!(executed.exit, WorkerExit::Aborted);
                    runs.push(executed);
                    if stop {
                        say(
                            plan,
                            "the base run was stopped; the fine-tuned run is skipped (resume with --resume)",
                        );
                        return finish(plan, &model_dir, runs);
                    }
                }
            }
            None => say(
                plan,
                &format!(
                    "no base comparison: {}",
                    plan.target.base_problem.clone().unwrap_or_else(|| {
                        "no base model was detected (set INFERENCE_BASE_MODEL or pass --base)"
                            .into()
                    })
                ),
            ),
        }
    }
    let folder = plan_run(
        &model_dir,
        RunKind::FineTuned,
        plan.target.finetuned.backend(),
    );
    let spec = s.spec(
        &plan.target.label,
        plan.target.finetuned.clone(),
        &folder.lm_eval_dir(),
    );
    say(
        plan,
        &format!(
            "benchmarking {} -> {}",
            plan.target.label,
            folder.dir.display()
        ),
    );
    runs.push(execute(
        rt,
        &spec,
        Some(&folder.dir),
        plan.timeout,
        display_for(plan, &spec, "fine-tuned"),
    )?);
    finish(plan, &model_dir, runs)
}

/// Resume an interrupted run from its folder.
pub fn resume(
    rt: &tokio::runtime::Runtime,
    path: &Path,
    timeout: Option<Duration>,
    interactive: bool,
) -> Result<ExitCode> {
    let (spec, lm_eval) = crate::resume::find_spec(path)?;
    crate::resume::check_fingerprint(&spec, &lm_eval)?;
    let run_dir = lm_eval
        .parent()
        .filter(|p| p.join("run.json").is_file())
        .map(Path::to_path_buf);
    let model_dir = crate::resume::model_dir_of(&lm_eval);
    let plan = Plan {
        target: Target {
            label: spec.label.clone(),
            model_dir: model_dir.clone(),
            finetuned: spec.model.clone(),
            base: None,
            base_problem: None,
        },
        settings: Settings {
            tasks: spec.tasks.clone(),
            suite: spec.suite.clone(),
            limit: spec.limit,
            num_fewshot: spec.num_fewshot,
            batch_size: spec.batch_size,
            data_dir: spec.data_dir.clone(),
            apply_chat_template: spec.apply_chat_template,
            fewshot_as_multiturn: spec.fewshot_as_multiturn,
            system_instruction: spec.system_instruction.clone(),
            gen_kwargs: spec.gen_kwargs.clone(),
            dtype: spec.dtype.clone(),
            device: spec.device.clone(),
            concurrency: spec.concurrency,
            approximate_loglikelihood: spec.approximate_loglikelihood,
        },
        compare: false,
        timeout,
        output: None,
        interactive,
    };
    say(
        &plan,
        &format!("resuming {} in {}", spec.label, lm_eval.display()),
    );
    let executed = execute(
        rt,
        &spec,
        run_dir.as_deref(),
        timeout,
        display_for(&plan, &spec, "resumed"),
    )?;
    match (&model_dir, run_dir) {
        (Some(dir), Some(_)) => finish(&plan, dir, vec![executed]),
        _ => {
            report_single(&plan, &executed);
            Ok(exit_code(&[executed]))
        }
    }
}

fn report_single(plan: &Plan, executed: &Executed) {
    match &executed.results_file {
        Some(f) if executed.partial => say(plan, &format!("partial results: {}", f.display())),
        Some(f) => say(plan, &format!("results: {}", f.display())),
        None => say(plan, "no results were written"),
    }
}

fn exit_code(runs: &[Executed]) -> ExitCode {
    if runs.iter().all(Executed::completed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// benchmark.json, README sections and the comparison table.
fn finish(plan: &Plan, model_dir: &Path, runs: Vec<Executed>) -> Result<ExitCode> {
    for r in &runs {
        report_single(plan, r);
    }
    let refreshed = refresh_model(model_dir, &CompareOptions::default(), true)?;
    let (summary, written, updated) = (
        refreshed.summary,
        refreshed.benchmark_json,
        refreshed.readmes,
    );
    let mut view = comparison_view(&summary, model_dir);
    view.benchmark_file = Some(written.clone());
    if plan.interactive
        && runs.iter().any(|r| r.show_results || r.completed())
        && runs.iter().all(|r| r.signal.is_none())
    {
        show_results(&view)?;
    } else {
        println!("{}", comparison_text(&view));
    }
    for u in updated {
        say(
            plan,
            &format!("README section updated: {}", u.path.display()),
        );
    }
    Ok(exit_code(&runs))
}
