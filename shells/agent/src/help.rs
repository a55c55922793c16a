//! The end of every `--help`: sections of terms and descriptions, wrapped to the terminal
//! with hanging indents (clap would wrap them, but lose the indent).

/// Width when there is no terminal (a pipe, `man`-like reading): the traditional 80.
const DEFAULT_WIDTH: usize = 80;

/// The terminal's width: `COLUMNS`, else the terminal's own, else 80; at least 40.
pub(crate) fn width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    from_env
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(40, 120)
}

/// "Environment:" and "Exit codes:" tables, then `closing` as a paragraph, all wrapped.
pub(crate) fn after_help(env: &[(&str, &str)], codes: &[(&str, &str)], closing: &str) -> String {
    let width = width();
    let mut out = String::from("Environment:\n");
    table(&mut out, env, width);
    out.push_str("\nExit codes:\n");
    table(&mut out, codes, width);
    out.push('\n');
    wrap_into(&mut out, closing, "", "", width);
    out
}

fn table(out: &mut String, rows: &[(&str, &str)], width: usize) {
    let term_width = rows.iter().map(|(t, _)| t.len()).max().unwrap_or(0).min(20);
    let hang = " ".repeat(2 + term_width + 2);
    for (term, text) in rows {
        if term.len() > term_width {
            out.push_str(&format!("  {term}\n"));
            wrap_into(out, text, &hang, &hang, width);
        } else {
            let first = format!("  {term:term_width$}  ");
            wrap_into(out, text, &first, &hang, width);
        }
    }
}

/// Appends `text` wrapped at `width`: the first line after `first`, the others after `rest`.
fn wrap_into(out: &mut String, text: &str, first: &str, rest: &str, width: usize) {
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hanging_indents_within_the_width() {
        let mut out = String::new();
        table(
            &mut out,
            &[(
                "66",
                "the file is missing, unreadable, not a regular file, or larger than 16 MiB",
            )],
            40,
        );
        assert_eq!(
            out,
            "  66  the file is missing, unreadable,\n      not a regular file, or larger than\n      16 MiB\n"
        );
        assert!(out.lines().all(|l| l.len() <= 40));
    }
}
