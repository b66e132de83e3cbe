//! The Hugging Face Hub route: the dataset repos lm-eval loads, their parquet files found in
//! the standard HF cache (`HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`)
//! or downloaded with hf-hub unless `HF_HUB_OFFLINE` is set; `HF_TOKEN` for gated repos.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo, RepoType};

/// How sparkbench reaches the Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// Whether the Hub (and its cache) may be used at all.
    pub enabled: bool,
    /// The hub cache folder (`.../huggingface/hub`).
    pub cache_dir: PathBuf,
    /// `HF_TOKEN`.
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE`: use the cache only.
    pub offline: bool,
    /// `HF_ENDPOINT`.
    pub endpoint: Option<String>,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self::from_env()
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

impl HubSettings {
    /// From `HF_HUB_CACHE`, `HF_HOME`, `HF_TOKEN`, `HF_HUB_OFFLINE`, `HF_ENDPOINT`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let cache_dir = if let Some(c) = var("HF_HUB_CACHE") {
            PathBuf::from(c)
        } else if let Some(h) = var("HF_HOME") {
            PathBuf::from(h).join("hub")
        } else {
            Cache::default().path().clone()
        };
        Self {
            enabled: true,
            cache_dir,
            token: var("HF_TOKEN"),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| truthy(&v)),
            endpoint: var("HF_ENDPOINT"),
        }
    }

    /// No Hub access at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            cache_dir: PathBuf::new(),
            token: None,
            offline: true,
            endpoint: None,
        }
    }
}

/// A dataset repo lm-eval loads and where its split files sit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubDataset {
    /// `owner/name`.
    pub repo: &'static str,
    /// lm-eval's `dataset_name` (the config); parquet files live under a folder of this name
    /// (or `data/`).
    pub config: &'static str,
    /// For repos holding one data file instead of per-split parquet files: that file, served
    /// as the `train` split.
    pub single_file: Option<&'static str>,
}

/// The Hub dataset behind one of our dataset folder names.
pub fn hub_dataset(dataset: &str) -> Option<HubDataset> {
    let d = |repo, config| {
        Some(HubDataset {
            repo,
            config,
            single_file: None,
        })
    };
    match dataset {
        "gsm8k" => d("openai/gsm8k", "main"),
        "hellaswag" => d("Rowan/hellaswag", "default"),
        "mmlu" => d("cais/mmlu", "all"),
        "arc_easy" => d("allenai/ai2_arc", "ARC-Easy"),
        "arc_challenge" => d("allenai/ai2_arc", "ARC-Challenge"),
        "winogrande" => d("allenai/winogrande", "winogrande_xl"),
        "truthfulqa_mc" => d("truthfulqa/truthful_qa", "multiple_choice"),
        "piqa" => d("baber/piqa", "default"),
        "boolq" => d("aps/super_glue", "boolq"),
        "ifeval" => Some(HubDataset {
            repo: "google/IFEval",
            config: "default",
            single_file: Some("ifeval_input_data.json"),
        }),
        _ => None,
    }
}

/// Whether `rfilename` (a path inside the repo) holds `split` of `hd`.
pub fn matches(hd: &HubDataset, split: &str, rfilename: &str) -> bool {
    if let Some(single) = hd.single_file {
        return split == "train" && rfilename == single;
    }
    if !rfilename.ends_with(".parquet") {
        return false;
    }
    let (dir, file) = rfilename.rsplit_once('/').unwrap_or(("", rfilename));
    let dir_ok = dir == hd.config
        || dir == "data"
        || (dir.is_empty() && hd.config == "default")
        || dir == format!("{}/{split}", hd.config);
    let stem = file.trim_end_matches(".parquet");
    let file_ok = stem == split
        || stem.starts_with(&format!("{split}-"))
        || dir.ends_with(&format!("/{split}"));
    dir_ok && file_ok
}

/// The local paths of the files holding `split`, from the cache or downloaded.
pub fn locate_split(
    settings: &HubSettings,
    hd: &HubDataset,
    split: &str,
) -> Result<Vec<PathBuf>, String> {
    if let Some(found) = scan_cache(&settings.cache_dir, hd, split) {
        return Ok(found);
    }
    let cache_repo = settings
        .cache_dir
        .join(format!("datasets--{}", hd.repo.replace('/', "--")));
    if settings.offline {
        return Err(format!(
            "not in the Hugging Face cache ({}) and HF_HUB_OFFLINE is set",
            cache_repo.display()
        ));
    }
    let mut builder =
        ApiBuilder::from_cache(Cache::new(settings.cache_dir.clone())).with_progress(false);
    // Without HF_TOKEN, keep the token hf-hub found in the cache (`huggingface-cli login`).
    if let Some(token) = &settings.token {
        builder = builder.with_token(Some(token.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    let api = builder
        .build()
        .map_err(|e| format!("cannot start the Hub client: {e}"))?;
    let repo = api.repo(Repo::new(hd.repo.to_string(), RepoType::Dataset));
    let info = repo
        .info()
        .map_err(|e| format!("cannot list the repo files: {e}"))?;
    let mut files: Vec<String> = info
        .siblings
        .into_iter()
        .map(|s| s.rfilename)
        .filter(|f| matches(hd, split, f))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("the repo has no file for split `{split}`"));
    }
    files
        .iter()
        .map(|f| {
            repo.get(f)
                .map_err(|e| format!("cannot download `{f}`: {e}"))
        })
        .collect()
}

/// Files for `split` in the cached snapshot of `refs/main`, if any.
fn scan_cache(cache_dir: &Path, hd: &HubDataset, split: &str) -> Option<Vec<PathBuf>> {
    let repo_dir = cache_dir.join(format!("datasets--{}", hd.repo.replace('/', "--")));
    let sha = std::fs::read_to_string(repo_dir.join("refs").join("main")).ok()?;
    let snapshot = repo_dir.join("snapshots").join(sha.trim());
    let mut found = Vec::new();
    walk(&snapshot, &snapshot, &mut |rel, path| {
        if matches(hd, split, rel) {
            found.push(path.to_path_buf());
        }
    });
    found.sort();
    (!found.is_empty()).then_some(found)
}

fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(&str, &Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, f);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            f(&rel, &path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_matching_follows_hub_layouts() {
        let gsm = hub_dataset("gsm8k").expect("gsm8k");
        assert!(matches(&gsm, "test", "main/test-00000-of-00001.parquet"));
        assert!(!matches(
            &gsm,
            "test",
            "socratic/test-00000-of-00001.parquet"
        ));
        assert!(!matches(&gsm, "train", "main/test-00000-of-00001.parquet"));
        let mmlu = hub_dataset("mmlu").expect("mmlu");
        assert!(matches(&mmlu, "dev", "all/dev-00000-of-00001.parquet"));
        assert!(!matches(&mmlu, "dev", "anatomy/dev-00000-of-00001.parquet"));
        let hs = hub_dataset("hellaswag").expect("hellaswag");
        assert!(matches(
            &hs,
            "validation",
            "data/validation-00000-of-00001.parquet"
        ));
        let ife = hub_dataset("ifeval").expect("ifeval");
        assert!(matches(&ife, "train", "ifeval_input_data.json"));
        assert!(!matches(&ife, "test", "ifeval_input_data.json"));
    }

    #[test]
    fn offline_cache_scan_finds_snapshot_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("datasets--openai--gsm8k");
        std::fs::create_dir_all(repo.join("refs")).expect("mkdir");
        std::fs::write(repo.join("refs/main"), "abc123\n").expect("write");
        let snap = repo.join("snapshots/abc123/main");
        std::fs::create_dir_all(&snap).expect("mkdir");
        std::fs::write(snap.join("test-00000-of-00001.parquet"), b"x").expect("write");
        let settings = HubSettings {
            enabled: true,
            cache_dir: dir.path().to_path_buf(),
            token: None,
            offline: true,
            endpoint: None,
        };
        let gsm = hub_dataset("gsm8k").expect("gsm8k");
        let found = locate_split(&settings, &gsm, "test").expect("found");
        assert_eq!(found, vec![snap.join("test-00000-of-00001.parquet")]);
        let err = locate_split(&settings, &gsm, "train").expect_err("offline");
        assert!(err.contains("HF_HUB_OFFLINE"), "{err}");
    }
}
