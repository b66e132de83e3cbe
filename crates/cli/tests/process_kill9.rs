//! kill -9 of the worker at ten different moments of a run (before any document, inside each
//! task, between tasks, near the end) loses no finished document, and `--resume` then writes
//! results and samples equal to an uninterrupted run's, apart from timestamps and timings.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::json;

const TASKS: &str = "arc_easy,gsm8k";
const LIMIT: usize = 20;
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// When to kill: after the first stdout line for which the rule holds, plus a delay.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// A line containing this text.
    Text(&'static str, u64),
    /// A progress line of this task with at least this many documents done.
    Done(&'static str, usize, u64),
}

impl Moment {
    fn matches(&self, line: &str) -> bool {
        match self {
            Moment::Text(t, _) => line.contains(t),
            Moment::Done(task, n, _) => {
                parse_progress(line).is_some_and(|(t, done)| t == *task && done >= *n)
            }
        }
    }

    fn delay(&self) -> Duration {
        match self {
            Moment::Text(_, ms) | Moment::Done(_, _, ms) => Duration::from_millis(*ms),
        }
    }
}

const MOMENTS: &[Moment] = &[
    Moment::Text("phase: scoring", 0),
    Moment::Done("arc_easy", 1, 0),
    Moment::Done("arc_easy", 4, 13),
    Moment::Done("arc_easy", 8, 27),
    Moment::Done("arc_easy", 12, 5),
    Moment::Done("arc_easy", 16, 41),
    Moment::Done("arc_easy", 20, 0),
    Moment::Done("gsm8k", 4, 9),
    Moment::Done("gsm8k", 8, 33),
    Moment::Done("gsm8k", 12, 0),
    Moment::Done("gsm8k", 16, 17),
];

/// What one interrupted-and-resumed run left.
struct Outcome {
    moment: Moment,
    killed: bool,
    results: ResultsFile,
    samples: BTreeMap<String, Vec<u8>>,
}

fn script(dir: &Path) -> PathBuf {
    write_script(dir, "slow.json", &json!({"latency_ms": 25}))
}

/// Run, kill -9 the worker at `moment`, check the journal, resume, return the final files.
fn interrupted(data: &Path, root: &Path, i: usize, moment: Moment) -> Result<Outcome, String> {
    let dir = root.join(format!("m{i}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = dir.join("out");
    let args = run_args(&script(&dir), TASKS, LIMIT, data, &out, &[]);
    let mut run = Running::spawn(&args, &dir);
    let worker = run
        .worker(Duration::from_secs(60))
        .ok_or("no worker process was started")?;
    if run.wait_line(RUN_LIMIT, |l| moment.matches(l)).is_none() {
        return Err(format!("the moment never came:\n{}", run.seen_text()));
    }
    std::thread::sleep(moment.delay());
    let reported = reported_done(&run.seen);
    let killed = is_running(worker) && send_signal(worker, "KILL");
    let ended = run.finish(RUN_LIMIT);
    let text = ended.all_text();
    if killed && ended.status.success() {
        return Err(format!("a killed run exited 0:\n{text}"));
    }
    if killed && !text.contains("SIGKILL") {
        return Err(format!("the kill is not reported:\n{text}"));
    }
    assert_no_panic(&ended.stderr, "kill -9");
    for (task, done) in &reported {
        let ids = journal_doc_ids(&out, task);
        if ids.len() < *done {
            return Err(format!(
                "{task}: {done} documents were reported done before the kill, the journal has {}",
                ids.len()
            ));
        }
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != ids.len() {
            return Err(format!("{task}: a document is journaled twice: {ids:?}"));
        }
    }
    if let Some(p) = partial_results(&out) {
        for (task, n) in p.counts() {
            let journaled = journal_docs(&out, &task).len();
            if n != journaled {
                return Err(format!(
                    "{task}: partial results count {n}, the journal holds {journaled}"
                ));
            }
        }
    }
    let resumed = run_to_end(&resume_args(&out), &dir, RUN_LIMIT);
    if !resumed.status.success() {
        return Err(format!("the resume failed:\n{}", all_text(&resumed)));
    }
    let results = final_results(&out).ok_or("the resume wrote no complete results")?;
    let samples = samples_files(&out, &results.stamp);
    Ok(Outcome {
        moment,
        killed,
        results,
        samples,
    })
}

#[test]
fn kill_9_at_ten_moments_loses_nothing_and_resume_equals_an_uninterrupted_run() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let (reference, outcomes) = std::thread::scope(|s| {
        let reference = s.spawn(|| {
            let dir = root.join("reference");
            std::fs::create_dir_all(&dir).expect("a folder");
            let out = dir.join("out");
            let args = run_args(&script(&dir), TASKS, LIMIT, &data, &out, &[]);
            let done = run_to_end(&args, &dir, RUN_LIMIT);
            assert!(done.status.success(), "{}", all_text(&done));
            let results = final_results(&out).expect("the uninterrupted run's results");
            let samples = samples_files(&out, &results.stamp);
            (results, samples)
        });
        // Two waves, so a loaded machine is not flooded.
        let mut outcomes = Vec::new();
        for wave in MOMENTS.chunks(6).enumerate() {
            let handles: Vec<_> = wave
                .1
                .iter()
                .enumerate()
                .map(|(j, m)| {
                    let i = wave.0 * 6 + j;
                    let data = &data;
                    s.spawn(move || interrupted(data, root, i, *m))
                })
                .collect();
            outcomes.extend(handles.into_iter().map(|h| h.join().expect("no panic")));
        }
        (reference.join().expect("no panic"), outcomes)
    });
    let (ref_results, ref_samples) = reference;
    assert_eq!(ref_samples.len(), 2, "a samples file per task");
    let expected = without_times(&ref_results.json);
    let mut failures = Vec::new();
    let mut kills = 0;
    for (moment, outcome) in MOMENTS.iter().zip(outcomes) {
        match outcome {
            Err(e) => failures.push(format!("{moment:?}: {e}")),
            Ok(o) => {
                kills += usize::from(o.killed);
                if without_times(&o.results.json) != expected {
                    failures.push(format!(
                        "{:?}: the resumed results differ:\n{}\nexpected:\n{}",
                        o.moment,
                        serde_json::to_string_pretty(&without_times(&o.results.json))
                            .unwrap_or_default(),
                        serde_json::to_string_pretty(&expected).unwrap_or_default()
                    ));
                }
                if o.samples != ref_samples {
                    failures.push(format!("{:?}: the resumed samples files differ", o.moment));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        kills >= 10,
        "only {kills} of {} moments killed a running worker",
        MOMENTS.len()
    );
}
