//! The kinds of file the portal takes, told by their content: a file's first bytes
//! decide what it is, never its name or the browser's word. Task uploads
//! ([`super::upload`]) and profile pictures use the same check. The kinds and the names
//! a template may ask for them by are the domain's (`handoff_domain::file_type`), read
//! by the template check too.

pub use handoff_domain::file_type::{FileType, accept_attribute, list_labels};

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
