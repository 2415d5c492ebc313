//! The kinds of file the portal takes, told by their content: a file's first bytes
//! decide what it is, never its name or the browser's word. Task uploads
//! ([`super::upload`]) and profile pictures use the same check.

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

    /// The type a template's `accept` entry names (`pdf`, `jpg`, `csv`…); `None` for
    /// kinds the portal cannot check by content or will not serve (`svg` can carry
    /// script; old binary Office formats).
    pub fn from_name(name: &str) -> Option<FileType> {
        Some(match name.trim().trim_start_matches('.').to_ascii_lowercase().as_str() {
            "pdf" => FileType::Pdf,
            "png" => FileType::Png,
            "jpg" | "jpeg" => FileType::Jpeg,
            "gif" => FileType::Gif,
            "webp" => FileType::Webp,
            "txt" | "text" => FileType::Text,
            "csv" => FileType::Csv,
            "xml" => FileType::Xml,
            "zip" => FileType::Zip,
            "docx" => FileType::Docx,
            "xlsx" => FileType::Xlsx,
            _ => return None,
        })
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

/// The type `head` (a file's first bytes; `complete` when that is the whole file) shows,
/// or `None`: unknown binaries, executables, HTML and other markup alike.
pub fn sniff(head: &[u8], complete: bool) -> Option<FileType> {
    const SIGNATURES: [(&[u8], FileType); 6] = [
        (b"%PDF-", FileType::Pdf),
        (b"\x89PNG\r\n\x1a\n", FileType::Png),
        (b"\xff\xd8\xff", FileType::Jpeg),
        (b"GIF87a", FileType::Gif),
        (b"GIF89a", FileType::Gif),
        (b"PK\x03\x04", FileType::Zip),
    ];
    if let Some((_, t)) = SIGNATURES.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Some(match t {
            FileType::Zip => office_kind(head),
            other => *other,
        });
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(FileType::Webp);
    }
    text_kind(head, complete)
}

/// An Office Open XML document names its parts (`word/…`, `xl/…`) in the ZIP's first
/// entries; anything else is a plain ZIP.
fn office_kind(head: &[u8]) -> FileType {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"word/") {
        FileType::Docx
    } else if has(b"xl/") {
        FileType::Xlsx
    } else {
        FileType::Zip
    }
}

/// UTF-8 text (a BOM allowed) without control characters besides tab, line breaks and
/// form feed; markup is refused, except XML that declares itself and holds no HTML.
fn text_kind(head: &[u8], complete: bool) -> Option<FileType> {
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        // A character cut at the end of the head is not an error, unless the file ends there.
        Err(e) if e.error_len().is_none() && !complete => std::str::from_utf8(&body[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) {
        return None;
    }
    let start = text.trim_start().to_ascii_lowercase();
    if !start.starts_with('<') {
        return Some(FileType::Text);
    }
    let html = ["<html", "<script", "<svg", "<body", "<iframe", "<!doctype html", "<head", "<meta"];
    if start.starts_with("<?xml") && !html.iter().any(|tag| start.contains(tag)) {
        return Some(FileType::Xml);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n...", true), Some(FileType::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0", true), Some(FileType::Png));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0", true), Some(FileType::Jpeg));
        assert_eq!(sniff(b"GIF89a..", true), Some(FileType::Gif));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 ", true), Some(FileType::Webp));
        assert_eq!(
            sniff(b"PK\x03\x04....[Content_Types].xml....word/document.xml", true),
            Some(FileType::Docx)
        );
        assert_eq!(sniff(b"PK\x03\x04....xl/workbook.xml", true), Some(FileType::Xlsx));
        assert_eq!(sniff(b"PK\x03\x04....notes.txt", true), Some(FileType::Zip));
        assert_eq!(sniff("name,total\nÅsa,3\n".as_bytes(), true), Some(FileType::Text));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><md:EntityDescriptor/>", true), Some(FileType::Xml));
        for refused in [
            &b"MZ\x90\0\x03\0\0\0"[..],
            b"\x7fELF\x02\x01\x01",
            b"<!DOCTYPE html><html><script>alert(1)</script>",
            b"  <html><body>hi</body></html>",
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>",
            b"text with a NUL \0 byte",
            b"\xff\xfeh\0i\0",
        ] {
            assert_eq!(sniff(refused, true), None, "{:?}", String::from_utf8_lossy(refused));
        }
        // A character cut by the end of the head is fine unless the file ends there.
        assert_eq!(sniff("abc é".as_bytes().split_last().unwrap().1, false), Some(FileType::Text));
        assert_eq!(sniff("abc é".as_bytes().split_last().unwrap().1, true), None);
    }
}
