//! The kinds of file the portal takes, and the names a template's `accept` list may use
//! for them: the one list both the template check (loading refuses any other name) and
//! the portal's upload check read. Telling a file's kind from its content is the web
//! floor's (`portal::file_type::sniff`); this is only what may be asked for.

/// Every name an upload task's `accept` may list, with the type it stands for.
/// Matching ignores case and a leading dot. Deliberately absent: `svg` (an image that
/// can carry script, and is text a browser would run), `html`, and formats the content
/// check cannot tell apart (`doc`, `xls`, `pptx`: old binary Office files and
/// PowerPoint look like any other OLE or ZIP file).
pub const ACCEPT_NAMES: &[(&str, FileType)] = &[
    ("pdf", FileType::Pdf),
    ("png", FileType::Png),
    ("jpg", FileType::Jpeg),
    ("jpeg", FileType::Jpeg),
    ("gif", FileType::Gif),
    ("webp", FileType::Webp),
    ("txt", FileType::Text),
    ("text", FileType::Text),
    ("csv", FileType::Csv),
    ("xml", FileType::Xml),
    ("zip", FileType::Zip),
    ("docx", FileType::Docx),
    ("xlsx", FileType::Xlsx),
];

/// Why a template may not ask for `name`, when it may not: the reason the portal
/// refuses that kind, or that the name is unknown, with the names it knows.
pub fn refusal(name: &str) -> Option<String> {
    if FileType::from_name(name).is_some() {
        return None;
    }
    let known = ACCEPT_NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let why = match name.trim().trim_start_matches('.').to_ascii_lowercase().as_str() {
        "svg" => "SVG images can carry script, so the portal refuses them",
        "html" | "htm" | "xhtml" => "HTML can carry script, so the portal refuses it",
        "doc" | "xls" | "ppt" | "pptx" => "the portal cannot check this format by its content",
        _ => "not a file type the portal knows",
    };
    Some(format!("`{name}`: {why}; an upload task may accept {known}"))
}

/// The kinds of file the portal takes, each recognised by its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Webp,
    /// UTF-8 plain text.
    Text,
    /// UTF-8 text, named `.csv` or where only CSV is accepted (CSV has no signature).
    Csv,
    /// UTF-8 text that starts with an XML declaration (e.g. SAML metadata).
    Xml,
    /// A ZIP archive that is not recognisably an Office document.
    Zip,
    Docx,
    Xlsx,
}

impl FileType {
    /// Image types a browser shows inline, for pictures.
    pub const IMAGES: &'static [FileType] = &[FileType::Png, FileType::Jpeg, FileType::Webp, FileType::Gif];

    /// The type a template's `accept` entry names (`pdf`, `.JPG`, `jpeg`…), by
    /// [`ACCEPT_NAMES`]; `None` for anything else.
    pub fn from_name(name: &str) -> Option<FileType> {
        let name = name.trim().trim_start_matches('.').to_ascii_lowercase();
        ACCEPT_NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// The types named in `names` that the portal can take, without duplicates.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Vec<FileType> {
        let mut out: Vec<FileType> = Vec::new();
        for t in names.iter().filter_map(|n| FileType::from_name(n.as_ref())) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Text => "text/plain; charset=utf-8",
            FileType::Csv => "text/csv; charset=utf-8",
            FileType::Xml => "application/xml",
            FileType::Zip => "application/zip",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Png => "png",
            FileType::Jpeg => "jpg",
            FileType::Gif => "gif",
            FileType::Webp => "webp",
            FileType::Text => "txt",
            FileType::Csv => "csv",
            FileType::Xml => "xml",
            FileType::Zip => "zip",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
        }
    }

    /// How people call it, for messages: "PDF", "Word (DOCX)".
    pub fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "PDF",
            FileType::Png => "PNG",
            FileType::Jpeg => "JPEG",
            FileType::Gif => "GIF",
            FileType::Webp => "WebP",
            FileType::Text => "plain text",
            FileType::Csv => "CSV",
            FileType::Xml => "XML",
            FileType::Zip => "ZIP",
            FileType::Docx => "Word (DOCX)",
            FileType::Xlsx => "Excel (XLSX)",
        }
    }
}

/// A file input's `accept` attribute for `types` (`.pdf,.png`): a hint for the picker,
/// not a check.
pub fn accept_attribute(types: &[FileType]) -> String {
    let mut exts: Vec<&str> = Vec::new();
    for t in types {
        exts.push(t.extension());
        if *t == FileType::Jpeg {
            exts.push("jpeg");
        }
    }
    exts.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(",")
}

/// "PDF, PNG or CSV".
pub fn list_labels(types: &[FileType]) -> String {
    let labels: Vec<&str> = types.iter().map(|t| t.label()).collect();
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_case_or_dot_and_refused_ones_say_why() {
        assert_eq!(FileType::from_name(".JPG"), Some(FileType::Jpeg));
        assert_eq!(
            FileType::from_names(&["PDF", ".jpg", "jpeg", "svg", "doc"]),
            [FileType::Pdf, FileType::Jpeg]
        );
        assert_eq!(refusal("pdf"), None);
        assert!(refusal("svg").unwrap().contains("script"), "{:?}", refusal("svg"));
        assert!(refusal("exe").unwrap().contains("pdf, png, jpg"), "{:?}", refusal("exe"));
        // Every name's type spells itself back as a name of the list.
        for (name, t) in ACCEPT_NAMES {
            assert_eq!(FileType::from_name(name), Some(*t));
            assert_eq!(FileType::from_name(t.extension()), Some(*t));
        }
    }
}
