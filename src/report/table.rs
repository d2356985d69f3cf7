//! Plain-text and Markdown tables.

/// Aligned columns separated by two spaces, with a dashed rule under the
/// header. Columns listed in `left` are left-aligned, the others (numbers)
/// right-aligned.
pub fn text(header: &[&str], rows: &[Vec<String>], left: &[usize]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| -> String {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(w[i] - c.chars().count());
                if left.contains(&i) {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    let mut out = line(&head);
    out.push('\n');
    out.push_str(&line(&w.iter().map(|&n| "-".repeat(n)).collect::<Vec<_>>()));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// How a table is laid out in a terminal.
pub struct Layout<'a> {
    pub header: &'a [&'a str],
    /// The left-aligned (text) columns; the others are right-aligned.
    pub left: &'a [usize],
    /// Columns ellipsized in the table: (column, most characters). Blocks
    /// show them whole.
    pub caps: &'a [(usize, usize)],
    /// The first columns that head a row's block.
    pub title: usize,
}

/// The rows as a table when it fits in `width` (or there is no limit),
/// else one block per row: its title columns on a line, then the other
/// cells as "header value" items filling lines, long ones wrapped at
/// words. Empty cells, and "-" in number columns, are left out of blocks.
pub fn fitted(l: &Layout, rows: &[Vec<String>], width: Option<usize>) -> String {
    let cut: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| match l.caps.iter().find(|&&(col, _)| col == i) {
                    Some(&(_, w)) => super::terminal::ellipsize(c, w),
                    None => c.clone(),
                })
                .collect()
        })
        .collect();
    let table = text(l.header, &cut, l.left);
    match width {
        Some(w) if table.lines().any(|line| line.chars().count() > w) => blocks(l, rows, w),
        _ => table,
    }
}

fn blocks(l: &Layout, rows: &[Vec<String>], width: usize) -> String {
    let width = width.max(20);
    let mut out = String::new();
    for r in rows {
        let title: Vec<&str> = r[..l.title.min(r.len())]
            .iter()
            .map(String::as_str)
            .filter(|c| !c.is_empty())
            .collect();
        out.push_str(&paragraph(&title.join("  "), Some(width)));
        let mut line = String::new();
        let flush = |line: &mut String, out: &mut String| {
            if !line.is_empty() {
                out.push_str(line);
                out.push('\n');
                line.clear();
            }
        };
        for (i, c) in r.iter().enumerate().skip(l.title) {
            // "-" is "none" in a number column; in a text column it may be
            // a value.
            if c.is_empty() || (c == "-" && !l.left.contains(&i)) {
                continue;
            }
            let item = match l.header.get(i) {
                Some(h) if !h.is_empty() => format!("{h} {c}"),
                _ => c.clone(),
            };
            let n = item.chars().count();
            if line.is_empty() && n + 2 <= width {
                line = format!("  {item}");
            } else if !line.is_empty() && line.chars().count() + 2 + n <= width {
                line.push_str("  ");
                line.push_str(&item);
            } else if n + 2 <= width {
                flush(&mut line, &mut out);
                line = format!("  {item}");
            } else {
                // Too long for a line: its own lines, wrapped at words.
                flush(&mut line, &mut out);
                for w in wrap(&item, width - 4) {
                    let indent = if line.is_empty() && w.0 { "  " } else { "    " };
                    out.push_str(&format!("{indent}{}\n", w.1));
                }
            }
        }
        flush(&mut line, &mut out);
    }
    out
}

/// A line of text wrapped at words to `width` (none: as it is), its
/// continuation lines indented by two spaces; ends with a newline.
pub fn paragraph(s: &str, width: Option<usize>) -> String {
    let Some(w) = width else {
        return format!("{s}\n");
    };
    let mut out = String::new();
    for (first, line) in wrap(s, w.saturating_sub(2)) {
        if !first {
            out.push_str("  ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `s` cut into lines of at most `w` characters at spaces (a longer word
/// is cut); each line with whether it is the first.
pub(crate) fn wrap(s: &str, w: usize) -> Vec<(bool, String)> {
    let w = w.max(8);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let mut word = word.to_string();
        loop {
            let need = cur.chars().count() + usize::from(!cur.is_empty()) + word.chars().count();
            if need <= w {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            // A word longer than a line.
            let head: String = word.chars().take(w).collect();
            word = word.chars().skip(w).collect();
            lines.push(head);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| (i == 0, l))
        .collect()
}

/// Escape a cell for a Markdown table (pipes, newlines, backticks).
pub fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace(['\n', '\r'], " ")
}

/// A GitHub-flavoured Markdown table; `right` columns are right-aligned.
pub fn markdown(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut out = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        out.push_str(if right.contains(&i) {
            " ---: |"
        } else {
            " --- |"
        });
    }
    out.push('\n');
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_that_does_not_fit_becomes_blocks() {
        let header = ["name", "type", "count", "why"];
        let rows = vec![vec![
            "a_long_feature_name".to_string(),
            "float64".into(),
            "12".into(),
            "ks 0.2 is at least the threshold 0.03 and the critical value 0.08".into(),
        ]];
        let l = Layout {
            header: &header,
            left: &[0, 1, 3],
            caps: &[(3, 20)],
            title: 2,
        };
        let wide = fitted(&l, &rows, None);
        assert!(wide.contains("ks 0.2 is at least …"), "{wide}");
        assert_eq!(fitted(&l, &rows, Some(200)), wide);
        let narrow = fitted(&l, &rows, Some(40));
        assert_eq!(
            narrow,
            "a_long_feature_name  float64\n  count 12\n  why ks 0.2 is at least the threshold\n    0.03 and the critical value 0.08\n"
        );
        assert!(narrow.lines().all(|line| line.chars().count() <= 40));
    }

    #[test]
    fn wrap_cuts_at_spaces_and_long_words() {
        let w = wrap("aaaa bbbb cccccccccccc", 8);
        let lines: Vec<&str> = w.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(lines, ["aaaa", "bbbb", "cccccccc", "cccc"]);
    }
}
