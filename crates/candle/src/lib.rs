//! sparkbench-candle (being built).
