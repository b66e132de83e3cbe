//! `sparkbench`: benchmark fine-tuned LLMs against their base model with lm-eval-identical
//! scores. This binary is wiring only:
//!
//! - [`args`]: the flags; [`settings`]: RunSpecs from them; [`select`]: which model sources.
//! - [`flow`]: base run (or a reused base result), fine-tuned run, benchmark.json, READMEs, table.
//! - [`execute`]: one run in the worker process under the supervisor, on the dashboard or as lines.
//! - [`worker`]: the worker process itself (`sparkbench worker --spec FILE`).
//! - [`wizard_source`]: what the wizard shows; [`view`]: the comparison as the UI draws it.
//! - [`commands`]: summary, readme, history, demo, model init, bench; [`resume`]: `--resume`.

mod args;
mod commands;
mod execute;
mod flow;
mod resume;
mod select;
mod settings;
mod view;
mod wizard;
mod wizard_source;
mod worker;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sparkbench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        None => wizard::run(&runtime()?, &cli.outputs),
        Some(Command::Run(a)) => commands::run(&runtime()?, &cli.outputs, &a),
        Some(Command::Worker(a)) => worker::main(&a),
        Some(Command::Summary { model_dir }) => {
            commands::summary(&cli.outputs, model_dir.as_deref())
        }
        Some(Command::Readme { model_dir }) => commands::readme(&cli.outputs, model_dir.as_deref()),
        Some(Command::History { model_dir }) => commands::history(&model_dir),
        Some(Command::Demo { force }) => {
            commands::demo(&cli.outputs, force).map(|_| ExitCode::SUCCESS)
        }
        Some(Command::Model(args::ModelCommand::Init { shape, out, seed })) => {
            commands::model_init(&shape, &out, seed)
        }
        Some(Command::Bench(a)) => commands::bench(&a),
    }
}
