//! Just enough MIME reading to assert on what lettre sent: headers, and the decoded
//! body of each part of a multipart message.

use base64::Engine;

/// A header's value (unfolded), by case-insensitive name, from the top-level headers.
pub fn header(raw: &str, name: &str) -> Option<String> {
    headers_of(raw)
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// All headers of a message or part, unfolded.
pub fn headers_of(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

/// The decoded body of the part whose Content-Type starts with `content_type`.
pub fn part(raw: &str, content_type: &str) -> Option<String> {
    let top_type = header(raw, "Content-Type")?;
    let boundary = top_type.split("boundary=").nth(1)?.trim_matches('"').to_owned();
    let delimiter = format!("--{boundary}");
    raw.split(delimiter.as_str()).skip(1).find_map(|chunk| {
        let chunk = chunk.trim_start_matches("\r\n");
        let headers = headers_of(chunk);
        let get = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        if !get("Content-Type")?.to_ascii_lowercase().starts_with(content_type) {
            return None;
        }
        let body = chunk.split_once("\r\n\r\n")?.1.trim_end_matches("\r\n");
        Some(
            match get("Content-Transfer-Encoding").as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("quoted-printable") => quoted_printable(body),
                Some("base64") => {
                    let compact: String = body.split_whitespace().collect();
                    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).ok()?).ok()?
                }
                _ => body.to_owned(),
            },
        )
    })
}

/// RFC 2045 §6.7: `=XX` is a byte, `=` at the end of a line joins it to the next.
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=').then(|| joined.get(i + 1..i + 3)).flatten();
        match escaped.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
