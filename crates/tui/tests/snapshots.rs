//! Text snapshots (insta) of every screen at 80x24 and 160x48, drawn with ratatui's TestBackend.
//! Colours are not part of a text snapshot; `no_color_leaves_every_cell_uncoloured` checks those.

mod common;

use common::*;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use sparkbench_tui::Theme;
use sparkbench_tui::dashboard::{AppState, render};
use sparkbench_tui::results::render_results;
use sparkbench_tui::view::{BackendChoice, BaseInfo, ModelChoice};
use sparkbench_tui::wizard::{Summary, WizardAnswers};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn draw(w: u16, h: u16, f: impl Fn(&mut ratatui::Frame)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal.draw(|frame| f(frame)).expect("draw");
    terminal
}

fn snapshot_dashboard(name: &str, state: &AppState) {
    for (w, h) in SIZES {
        let terminal = draw(w, h, |frame| render(state, frame));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn running() {
    snapshot_dashboard("running", &running_state());
}

#[test]
fn watchdog_warning() {
    snapshot_dashboard("watchdog_warning", &warning_state());
}

#[test]
fn stalled() {
    snapshot_dashboard("stalled", &stalled_state());
}

#[test]
fn abort_confirmation() {
    let mut s = running_state();
    apply(&mut s, vec![key(KeyCode::Char('q'))]);
    snapshot_dashboard("abort_confirmation", &s);
}

#[test]
fn help() {
    let mut s = running_state();
    apply(&mut s, vec![key(KeyCode::Char('?'))]);
    snapshot_dashboard("help", &s);
}

#[test]
fn finished() {
    snapshot_dashboard("finished", &finished_state());
}

#[test]
fn finished_with_comparison() {
    let view = comparison();
    for (w, h) in SIZES {
        let terminal = draw(w, h, |frame| render_results(&view, Theme::plain(), frame));
        insta::assert_snapshot!(format!("results_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn plain_results_table() {
    insta::assert_snapshot!(
        "results_plain_text",
        sparkbench_tui::comparison_text(&comparison())
    );
}

fn answers() -> WizardAnswers {
    WizardAnswers {
        model: ModelChoice {
            name: "qwen3-lima".into(),
            path: "outputs/qwen3-lima".into(),
            formats: vec!["LoRA".into(), "16-bit".into()],
            size_bytes: 1_288_490_189,
            last_benchmark: None,
            base: Some(BaseInfo {
                name: "Qwen/Qwen3-0.6B".into(),
                source: None,
                reusable_result: false,
            }),
        },
        compare_base: true,
        backend: BackendChoice {
            id: "safetensors".into(),
            label: "Native safetensors (merged_16bit)".into(),
            usable: Ok(()),
            unsupported_tasks: vec![],
        },
        suite: Some("core".into()),
        tasks: vec!["ifeval".into(), "gsm8k".into(), "hellaswag".into()],
        batch_size: 8,
        timeout: Some(std::time::Duration::from_secs(1800)),
    }
}

#[test]
fn confirmation_summary() {
    let summary = Summary::new(
        &answers(),
        vec![
            (
                "fine-tuned".into(),
                "outputs/qwen3-lima/benchmarks/fine-tuned/2026-12-02T01-00-00-safetensors".into(),
            ),
            (
                "base".into(),
                "outputs/qwen3-lima/benchmarks/base/safetensors".into(),
            ),
            (
                "summary".into(),
                "outputs/qwen3-lima/benchmarks/benchmark.json".into(),
            ),
        ],
    );
    for (w, h) in SIZES {
        let terminal = draw(w, h, |frame| {
            summary.render(frame, frame.area(), Theme::plain())
        });
        insta::assert_snapshot!(format!("confirmation_summary_{w}x{h}"), terminal.backend());
    }
    insta::assert_snapshot!("confirmation_summary_text", summary.text());
}

#[test]
fn no_color_leaves_every_cell_uncoloured() {
    let plain = running_state();
    let mut colored = plain.clone();
    colored.theme = Theme::colored();
    let uncoloured = |t: &Terminal<TestBackend>| {
        t.backend()
            .buffer()
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    };
    assert!(uncoloured(&draw(160, 48, |f| render(&plain, f))));
    assert!(
        !uncoloured(&draw(160, 48, |f| render(&colored, f))),
        "the coloured theme does colour"
    );
    assert!(uncoloured(&draw(160, 48, |f| render_results(
        &comparison(),
        Theme::plain(),
        f
    ))));
}

#[test]
fn tiny_terminals_get_a_notice_not_a_panic() {
    let s = running_state();
    for (w, h) in [(1, 1), (20, 5), (39, 30), (80, 9), (40, 10)] {
        draw(w, h, |f| render(&s, f));
        draw(w, h, |f| render_results(&comparison(), Theme::plain(), f));
    }
    let t = draw(30, 6, |f| render(&s, f));
    insta::assert_snapshot!("too_small_30x6", t.backend());
}
