//! `evaluate` over real `google/IFEval` records (read from `SPARKBENCH_TEST_DATA`, default
//! `<workspace>/../shared/data`, file `ifeval/train.jsonl`) with constructed responses. Expected
//! strict/loose lists come from lm-eval v0.4.12's `test_instruction_following_strict` /
//! `_loose` on the same records and responses.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Map, Value};
use sparkbench_ifeval::evaluate;

struct Record {
    ids: Vec<String>,
    kwargs: Vec<Map<String, Value>>,
}

fn data_file() -> PathBuf {
    let root = std::env::var_os("SPARKBENCH_TEST_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    root.join("ifeval").join("train.jsonl")
}

fn load() -> Option<HashMap<i64, Record>> {
    let path = data_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            println!(
                "skipping: cannot read {} ({e}); set SPARKBENCH_TEST_DATA",
                path.display()
            );
            return None;
        }
    };
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        let key = v["key"]
            .as_i64()
            .unwrap_or_else(|| panic!("line {}: no key", n + 1));
        let ids = v["instruction_id_list"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let kwargs = v["kwargs"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m.as_object().cloned()).collect())
            .unwrap_or_default();
        out.insert(key, Record { ids, kwargs });
    }
    Some(out)
}

fn prompt_1012() -> &'static str {
    "Write an email to my boss telling him that I am quitting. The email must contain a title wrapped in double angular brackets, i.e. <<title>>."
}

#[test]
fn constructed_responses_score_as_lm_eval_scores_them() {
    let Some(records) = load() else { return };
    let fields = |n: usize| -> String {
        (0..n)
            .map(|i| format!("Field {i}: [value {i}]\n"))
            .collect()
    };
    let cases: Vec<(i64, String, Vec<bool>, Vec<bool>)> = vec![
        (
            1000,
            format!(
                "*Early life*\n{}\n*Reign* He ruled well.\n*Legacy* He is remembered.",
                "Raymond was a count of Tripoli ".repeat(50)
            ),
            vec![true, true, true],
            vec![true, true, true],
        ),
        (
            1000,
            "*Early life*\nRaymond, a count, ruled Tripoli.\n*Reign* He ruled well.".to_owned(),
            vec![false, false, false],
            vec![false, false, false],
        ),
        (1005, fields(12), vec![true], vec![true]),
        (1005, fields(11), vec![false], vec![false]),
        (
            1012,
            format!("{}\n<<Resignation>>\nDear boss, I quit.", prompt_1012()),
            vec![true, true],
            vec![true, true],
        ),
        (
            1012,
            format!("Sure!\n{}\n<<Resignation>>\nDear boss, I quit.", prompt_1012()),
            vec![false, true],
            vec![true, true],
        ),
        (
            1040,
            "\"Matthias Algiers: SKILLED in JAVA and PYTHON.\"".to_owned(),
            vec![true, true, true],
            vec![true, true, true],
        ),
        (
            1040,
            "Matthias Algiers: a CAREFUL, HONEST, DILIGENT, LOYAL, SMART, CALM, KIND, FAST, BOLD, WISE worker."
                .to_owned(),
            vec![false, true, false],
            vec![false, true, false],
        ),
        (1174, "*Hi* user. *Weather* is sunny.".to_owned(), vec![true, true, true], vec![true, true, true]),
        (
            1174,
            "*Hello* user. Good morning. Your forecast: cloudy. Go outdoors. Bring a coat. Goodbye now. Bye."
                .to_owned(),
            vec![false, false, false],
            vec![false, false, false],
        ),
        (2078, "* What has teeth but never bites?\nA mongoose with a smile.".to_owned(), vec![true], vec![true]),
        (2078, "* What has teeth?\n* A mongoose.".to_owned(), vec![false], vec![true]),
    ];
    for (key, response, strict, loose) in cases {
        let rec = records
            .get(&key)
            .unwrap_or_else(|| panic!("record {key} missing from {}", data_file().display()));
        let out = evaluate(&response, &rec.ids, &rec.kwargs)
            .unwrap_or_else(|e| panic!("record {key}: {e}"));
        assert_eq!(
            out.strict, strict,
            "record {key} strict, response {response:?}"
        );
        assert_eq!(
            out.loose, loose,
            "record {key} loose, response {response:?}"
        );
    }
}

#[test]
fn every_record_in_the_dataset_is_accepted() {
    let Some(records) = load() else { return };
    assert_eq!(records.len(), 541);
    for (key, rec) in &records {
        let out = evaluate("A short reply.", &rec.ids, &rec.kwargs)
            .unwrap_or_else(|e| panic!("record {key}: {e}"));
        assert_eq!(out.strict.len(), rec.ids.len());
        assert_eq!(out.loose.len(), rec.ids.len());
    }
}
