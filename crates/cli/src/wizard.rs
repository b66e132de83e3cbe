//! `sparkbench` with no subcommand: the wizard, then the same flow as `sparkbench run`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use sparkbench_tui::{TuiError, WizardOutcome, run_wizard};

use crate::flow::Plan;
use crate::select::{ServerFlags, backend_from_id, resolve};
use crate::settings::Settings;
use crate::wizard_source::{Source, demo_data_of};

/// Run the wizard (and the demo creation it may ask for), then the benchmark.
pub fn run(rt: &tokio::runtime::Runtime, outputs: &Path) -> Result<ExitCode> {
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
