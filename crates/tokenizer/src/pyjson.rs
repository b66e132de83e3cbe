//! Python's `json.dumps`, as transformers' `tojson` chat-template filter calls it
//! (`ensure_ascii=False`, `indent=None`, `separators=None`, `sort_keys=False` by default); shared
//! with the engine's results writer in `sparkbench-pyfmt`.

pub use sparkbench_pyfmt::{DumpOptions, dumps};
