//! sparkbench-http (being built).
