//! sparkbench-runs (being built).
