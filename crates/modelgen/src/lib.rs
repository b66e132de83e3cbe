//! sparkbench-modelgen (being built).
