//! Try the UI without a model: `cargo run -p sparkbench-tui --example tui_demo -- MODE` where
//! MODE is `wizard` (a fake catalogue), `dashboard` (a synthetic run, then the results screen) or
//! `plain` (the same run as plain lines). Used for manual and tmux checks of the real terminal.

use std::path::PathBuf;
use std::time::Duration;

use sparkbench_protocol::{
    ModelInfo, MonitorEvent, Phase, RunEvent, SampleVerdict, TaskPlan, TaskScore, WatchdogEvent,
    WorkerExit,
};
use sparkbench_tui::view::{
    Arrow, BackendChoice, BaseInfo, ComparisonRow, ComparisonView, HeaderInfo, ModelChoice,
    SuiteChoice, TaskChoice,
};
use sparkbench_tui::wizard::{WizardAnswers, WizardSource};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

struct Catalogue;

impl WizardSource for Catalogue {
    fn models(&self) -> Vec<ModelChoice> {
        vec![ModelChoice {
            name: "demo-model".into(),
            path: "outputs/demo-model".into(),
            formats: vec!["16-bit".into()],
            size_bytes: 12_000_000,
            last_benchmark: None,
            base: Some(BaseInfo {
                name: "demo-base".into(),
                source: None,
                reusable_result: false,
            }),
        }]
    }
    fn backends(&self, _: &ModelChoice) -> Vec<BackendChoice> {
        vec![
            BackendChoice {
                id: "ollama".into(),
                label: "Ollama".into(),
                usable: Err("not answering at http://localhost:11434".into()),
                unsupported_tasks: vec![],
            },
            BackendChoice {
                id: "safetensors".into(),
                label: "Native safetensors".into(),
                usable: Ok(()),
                unsupported_tasks: vec![],
            },
        ]
    }
    fn suites(&self, _: &ModelChoice, _: &BackendChoice) -> Vec<SuiteChoice> {
        vec![SuiteChoice {
            name: "test".into(),
            label: "Test (5 per task)".into(),
            tasks: vec!["ifeval".into()],
            estimate: None,
        }]
    }
    fn tasks(&self) -> Vec<TaskChoice> {
        vec![
            TaskChoice {
                name: "arc_easy".into(),
                description: None,
            },
            TaskChoice {
                name: "boolq".into(),
                description: None,
            },
        ]
    }
    fn suggested_batch_size(&self, _: &ModelChoice, _: &BackendChoice) -> usize {
        8
    }
    fn parse_timeout(&self, text: &str) -> Result<Duration, String> {
        let minutes = text
            .trim_end_matches('m')
            .parse::<u64>()
            .map_err(|_| format!("cannot read {text:?}"))?;
        Ok(Duration::from_secs(minutes * 60))
    }
    fn output_paths(&self, a: &WizardAnswers) -> Vec<(String, PathBuf)> {
        vec![(
            "summary".into(),
            a.model.path.join("benchmarks/benchmark.json"),
        )]
    }
}

async fn synthetic_run(tx: UnboundedSender<MonitorEvent>) {
    let send = |e: MonitorEvent| {
        let _ = tx.send(e);
    };
    let model = ModelInfo {
        name: "demo-model".into(),
        backend: "scripted".into(),
        device: "cpu".into(),
        dtype: "f32".into(),
        max_length: 2048,
        num_parameters: None,
        eos_text: None,
        bos_text: None,
        pad_text: None,
        eot_token_id: None,
        weights_sha256: None,
    };
    send(MonitorEvent::Run {
        event: RunEvent::Started {
            model,
            tasks: vec![TaskPlan {
                task: "ifeval".into(),
                docs: 60,
                done: 0,
                requests: 1,
            }],
        },
    });
    send(MonitorEvent::Run {
        event: RunEvent::Phase {
            phase: Phase::Generating,
        },
    });
    for done in 1..=60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let running = TaskScore {
            metric: "prompt_level_strict_acc".into(),
            filter: "none".into(),
            value: 0.4,
            stderr: Some(0.05),
        };
        send(MonitorEvent::Run {
            event: RunEvent::Progress {
                task: "ifeval".into(),
                done,
                total: 60,
                tokens: 300,
                running: Some(running),
            },
        });
        send(MonitorEvent::Run {
            event: RunEvent::Sample {
                task: "ifeval".into(),
                doc: done,
                prompt_tail: "Write a haiku about benchmarks.".into(),
                response: "Scores rise and fall".into(),
                verdict: if done % 2 == 0 {
                    SampleVerdict::Correct
                } else {
                    SampleVerdict::Incorrect
                },
            },
        });
        send(MonitorEvent::Watchdog {
            event: WatchdogEvent::Tick {
                since_progress: Duration::ZERO,
                remaining: None,
                cpu_percent: 99.0,
                rss_bytes: 1 << 30,
            },
        });
    }
    send(MonitorEvent::Run {
        event: RunEvent::Finished {
            results_file: "outputs/demo-model/results.json".into(),
        },
    });
    send(MonitorEvent::Exited {
        exit: WorkerExit::Completed,
    });
}

fn comparison() -> ComparisonView {
    ComparisonView {
        model: "demo-model".into(),
        base: Some("demo-base".into()),
        rows: vec![ComparisonRow {
            task: "ifeval".into(),
            metric: "prompt_level_strict_acc".into(),
            base: Some(0.35),
            finetuned: Some(0.40),
            delta: Some(0.05),
            delta_percent: Some(14.3),
            arrow: Arrow::Up,
            verdict: "improved".into(),
            flagged: false,
            significant: Some(false),
        }],
        warnings: vec![],
        partial: false,
        benchmark_file: None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "dashboard".into());
    match mode.as_str() {
        "wizard" => println!("{:?}", sparkbench_tui::run_wizard(&Catalogue)?),
        "plain" => {
            let (tx, mut rx) = unbounded_channel();
            tokio::spawn(synthetic_run(tx));
            let exit = sparkbench_tui::print_plain(&mut rx, &mut std::io::stdout()).await?;
            println!("{exit:?}");
        }
        _ => {
            let (tx, rx) = unbounded_channel();
            tokio::spawn(synthetic_run(tx));
            let header = HeaderInfo {
                model: "demo-model".into(),
                backend: "scripted".into(),
                suite: "test".into(),
                ..HeaderInfo::default()
            };
            let abort = Box::new(|| {});
            let outcome = sparkbench_tui::run_dashboard(rx, abort, header).await?;
            if outcome.show_results {
                sparkbench_tui::show_results(&comparison())?;
            }
            println!("outcome: {:?} signal {:?}", outcome.exit, outcome.signal);
        }
    }
    Ok(())
}
