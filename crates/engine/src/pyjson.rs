//! Python's `json.dumps(..., ensure_ascii=False)` byte for byte, with and without `indent=2`:
//! lm-eval's results files, samples lines and `doc_hash` are all written this way. The
//! implementation is shared with the tokenizer's `tojson` in `sparkbench-pyfmt`.

pub use sparkbench_pyfmt::{
    dumps_compact as dumps, dumps_indent2, json_float as float_repr, sha256_hex,
};
