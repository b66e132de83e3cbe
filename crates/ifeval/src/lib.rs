//! sparkbench-ifeval (being built).
