//! [`render`]: draws an [`AppState`] into a frame and changes nothing. Wide terminals get tasks
//! beside throughput and watchdog, sample beside log; at 80x24 the panes shrink and stack so
//! everything stays readable; below 40x10 only a short notice is drawn.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Sparkline, Wrap};
use sparkbench_protocol::{LogLevel, SampleVerdict, WorkerExit};

use crate::dashboard::keys::keys;
use crate::dashboard::state::{
    AppState, LogSource, Overlay, Pane, RunStatus, TaskState, WatchdogStatus,
};
use crate::format;
use crate::theme::Theme;

/// Below this the dashboard shows only a notice.
pub const MIN_SIZE: (u16, u16) = (40, 10);

/// Draw the dashboard.
pub fn render(state: &AppState, frame: &mut Frame) {
    let area = frame.area();
    let theme = state.theme;
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "Terminal too small ({}x{}); enlarge it to at least 40x10. q: abort",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let compact = area.width < 100 || area.height < 32;
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(state, frame, header);
    if compact {
        let task_rows = (state.tasks.len().max(1) as u16 + 2).clamp(3, 8);
        let [tasks, middle, bottom] = Layout::vertical([
            Constraint::Length(task_rows),
            Constraint::Length(6),
            Constraint::Min(4),
        ])
        .areas(body);
        render_tasks(state, frame, tasks);
        let [through, watch] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(middle);
        render_throughput(state, frame, through);
        render_watchdog(state, frame, watch);
        let [sample, log] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        render_sample(state, frame, sample);
        render_log(state, frame, log);
    } else {
        let top_rows = (state.tasks.len() as u16 + 2).clamp(14, body.height * 55 / 100);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(top_rows), Constraint::Min(6)]).areas(body);
        let [tasks, side] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(top);
        render_tasks(state, frame, tasks);
        let [through, watch] =
            Layout::vertical([Constraint::Length(8), Constraint::Min(4)]).areas(side);
        render_throughput(state, frame, through);
        render_watchdog(state, frame, watch);
        let [sample, log] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(bottom);
        render_sample(state, frame, sample);
        render_log(state, frame, log);
    }
    render_footer(state, frame, footer);
    match state.overlay {
        Overlay::ConfirmAbort => render_confirm_abort(theme, frame, area),
        Overlay::Help => render_help(state, frame, area),
        Overlay::None => {}
    }
}

fn pane_block(title: String, focused: bool, theme: Theme) -> Block<'static> {
    let style = if focused {
        theme.focused_border()
    } else {
        theme.border()
    };
    Block::bordered()
        .border_style(style)
        .title(Span::styled(format!(" {title} "), theme.title()))
}

fn label(text: &str, theme: Theme) -> Span<'static> {
    Span::styled(text.to_string(), theme.dim())
}

fn status_span(state: &AppState) -> Span<'static> {
    let theme = state.theme;
    match &state.status {
        RunStatus::Starting => Span::styled("starting", theme.dim()),
        RunStatus::Running => Span::styled("running", theme.good()),
        RunStatus::Aborting => Span::styled("aborting…", theme.warn()),
        RunStatus::Exited(WorkerExit::Completed) => Span::styled("completed", theme.good()),
        RunStatus::Exited(WorkerExit::Aborted) => Span::styled("aborted", theme.warn()),
        RunStatus::Exited(WorkerExit::TimedOut) => Span::styled("timed out", theme.bad()),
        RunStatus::Exited(WorkerExit::Failed { .. }) => Span::styled("failed", theme.bad()),
    }
}

fn render_header(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let h = &state.header;
    let sep = || label(" · ", theme);
    let first = Line::from(vec![
        Span::styled(h.model.clone(), theme.title()),
        sep(),
        label("backend ", theme),
        Span::raw(h.backend.clone()),
        sep(),
        label("device ", theme),
        Span::raw(h.device.clone().unwrap_or_else(|| "?".into())),
        sep(),
        label("dtype ", theme),
        Span::raw(h.dtype.clone().unwrap_or_else(|| "?".into())),
        sep(),
        label("suite ", theme),
        Span::raw(h.suite.clone()),
    ]);
    let (done, total) = state.docs_overall();
    let phase = state.phase.map_or("waiting for the worker", |p| p.label());
    let second = Line::from(vec![
        status_span(state),
        sep(),
        label("phase ", theme),
        Span::raw(phase.to_string()),
        sep(),
        label("elapsed ", theme),
        Span::raw(format::duration(state.elapsed)),
        sep(),
        label("docs ", theme),
        Span::raw(format!("{done}/{total}")),
    ]);
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Span::styled(" sparkbench ", theme.title()));
    frame.render_widget(Paragraph::new(vec![first, second]).block(block), area);
}

fn overall_eta(state: &AppState) -> Option<Duration> {
    let (done, total) = state.docs_overall();
    let rate = state.docs_per_second();
    if rate <= 0.0 || done >= total || state.exited() {
        return None;
    }
    Some(Duration::from_secs_f64((total - done) as f64 / rate))
}

fn render_tasks(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let finished = state.tasks.iter().filter(|t| t.finished()).count();
    let mut title = format!("Tasks {finished}/{} done", state.tasks.len());
    if let Some(eta) = overall_eta(state) {
        title.push_str(&format!(" · ETA {}", format::duration(eta)));
    }
    let block = pane_block(title, state.focus == Pane::Tasks, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.tasks.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("waiting for the plan…", theme.dim())),
            inner,
        );
        return;
    }
    let width = inner.width as usize;
    let name_cap = if width >= 100 { 30 } else { 16 };
    let name_w = state
        .tasks
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(4)
        .min(name_cap);
    let total_w = state
        .tasks
        .iter()
        .map(|t| t.total.to_string().len())
        .max()
        .unwrap_or(1);
    // mark + name + counts + percent + score + eta, with spaces between.
    let fixed = 2 + name_w + 1 + (total_w * 2 + 1) + 1 + 4 + 1 + 15 + 1 + 10;
    let bar_w = width.saturating_sub(fixed).clamp(0, 40);
    let skip = state.scroll_tasks.min(state.tasks.len().saturating_sub(1));
    let lines: Vec<Line> = state
        .tasks
        .iter()
        .skip(skip)
        .take(inner.height as usize)
        .map(|t| task_line(t, name_w, total_w, bar_w, theme))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn task_line(
    t: &TaskState,
    name_w: usize,
    total_w: usize,
    bar_w: usize,
    theme: Theme,
) -> Line<'static> {
    let fraction = if t.total == 0 {
        0.0
    } else {
        (t.done as f64 / t.total as f64).clamp(0.0, 1.0)
    };
    let filled = (fraction * bar_w as f64).round() as usize;
    let (mark, mark_style) = if t.scores.is_some() {
        ("✓", theme.good())
    } else if t.done > 0 {
        ("▸", theme.text())
    } else {
        ("·", theme.dim())
    };
    let score = match t.shown_score() {
        Some(s) => format::score_with_stderr(s.value, s.stderr),
        None => "–".to_string(),
    };
    let eta = match t.eta() {
        Some(eta) => format!("ETA {}", format::duration(eta)),
        None if t.finished() => "done".to_string(),
        None => String::new(),
    };
    let mut spans = vec![
        Span::styled(format!("{mark} "), mark_style),
        Span::raw(format!("{:<name_w$} ", format::head(&t.name, name_w))),
    ];
    if bar_w > 0 {
        spans.push(Span::styled("█".repeat(filled), theme.bar()));
        spans.push(Span::styled("░".repeat(bar_w - filled), theme.dim()));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::raw(format!(
        "{:>total_w$}/{:<total_w$} ",
        t.done, t.total
    )));
    spans.push(Span::raw(format!("{:>3.0}% ", fraction * 100.0)));
    spans.push(Span::raw(format!("{score:<15} ")));
    spans.push(label(&eta, theme));
    Line::from(spans)
}

fn render_throughput(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let block = pane_block("Throughput".into(), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let memory = state
        .watchdog
        .rss_bytes
        .map_or_else(|| "–".to_string(), format::bytes);
    let lines = vec![
        Line::from(vec![
            label("tokens ", theme),
            Span::raw(format::rate(state.tokens_per_second())),
            label("  docs ", theme),
            Span::raw(format::rate(state.docs_per_second())),
        ]),
        Line::from(vec![
            label("memory ", theme),
            Span::raw(memory),
            label("  tokens ", theme),
            Span::raw(state.tokens_total.to_string()),
        ]),
    ];
    let [text, spark] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    if spark.height > 0 {
        let n = spark.width as usize;
        let data: Vec<u64> = state
            .tokens_history
            .iter()
            .rev()
            .take(n)
            .rev()
            .copied()
            .collect();
        frame.render_widget(Sparkline::default().data(&data).style(theme.bar()), spark);
    }
}

fn render_watchdog(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let w = &state.watchdog;
    let block = pane_block("Watchdog".into(), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let since = w
        .since_progress
        .map_or_else(|| "–".to_string(), format::duration);
    let cpu = w
        .cpu_percent
        .map_or_else(|| "–".to_string(), |c| format!("{c:.0}%"));
    let timeout = w.timeout.or(state.header.timeout);
    let countdown = match (timeout, w.remaining) {
        (_, Some(left)) if w.status == WatchdogStatus::TimedOut => {
            format!("reached ({} left)", format::duration(left))
        }
        (Some(t), Some(left)) => {
            format!("{} · {} left", format::duration(t), format::duration(left))
        }
        (None, Some(left)) => format!("{} left", format::duration(left)),
        (Some(t), None) => format::duration(t),
        (None, None) => "off".to_string(),
    };
    let (status, style) = match w.status {
        WatchdogStatus::Ok => ("ok".to_string(), theme.good()),
        WatchdogStatus::Warning => (format!("⚠ no progress for {since}"), theme.warn()),
        WatchdogStatus::Stalled => (format!("✖ STALLED for {since}"), theme.bad()),
        WatchdogStatus::TimedOut => ("✖ TIMED OUT".to_string(), theme.bad()),
    };
    let mut lines = vec![
        Line::from(vec![
            label("since progress ", theme),
            Span::raw(since),
            label("  CPU ", theme),
            Span::raw(cpu),
        ]),
        Line::from(vec![label("timeout ", theme), Span::raw(countdown)]),
        Line::from(vec![label("status ", theme), Span::styled(status, style)]),
    ];
    let room = (inner.height as usize).saturating_sub(lines.len());
    let msg_style = match w.status {
        WatchdogStatus::Ok => theme.dim(),
        WatchdogStatus::Warning => theme.warn(),
        _ => theme.bad(),
    };
    let skip = w.messages.len().saturating_sub(room);
    lines.extend(
        w.messages
            .iter()
            .skip(skip)
            .map(|m| Line::styled(m.clone(), msg_style)),
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

fn verdict_span(verdict: SampleVerdict, theme: Theme) -> Span<'static> {
    match verdict {
        SampleVerdict::Correct => Span::styled("✓ correct", theme.good()),
        SampleVerdict::Incorrect => Span::styled("✗ incorrect", theme.bad()),
        SampleVerdict::Score(v) => Span::styled(format!("score {v:.2}"), theme.warn()),
    }
}

fn render_sample(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let title = match &state.sample {
        Some(s) => format!("Sample: {} #{}", s.task, s.doc),
        None => "Sample".to_string(),
    };
    let block = pane_block(title, state.focus == Pane::Sample, theme);
    let Some(s) = &state.sample else {
        frame.render_widget(
            Paragraph::new(Line::styled("no document finished yet", theme.dim())).block(block),
            area,
        );
        return;
    };
    let inner_w = block.inner(area).width as usize;
    let lines = vec![
        Line::from(vec![
            label("verdict  ", theme),
            verdict_span(s.verdict, theme),
        ]),
        Line::from(vec![
            label("prompt   ", theme),
            Span::raw(format::tail(
                &s.prompt_tail,
                inner_w.saturating_mul(3).max(40),
            )),
        ]),
        Line::from(vec![
            label("response ", theme),
            Span::raw(s.response.clone()),
        ]),
    ];
    let widget = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((state.scroll_sample.min(u16::MAX as usize) as u16, 0));
    frame.render_widget(widget.block(block), area);
}

fn log_style(source: LogSource, theme: Theme) -> Style {
    match source {
        LogSource::Worker(LogLevel::Error) => theme.bad(),
        LogSource::Worker(LogLevel::Warn) => theme.warn(),
        LogSource::Worker(LogLevel::Debug) | LogSource::Stderr => theme.dim(),
        LogSource::Worker(LogLevel::Info) => theme.text(),
        LogSource::Ui => theme.title(),
    }
}

fn render_log(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let mut title = "Log".to_string();
    if state.scroll_log > 0 {
        title.push_str(&format!(" (scrolled up {})", state.scroll_log));
    }
    let block = pane_block(title, state.focus == Pane::Log, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let end = state
        .log
        .len()
        .saturating_sub(state.scroll_log.min(state.log.len().saturating_sub(1)));
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = state
        .log
        .iter()
        .skip(start)
        .take(end - start)
        .map(|l| {
            Line::from(vec![
                label(&format!("{:>5} ", format::duration(l.at)), theme),
                Span::styled(l.text.clone(), log_style(l.source, theme)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_footer(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let mut spans = Vec::new();
    if let RunStatus::Exited(exit) = &state.status {
        let (text, style) = match exit {
            WorkerExit::Completed => ("✓ completed ".to_string(), theme.good()),
            WorkerExit::Aborted => ("aborted ".to_string(), theme.warn()),
            WorkerExit::TimedOut => ("timed out ".to_string(), theme.bad()),
            WorkerExit::Failed { cause } => {
                (format!("failed: {} ", format::head(cause, 60)), theme.bad())
            }
        };
        spans.push(Span::styled(text, style));
        if state.partial.is_some() {
            spans.push(Span::styled("(partial results) ", theme.warn()));
        }
    }
    for (key, hint, _) in keys(state) {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {hint}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A rectangle of at most `w` x `h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn render_confirm_abort(theme: Theme, frame: &mut Frame, area: Rect) {
    let popup = centered(area, 56, 7);
    let lines = vec![
        Line::styled("Abort the run?", theme.warn()),
        Line::raw("Finished documents are kept; partial results are written."),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" abort    "),
            Span::styled("n/Esc", theme.key()),
            Span::raw(" keep running"),
        ]),
    ];
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_style(theme.warn())
        .title(Span::styled(" Abort ", theme.warn()));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        popup,
    );
}

fn render_help(state: &AppState, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let mut under = state.clone();
    under.overlay = Overlay::None;
    let entries = keys(&under);
    let popup = centered(area, 72, entries.len() as u16 + 4);
    let key_w = entries
        .iter()
        .map(|(k, _, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = entries
        .iter()
        .map(|(k, _, d)| {
            Line::from(vec![
                Span::styled(format!("{k:<key_w$}  "), theme.key()),
                Span::raw(*d),
            ])
        })
        .collect();
    lines.push(Line::styled("Esc or ? closes this help", theme.dim()));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_style(theme.focused_border())
        .title(Span::styled(" Keys ", theme.title()));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        popup,
    );
}
