//! sparkbench-tui (being built).
