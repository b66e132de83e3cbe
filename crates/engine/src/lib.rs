//! sparkbench-engine (being built).
