//! Output of every command: tables and sentences for people, or with `--json` the same
//! facts as one JSON document for machines. A command builds one value that implements
//! [`Report`] and hands it to [`print`]; it never formats output itself.

use std::io::Write;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{ContentArrangement, Table as Grid};
use serde::Serialize;

/// A titled table: a header row and rows of cells, already in words (never `Debug`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// What to print instead of an empty table.
    pub empty: &'static str,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Self {
        Self {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            empty: "(none)",
        }
    }

    /// What an empty table shows instead of its header.
    pub fn when_empty(mut self, text: &'static str) -> Self {
        self.empty = text;
        self
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = impl Into<String>>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as a person reads it (box-drawn, wrapped to the terminal if any).
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.title);
        if self.rows.is_empty() {
            out.push_str(&format!("  {}\n", self.empty));
            return out;
        }
        let mut grid = Grid::new();
        grid.load_style(UTF8_BORDERS_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(self.header.clone());
        for row in &self.rows {
            grid.add_row(row.clone());
        }
        out.push_str(&grid.to_string());
        out.push('\n');
        out
    }
}

/// What a command reports: serializable for `--json`, and in tables and lines for people.
pub trait Report: Serialize {
    /// Lines printed before the tables.
    fn headline(&self) -> Vec<String> {
        Vec::new()
    }
    /// The tables, in order.
    fn tables(&self) -> Vec<Table> {
        Vec::new()
    }
    /// Lines printed after the tables (a verdict, a hint for what to do next).
    fn footer(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The text a person sees for `report`.
pub fn render(report: &impl Report) -> String {
    let mut out = String::new();
    for line in report.headline() {
        out.push_str(&line);
        out.push('\n');
    }
    for table in report.tables() {
        out.push('\n');
        out.push_str(&table.render());
    }
    let footer = report.footer();
    if !footer.is_empty() {
        out.push('\n');
    }
    for line in footer {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Prints `report` to standard output: with `json` one JSON document on one line (so a
/// program reading a long-running command's output line by line gets it whole), else
/// [`render`].
pub fn print(report: &impl Report, json: bool) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string(report).map_err(std::io::Error::other)?;
        writeln!(stdout, "{text}")
    } else {
        write!(stdout, "{}", render(report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        rows: Vec<(String, u32)>,
    }

    impl Report for Sample {
        fn headline(&self) -> Vec<String> {
            vec!["Sample report".into()]
        }
        fn tables(&self) -> Vec<Table> {
            let mut table = Table::new("Things", &["name", "count"]);
            for (name, count) in &self.rows {
                table.row([name.clone(), count.to_string()]);
            }
            vec![table, Table::new("Nothing", &["x"]).when_empty("(empty)")]
        }
        fn footer(&self) -> Vec<String> {
            vec!["done".into()]
        }
    }

    #[test]
    fn people_get_tables_and_machines_the_same_facts() {
        let sample = Sample {
            rows: vec![("alpha".into(), 1), ("beta".into(), 22)],
        };
        let text = render(&sample);
        assert!(text.starts_with("Sample report\n"), "{text}");
        for word in [
            "Things", "name", "count", "alpha", "beta", "22", "(empty)", "done",
        ] {
            assert!(text.contains(word), "{word} missing in\n{text}");
        }
        assert!(!text.contains("Sample {"), "no Debug output");
        let json = serde_json::to_value(&sample).unwrap();
        assert_eq!(json["rows"][1][0], "beta");
        assert_eq!(json["rows"][1][1], 22);
    }
}
