//! End to end through a real terminal: the sparkbench binary runs in a detached tmux pane
//! (120x40, TERM=xterm-256color, its own tmux socket) and is driven with `send-keys` the way a
//! person would: the wizard creates and benchmarks the demo model, and a second run on the real
//! data is aborted from the dashboard. The screens, the exit code, the files on disk and the
//! terminal modes afterwards (`stty -a` run right after the program, in the same pane) are checked.
//!
//! Skips, saying why, when tmux is missing or (second test) the shared data is absent.

mod e2e;

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::files::{fine_tuned_run, journal_lines, json, matching, only, run_status};
use e2e::tmux::{self, DONE_MARKER, Tmux};
use e2e::{binary, real_data_dir, shell_quote};

/// Wizard steps and screen changes.
const STEP: Duration = Duration::from_secs(30);
/// One whole run of the demo model (base or fine-tuned).
const RUN: Duration = Duration::from_secs(120);
/// First finished documents of a run on the real data.
const PROGRESS: Duration = Duration::from_secs(300);

/// A shell script that runs sparkbench, then records the terminal modes and prints the marker
/// with the exit code. The typed command line (`bash FILE`) never contains the marker itself.
fn write_wrapper(dir: &Path, outputs: &Path, data: Option<&Path>) -> (PathBuf, PathBuf) {
    let script = dir.join("run-sparkbench.sh");
    let stty = dir.join("stty.txt");
    let data_line = data
        .map(|d| {
            format!(
                "export SPARKBENCH_DATA={}\n",
                shell_quote(&d.to_string_lossy())
            )
        })
        .unwrap_or_default();
    let text = format!(
        "{data_line}{bin} --outputs {outputs}\nrc=$?\nstty -a > {stty}\necho \"{DONE_MARKER}$rc\"\n",
        bin = shell_quote(&binary().to_string_lossy()),
        outputs = shell_quote(&outputs.to_string_lossy()),
        stty = shell_quote(&stty.to_string_lossy()),
    );
    std::fs::write(&script, text).expect("the temp dir is writable");
    (script, stty)
}

/// Whether a line of the screen starts with inquire's question mark and `message`.
fn asks(screen: &str, message: &str) -> bool {
    screen
        .lines()
        .any(|l| l.trim_start().starts_with(&format!("? {message}")))
}

/// Wait for the question `message`, then press `keys`.
fn answer(t: &mut Tmux, message: &str, keys: &[&str]) {
    t.wait_until(&format!("question `{message}`"), STEP, |s| asks(s, message));
    t.keys(keys);
}

/// The finished-documents count of the dashboard header (`docs N/M`).
fn docs_done(screen: &str) -> Option<u64> {
    let rest = &screen[screen.find("· docs ")? + "· docs ".len()..];
    rest.split('/').next()?.trim().parse().ok()
}

/// The terminal is in cooked mode with echo (what a shell expects after a TUI leaves).
fn assert_sane_stty(stty: &Path) {
    let text = std::fs::read_to_string(stty)
        .unwrap_or_else(|e| panic!("no stty output at {}: {e}", stty.display()));
    let flags: Vec<&str> = text.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(
            flags.contains(&flag),
            "terminal left without `{flag}` after sparkbench exited:\n{text}"
        );
        let off = format!("-{flag}");
        assert!(
            !flags.contains(&off.as_str()),
            "terminal left with `{off}` after sparkbench exited:\n{text}"
        );
    }
}

/// After exit the pane is back on the main screen, showing the shell again.
fn assert_left_alternate_screen(t: &mut Tmux) {
    let screen = t.wait_until("the shell prompt after exit", STEP, |s| {
        s.lines()
            .rfind(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim() == tmux::PROMPT.trim())
    });
    assert!(
        !t.alternate_on(),
        "the pane is still on the alternate screen after exit:\n{screen}"
    );
    assert!(
        !screen.contains("┌ Tasks"),
        "the dashboard is still drawn after exit:\n{screen}"
    );
}

#[test]
fn wizard_benchmarks_the_demo_model_and_shows_results() {
    if let Err(why) = tmux::available() {
        println!("skipped: {why}");
        return;
    }
    let tmp = tempfile::tempdir().expect("a temp dir");
    let outputs = tmp.path().join("outputs");
    let (script, stty) = write_wrapper(tmp.path(), &outputs, None);
    let mut t = Tmux::start("demo", tmp.path());
    t.run_line(&format!("bash {}", shell_quote(&script.to_string_lossy())));

    answer(&mut t, "No trained models found under outputs/", &["Enter"]);
    t.wait_until("the demo model", RUN, |s| {
        s.contains("demo model ready") && asks(s, "Model to benchmark")
    });
    answer(&mut t, "Model to benchmark", &["Enter"]);
    answer(&mut t, "Compare with the base model", &["Enter"]);
    answer(&mut t, "Backend", &["Enter"]);
    let screen = t.wait_until("the suite list", STEP, |s| asks(s, "Suite"));
    assert!(
        screen.contains("> Test ("),
        "the Test suite is not the default:\n{screen}"
    );
    t.keys(&["Enter"]);
    answer(&mut t, "Batch size", &["Enter"]);
    answer(&mut t, "Watchdog", &["Enter"]);
    let screen = t.wait_until("the summary", STEP, |s| asks(s, "Start the benchmark?"));
    for part in ["Benchmark summary", "demo-tiny", "ifeval", "benchmark.json"] {
        assert!(screen.contains(part), "summary lacks `{part}`:\n{screen}");
    }
    t.keys(&["Enter"]);

    // The base runs first; each finished run waits on its dashboard for Enter.
    for header in ["base (base)", "demo-tiny (fine-tuned)"] {
        t.wait_until(&format!("the `{header}` run to complete"), RUN, |s| {
            s.contains(header) && s.contains("✓ completed")
        });
        t.keys(&["Enter"]);
    }
    let screen = t.wait_until("the results screen", STEP, |s| {
        s.contains("Results: demo-tiny vs base") && s.contains("any key")
    });
    for task in ["ifeval", "gsm8k", "hellaswag", "arc_easy", "boolq"] {
        assert!(
            screen.contains(task),
            "results screen lacks {task}:\n{screen}"
        );
    }
    t.keys(&["x"]);

    let (rc, history) = t.wait_exit(STEP);
    assert_eq!(rc, 0, "sparkbench failed:\n{history}");
    let table = history
        .rsplit("Results: demo-tiny vs base")
        .next()
        .expect("rsplit yields at least one part");
    assert!(
        history.contains("Results: demo-tiny vs base"),
        "no plain table:\n{history}"
    );
    for part in [
        "Task",
        "Fine-tuned",
        "ifeval",
        "prompt_level_strict_acc",
        "README section updated",
    ] {
        assert!(
            table.contains(part),
            "plain output lacks `{part}`:\n{history}"
        );
    }
    assert_left_alternate_screen(&mut t);
    assert_sane_stty(&stty);

    let model = outputs.join("demo-tiny");
    let summary = json(&model.join("benchmarks").join("benchmark.json"));
    assert!(
        summary.get("comparison").is_some(),
        "benchmark.json has no comparison: {summary}"
    );
    let base = model.join("benchmarks").join("base");
    assert_eq!(run_status(&base), "complete");
    only(&base.join("lm-eval"), "results_", ".json");
    let run = fine_tuned_run(&model);
    assert_eq!(run_status(&run), "complete");
    let lm_eval = run.join("lm-eval");
    let results = json(&only(&lm_eval, "results_", ".json"));
    assert_eq!(
        results["sparkbench"]["partial"],
        serde_json::Value::Bool(false),
        "a complete run's results are marked partial"
    );
    let samples = matching(&lm_eval, "samples_", ".jsonl");
    for task in ["ifeval", "gsm8k", "hellaswag", "boolq"] {
        assert!(
            samples.iter().any(|p| p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("samples_{task}_")))),
            "no samples file for {task} in {}: {samples:?}",
            lm_eval.display()
        );
    }
    let readme = std::fs::read_to_string(model.join("README.md")).expect("the demo README");
    let begin = readme
        .find("<!-- sparkbench:begin -->")
        .expect("README has the begin marker");
    let end = readme
        .find("<!-- sparkbench:end -->")
        .expect("README has the end marker");
    assert!(begin < end, "README markers out of order:\n{readme}");
    assert!(
        readme[begin..end].contains("ifeval"),
        "README section has no scores:\n{readme}"
    );
}

#[test]
fn abort_from_the_dashboard_keeps_partial_results_and_restores_the_terminal() {
    if let Err(why) = tmux::available() {
        println!("skipped: {why}");
        return;
    }
    let data = real_data_dir();
    if !data.join("ifeval").is_dir() {
        println!(
            "skipped: no real benchmark data at {} (set SPARKBENCH_TEST_DATA)",
            data.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("a temp dir");
    let outputs = tmp.path().join("outputs");
    let made = std::process::Command::new(binary())
        .arg("--outputs")
        .arg(&outputs)
        .arg("demo")
        .output()
        .expect("sparkbench runs");
    assert!(
        made.status.success(),
        "sparkbench demo failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (script, stty) = write_wrapper(tmp.path(), &outputs, Some(&data));
    let mut t = Tmux::start("abort", tmp.path());
    t.run_line(&format!("bash {}", shell_quote(&script.to_string_lossy())));

    answer(&mut t, "Model to benchmark", &["Enter"]);
    answer(&mut t, "Compare with the base model", &["n"]);
    t.keys(&["Enter"]);
    answer(&mut t, "Backend", &["Enter"]);
    let screen = t.wait_until("the suite list", STEP, |s| asks(s, "Suite"));
    assert!(
        screen.contains("Compare with the base model base? No"),
        "the comparison was not declined:\n{screen}"
    );
    t.keys(&["Down", "Down"]);
    t.wait_until("the Core suite highlighted", STEP, |s| {
        s.contains("> Core (")
    });
    t.keys(&["Enter"]);
    answer(&mut t, "Batch size", &["Enter"]);
    answer(&mut t, "Watchdog", &["Enter"]);
    let screen = t.wait_until("the summary", STEP, |s| asks(s, "Start the benchmark?"));
    assert!(
        screen.contains("core: ifeval, gsm8k, hellaswag"),
        "not the Core suite:\n{screen}"
    );
    t.keys(&["Enter"]);

    t.wait_until("finished documents on the dashboard", PROGRESS, |s| {
        s.contains("(fine-tuned)") && s.contains("running") && docs_done(s).is_some_and(|n| n > 0)
    });
    t.keys(&["q"]);
    t.wait_until("the abort question", STEP, |s| s.contains("Abort the run?"));
    t.keys(&["y"]);
    let screen = t.wait_until("the aborted run", RUN, |s| {
        s.contains("aborted") && s.contains("Enter results")
    });
    let done = docs_done(&screen).expect("the header shows the document count");
    assert!(done > 0, "no document was kept:\n{screen}");
    let total: u64 = screen
        .split("· docs ")
        .nth(1)
        .and_then(|r| r.split('/').nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the header shows the planned documents");
    assert!(done < total, "the run was not aborted mid-way:\n{screen}");
    t.keys(&["q"]);

    let (rc, history) = t.wait_exit(RUN);
    assert_ne!(rc, 0, "an aborted run reported success:\n{history}");
    assert!(
        history.contains("partial results:"),
        "no partial results reported:\n{history}"
    );
    assert_left_alternate_screen(&mut t);
    assert_sane_stty(&stty);

    let run = fine_tuned_run(&outputs.join("demo-tiny"));
    assert_eq!(run_status(&run), "partial");
    let lm_eval = run.join("lm-eval");
    let journaled = journal_lines(&lm_eval);
    assert!(
        journaled as u64 >= done,
        "journal holds {journaled} documents, the dashboard showed {done}"
    );
    let results = matching(&lm_eval, "results_", ".json");
    if let Some(file) = results.first() {
        let r = json(file);
        assert_eq!(
            r["sparkbench"]["partial"],
            serde_json::Value::Bool(true),
            "{} is not marked partial",
            file.display()
        );
    } else {
        assert!(journaled > 0, "neither results nor journal lines were kept");
    }
    println!("aborted after {done}/{total} documents; {journaled} journaled");
}
