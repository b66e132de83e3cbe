//! `sparkbench` with no subcommand: the wizard, then the same flow as `sparkbench run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use sparkbench_runs::record::RunStatus;
use sparkbench_tui::{TuiError, WizardOutcome, run_wizard};

use crate::flow::Plan;
use crate::select::{ServerFlags, backend_from_id, resolve};
use crate::settings::Settings;
use crate::wizard_source::{Source, demo_data_of};

/// Interrupted runs under `outputs/` (run.json says partial or running), newest first.
fn interrupted_runs(outputs: &Path) -> Vec<PathBuf> {
    let models = sparkbench_runs::discover::discover_models(outputs, None).unwrap_or_default();
    let mut found = Vec::new();
    for m in models {
        for folder in sparkbench_runs::layout::list_runs(&m.path).unwrap_or_default() {
            let status = sparkbench_runs::record::read_run_record(&folder.dir)
                .ok()
                .flatten()
                .map(|r| r.status);
            let resumable = matches!(status, Some(RunStatus::Partial | RunStatus::Running))
                && crate::execute::spec_file(&folder.lm_eval_dir()).is_file();
            if resumable {
                found.push(folder.lm_eval_dir());
            }
        }
    }
    found.reverse();
    found
}

/// Offer to resume the newest interrupted run; `Some(code)` when one was resumed.
fn offer_resume(rt: &tokio::runtime::Runtime, outputs: &Path) -> Result<Option<ExitCode>> {
    let Some(run) = interrupted_runs(outputs).into_iter().next() else {
        return Ok(None);
    };
    let question = format!(
        "An interrupted run can be resumed: {}. Resume it?",
        run.display()
    );
    match inquire::Confirm::new(&question)
        .with_default(true)
        .with_help_message("finished documents are kept; only the rest is evaluated")
        .prompt()
    {
        Ok(true) => crate::flow::resume(rt, &run, None, true).map(Some),
        Ok(false) | Err(inquire::InquireError::OperationCanceled) => Ok(None),
        Err(inquire::InquireError::OperationInterrupted) => Ok(Some(ExitCode::SUCCESS)),
        Err(e) => Err(e.into()),
    }
}

/// Run the wizard (and the demo creation it may ask for), then the benchmark.
pub fn run(rt: &tokio::runtime::Runtime, outputs: &Path) -> Result<ExitCode> {
    if crate::flow::terminal_available()
        && let Some(code) = offer_resume(rt, outputs)?
    {
        return Ok(code);
    }
    loop {
        let source = Source::new(outputs);
        let outcome = match run_wizard(&source) {
            Ok(o) => o,
            Err(TuiError::NotATerminal) => bail!(
                "the wizard needs a terminal; without one use `sparkbench run --model DIR --suite core --yes` (see `sparkbench run --help`)"
            ),
            Err(e) => return Err(e.into()),
        };
        match outcome {
            WizardOutcome::Cancelled | WizardOutcome::Interrupted => {
                eprintln!("sparkbench: nothing was run");
                return Ok(ExitCode::SUCCESS);
            }
            WizardOutcome::CreateDemo => {
                crate::commands::demo(outputs, false)?;
                continue;
            }
            WizardOutcome::Run(answers) => {
                let backend = backend_from_id(&answers.backend.id);
                let target = resolve(
                    outputs,
                    Some(&answers.model.path),
                    backend,
                    None,
                    &ServerFlags::default(),
                )?;
                let suite = answers
                    .suite
                    .as_deref()
                    .and_then(sparkbench_tasks::suites::find);
                let tasks = sparkbench_tasks::suites::parse_list(&answers.tasks.join(","))?;
                let settings = Settings {
                    tasks,
                    suite: answers.suite.clone(),
                    limit: suite.and_then(|s| s.limit),
                    num_fewshot: None,
                    batch_size: answers.batch_size.max(1),
                    data_dir: std::env::var_os("SPARKBENCH_DATA")
                        .map(Into::into)
                        .or_else(|| demo_data_of(&answers.model.path)),
                    apply_chat_template: false,
                    fewshot_as_multiturn: None,
                    system_instruction: None,
                    gen_kwargs: Default::default(),
                    dtype: None,
                    device: None,
                    concurrency: None,
                    approximate_loglikelihood: false,
                };
                let compare = answers.compare_base && target.base.is_some();
                let plan = Plan {
                    target,
                    settings,
                    compare,
                    timeout: answers.timeout,
                    output: None,
                    interactive: true,
                };
                return crate::flow::run(rt, &plan);
            }
        }
    }
}
