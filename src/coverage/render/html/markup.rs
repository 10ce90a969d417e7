//! An HTML document being written: markup only from this crate's literals, every text and
//! attribute value escaped.

use std::fmt::{self, Display, Write as _};

/// Attributes: names as written here, values escaped.
pub(super) type Attrs<'a> = [(&'static str, &'a dyn Display)];

/// An HTML document being written. Markup is only ever this file's literals (`&'static str`);
/// text and attribute values are escaped.
#[derive(Default)]
pub(super) struct Html(pub(super) String);

impl Html {
    pub(super) fn markup(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    pub(super) fn newline(&mut self) -> &mut Self {
        self.markup("\n")
    }

    /// Text (or a figure), escaped.
    pub(super) fn text(&mut self, text: impl Display) -> &mut Self {
        let _ = write!(Escaped(&mut self.0), "{text}");
        self
    }

    /// `<name a="v"…` without its end.
    pub(super) fn tag(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.markup("<").markup(name);
        for (attr, value) in attrs {
            self.markup(" ")
                .markup(attr)
                .markup("=\"")
                .text(value)
                .markup("\"");
        }
        self
    }

    /// `<name a="v"…>`
    pub(super) fn open(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.tag(name, attrs).markup(">")
    }

    /// `<name a="v"…/>`, an SVG shape.
    pub(super) fn empty(&mut self, name: &'static str, attrs: &Attrs) -> &mut Self {
        self.tag(name, attrs).markup("/>")
    }

    pub(super) fn close(&mut self, name: &'static str) -> &mut Self {
        self.markup("</").markup(name).markup(">")
    }

    /// `<name a="v"…>text</name>`
    pub(super) fn element(
        &mut self,
        name: &'static str,
        attrs: &Attrs,
        text: impl Display,
    ) -> &mut Self {
        self.open(name, attrs).text(text).close(name)
    }

    /// A table and its heading row, up to its body.
    pub(super) fn table_start(&mut self, headings: &[&str]) -> &mut Self {
        self.open("table", &[]).open("thead", &[]).open("tr", &[]);
        for heading in headings {
            self.element("th", &[], heading);
        }
        self.close("tr").close("thead").open("tbody", &[]).newline()
    }

    /// A body row of plain cells; the first one a code that does not break across lines.
    pub(super) fn row(&mut self, cells: &[&dyn Display]) -> &mut Self {
        self.open("tr", &[]);
        for (i, cell) in cells.iter().enumerate() {
            let class = if i == 0 { "code" } else { "" };
            self.element("td", &[("class", &class)], cell);
        }
        self.close("tr").newline()
    }

    pub(super) fn table_end(&mut self) -> &mut Self {
        self.close("tbody").close("table").newline()
    }
}

/// Writes through HTML escaping: `&`, `<`, `>`, `"` and `'` become entities.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}
