//! sparkbench-supervisor (being built).
