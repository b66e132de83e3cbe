//! sparkbench-tokenizer (being built).
