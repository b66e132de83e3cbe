//! sparkbench-scripted (being built).
