//! Event builders shared by the integration tests: a realistic run of three tasks.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sparkbench_protocol::{
    LogLevel, ModelInfo, MonitorEvent, Phase, RunEvent, SampleVerdict, TaskPlan, TaskScore,
    WatchdogEvent, WorkerExit,
};
use sparkbench_tui::Theme;
use sparkbench_tui::dashboard::{AppEvent, AppState, update};
use sparkbench_tui::view::{Arrow, ComparisonRow, ComparisonView, HeaderInfo};

pub fn header() -> HeaderInfo {
    HeaderInfo {
        model: "qwen3-lima".into(),
        backend: "safetensors".into(),
        device: None,
        dtype: None,
        suite: "core".into(),
        output_dir: Some(PathBuf::from(
            "outputs/qwen3-lima/benchmarks/fine-tuned/2026-12-02T01-00-00-safetensors",
        )),
        timeout: Some(Duration::from_secs(1800)),
        continues: false,
    }
}

pub fn run(event: RunEvent) -> AppEvent {
    AppEvent::Monitor(MonitorEvent::Run { event })
}

pub fn watchdog(event: WatchdogEvent) -> AppEvent {
    AppEvent::Monitor(MonitorEvent::Watchdog { event })
}

pub fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl_c() -> AppEvent {
    AppEvent::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

pub fn secs(s: u64) -> AppEvent {
    AppEvent::Tick(Duration::from_secs(s))
}

pub fn started() -> RunEvent {
    RunEvent::Started {
        model: ModelInfo {
            name: "qwen3-lima".into(),
            backend: "candle".into(),
            device: "cuda:0".into(),
            dtype: "bf16".into(),
            max_length: 4096,
            num_parameters: Some(596_049_920),
            eos_text: Some("<|im_end|>".into()),
            bos_text: None,
            pad_text: None,
            eot_token_id: Some(151645),
            weights_sha256: None,
        },
        tasks: vec![
            TaskPlan {
                task: "ifeval".into(),
                docs: 541,
                done: 0,
                requests: 1,
            },
            TaskPlan {
                task: "gsm8k".into(),
                docs: 1319,
                done: 0,
                requests: 1,
            },
            TaskPlan {
                task: "hellaswag".into(),
                docs: 10042,
                done: 0,
                requests: 4,
            },
        ],
    }
}

pub fn score(metric: &str, filter: &str, value: f64, stderr: f64) -> TaskScore {
    TaskScore {
        metric: metric.into(),
        filter: filter.into(),
        value,
        stderr: Some(stderr),
    }
}

pub fn progress(task: &str, done: usize, total: usize, tokens: u64, value: f64) -> AppEvent {
    let metric = if task == "gsm8k" {
        ("exact_match", "strict-match")
    } else {
        ("prompt_level_strict_acc", "none")
    };
    run(RunEvent::Progress {
        task: task.into(),
        done,
        total,
        tokens,
        running: Some(score(metric.0, metric.1, value, 0.02)),
    })
}

pub fn tick_reading(since: u64, remaining: Option<u64>) -> AppEvent {
    watchdog(WatchdogEvent::Tick {
        since_progress: Duration::from_secs(since),
        remaining: remaining.map(Duration::from_secs),
        cpu_percent: 97.5,
        rss_bytes: 3 * 1024 * 1024 * 1024 + 300 * 1024 * 1024,
    })
}

/// A run 95 seconds in: ifeval finished and scored, gsm8k under way, hellaswag waiting.
pub fn running_state() -> AppState {
    let mut s = AppState::new(header(), Theme::plain());
    let mut events = vec![
        run(started()),
        run(RunEvent::Phase {
            phase: Phase::Generating,
        }),
        run(RunEvent::Log {
            level: LogLevel::Info,
            message: "loaded qwen3-lima in 4.2s".into(),
        }),
        AppEvent::Monitor(MonitorEvent::Stderr {
            line: "candle: using cuda:0 (NVIDIA GB10)".into(),
        }),
    ];
    for i in 1..=40u64 {
        events.push(secs(i));
        events.push(progress(
            "ifeval",
            (i as usize * 541 / 40).min(541),
            541,
            5200,
            0.41,
        ));
    }
    events.push(run(RunEvent::TaskScored {
        task: "ifeval".into(),
        scores: vec![
            score("prompt_level_strict_acc", "none", 0.4140, 0.0212),
            score("inst_level_strict_acc", "none", 0.52, 0.0),
        ],
    }));
    events.push(run(RunEvent::Log {
        level: LogLevel::Warn,
        message: "gsm8k: 3 answers hit max_gen_toks".into(),
    }));
    for i in 41..=95u64 {
        events.push(secs(i));
        events.push(progress(
            "gsm8k",
            ((i - 40) * 8) as usize,
            1319,
            2400,
            0.3250,
        ));
    }
    events.push(tick_reading(1, Some(1799)));
    events.push(run(RunEvent::Sample {
        task: "gsm8k".into(),
        doc: 439,
        prompt_tail:
            "Question: Janet has 3 apples and buys 5 more. How many apples does she have?\nAnswer:"
                .into(),
        response: "Janet starts with 3 apples and buys 5 more, so 3 + 5 = 8. The answer is 8."
            .into(),
        verdict: SampleVerdict::Correct,
    }));
    for e in events {
        update(&mut s, e);
    }
    s
}

pub fn apply(state: &mut AppState, events: Vec<AppEvent>) {
    for e in events {
        update(state, e);
    }
}

pub fn warning_state() -> AppState {
    let mut s = running_state();
    apply(
        &mut s,
        vec![
            secs(160),
            tick_reading(65, Some(1735)),
            watchdog(WatchdogEvent::Warning {
                since_progress: Duration::from_secs(65),
            }),
        ],
    );
    s
}

pub fn stalled_state() -> AppState {
    let mut s = warning_state();
    apply(
        &mut s,
        vec![
            secs(190),
            watchdog(WatchdogEvent::Stalled {
                since_progress: Duration::from_secs(95),
                remaining: Some(Duration::from_secs(1705)),
                cpu_percent: 0.0,
                rss_bytes: 3 * 1024 * 1024 * 1024,
            }),
        ],
    );
    s
}

pub fn finished_state() -> AppState {
    let mut s = running_state();
    apply(
        &mut s,
        vec![
            run(RunEvent::Finished {
                results_file: PathBuf::from(
                    "outputs/qwen3-lima/benchmarks/fine-tuned/lm-eval/results_2026-12-02T01-05-00.json",
                ),
            }),
            AppEvent::Monitor(MonitorEvent::Exited {
                exit: WorkerExit::Completed,
            }),
        ],
    );
    s
}

pub fn comparison() -> ComparisonView {
    let row = |task: &str,
               metric: &str,
               base: f64,
               tuned: f64,
               verdict: &str,
               arrow: Arrow,
               flagged: bool,
               significant| {
        ComparisonRow {
            task: task.into(),
            metric: metric.into(),
            base: Some(base),
            finetuned: Some(tuned),
            delta: Some(tuned - base),
            delta_percent: Some((tuned - base) / base * 100.0),
            arrow,
            verdict: verdict.into(),
            flagged,
            significant: Some(significant),
        }
    };
    ComparisonView {
        model: "qwen3-lima".into(),
        base: Some("Qwen/Qwen3-0.6B".into()),
        rows: vec![
            row(
                "ifeval",
                "prompt_level_strict_acc",
                0.3512,
                0.4140,
                "improved",
                Arrow::Up,
                false,
                true,
            ),
            row(
                "gsm8k",
                "exact_match,strict-match",
                0.4102,
                0.3250,
                "regressed",
                Arrow::Down,
                true,
                true,
            ),
            row(
                "hellaswag",
                "acc_norm",
                0.4725,
                0.4731,
                "no change",
                Arrow::Same,
                false,
                false,
            ),
        ],
        warnings: vec![
            "base was run with batch size 16, fine-tuned with 8 (scores are unaffected)".into(),
        ],
        partial: true,
        benchmark_file: Some(PathBuf::from(
            "outputs/qwen3-lima/benchmarks/benchmark.json",
        )),
    }
}
