//! `bench/compare.py table` (the table `bench/vs-lm-eval.sh` prints) on synthetic measurements and
//! samples files: one round, several rounds (median of the per-round speed-ups, their range, the
//! verdict, per-round decisions, failed rounds), a file from before the round column, and clear
//! errors for malformed lines. Runs `python3`; without one on PATH each test says so and passes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's bench/compare.py.
fn compare_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/compare.py")
}

/// Whether `python3` runs; when it does not, print why the test is skipped.
fn have_python(test: &str) -> bool {
    match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            println!(
                "{test}: skipped: `python3 --version` exited {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            false
        }
        Err(e) => {
            println!("{test}: skipped: python3 is not runnable from PATH ({e})");
            false
        }
    }
}

/// `python3 bench/compare.py table FILE`.
fn table(file: &Path) -> Output {
    Command::new("python3")
        .arg(compare_py())
        .arg("table")
        .arg(file)
        .output()
        .expect("python3 runs")
}

/// stdout of a run that must succeed.
fn table_ok(file: &Path) -> String {
    let out = table(file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "compare.py table {} failed ({}):\n{stdout}\n{}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// stderr of a run that must fail with compare.py's exit status 2 and no traceback.
fn table_fails(file: &Path) -> String {
    let out = table(file);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "must exit 2:\n{stderr}");
    assert!(
        !stderr.contains("Traceback"),
        "a traceback, not an error message:\n{stderr}"
    );
    assert!(stderr.starts_with("compare.py: error: "), "{stderr}");
    stderr
}

/// A run folder with an lm-eval-format samples file of `docs` multiple-choice documents under
/// `out/`: document i picks choice 1 unless it is in `flipped`, where it picks choice 0.
fn run_dir(root: &Path, name: &str, docs: usize, flipped: &[usize]) -> PathBuf {
    let dir = root.join(name);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("create the run folder");
    let mut text = String::new();
    for doc in 0..docs {
        let pick = usize::from(!flipped.contains(&doc));
        let lls = if pick == 1 {
            r#"[["-2.5", "False"], ["-1.25", "True"]]"#
        } else {
            r#"[["-1.25", "True"], ["-2.5", "False"]]"#
        };
        writeln!(
            text,
            r#"{{"doc_id": {doc}, "filter": "none", "filtered_resps": {lls}, "metrics": ["acc"], "acc": {pick}.0}}"#
        )
        .expect("write to a String");
    }
    std::fs::write(out.join("samples_task_2026-01-01T00-00-00.jsonl"), text)
        .expect("write the samples file");
    dir
}

const HEADER: &str = "task\ttool\tlimit\twall_s\tmax_rss_kb\texit\tdir\tround";

/// One measurements line (with the round column).
fn line(
    task: &str,
    tool: &str,
    wall: &str,
    rss_kb: u64,
    exit: i32,
    dir: &Path,
    round: u32,
) -> String {
    format!(
        "{task}\t{tool}\t10\t{wall}\t{rss_kb}\t{exit}\t{}\t{round}\n",
        dir.display()
    )
}

/// The table line of `task`.
fn row_of<'a>(stdout: &'a str, task: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(task))
        .unwrap_or_else(|| panic!("no table line for {task}:\n{stdout}"))
}

fn cells(row: &str) -> Vec<&str> {
    row.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn one_round_looks_as_before() {
    if !have_python("one_round_looks_as_before") {
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let mut tsv = format!("{HEADER}\n");
    let d = |n: &str| run_dir(root, n, 10, &[]);
    tsv += &line("arc_easy", "lm-eval", "60.0", 2_097_152, 0, &d("arc_lm"), 1);
    tsv += &line(
        "arc_easy",
        "sparkbench",
        "20.0",
        683_008,
        0,
        &d("arc_sb"),
        1,
    );
    // gsm8k's bar is 2x: 63 / 33 = 1.91x misses it.
    tsv += &line("gsm8k", "lm-eval", "63.0", 3_145_728, 0, &d("gsm_lm"), 1);
    tsv += &line("gsm8k", "sparkbench", "33.0", 1_310_720, 0, &d("gsm_sb"), 1);
    let file = root.join("measurements.tsv");
    std::fs::write(&file, tsv).expect("write measurements.tsv");

    let stdout = table_ok(&file);
    let header = stdout.lines().next().expect("a header line");
    assert_eq!(
        cells(header),
        [
            "task",
            "docs",
            "lm-eval s",
            "docs/s",
            "sparkbench s",
            "docs/s",
            "speed-up",
            "bar",
            "lm-eval MiB",
            "sparkbench MiB",
            "same decisions"
        ],
        "one round: no rounds or range column:\n{stdout}"
    );
    assert_eq!(
        cells(row_of(&stdout, "arc_easy")),
        [
            "arc_easy", "10", "60.0", "0.17", "20.0", "0.50", "3.00x", ">=3x met", "2048", "667",
            "10/10"
        ],
        "{stdout}"
    );
    assert_eq!(
        cells(row_of(&stdout, "gsm8k")),
        [
            "gsm8k",
            "10",
            "63.0",
            "0.16",
            "33.0",
            "0.30",
            "1.91x",
            ">=2x not met",
            "3072",
            "1280",
            "10/10"
        ],
        "{stdout}"
    );
    assert!(!stdout.contains("several rounds"), "{stdout}");
}

#[test]
fn several_rounds_take_the_median_of_the_per_round_speed_ups() {
    if !have_python("several_rounds_take_the_median_of_the_per_round_speed_ups") {
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let mut tsv = format!("{HEADER}\n");
    // Per round, lm-eval / sparkbench: 61/20 = 3.05x, 90/28 = 3.21x, 66/30 = 2.20x; the median of
    // those is 3.05x (meets 3x), while the ratio of the median walls, 66/28 = 2.36x, would not.
    // Rounds in the order the script writes them: the tools alternate.
    let r = |n: &str| run_dir(root, n, 10, &[]);
    tsv += &line("arc_easy", "lm-eval", "61.0", 2_000_000, 0, &r("lm1"), 1);
    tsv += &line("arc_easy", "sparkbench", "20.0", 600_000, 0, &r("sb1"), 1);
    tsv += &line("arc_easy", "sparkbench", "28.0", 700_000, 0, &r("sb2"), 2);
    tsv += &line("arc_easy", "lm-eval", "90.0", 2_100_000, 0, &r("lm2"), 2);
    tsv += &line("arc_easy", "lm-eval", "66.0", 1_900_000, 0, &r("lm3"), 3);
    // Round 3's sparkbench picks another choice on document 3.
    let sb3 = run_dir(root, "sb3", 10, &[3]);
    tsv += &line("arc_easy", "sparkbench", "30.0", 650_000, 0, &sb3, 3);
    // Two rounds, 50/20 = 2.50x and 80/25 = 3.20x: the median is their mean, 2.85x, where the
    // median walls would give 65/22.5 = 2.89x.
    tsv += &line(
        "mmlu_anatomy",
        "lm-eval",
        "50.0",
        2_000_000,
        0,
        &r("a_lm1"),
        1,
    );
    tsv += &line(
        "mmlu_anatomy",
        "sparkbench",
        "20.0",
        600_000,
        0,
        &r("a_sb1"),
        1,
    );
    tsv += &line(
        "mmlu_anatomy",
        "sparkbench",
        "25.0",
        600_000,
        0,
        &r("a_sb2"),
        2,
    );
    tsv += &line(
        "mmlu_anatomy",
        "lm-eval",
        "80.0",
        2_000_000,
        0,
        &r("a_lm2"),
        2,
    );
    // A task whose sparkbench run failed in round 2.
    tsv += &line("hellaswag", "lm-eval", "60.0", 2_000_000, 0, &r("h_lm1"), 1);
    tsv += &line(
        "hellaswag",
        "sparkbench",
        "20.0",
        600_000,
        0,
        &r("h_sb1"),
        1,
    );
    let failed = root.join("h_sb2");
    tsv += &format!(
        "hellaswag\tsparkbench\t10\t\t\t137\t{}\t2\n",
        failed.display()
    );
    tsv += &line("hellaswag", "lm-eval", "62.0", 2_000_000, 0, &r("h_lm2"), 2);
    let file = root.join("measurements.tsv");
    std::fs::write(&file, tsv).expect("write measurements.tsv");

    let stdout = table_ok(&file);
    let header = cells(stdout.lines().next().expect("a header line"));
    assert_eq!(
        header,
        [
            "task",
            "docs",
            "rounds",
            "lm-eval s",
            "docs/s",
            "sparkbench s",
            "docs/s",
            "speed-up",
            "range",
            "bar",
            "lm-eval MiB",
            "sparkbench MiB",
            "same decisions"
        ],
        "{stdout}"
    );
    let arc = cells(row_of(&stdout, "arc_easy"));
    assert_eq!(
        arc[..12],
        [
            "arc_easy",
            "10",
            "3",
            "66.0",
            "0.15",
            "28.0",
            "0.36",
            "3.05x",
            "2.20-3.21x",
            ">=3x met",
            "2050",
            "683"
        ],
        "medians of the walls, median of the speed-ups, the range, the largest RSS:\n{stdout}"
    );
    assert!(
        !stdout.contains("2.36x"),
        "the ratio of the medians is not the speed-up:\n{stdout}"
    );
    assert!(
        arc[12].contains("round 3: 9/10") && arc[12].contains("round 1: 10/10"),
        "each round's decisions:\n{stdout}"
    );
    assert!(
        stdout.contains("note: arc_easy round 3: differs at doc 3 [none]: argmax 1 vs 0"),
        "{stdout}"
    );
    // sparkbench's round 3 does not reproduce its round 1, which is said too; lm-eval's rounds agree.
    assert!(
        stdout.contains(
            "note: arc_easy round 3: sparkbench differs from its own round 1 at doc 3 [none]: argmax 1 vs 0"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "note: arc_easy round 3: sparkbench differs from its own round 1: loglikelihoods differ by up to 1.25"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("lm-eval differs from its own")
            && !stdout.contains("round 2: sparkbench differs"),
        "only the round that differs is named:\n{stdout}"
    );
    // The table keeps the script's task order, not the file's (arc_easy, mmlu_anatomy, hellaswag).
    let positions: Vec<usize> = ["hellaswag", "arc_easy", "mmlu_anatomy"]
        .iter()
        .map(|t| {
            stdout
                .find(row_of(&stdout, t))
                .expect("the row is in the output")
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "hellaswag, arc_easy, mmlu_anatomy in that order:\n{stdout}"
    );
    let anatomy = cells(row_of(&stdout, "mmlu_anatomy"));
    assert_eq!(
        anatomy[..10],
        [
            "mmlu_anatomy",
            "10",
            "2",
            "65.0",
            "0.15",
            "22.5",
            "0.44",
            "2.85x",
            "2.50-3.20x",
            ">=3x not met"
        ],
        "{stdout}"
    );
    assert!(!stdout.contains("2.89x"), "{stdout}");
    assert_eq!(anatomy[12], "10/10", "{stdout}");
    // A failed round is reported, and no verdict is drawn from the rounds that ran.
    let hella = row_of(&stdout, "hellaswag");
    assert!(hella.contains("FAILED (round 2: exit 137)"), "{stdout}");
    assert!(
        !hella.contains("met"),
        "no verdict with a failed round:\n{stdout}"
    );
    assert!(hella.contains("10/10 (round 1 of 2)"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "note: hellaswag round 2: sparkbench exited 137; see {}/log.txt",
            failed.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("With several rounds: s = the median wall time of the rounds"),
        "the footnote says how to read several rounds:\n{stdout}"
    );
}

#[test]
fn a_file_without_the_round_column_is_one_round() {
    if !have_python("a_file_without_the_round_column_is_one_round") {
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let lm = run_dir(root, "lm", 10, &[]);
    let sb = run_dir(root, "sb", 10, &[]);
    let tsv = format!(
        "task\ttool\tlimit\twall_s\tmax_rss_kb\texit\tdir\n\
         hellaswag\tlm-eval\t10\t58.0\t2000000\t0\t{}\n\
         hellaswag\tsparkbench\t10\t20.0\t600000\t0\t{}\n",
        lm.display(),
        sb.display()
    );
    let file = root.join("measurements.tsv");
    std::fs::write(&file, tsv).expect("write measurements.tsv");

    let stdout = table_ok(&file);
    assert!(!stdout.contains("rounds"), "{stdout}");
    assert_eq!(
        cells(row_of(&stdout, "hellaswag")),
        [
            "hellaswag",
            "10",
            "58.0",
            "0.17",
            "20.0",
            "0.50",
            "2.90x",
            ">=3x not met",
            "1953",
            "585",
            "10/10"
        ],
        "{stdout}"
    );
}

#[test]
fn malformed_lines_are_clear_errors() {
    if !have_python("malformed_lines_are_clear_errors") {
        return;
    }
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let dir = run_dir(root, "lm", 10, &[]);
    let good = line("gsm8k", "lm-eval", "63.0", 3_000_000, 0, &dir, 1);
    let cases = [
        (
            // A cell short: the round is missing.
            format!("gsm8k\tlm-eval\t10\t63.0\t3000000\t0\t{}\n", dir.display()),
            "line 3: 7 tab-separated cells, the header has 8".to_string(),
        ),
        (
            line("gsm8k", "sparkbench", "fast", 600_000, 0, &dir, 1),
            "line 3: wall_s is 'fast', not a positive number of seconds".to_string(),
        ),
        (
            line("gsm8k", "sparkbench", "30.0", 600_000, 0, &dir, 0),
            "line 3: round is '0', not a positive whole number".to_string(),
        ),
        (
            line("gsm8k", "lm-eval", "64.0", 3_000_000, 0, &dir, 1),
            "line 3: gsm8k lm-eval round 1 again (first on line 2)".to_string(),
        ),
        (
            line("gsm8k", "lm_eval", "64.0", 3_000_000, 0, &dir, 1),
            "line 3: tool is 'lm_eval', not one of lm-eval, sparkbench".to_string(),
        ),
    ];
    for (i, (bad, want)) in cases.iter().enumerate() {
        let file = root.join(format!("bad{i}.tsv"));
        std::fs::write(&file, format!("{HEADER}\n{good}{bad}")).expect("write the file");
        let stderr = table_fails(&file);
        assert!(
            stderr.contains(&format!("{} {want}", file.display())),
            "expected '{want}' naming {}:\n{stderr}",
            file.display()
        );
    }

    let file = root.join("no-exit.tsv");
    std::fs::write(&file, "task\ttool\tlimit\twall_s\tmax_rss_kb\tdir\n").expect("write the file");
    let stderr = table_fails(&file);
    assert!(
        stderr.contains("line 1: the header has no exit column"),
        "{stderr}"
    );
}
