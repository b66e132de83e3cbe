//! Colours and emphasis, honouring `NO_COLOR` (<https://no-color.org>): when it is set to a
//! non-empty value no colour is used anywhere; emphasis (bold, reverse) stays.

use ratatui::style::{Color, Modifier, Style};

/// The styles every pane uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours are used.
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        Self {
            color: !no_color(std::env::var_os("NO_COLOR").as_deref()),
        }
    }

    /// No colours.
    pub fn plain() -> Self {
        Self { color: false }
    }

    /// Colours.
    pub fn colored() -> Self {
        Self { color: true }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// Normal text.
    pub fn text(self) -> Style {
        Style::new()
    }

    /// Labels and secondary text.
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Titles and emphasis.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Good news (correct, improved, completed).
    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    /// Warnings.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Bad news (incorrect, regressed, failed, stalled).
    pub fn bad(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Key names in the footer.
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The border of the focused pane.
    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The border of other panes.
    pub fn border(self) -> Style {
        self.dim()
    }

    /// The filled part of a progress bar.
    pub fn bar(self) -> Style {
        self.fg(Color::Green)
    }

    /// Base model bars in the results chart.
    pub fn base_bar(self) -> Style {
        self.fg(Color::Blue)
    }

    /// Fine-tuned bars in the results chart.
    pub fn tuned_bar(self) -> Style {
        self.fg(Color::Magenta)
    }
}

/// `NO_COLOR` semantics: set and not empty.
pub fn no_color(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn no_color_means_set_and_non_empty() {
        assert!(!no_color(None));
        assert!(!no_color(Some(OsStr::new(""))));
        assert!(no_color(Some(OsStr::new("1"))));
    }

    #[test]
    fn plain_theme_has_no_colours() {
        let t = Theme::plain();
        for style in [
            t.title(),
            t.good(),
            t.warn(),
            t.bad(),
            t.key(),
            t.dim(),
            t.bar(),
            t.base_bar(),
            t.tuned_bar(),
        ] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        assert_eq!(Theme::colored().bad().fg, Some(Color::Red));
    }
}
