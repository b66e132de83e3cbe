//! The evaluation loop: prepare every task, skip journaled documents, ask the model for the rest
//! in chunks (identical requests computed once per run), score, journal, report.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sparkbench_protocol::{
    CallCtx, Cancel, GenerateRequest, LanguageModel, LoglikelihoodRequest, Phase, Request,
    Response, RunEvent, RunSpec, TaskPlan, TaskScore,
};
use sparkbench_tasks::{OutputType, PrepareOptions, PreparedDoc, Task};

use crate::aggregate::task_scores;
use crate::ask::{Stop, ask};
use crate::error::EngineError;
use crate::events::{HeartbeatRelay, prompt_tail, response_text, verdict};
use crate::journal::{
    DocRecord, JOURNAL_VERSION, Journal, JournalHeader, JournalWriter, RunMeta, TaskMeta,
    journal_dir, journal_path, read_journal, read_meta, write_meta,
};
use crate::plan::Plan;
use crate::results::{ResultsInput, TaskRecords, write_all};
use crate::{EventSink, RunOutcome, RunStatus};

/// New (not yet answered) generation requests gathered per chunk, in units of the batch size
/// (loglikelihood requests: as many batches as the model asks for). A chunk is computed, then
/// journaled.
const CHUNK_BATCHES: usize = 4;

/// One task with its prepared documents and journal.
struct Prepared<'t> {
    task: &'t dyn Task,
    meta: TaskMeta,
    docs: Vec<PreparedDoc>,
    done: Vec<DocRecord>,
    writer: JournalWriter,
}

pub(crate) fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Refuse an output folder whose journals were written by a different run.
fn check_fingerprint(dir: &Path, found: &str, expected: &str) -> Result<(), EngineError> {
    if found == expected {
        Ok(())
    } else {
        Err(EngineError::FingerprintMismatch {
            dir: dir.to_path_buf(),
            found: found.into(),
            expected: expected.into(),
        })
    }
}

/// Read a task's existing journal, checking its fingerprint.
pub(crate) fn existing_journal(spec: &RunSpec, task: &str) -> Result<Option<Journal>, EngineError> {
    let j = read_journal(&journal_path(&spec.output_dir, task))?;
    if let Some(j) = &j {
        check_fingerprint(&spec.output_dir, &j.header.fingerprint, &spec.fingerprint())?;
    }
    Ok(j)
}

fn check_capabilities(
    model: &dyn LanguageModel,
    plan: &Plan,
    spec: &RunSpec,
) -> Result<(), EngineError> {
    let caps = model.capabilities();
    for t in &plan.tasks {
        match t.task.output_type() {
            OutputType::MultipleChoice
                if !(caps.loglikelihood
                    || (caps.loglikelihood_approximate && spec.approximate_loglikelihood)) =>
            {
                return Err(EngineError::Unsupported(format!(
                    "task {} needs loglikelihood scoring, which this backend cannot do{}",
                    t.task.name(),
                    if caps.loglikelihood_approximate {
                        " exactly (allow the labelled approximation to use top-logprobs)"
                    } else {
                        ""
                    }
                )));
            }
            OutputType::GenerateUntil if !caps.generate => {
                return Err(EngineError::Unsupported(format!(
                    "task {} needs generation, which this backend cannot do",
                    t.task.name()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run the evaluation of `plan`. Emits `Failed` for errors other than cancellation.
pub fn run_plan(
    spec: &RunSpec,
    plan: &Plan,
    model: &mut dyn LanguageModel,
    sink: &dyn EventSink,
    cancel: &Cancel,
) -> Result<RunOutcome, EngineError> {
    let result = run_inner(spec, plan, model, sink, cancel);
    if let Err(e) = &result {
        sink.emit(RunEvent::Failed {
            error: e.to_string(),
        });
    }
    result
}

fn run_inner(
    spec: &RunSpec,
    plan: &Plan,
    model: &mut dyn LanguageModel,
    sink: &dyn EventSink,
    cancel: &Cancel,
) -> Result<RunOutcome, EngineError> {
    let started = Instant::now();
    let fingerprint = spec.fingerprint();
    let dir = journal_dir(&spec.output_dir);
    std::fs::create_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
    if let Some(old) = read_meta(&spec.output_dir)? {
        check_fingerprint(&spec.output_dir, &old.fingerprint, &fingerprint)?;
    }
    check_capabilities(model, plan, spec)?;
    let info = model.info();

    sink.emit(RunEvent::Phase {
        phase: Phase::Preparing,
    });
    let (chat_source, prepared_docs) = {
        let chat = if spec.apply_chat_template {
            Some(model.chat_template().ok_or(EngineError::NoChatTemplate)?)
        } else {
            None
        };
        let chat_source = chat.and_then(|c| c.source());
        let mut all = Vec::new();
        for t in &plan.tasks {
            let task = t.task.as_ref();
            let opts = PrepareOptions {
                limit: Some(sparkbench_tasks::resolve_limit(t.limit, task.num_docs())),
                num_fewshot: t.num_fewshot,
                fewshot_seed: spec.fewshot_seed,
                chat_template: chat,
                fewshot_as_multiturn: spec.multiturn(),
                system_instruction: spec.system_instruction.as_deref(),
                gen_kwargs: &spec.gen_kwargs,
            };
            let docs = task.prepare(&opts).map_err(|source| EngineError::Task {
                task: task.name().into(),
                source,
            })?;
            let meta = TaskMeta {
                name: task.name().into(),
                alias: task.alias().into(),
                version: task.version(),
                output_type: task.output_type(),
                n_shot: task.num_fewshot(t.num_fewshot),
                original: task.num_docs(),
                effective: docs.len(),
                metrics: task.metrics(),
                config: task.config(&opts),
                data_hashes: task.data_hashes(),
            };
            all.push((task, meta, docs));
        }
        (chat_source, all)
    };

    let mut tasks: Vec<Prepared<'_>> = Vec::new();
    for (task, meta, docs) in prepared_docs {
        let existing = existing_journal(spec, &meta.name)?;
        if let Some(j) = &existing
            && j.header.task.data_hashes != meta.data_hashes
        {
            return Err(EngineError::Journal {
                path: journal_path(&spec.output_dir, &meta.name),
                line: 1,
                message: format!(
                    "the data of task {} changed since this journal was written (split hashes {:?}, now {:?}); start the run in a new folder",
                    meta.name, j.header.task.data_hashes, meta.data_hashes
                ),
            });
        }
        let header = JournalHeader {
            sparkbench_journal: JOURNAL_VERSION,
            fingerprint: fingerprint.clone(),
            task: meta.clone(),
        };
        let writer = JournalWriter::open(
            &journal_path(&spec.output_dir, &meta.name),
            &header,
            existing.as_ref(),
        )?;
        let planned: HashSet<usize> = docs.iter().map(|d| d.doc_id).collect();
        let done: Vec<DocRecord> = existing
            .map(|j| j.records)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| planned.contains(&r.doc_id))
            .collect();
        let done_ids: HashSet<usize> = done.iter().map(|r| r.doc_id).collect();
        let docs = docs
            .into_iter()
            .filter(|d| !done_ids.contains(&d.doc_id))
            .collect();
        tasks.push(Prepared {
            task,
            meta,
            docs,
            done,
            writer,
        });
    }

    let meta = RunMeta {
        fingerprint: fingerprint.clone(),
        model: info.clone(),
        tree: plan.tree.clone(),
        tasks: tasks.iter().map(|t| t.meta.name.clone()).collect(),
        chat_template: chat_source,
        started_at: now_unix(),
    };
    write_meta(&spec.output_dir, &meta)?;

    let plans = tasks
        .iter()
        .map(|t| {
            let reqs: usize = t.docs.iter().map(|d| d.requests.len()).sum::<usize>()
                + t.done.iter().map(|r| r.requests.len()).sum::<usize>();
            TaskPlan {
                task: t.meta.name.clone(),
                docs: t.meta.effective,
                done: t.done.len(),
                requests: reqs.div_ceil(t.meta.effective.max(1)),
            }
        })
        .collect();
    sink.emit(RunEvent::Started {
        model: info,
        tasks: plans,
    });

    // Answers computed (or journaled) in this run, so identical requests are asked once.
    let mut cache: HashMap<Request, Response> = HashMap::new();
    for t in &tasks {
        for r in &t.done {
            for (q, a) in r.requests.iter().zip(&r.responses) {
                cache.insert(q.clone(), a.clone());
            }
        }
    }
    let relay = HeartbeatRelay::new(sink, Duration::from_secs(1));
    let mut phase = Phase::Preparing;
    let gen_target = spec.batch_size.max(1) * CHUNK_BATCHES;
    let ll_target = spec.batch_size.max(1) * model.loglikelihood_batches_per_call().max(1);
    let mut all_scores: Vec<(String, Vec<TaskScore>)> = Vec::new();

    for ti in 0..tasks.len() {
        let pending = std::mem::take(&mut tasks[ti].docs);
        let mut rest = pending.into_iter().peekable();
        while rest.peek().is_some() {
            if cancel.is_set() {
                return Ok(cancelled(sink, &tasks));
            }
            // Gather documents until the chunk holds enough requests not answered yet.
            let mut chunk: Vec<PreparedDoc> = Vec::new();
            let mut asked: HashSet<Request> = HashSet::new();
            let mut ll: Vec<LoglikelihoodRequest> = Vec::new();
            let mut gens: Vec<GenerateRequest> = Vec::new();
            while ll.len() < ll_target && gens.len() < gen_target {
                let Some(doc) = rest.next() else { break };
                for q in &doc.requests {
                    if !cache.contains_key(q) && asked.insert(q.clone()) {
                        match q {
                            Request::Loglikelihood(r) => ll.push(r.clone()),
                            Request::Generate(r) => gens.push(r.clone()),
                        }
                    }
                }
                chunk.push(doc);
            }
            let t = &mut tasks[ti];
            let heartbeat = |n: u64| relay.beat(n);
            let cx = CallCtx::new(cancel, &heartbeat);
            let asked_model = ask(model, ll, gens, &cx, &mut cache, &mut phase, sink);
            let tokens = match asked_model {
                Ok(tokens) => tokens,
                Err(Stop::Cancelled) => return Ok(cancelled(sink, &tasks)),
                Err(Stop::Model(source)) => {
                    return Err(EngineError::Model {
                        task: t.meta.name.clone(),
                        source,
                    });
                }
                Err(Stop::Count { sent, got, kind }) => {
                    return Err(EngineError::AnswerCount { sent, got, kind });
                }
            };
            let mut records = Vec::with_capacity(chunk.len());
            for doc in chunk {
                let responses: Vec<Response> = doc
                    .requests
                    .iter()
                    .filter_map(|q| cache.get(q).cloned())
                    .collect();
                let outcomes =
                    t.task
                        .score(&doc, &responses)
                        .map_err(|source| EngineError::Task {
                            task: t.meta.name.clone(),
                            source,
                        })?;
                records.push(DocRecord {
                    doc_id: doc.doc_id,
                    doc: doc.doc,
                    target: doc.target,
                    requests: doc.requests,
                    gen_kwargs: doc.gen_kwargs,
                    responses,
                    outcomes,
                });
            }
            t.writer.append(&records)?;
            let last = records.last().cloned();
            t.done.extend(records);
            relay.reset();
            let running = headline_spec(&t.meta.name, &t.meta.metrics).and_then(|m| {
                task_scores(std::slice::from_ref(m), &t.done)
                    .into_iter()
                    .next()
            });
            sink.emit(RunEvent::Progress {
                task: t.meta.name.clone(),
                done: t.done.len(),
                total: t.meta.effective,
                tokens,
                running,
            });
            if let Some(rec) = last {
                let headline = headline_spec(&t.meta.name, &t.meta.metrics).and_then(|m| {
                    rec.outcomes
                        .iter()
                        .find(|o| o.filter == m.filter)
                        .and_then(|o| o.metrics.iter().find(|(n, _)| *n == m.name))
                });
                if let Some((_, value)) = headline {
                    sink.emit(RunEvent::Sample {
                        task: t.meta.name.clone(),
                        doc: rec.doc_id,
                        prompt_tail: prompt_tail(&rec),
                        response: response_text(&rec),
                        verdict: verdict(value),
                    });
                }
            }
        }
        let t = &mut tasks[ti];
        t.done.sort_by_key(|r| r.doc_id);
        let scores = task_scores(&t.meta.metrics, &t.done);
        sink.emit(RunEvent::TaskScored {
            task: t.meta.name.clone(),
            scores: scores.clone(),
        });
        all_scores.push((t.meta.name.clone(), scores));
    }

    sink.emit(RunEvent::Phase {
        phase: Phase::Writing,
    });
    let mut finished = Vec::new();
    for t in &tasks {
        let records = existing_journal(spec, &t.meta.name)?
            .map(|j| j.records)
            .unwrap_or_default();
        finished.push(TaskRecords {
            meta: t.meta.clone(),
            records,
        });
    }
    let input = ResultsInput {
        spec,
        meta: &meta,
        tasks: &finished,
        partial: false,
        elapsed_seconds: started.elapsed().as_secs_f64(),
    };
    let files = write_all(&spec.output_dir, &input)?;
    sink.emit(RunEvent::Finished {
        results_file: files.results_file.clone(),
    });
    Ok(RunOutcome {
        status: RunStatus::Complete,
        results_file: Some(files.results_file),
        samples_files: files.samples_files,
        counts: finished
            .iter()
            .map(|t| (t.meta.name.clone(), t.records.len()))
            .collect(),
        scores: all_scores,
    })
}

/// Emit `Cancelled` and build the cancelled outcome (journals stay as they are).
fn cancelled(sink: &dyn EventSink, tasks: &[Prepared<'_>]) -> RunOutcome {
    let counts: Vec<(String, usize)> = tasks
        .iter()
        .map(|t| (t.meta.name.clone(), t.done.len()))
        .collect();
    sink.emit(RunEvent::Cancelled {
        done: counts.iter().map(|c| c.1).sum(),
    });
    RunOutcome {
        status: RunStatus::Cancelled,
        results_file: None,
        samples_files: Vec::new(),
        counts,
        scores: Vec::new(),
    }
}

/// The metric the dashboard's running score shows: the task's headline (the one the comparison
/// table uses).
fn headline_spec<'a>(
    task: &str,
    metrics: &'a [sparkbench_tasks::MetricSpec],
) -> Option<&'a sparkbench_tasks::MetricSpec> {
    let keys: Vec<String> = metrics
        .iter()
        .map(|m| format!("{},{}", m.name, m.filter))
        .collect();
    let key = sparkbench_protocol::headline::headline_key(task, keys.iter().map(String::as_str))?;
    metrics
        .iter()
        .zip(&keys)
        .find(|(_, k)| **k == key)
        .map(|(m, _)| m)
}
