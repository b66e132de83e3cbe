//! The results screen: base against fine-tuned, as a table (arrows, deltas, verdicts,
//! regressions in colour, partial and mismatch warnings) and a bar chart. [`show_results`] shows
//! it until a key, then prints [`comparison_text`] to the normal terminal so it stays in the
//! scrollback.

pub mod table;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{Event, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

pub use table::comparison_text;

use crate::error::TuiError;
use crate::format;
use crate::input::InputThread;
use crate::theme::Theme;
use crate::view::{Arrow, ComparisonView};

/// Draw the results screen.
pub fn render_results(view: &ComparisonView, theme: Theme, frame: &mut Frame) {
    let area = frame.area();
    let warnings = table::warnings(view);
    let width = area.width.max(1) as usize;
    let warn_rows: usize = warnings
        .iter()
        .map(|w| (w.chars().count() + 2).div_ceil(width))
        .sum();
    let warn_rows = warn_rows.min(6) as u16;
    let table_rows = view.rows.len() as u16 + 3;
    let [title, warn, body, legend, chart, _, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(warn_rows),
        Constraint::Length(table_rows),
        Constraint::Length(1),
        Constraint::Length(view.rows.len() as u16 * 2 + 2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(table::title(view), theme.title())),
        title,
    );
    let warn_lines: Vec<Line> = warnings
        .iter()
        .map(|w| Line::styled(format!("! {w}"), theme.warn()))
        .collect();
    frame.render_widget(Paragraph::new(warn_lines).wrap(Wrap { trim: true }), warn);
    render_table(view, theme, frame, body);
    frame.render_widget(
        Paragraph::new(Line::styled(table::LEGEND, theme.dim())),
        legend,
    );
    if chart.height >= 4 && !view.rows.is_empty() {
        render_chart(view, theme, frame, chart);
    }
    let keys = Line::from(vec![
        Span::styled("any key", theme.key()),
        Span::raw(" leave (the table is printed to the terminal)"),
    ]);
    frame.render_widget(Paragraph::new(keys), footer);
}

fn render_table(view: &ComparisonView, theme: Theme, frame: &mut Frame, area: Rect) {
    let cells: Vec<[String; 7]> = view.rows.iter().map(table::cells).collect();
    let available = area.width.saturating_sub(2 + 6) as usize;
    let widths_for = |headers: &[&str; 7]| -> [usize; 7] {
        let mut w = headers.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in w.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        w
    };
    let mut headers = table::HEADERS;
    let mut widths = widths_for(&headers);
    if widths.iter().sum::<usize>() > available {
        headers[3] = "Tuned";
        widths = widths_for(&headers);
    }
    let others: usize = widths
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, w)| w)
        .sum();
    // The metric column gives way first when space is short.
    widths[1] = widths[1].min(available.saturating_sub(others)).max(6);
    let header = Row::new(headers.iter().map(|h| Cell::from(*h))).style(theme.title());
    let rows = view.rows.iter().zip(&cells).map(|(r, c)| {
        let style = if r.flagged {
            theme.bad()
        } else {
            match r.arrow {
                Arrow::Up => theme.good(),
                Arrow::Down => theme.warn(),
                Arrow::Same | Arrow::None => theme.text(),
            }
        };
        Row::new(vec![
            Cell::from(c[0].clone()),
            Cell::from(c[1].clone()),
            Cell::from(Line::from(c[2].clone()).right_aligned()),
            Cell::from(Line::from(c[3].clone()).right_aligned()),
            Cell::from(Line::from(c[4].clone()).right_aligned()).style(style),
            Cell::from(Line::from(c[5].clone()).right_aligned()).style(style),
            Cell::from(c[6].clone()).style(style),
        ])
    });
    let constraints = widths.map(|w| Constraint::Length(w as u16));
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1)
        .block(Block::bordered().border_style(theme.border()));
    frame.render_widget(table, area);
}

/// Horizontal bars on the 0..1 score scale: two per task (base, fine-tuned).
fn render_chart(view: &ComparisonView, theme: Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::from(vec![
            Span::raw(" "),
            Span::styled("█ base", theme.base_bar()),
            Span::raw("  "),
            Span::styled("█ fine-tuned", theme.tuned_bar()),
            Span::raw(" (0 to 1) "),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let label_w = view
        .rows
        .iter()
        .map(|r| r.task.chars().count())
        .max()
        .unwrap_or(4)
        .min(18);
    let bar_w = (inner.width as usize).saturating_sub(label_w + 1 + 6 + 8);
    let bar = |v: Option<f64>| -> (String, String) {
        let filled = (v.unwrap_or(0.0).clamp(0.0, 1.0) * bar_w as f64).round() as usize;
        ("█".repeat(filled), "·".repeat(bar_w - filled))
    };
    let mut lines = Vec::new();
    for r in view.rows.iter().take((inner.height as usize) / 2) {
        for (i, (who, value, style)) in [
            ("base", r.base, theme.base_bar()),
            ("tuned", r.finetuned, theme.tuned_bar()),
        ]
        .into_iter()
        .enumerate()
        {
            let name = if i == 0 {
                format::head(&r.task, label_w)
            } else {
                String::new()
            };
            let (filled, empty) = bar(value);
            lines.push(Line::from(vec![
                Span::raw(format!("{name:<label_w$} ")),
                Span::styled(format!("{who:<6}"), theme.dim()),
                Span::styled(filled, style),
                Span::styled(empty, theme.dim()),
                Span::raw(format!(
                    " {}",
                    value.map_or_else(|| "–".to_string(), format::score)
                )),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Show the results screen until a key (or a signal), then print the plain table to stdout.
/// Without a terminal only the table is printed.
pub fn show_results(view: &ComparisonView) -> Result<(), TuiError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return print_table(view);
    }
    let signalled = Arc::new(AtomicBool::new(false));
    let mut ids = Vec::new();
    for (sig, name) in [
        (signal_hook::consts::SIGTERM, "SIGTERM"),
        (signal_hook::consts::SIGINT, "SIGINT"),
        (signal_hook::consts::SIGHUP, "SIGHUP"),
    ] {
        let id = signal_hook::flag::register(sig, signalled.clone()).map_err(|source| {
            TuiError::Signal {
                signal: name,
                source,
            }
        })?;
        ids.push(id);
    }
    let shown = results_screen(view, &signalled);
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    shown?;
    print_table(view)
}

fn results_screen(view: &ComparisonView, signalled: &AtomicBool) -> Result<(), TuiError> {
    let theme = Theme::from_env();
    let mut terminal = ratatui::try_init()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let input = InputThread::start(move |ev| tx.send(ev).is_ok());
    let result = (|| -> Result<(), TuiError> {
        let mut redraw = true;
        loop {
            if redraw {
                terminal.draw(|frame| render_results(view, theme, frame))?;
            }
            if signalled.load(Ordering::SeqCst) {
                return Ok(());
            }
            redraw = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => return Ok(()),
                Ok(_) => true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
                // The reader stopped (the terminal is gone): nothing more can be asked.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            };
        }
    })();
    drop(input);
    ratatui::restore();
    result
}

fn print_table(view: &ComparisonView) -> Result<(), TuiError> {
    let mut out = std::io::stdout().lock();
    out.write_all(comparison_text(view).as_bytes())?;
    out.flush()?;
    Ok(())
}
