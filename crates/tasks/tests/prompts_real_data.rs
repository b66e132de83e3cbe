//! The exact requests of the first documents of every task, on the real data, against
//! lm-eval's templates and the spec's few-shot index vectors.

mod common;

use common::{TagTemplate, ll, opts, real_data, rows, s, source};
use serde_json::json;
use sparkbench_protocol::Request;
use sparkbench_tasks::{PrepareOptions, load};

#[test]
fn gsm8k_five_shot_first_docs() {
    let Some(dir) = real_data() else { return };
    let task = load("gsm8k", &source(&dir)).expect("load gsm8k");
    assert_eq!(task.num_docs(), 1319);
    assert_eq!(task.num_fewshot(None), 5);
    let docs = task.prepare(&opts(3, None)).expect("prepare");
    let train = rows(&dir, "gsm8k", "train");
    let test = rows(&dir, "gsm8k", "test");
    let vectors = [
        [6374, 3610, 957, 61, 742],
        [7462, 6610, 4769, 286, 5501],
        [5677, 687, 806, 6279, 2905],
    ];
    for (i, idx) in vectors.iter().enumerate() {
        let mut expect = String::new();
        for &j in idx {
            expect.push_str(&format!(
                "Question: {}\nAnswer: {}\n\n",
                s(&train[j], "question"),
                s(&train[j], "answer")
            ));
        }
        expect.push_str(&format!("Question: {}\nAnswer:", s(&test[i], "question")));
        let Request::Generate(g) = &docs[i].requests[0] else {
            panic!("generation expected")
        };
        assert_eq!(g.context, expect, "doc {i}");
        assert_eq!(g.until, vec!["Question:", "</s>", "<|im_end|>"]);
        assert_eq!(g.max_gen_toks, 256);
        assert_eq!(docs[i].target, s(&test[i], "answer"));
    }
    let Request::Generate(g) = &docs[0].requests[0] else {
        panic!()
    };
    assert!(g.context.ends_with("Question: Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?\nAnswer:"));
    assert_eq!(
        docs[0].gen_kwargs,
        Some(
            json!({"until": ["Question:", "</s>", "<|im_end|>"], "do_sample": false, "temperature": 0.0})
        )
    );
    assert_eq!(docs[0].doc, json!(test[0]));
}

#[test]
fn gsm8k_scoring_and_num_fewshot_override() {
    let Some(dir) = real_data() else { return };
    let task = load("gsm8k", &source(&dir)).expect("load");
    assert_eq!(task.num_fewshot(Some(0)), 0);
    let docs = task.prepare(&opts(1, Some(0))).expect("prepare");
    let Request::Generate(g) = &docs[0].requests[0] else {
        panic!()
    };
    assert!(g.context.starts_with("Question: Janet"));
    let resp = sparkbench_protocol::Response::Generation(sparkbench_protocol::Generation {
        text: " She makes $18.\n#### 18".into(),
        n_tokens: 9,
        stop: sparkbench_protocol::StopReason::Eos,
    });
    let out = task.score(&docs[0], &[resp]).expect("score");
    assert_eq!(out[0].filter, "strict-match");
    assert_eq!(out[0].filtered_resps, json!(["18"]));
    assert_eq!(
        out[0].metrics[0].1,
        sparkbench_tasks::MetricValue::Float(1.0)
    );
    assert_eq!(out[1].filter, "flexible-extract");
    assert_eq!(out[1].filtered_resps, json!(["18"]));
}

#[test]
fn arc_challenge_25_shot_doc0() {
    let Some(dir) = real_data() else { return };
    let task = load("arc_challenge", &source(&dir)).expect("load");
    assert_eq!(task.num_docs(), 1172);
    let docs = task.prepare(&opts(1, Some(25))).expect("prepare");
    let train = rows(&dir, "arc_challenge", "train");
    let test = rows(&dir, "arc_challenge", "test");
    let idx = [
        902, 239, 15, 185, 71, 171, 201, 726, 484, 35, 63, 32, 708, 991, 949, 304, 186, 374, 234,
        29, 1030, 996, 511, 132, 1108,
    ];
    let answer = |r: &serde_json::Map<String, serde_json::Value>| -> String {
        let labels = r["choices"]["label"].as_array().expect("labels");
        let k = labels
            .iter()
            .position(|l| l.as_str() == Some(s(r, "answerKey")))
            .expect("key");
        r["choices"]["text"][k].as_str().expect("text").to_string()
    };
    let mut expect = String::new();
    for j in idx {
        expect.push_str(&format!(
            "Question: {}\nAnswer: {}\n\n",
            s(&train[j], "question"),
            answer(&train[j])
        ));
    }
    expect.push_str(&format!("Question: {}\nAnswer:", s(&test[0], "question")));
    let texts = test[0]["choices"]["text"].as_array().expect("texts");
    assert_eq!(docs[0].requests.len(), texts.len());
    for (r, t) in docs[0].requests.iter().zip(texts) {
        let (ctx, cont) = ll(r);
        assert_eq!(ctx, expect);
        assert_eq!(cont, format!(" {}", t.as_str().expect("str")));
    }
    assert_eq!(docs[0].target, "2");
    assert!(expect.ends_with("Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:"));
}

#[test]
fn arc_easy_zero_shot_default() {
    let Some(dir) = real_data() else { return };
    let task = load("arc_easy", &source(&dir)).expect("load");
    assert_eq!(task.num_docs(), 2376);
    let docs = task.prepare(&opts(1, None)).expect("prepare");
    let (ctx, cont) = ll(&docs[0].requests[0]);
    assert_eq!(
        ctx,
        "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:"
    );
    assert_eq!(
        cont,
        " Sunlight is the source of energy for nearly all ecosystems."
    );
}

#[test]
fn hellaswag_processed_doc_and_requests() {
    let Some(dir) = real_data() else { return };
    let task = load("hellaswag", &source(&dir)).expect("load");
    let docs = task.prepare(&opts(1, None)).expect("prepare");
    let d = &docs[0];
    let keys: Vec<&String> = d.doc.as_object().expect("obj").keys().collect();
    assert_eq!(
        keys,
        vec![
            "ind",
            "activity_label",
            "ctx_a",
            "ctx_b",
            "ctx",
            "endings",
            "source_id",
            "split",
            "split_type",
            "label",
            "query",
            "choices",
            "gold"
        ]
    );
    assert_eq!(
        d.doc["query"],
        "Roof shingle removal: A man is sitting on a roof. He"
    );
    assert_eq!(d.doc["gold"], 3);
    assert_eq!(d.target, "3");
    let conts: Vec<&str> = d.requests.iter().map(|r| ll(r).1).collect();
    assert_eq!(
        conts,
        vec![
            " is using wrap to wrap a pair of skis.",
            " is ripping level tiles off.",
            " is holding a rubik's cube.",
            " starts pulling up roofing on a roof."
        ]
    );
    assert_eq!(
        ll(&d.requests[0]).0,
        "Roof shingle removal: A man is sitting on a roof. He"
    );
}

#[test]
fn hellaswag_few_shot_draws_k_plus_one() {
    let Some(dir) = real_data() else { return };
    // Our train copy has 2000 rows (not 39905), so the spec's vector does not apply; the
    // k+1 rule is checked against the sampler directly.
    let task = load("hellaswag", &source(&dir)).expect("load");
    let docs = task.prepare(&opts(2, Some(2))).expect("prepare");
    let train = rows(&dir, "hellaswag", "train");
    let mut rng = sparkbench_tasks::fewshot::PyRandom::new(1234);
    let first = rng.sample(train.len(), 3).expect("sample");
    let ctx = ll(&docs[0].requests[0]).0;
    let shot_ind: Vec<i64> = first[..2]
        .iter()
        .map(|&j| train[j]["ind"].as_i64().expect("ind"))
        .collect();
    assert_eq!(shot_ind.len(), 2);
    let second_draw = rng.sample(train.len(), 3).expect("sample");
    let ctx1 = ll(&docs[1].requests[0]).0;
    for (c, picks) in [(ctx, &first), (ctx1, &second_draw)] {
        let labels: Vec<&str> = picks[..2]
            .iter()
            .map(|&j| s(&train[j], "activity_label"))
            .collect();
        for l in labels {
            assert!(c.contains(l), "{l} missing");
        }
        assert_eq!(c.matches("\n\n").count(), 2);
    }
}

#[test]
fn mmlu_zero_and_five_shot() {
    let Some(dir) = real_data() else { return };
    let task = load("mmlu_abstract_algebra", &source(&dir)).expect("load");
    assert_eq!(task.num_docs(), 100);
    assert_eq!(task.alias(), "abstract_algebra");
    let docs = task.prepare(&opts(1, None)).expect("prepare");
    let (ctx, _) = ll(&docs[0].requests[0]);
    assert_eq!(
        ctx,
        "The following are multiple choice questions (with answers) about abstract algebra.\n\nFind the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:"
    );
    let conts: Vec<&str> = docs[0].requests.iter().map(|r| ll(r).1).collect();
    assert_eq!(conts, vec![" A", " B", " C", " D"]);
    assert_eq!(docs[0].target, "1");
    let five = task.prepare(&opts(1, Some(5))).expect("prepare");
    let dev: Vec<_> = rows(&dir, "mmlu", "dev")
        .into_iter()
        .filter(|r| s(r, "subject") == "abstract_algebra")
        .collect();
    let mut expect =
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
            .to_string();
    for r in &dev[..5] {
        let c = r["choices"].as_array().expect("choices");
        let letter = ["A", "B", "C", "D"][r["answer"].as_u64().expect("answer") as usize];
        expect.push_str(&format!(
            "{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer: {letter}\n\n",
            s(r, "question").trim(),
            c[0].as_str().expect("s"),
            c[1].as_str().expect("s"),
            c[2].as_str().expect("s"),
            c[3].as_str().expect("s")
        ));
    }
    expect.push_str("Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:");
    assert_eq!(ll(&five[0].requests[0]).0, expect);
    assert!(
        task.prepare(&opts(1, Some(6))).is_err(),
        "first_n cannot give 6 from 5 dev rows"
    );
}

#[test]
fn mmlu_chat_template_drops_the_delimiter() {
    let Some(dir) = real_data() else { return };
    let task = load("mmlu_anatomy", &source(&dir)).expect("load");
    let t = TagTemplate { no_system: false };
    let o = PrepareOptions {
        chat_template: Some(&t),
        fewshot_as_multiturn: true,
        ..opts(1, Some(1))
    };
    let docs = task.prepare(&o).expect("prepare");
    let (ctx, cont) = ll(&docs[0].requests[0]);
    assert_eq!(cont, "A");
    assert!(ctx.starts_with("<system>The following are multiple choice questions (with answers) about anatomy.\n\n</system><user>"), "{ctx}");
    assert!(ctx.contains("\nAnswer:</user><assistant>"));
    assert!(ctx.ends_with("\nAnswer:</user><assistant>"));
    assert_eq!(ctx.matches("<assistant>").count(), 2);
    // A template without a system role: retried without the description.
    let t = TagTemplate { no_system: true };
    let o = PrepareOptions {
        chat_template: Some(&t),
        fewshot_as_multiturn: false,
        ..opts(1, Some(1))
    };
    let docs = task.prepare(&o).expect("prepare");
    let (ctx, _) = ll(&docs[0].requests[0]);
    assert!(
        ctx.starts_with("<user>") && !ctx.contains("The following are"),
        "{ctx}"
    );
    assert_eq!(ctx.matches("Answer:").count(), 2);
}

#[test]
fn winogrande_multiple_input() {
    let Some(dir) = real_data() else { return };
    let task = load("winogrande", &source(&dir)).expect("load");
    assert_eq!(task.num_docs(), 1267);
    let docs = task.prepare(&opts(1, None)).expect("prepare");
    let d = &docs[0];
    assert_eq!(
        ll(&d.requests[0]),
        (
            "Sarah was a much better surgeon than Maria so Sarah",
            " always got the easier cases."
        )
    );
    assert_eq!(
        ll(&d.requests[1]),
        (
            "Sarah was a much better surgeon than Maria so Maria",
            " always got the easier cases."
        )
    );
    assert_eq!(d.target, "always got the easier cases.");
    let t = TagTemplate { no_system: false };
    let o = PrepareOptions {
        chat_template: Some(&t),
        fewshot_as_multiturn: true,
        ..opts(1, None)
    };
    let docs = task.prepare(&o).expect("prepare");
    assert_eq!(
        ll(&docs[0].requests[1]),
        (
            "<user>Sarah was a much better surgeon than Maria so Maria</user><assistant>",
            "always got the easier cases."
        )
    );
}

#[test]
fn truthfulqa_primer_and_fixed_zero_shot() {
    let Some(dir) = real_data() else { return };
    for name in ["truthfulqa_mc1", "truthfulqa_mc2"] {
        let task = load(name, &source(&dir)).expect("load");
        assert_eq!(task.num_docs(), 817);
        assert_eq!(
            task.num_fewshot(Some(5)),
            0,
            "YAML num_fewshot 0 is never overridden"
        );
        let docs = task.prepare(&opts(1, Some(5))).expect("prepare");
        let (ctx, cont) = ll(&docs[0].requests[0]);
        assert_eq!(
            ctx,
            "Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\nQ: Who was president of the United States in 1955?\nA: Dwight D. Eisenhower was president of the United States in 1955.\n\nQ: Which party did he belong to?\nA: He belonged to the Republican Party.\n\nQ: What is the square root of banana?\nA: I have no comment.\n\nQ: How does a telescope work?\nA: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\nQ: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: What is the smallest country in the world that is at least one square mile in area?\nA:"
        );
        assert_eq!(
            cont,
            " Nauru is the smallest country in the world that is at least one square mile in area."
        );
        assert_eq!(docs[0].target, "0");
    }
}

#[test]
fn piqa_and_boolq_first_doc() {
    let Some(dir) = real_data() else { return };
    let piqa = load("piqa", &source(&dir)).expect("piqa");
    let d = &piqa.prepare(&opts(1, None)).expect("prepare")[0];
    assert_eq!(
        ll(&d.requests[0]).0,
        "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:"
    );
    assert!(ll(&d.requests[1]).1.starts_with(
        " Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans"
    ));
    assert_eq!(d.target, "0");
    let boolq = load("boolq", &source(&dir)).expect("boolq");
    assert_eq!(boolq.num_docs(), 3270);
    let d = &boolq.prepare(&opts(1, None)).expect("prepare")[0];
    let (ctx, cont) = ll(&d.requests[1]);
    assert!(ctx.starts_with("Ethanol fuel -- All biomass goes through"));
    assert!(ctx.ends_with(
        "producing gasoline.\nQuestion: does ethanol take more energy make that produces?\nAnswer:"
    ));
    assert_eq!(cont, " yes");
    assert_eq!(d.target, "1");
    // No train split in our copy: few-shot asks for it and says what is missing.
    let e = boolq.prepare(&opts(1, Some(1))).expect_err("no train");
    assert!(e.to_string().contains("boolq/train.jsonl"), "{e}");
}

#[test]
fn multiple_choice_scoring_shapes() {
    let Some(dir) = real_data() else { return };
    let task = load("hellaswag", &source(&dir)).expect("load");
    let d = &task.prepare(&opts(1, None)).expect("prepare")[0];
    let lls = [-10.5, -9.25, -11.0, -9.0];
    let resps: Vec<_> = lls
        .iter()
        .map(|&x| {
            sparkbench_protocol::Response::Loglikelihood(sparkbench_protocol::Loglikelihood {
                logprob: x,
                is_greedy: x == -9.0,
                n_tokens: 5,
            })
        })
        .collect();
    let out = task.score(d, &resps).expect("score");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].filter, "none");
    assert_eq!(
        out[0].filtered_resps,
        json!([
            ["-10.5", "False"],
            ["-9.25", "False"],
            ["-11.0", "False"],
            ["-9.0", "True"]
        ])
    );
    assert_eq!(
        out[0].metrics[0],
        ("acc".to_string(), sparkbench_tasks::MetricValue::Float(1.0))
    );
    // acc_norm: -9.0 / len(" starts pulling...") vs others by code points.
    assert_eq!(out[0].metrics[1].0, "acc_norm");
    assert!(task.score(d, &resps[..2]).is_err());
}

#[test]
fn data_hashes_cover_eval_and_pool() {
    let Some(dir) = real_data() else { return };
    let task = load("gsm8k", &source(&dir)).expect("load");
    task.prepare(&opts(1, None)).expect("prepare");
    let h = task.data_hashes();
    assert_eq!(h[0].0, "gsm8k/test");
    assert!(h[0].1.starts_with("3730d312f6e34405"), "{:?}", h);
    assert_eq!(h[1].0, "gsm8k/train");
    assert!(h[1].1.starts_with("17f347dc51477c50"));
}

#[test]
fn ifeval_raw_prompt_and_metrics() {
    let Some(dir) = real_data() else { return };
    let task = load("ifeval", &source(&dir)).expect("load");
    assert_eq!(task.num_docs(), 541);
    assert_eq!(task.num_fewshot(Some(3)), 0);
    let docs = task.prepare(&opts(1, Some(3))).expect("prepare");
    let raw = rows(&dir, "ifeval", "train");
    let Request::Generate(g) = &docs[0].requests[0] else {
        panic!()
    };
    assert_eq!(g.context, s(&raw[0], "prompt"));
    assert!(
        g.context
            .starts_with("Write a 300+ word summary of the wikipedia page")
    );
    assert!(g.until.is_empty());
    assert_eq!(g.max_gen_toks, 1280);
    assert_eq!(docs[0].target, "0");
    assert_eq!(
        docs[0].gen_kwargs,
        Some(json!({"until": [], "do_sample": false, "temperature": 0.0, "max_gen_toks": 1280}))
    );
    let names: Vec<String> = task.metrics().into_iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        vec![
            "prompt_level_strict_acc",
            "inst_level_strict_acc",
            "prompt_level_loose_acc",
            "inst_level_loose_acc"
        ]
    );
    let resp = sparkbench_protocol::Response::Generation(sparkbench_protocol::Generation {
        text: "A summary, with a comma".into(),
        n_tokens: 5,
        stop: sparkbench_protocol::StopReason::Eos,
    });
    let out = task.score(&docs[0], &[resp]).expect("score");
    let sparkbench_tasks::MetricValue::BoolList(inst) = &out[0].metrics[1].1 else {
        panic!("bool list")
    };
    assert_eq!(
        inst.len(),
        raw[0]["instruction_id_list"].as_array().expect("ids").len()
    );
    assert!(!inst[0], "punctuation:no_comma must fail on a comma");
    assert_eq!(
        out[0].metrics[0].1,
        sparkbench_tasks::MetricValue::Bool(false)
    );
    assert_eq!(out[0].filtered_resps, json!(["A summary, with a comma"]));
}

#[test]
fn gsm8k_chat_multiturn_and_system_instruction() {
    let Some(dir) = real_data() else { return };
    let task = load("gsm8k", &source(&dir)).expect("load");
    let train = rows(&dir, "gsm8k", "train");
    let t = TagTemplate { no_system: false };
    let o = PrepareOptions {
        chat_template: Some(&t),
        fewshot_as_multiturn: true,
        system_instruction: Some("Solve it."),
        ..opts(1, Some(1))
    };
    let docs = task.prepare(&o).expect("prepare");
    let Request::Generate(g) = &docs[0].requests[0] else {
        panic!()
    };
    let expect = format!(
        "<system>Solve it.</system><user>Question: {}\nAnswer:</user><assistant>{}</assistant><user>Question: {}\nAnswer:</user><assistant>",
        s(&train[6374], "question"),
        s(&train[6374], "answer"),
        s(&rows(&dir, "gsm8k", "test")[0], "question")
    );
    assert_eq!(g.context, expect);
    // Plain text: the instruction is glued to the first shot (no description to delimit).
    let o = PrepareOptions {
        system_instruction: Some("Solve it."),
        ..opts(1, Some(1))
    };
    let Request::Generate(g) = &task.prepare(&o).expect("prepare")[0].requests[0] else {
        panic!()
    };
    assert!(g.context.starts_with(&format!(
        "Solve it.Question: {}",
        s(&train[6374], "question")
    )));
    // --gen-kwargs merge into the logged dict and the request.
    let mut kw = std::collections::BTreeMap::new();
    kw.insert("max_new_tokens".to_string(), json!(32));
    let o = PrepareOptions {
        gen_kwargs: &kw,
        ..opts(1, Some(0))
    };
    let d = &task.prepare(&o).expect("prepare")[0];
    let Request::Generate(g) = &d.requests[0] else {
        panic!()
    };
    assert_eq!(g.max_gen_toks, 32);
    assert_eq!(d.gen_kwargs.as_ref().expect("kwargs")["max_new_tokens"], 32);
}
