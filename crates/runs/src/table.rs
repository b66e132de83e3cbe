//! A tiny plain-text table: columns padded by character count (arrows and Δ are one column
//! wide in a terminal), two spaces between columns, no trailing spaces, no ANSI codes.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// Render rows (the first is the header) with a dashed rule under the header.
pub(crate) fn render(rows: &[Vec<String>], align: &[Align]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0usize; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |row: &[String]| -> String {
        let mut s = String::new();
        for (i, w) in width.iter().enumerate() {
            let cell = row.get(i).map(String::as_str).unwrap_or("");
            let pad = w - cell.chars().count();
            if i > 0 {
                s.push_str("  ");
            }
            match align.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
        }
        s.trim_end().to_string()
    };
    for (r, row) in rows.iter().enumerate() {
        out.push_str(&line(row));
        out.push('\n');
        if r == 0 {
            let total: usize = width.iter().sum::<usize>() + 2 * width.len().saturating_sub(1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_by_characters_and_trims() {
        let rows = vec![
            vec!["Task".to_string(), "Δ".to_string(), "x".to_string()],
            vec!["gsm8k".to_string(), "↗ +1".to_string(), String::new()],
        ];
        let t = render(&rows, &[Align::Left, Align::Right, Align::Left]);
        assert_eq!(t, "Task      Δ  x\n--------------\ngsm8k  ↗ +1\n");
    }
}
