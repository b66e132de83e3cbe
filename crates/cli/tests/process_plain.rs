//! `sparkbench run ... | cat`: the plain progress on a pipe holds no escape bytes, even when the
//! model's name carries some and the environment asks for colour.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[test]
fn plain_output_on_a_pipe_has_no_escape_bytes() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(
        tmp.path(),
        "plain.json",
        &json!({"name": "red\u{1b}[31m model\u{1b}]0;title\u{7}", "crash_at_request": 30}),
    );
    let out = tmp.path().join("out");
    let args = run_args(&script, "arc_easy,gsm8k", 10, &data, &out, &[]);
    let colour = [
        ("TERM", "xterm-256color"),
        ("CLICOLOR_FORCE", "1"),
        ("FORCE_COLOR", "1"),
        ("COLORTERM", "truecolor"),
    ];
    let ended = Running::spawn_with_env(&args, tmp.path(), &colour).finish(Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&ended.stdout).into_owned();
    assert!(
        stdout.contains("red"),
        "the model line is printed:\n{stdout}"
    );
    assert!(
        stdout.contains("worker failed"),
        "the crash is printed:\n{stdout}"
    );
    let escapes: Vec<&str> = stdout.lines().filter(|l| l.contains('\u{1b}')).collect();
    assert!(escapes.is_empty(), "escape bytes on a pipe: {escapes:?}");
    assert!(!ended.stdout.contains(&0x1b));
    assert_no_panic(&ended.stderr, "plain");

    // A complete run too: the comparison table and the summary lines.
    let ok = write_script(tmp.path(), "ok.json", &json!({}));
    let model = tmp.path().join("model");
    std::fs::create_dir_all(&model).expect("a model folder");
    let args: Vec<String> = [
        "run",
        "--scripted",
        &ok.display().to_string(),
        "--model",
        &model.display().to_string(),
        "--tasks",
        "arc_easy",
        "--limit",
        "5",
        "--data-dir",
        &data.display().to_string(),
        "--yes",
        "--plain",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let done = Running::spawn_with_env(&args, tmp.path(), &colour).finish(Duration::from_secs(90));
    assert!(done.status.success(), "{}", done.all_text());
    assert!(
        !done.stdout.contains(&0x1b),
        "escape bytes on a pipe:\n{}",
        done.stdout_text()
    );
}
