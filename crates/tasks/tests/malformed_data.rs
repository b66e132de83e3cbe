//! Bad data gets a `TaskError::Data` naming the file, line and field: missing fields, wrong
//! types, empty splits, broken JSON lines; and parquet files are read like JSONL.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{opts, source};
use sparkbench_tasks::{TaskError, load};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn data_error(e: TaskError) -> (String, String) {
    match e {
        TaskError::Data { location, message } => (location, message),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn missing_field_is_named_with_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "gsm8k/test.jsonl",
        "{\"question\": \"q1\", \"answer\": \"#### 1\"}\n{\"question\": \"q2\"}\n",
    );
    let task = load("gsm8k", &source(dir.path())).expect("load");
    let (loc, msg) = data_error(task.prepare(&opts(2, Some(0))).expect_err("missing answer"));
    assert!(
        loc.ends_with("gsm8k/test.jsonl line 2, field `answer`"),
        "{loc}"
    );
    assert_eq!(msg, "missing field");
}

#[test]
fn wrong_type_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "piqa/validation.jsonl",
        "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": \"0\"}\n",
    );
    let task = load("piqa", &source(dir.path())).expect("load");
    let (loc, msg) = data_error(task.prepare(&opts(1, None)).expect_err("string label"));
    assert!(
        loc.ends_with("piqa/validation.jsonl line 1, field `label`"),
        "{loc}"
    );
    assert_eq!(msg, "expected an integer, found a string");
}

#[test]
fn bad_values_found_while_processing_fail_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let row = |label: &str| {
        format!(
            "{{\"ind\": 1, \"activity_label\": \"a\", \"ctx_a\": \"b\", \"ctx_b\": \"c\", \"ctx\": \"b c\", \"endings\": [\"x\", \"y\"], \"source_id\": \"s\", \"split\": \"val\", \"split_type\": \"indomain\", \"label\": {label}}}\n"
        )
    };
    write(
        dir.path(),
        "hellaswag/validation.jsonl",
        &format!("{}{}", row("\"1\""), row("1")),
    );
    let (loc, msg) = data_error(
        load("hellaswag", &source(dir.path()))
            .err()
            .expect("int label"),
    );
    assert!(
        loc.ends_with("hellaswag/validation.jsonl line 2, field `label`"),
        "{loc}"
    );
    assert!(msg.contains("expected a string"), "{msg}");
    write(
        dir.path(),
        "ifeval/train.jsonl",
        "{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": \"oops\"}\n",
    );
    let (loc, _) = data_error(
        load("ifeval", &source(dir.path()))
            .err()
            .expect("bad kwargs"),
    );
    assert!(
        loc.ends_with("ifeval/train.jsonl line 1, field `kwargs`"),
        "{loc}"
    );
}

#[test]
fn broken_json_line_and_empty_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "boolq/validation.jsonl",
        "{\"question\": \"q\", \"passage\": \"p\", \"idx\": 0, \"label\": 1}\n{\"question\": \n",
    );
    let (loc, msg) = data_error(load("boolq", &source(dir.path())).err().expect("bad json"));
    assert!(loc.ends_with("boolq/validation.jsonl line 2"), "{loc}");
    assert!(msg.contains("not valid JSON"), "{msg}");
    write(dir.path(), "winogrande/validation.jsonl", "");
    let (_, msg) = data_error(
        load("winogrande", &source(dir.path()))
            .err()
            .expect("empty"),
    );
    assert!(msg.contains("no documents"), "{msg}");
}

#[test]
fn missing_files_say_how_to_provide_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = load("arc_easy", &source(dir.path()))
        .err()
        .expect("missing");
    let TaskError::MissingData(msg) = e else {
        panic!("expected MissingData")
    };
    assert!(
        msg.contains("arc_easy/test.jsonl") && msg.contains("arc_easy/test.parquet"),
        "{msg}"
    );
    assert!(msg.contains("SPARKBENCH_DATA"), "{msg}");
}

#[test]
fn parquet_split_reads_like_jsonl() {
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("gsm8k")).expect("mkdir");
    let path = dir.path().join("gsm8k/test.parquet");
    let schema = Arc::new(
        parse_message_type("message schema { REQUIRED BYTE_ARRAY question (UTF8); REQUIRED BYTE_ARRAY answer (UTF8); }")
            .expect("schema"),
    );
    let file = std::fs::File::create(&path).expect("create");
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
            .expect("writer");
    let mut rg = writer.next_row_group().expect("row group");
    for values in [["How many?", "Two?"], ["It is 3.\n#### 3", "#### 2"]] {
        let mut col = rg.next_column().expect("column").expect("exists");
        let data: Vec<ByteArray> = values.iter().map(|v| ByteArray::from(*v)).collect();
        col.typed::<ByteArrayType>()
            .write_batch(&data, None, None)
            .expect("write");
        col.close().expect("close column");
    }
    rg.close().expect("close rg");
    writer.close().expect("close");

    let task = load("gsm8k", &source(dir.path())).expect("load parquet");
    assert_eq!(task.num_docs(), 2);
    let docs = task.prepare(&opts(2, Some(0))).expect("prepare");
    assert_eq!(
        docs[1].doc,
        serde_json::json!({"question": "Two?", "answer": "#### 2"})
    );
    assert_eq!(docs[0].target, "It is 3.\n#### 3");
    let bytes = std::fs::read(&path).expect("read");
    let expect = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert_eq!(task.data_hashes()[0], ("gsm8k/test".to_string(), expect));
    let loc = sparkbench_tasks::data::read_split_file("x", "y", Path::new("/nonexistent.parquet"))
        .expect_err("missing");
    assert!(loc.to_string().contains("/nonexistent.parquet"));
}
