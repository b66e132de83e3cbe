//! Finding an interrupted run's spec from its folder, for `sparkbench run --resume`.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use sparkbench_protocol::RunSpec;

use crate::execute::spec_file;

/// The spec written into an `lm-eval/` (output) folder, if any.
pub fn read_spec_in(lm_eval: &Path) -> Result<Option<RunSpec>> {
    let path = spec_file(lm_eval);
    if !path.is_file() {
        return Ok(None);
    }
    crate::worker::read_spec(&path).map(Some)
}

/// The spec and the output folder of the run at `path` (its run folder or its `lm-eval/`).
pub fn find_spec(path: &Path) -> Result<(RunSpec, PathBuf)> {
    for dir in [path.to_path_buf(), path.join("lm-eval")] {
        if let Some(spec) = read_spec_in(&dir)? {
            if spec.output_dir != dir
                && std::fs::canonicalize(&spec.output_dir).ok() != std::fs::canonicalize(&dir).ok()
            {
                // The folder was moved: follow it.
                let mut spec = spec;
                spec.output_dir = dir.clone();
                return Ok((spec, dir));
            }
            return Ok((spec, dir));
        }
    }
    bail!(
        "--resume {}: no run-spec.json there or in its lm-eval/ folder; give the folder of a run sparkbench started",
        path.display()
    )
}

/// Refuse, with one clear message, a spec whose fingerprint differs from the journal's (the
/// spec file was edited, or belongs to another run).
pub fn check_fingerprint(spec: &RunSpec, lm_eval: &Path) -> Result<()> {
    let meta = sparkbench_engine::meta_path(lm_eval);
    let Ok(text) = std::fs::read_to_string(&meta) else {
        return Ok(());
    };
    let recorded: sparkbench_engine::RunMeta =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", meta.display()))?;
    if recorded.fingerprint != spec.fingerprint() {
        bail!(
            "--resume {}: the run folder belongs to a different run: the fingerprint of {} differs from the journal's (other settings); start a new run instead",
            lm_eval.display(),
            spec_file(lm_eval).display()
        );
    }
    Ok(())
}

/// The model folder of a run's `lm-eval/` folder (`<model>/benchmarks/.../lm-eval`).
pub fn model_dir_of(lm_eval: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(lm_eval).ok()?;
    let mut acc = PathBuf::new();
    let mut found = None;
    for c in abs.components() {
        if let Component::Normal(name) = c
            && name == "benchmarks"
        {
            found = Some(acc.clone());
        }
        acc.push(c);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_folder_is_above_benchmarks() {
        let tmp = tempfile::tempdir().expect("tmp");
        let lm = tmp
            .path()
            .join("m/benchmarks/fine-tuned/2026-01-01T00-00-00/lm-eval");
        std::fs::create_dir_all(&lm).expect("mkdir");
        let found = model_dir_of(&lm).expect("model dir");
        assert_eq!(
            found,
            std::fs::canonicalize(tmp.path().join("m")).expect("canon")
        );
        assert!(model_dir_of(tmp.path()).is_none());
    }

    #[test]
    fn a_folder_without_a_spec_is_a_clear_error() {
        let tmp = tempfile::tempdir().expect("tmp");
        let err = find_spec(tmp.path()).expect_err("must fail").to_string();
        assert!(err.contains("run-spec.json"), "{err}");
    }
}
