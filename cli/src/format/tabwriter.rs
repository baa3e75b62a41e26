//! Go's `text/tabwriter` (the copy Docker's CLI carries), so that tables line up as Docker's do.
//!
//! Only the configuration Docker uses is kept: space padding, cells aligned left, no flags.
//! Cells are terminated by `\t`; the text after the last tab of a line is not part of a column.
//! A column is as wide as its widest cell plus `padding`, and never narrower than `minwidth`
//! (which includes the padding). A line without any tab ends the block of lines aligned together.

struct Cell {
    text: String,
    /// Width in characters (Docker counts East Asian wide characters as two; this counts one).
    width: usize,
}

struct Writer {
    minwidth: usize,
    padding: usize,
    lines: Vec<Vec<Cell>>,
    cell: String,
    widths: Vec<usize>,
    out: String,
}

/// Aligns the tab-separated columns of `text` as `tabwriter.NewWriter(out, minwidth, 1, padding, ' ', 0)`.
pub fn align(text: &str, minwidth: usize, padding: usize) -> String {
    let mut w = Writer {
        minwidth,
        padding,
        lines: vec![Vec::new()],
        cell: String::new(),
        widths: Vec::new(),
        out: String::with_capacity(text.len() * 2),
    };
    for ch in text.chars() {
        match ch {
            '\t' | '\u{0b}' | '\n' | '\u{0c}' => {
                let cells = w.terminate_cell();
                if ch == '\n' || ch == '\u{0c}' {
                    w.lines.push(Vec::new());
                    // A line of one cell does not affect the lines after it: flush what we have.
                    if ch == '\u{0c}' || cells == 1 {
                        w.flush();
                    }
                }
            }
            _ => w.cell.push(ch),
        }
    }
    if !w.cell.is_empty() {
        w.terminate_cell();
    }
    w.flush();
    w.out
}

impl Writer {
    fn terminate_cell(&mut self) -> usize {
        let text = std::mem::take(&mut self.cell);
        let width = text.chars().count();
        let line = self.lines.last_mut();
        match line {
            Some(line) => {
                line.push(Cell { text, width });
                line.len()
            }
            None => {
                self.lines.push(vec![Cell { text, width }]);
                1
            }
        }
    }

    fn flush(&mut self) {
        let count = self.lines.len();
        self.format(0, count);
        self.lines = vec![Vec::new()];
        self.widths.clear();
    }

    /// Formats lines `line0..line1`, given the widths of the columns to the left (`self.widths`).
    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            // The last cell of a line is not in a column: a line is in this column when it has
            // more than `column + 1` cells.
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;

            let mut width = self.minwidth;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].width + self.padding);
                this += 1;
            }

            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                self.out.push_str(&cell.text);
                if let Some(&w) = self.widths.get(j) {
                    self.out.extend(std::iter::repeat_n(' ', w.saturating_sub(cell.width)));
                }
            }
            // The last buffered line is the one still open: it gets no newline.
            if i + 1 != self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Docker's `network ls` table: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
    fn table(text: &str) -> String {
        align(text, 10, 3)
    }

    #[test]
    fn docker_network_list_golden() {
        // docker/cli cli/command/network/testdata/network-list.golden
        let got = table("NETWORK ID\tNAME\tDRIVER\tSCOPE\n123454321\tnetwork_1\t09.7.01\tglobal\n");
        assert_eq!(got, "NETWORK ID   NAME        DRIVER    SCOPE\n123454321    network_1   09.7.01   global\n");
    }

    #[test]
    fn docker_formatter_table() {
        // docker/cli cli/command/network/formatter_test.go, "table" case.
        let got = table(
            "NETWORK ID\tNAME\tDRIVER\tSCOPE\nnetworkID1\tfoobar_baz\tfoo\tlocal\nnetworkID2\tfoobar_bar\tbar\tlocal\n",
        );
        assert_eq!(
            got,
            "NETWORK ID   NAME         DRIVER    SCOPE\nnetworkID1   foobar_baz   foo       local\nnetworkID2   foobar_bar   bar       local\n"
        );
    }

    #[test]
    fn default_networks_with_twelve_hex_ids() {
        let got = table(
            "NETWORK ID\tNAME\tDRIVER\tSCOPE\n\
             3c8e1b2a9f00\tbridge\tbridge\tlocal\n\
             7d2f9a0c11ee\thost\thost\tlocal\n\
             a1b2c3d4e5f6\tnone\tnull\tlocal\n",
        );
        assert_eq!(
            got,
            "NETWORK ID     NAME      DRIVER    SCOPE\n\
             3c8e1b2a9f00   bridge    bridge    local\n\
             7d2f9a0c11ee   host      host      local\n\
             a1b2c3d4e5f6   none      null      local\n"
        );
    }

    #[test]
    fn single_column_and_empty_table() {
        assert_eq!(table("NAME\nfoobar_baz\nfoobar_bar\n"), "NAME\nfoobar_baz\nfoobar_bar\n");
        assert_eq!(table("NETWORK ID\tNAME\tDRIVER\tSCOPE\n"), "NETWORK ID   NAME      DRIVER    SCOPE\n");
        assert_eq!(table(""), "");
    }

    #[test]
    fn ragged_lines_align_per_block() {
        // Lines without the column end its block; text without a final newline is kept.
        let got = table("a\tb\tc\naa\tbbbbbbbbbbbb\ntail");
        assert_eq!(got, "a         b         c\naa        bbbbbbbbbbbb\ntail");
    }

    #[test]
    fn empty_cells_are_padded() {
        assert_eq!(table("\tx\nyy\tz\n"), "          x\nyy        z\n");
    }
}
