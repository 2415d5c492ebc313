//! Receiving files from the portal's multipart forms, and sending them back.
//!
//! [`receive`] streams one file to disk: the size limit is enforced as the bytes
//! arrive (past it, the partial file is removed and nothing is kept), the type is
//! decided by the content's first bytes — never by the name or the browser's word —
//! against the caller's allowed [`FileType`]s, the SHA-256 is computed on the way, and
//! the file lands under a random name in the caller's directory (kept out of anything
//! served as static files). Until the file is complete it is a hidden `.part` file.
//! [`download`] sends a stored file as an attachment of its checked type, `nosniff`.
//!
//! Reuse: a form posts `csrf` first, then its file; the handler calls [`check_csrf`],
//! then [`receive`] on the file field with an [`UploadPolicy`] (e.g.
//! `UploadPolicy::new(2 * 1024 * 1024, FileType::IMAGES)` for a picture), records the
//! [`Received`] file (or [`Received::discard`]s it when recording fails), and on an
//! error calls [`drain`] before answering, so the browser is not cut off mid-request.
//! The route needs axum's default body limit lifted: layer it with [`body_limit`].

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::Multipart;
use axum::extract::multipart::Field;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::io::AsyncWriteExt;

use super::file_type::{FileType, list_labels, sniff};
use super::session::Customer;
use crate::page_error::{PageError, PageResult};

/// How many leading bytes the type is decided on.
const HEAD_LEN: usize = 8 * 1024;
/// How much of an oversized or refused request is read and thrown away so the answer
/// reaches the browser (beyond it the connection is closed).
pub const DRAIN_ALLOWANCE: u64 = 16 * 1024 * 1024;
/// The form token field is 43 characters; anything much longer is not one.
pub const MAX_TOKEN_BYTES: usize = 256;

/// What one upload may be.
#[derive(Clone, Debug)]
pub struct UploadPolicy {
    pub max_bytes: u64,
    pub allowed: Vec<FileType>,
}

impl UploadPolicy {
    pub fn new(max_bytes: u64, allowed: &[FileType]) -> Self {
        Self {
            max_bytes,
            allowed: allowed.to_vec(),
        }
    }

    /// The type the file is taken as: what the content shows, if allowed. Text without
    /// a signature is CSV when CSV is allowed and the name says so (or plain text is not
    /// allowed), else plain text.
    fn accept(&self, sniffed: FileType, name: &str) -> Option<FileType> {
        let allows = |t| self.allowed.contains(&t);
        let chosen = match sniffed {
            FileType::Text => {
                let named_csv = name.to_ascii_lowercase().ends_with(".csv");
                if allows(FileType::Csv) && (named_csv || !allows(FileType::Text)) {
                    FileType::Csv
                } else {
                    FileType::Text
                }
            }
            other => other,
        };
        allows(chosen).then_some(chosen)
    }
}

/// The layer an upload route needs: axum's default body limit (2 MB) lifted, since
/// this module enforces its own limits as the bytes arrive — the policy's on the file,
/// [`MAX_TOKEN_BYTES`] on the form token, [`DRAIN_ALLOWANCE`] on what is discarded.
pub fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::disable()
}

/// Where a file's bytes come from: a multipart field, or anything else in tests.
pub trait ChunkSource {
    /// The next chunk, `None` at the end.
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, UploadError>> + Send;
}

impl ChunkSource for Field<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, UploadError> {
        self.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                UploadError::TooLarge { max_bytes: None }
            } else {
                UploadError::Interrupted(e.body_text())
            }
        })
    }
}

/// Why a file was not kept. Nothing of it is on disk in any case.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no file was chosen, or it is empty")]
    Empty,
    /// Over the policy's limit (`Some`), or over the request's.
    #[error("the file is too large")]
    TooLarge { max_bytes: Option<u64> },
    #[error("the file's type is not allowed")]
    NotAllowed { allowed: Vec<FileType> },
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("the file cannot be stored: {0}")]
    Storage(#[from] std::io::Error),
}

impl UploadError {
    /// What to tell the person, beside the file input.
    pub fn message(&self) -> String {
        match self {
            UploadError::Empty => "Choose a file to upload; empty files are not accepted.".to_owned(),
            UploadError::TooLarge { max_bytes: Some(max) } => format!("The file is too large: the limit is {}.", size_label(*max)),
            UploadError::TooLarge { max_bytes: None } => "The file is too large.".to_owned(),
            UploadError::NotAllowed { allowed } if allowed.is_empty() => {
                "This file's content is not of a type accepted here. Choose another file.".to_owned()
            }
            UploadError::NotAllowed { allowed } => format!(
                "This file is not a {} file (its content was checked, not its name). Choose another file.",
                list_labels(allowed)
            ),
            UploadError::Interrupted(_) => "The upload was interrupted. Please try again.".to_owned(),
            UploadError::Storage(_) => "The file could not be stored. Please try again in a moment.".to_owned(),
        }
    }

    /// The status a refusal answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::Empty | UploadError::Interrupted(_) => StatusCode::BAD_REQUEST,
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::NotAllowed { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UploadError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// "1.5 MB", "820 KB", "12 bytes".
pub fn size_label(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / MB as f64;
    match bytes {
        b if b >= MB && b % MB == 0 => format!("{} MB", b / MB),
        b if b >= MB => format!("{mb:.1} MB"),
        b if b >= KB => format!("{} KB", b.div_ceil(KB)),
        b => format!("{b} bytes"),
    }
}

/// A file kept on disk, not yet recorded anywhere.
#[derive(Debug)]
pub struct Received {
    /// The random name it is stored under in the directory.
    pub storage_name: String,
    pub path: PathBuf,
    /// The name the person gave, sanitised (see [`sanitize_name`]).
    pub original_name: String,
    pub file_type: FileType,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

impl Received {
    /// Removes the file (when recording it failed).
    pub async fn discard(self) {
        if let Err(e) = tokio::fs::remove_file(&self.path).await {
            tracing::warn!(error = %e, file = %self.storage_name, "cannot remove an unrecorded upload");
        }
    }
}

/// Streams `source` into `dir` under a random name, as described in the module docs.
/// `name` is the name the browser gave, if any.
pub async fn receive(
    source: &mut impl ChunkSource,
    name: Option<&str>,
    dir: &Path,
    policy: &UploadPolicy,
) -> Result<Received, UploadError> {
    let original_name = sanitize_name(name.unwrap_or_default());
    let mut head: Vec<u8> = Vec::with_capacity(HEAD_LEN);
    let mut complete = false;
    while head.len() < HEAD_LEN {
        match source.next_chunk().await? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => {
                complete = true;
                break;
            }
        }
        if head.len() as u64 > policy.max_bytes {
            return Err(UploadError::TooLarge {
                max_bytes: Some(policy.max_bytes),
            });
        }
    }
    if head.is_empty() {
        return Err(UploadError::Empty);
    }
    let not_allowed = || UploadError::NotAllowed {
        allowed: policy.allowed.clone(),
    };
    let sniffed = sniff(&head, complete).ok_or_else(not_allowed)?;
    let file_type = policy.accept(sniffed, &original_name).ok_or_else(not_allowed)?;
    tokio::fs::create_dir_all(dir).await?;
    let storage_name = random_name()?;
    let partial = dir.join(format!(".{storage_name}.part"));
    let path = dir.join(&storage_name);
    let written = write(source, head, complete, &partial, policy.max_bytes, is_text(file_type)).await;
    let (size, sha256) = match written {
        Ok(done) => done,
        Err(e) => {
            if let Err(remove) = tokio::fs::remove_file(&partial).await {
                tracing::warn!(error = %remove, "cannot remove a partial upload");
            }
            return Err(e);
        }
    };
    tokio::fs::rename(&partial, &path).await?;
    Ok(Received {
        storage_name,
        path,
        original_name: if original_name.is_empty() {
            format!("file.{}", file_type.extension())
        } else {
            original_name
        },
        file_type,
        size,
        sha256,
    })
}

fn is_text(t: FileType) -> bool {
    matches!(t, FileType::Text | FileType::Csv | FileType::Xml)
}

/// Writes `head` and the rest of `source` to `partial`, counting and hashing; a text
/// file must stay free of NUL bytes to the end.
async fn write(
    source: &mut impl ChunkSource,
    head: Vec<u8>,
    complete: bool,
    partial: &Path,
    max_bytes: u64,
    text: bool,
) -> Result<(u64, String), UploadError> {
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(partial).await?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut size = head.len() as u64;
    digest.update(&head);
    file.write_all(&head).await?;
    if !complete {
        while let Some(chunk) = source.next_chunk().await? {
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(UploadError::TooLarge {
                    max_bytes: Some(max_bytes),
                });
            }
            if text && chunk.contains(&0) {
                return Err(UploadError::NotAllowed { allowed: vec![] });
            }
            digest.update(&chunk);
            file.write_all(&chunk).await?;
        }
    }
    file.sync_all().await?;
    let sha256 = digest.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, sha256))
}

/// 128 random bits as hex: a name nobody can guess or steer.
fn random_name() -> Result<String, UploadError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| UploadError::Storage(std::io::Error::other("no randomness for a file name")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The last path segment of `raw`, without control characters, quotes, separators or
/// leading dots, at most 120 characters; letters of any script are kept.
pub fn sanitize_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')' | '+' | ',') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    trimmed.chars().rev().take(120).collect::<Vec<_>>().into_iter().rev().collect()
}

/// `Content-Disposition` for a download of `name`: an ASCII fallback and the exact
/// name in RFC 5987 form.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The stored file `storage_name` in `dir` as a download: an attachment named `name`,
/// of `content_type` (the checked one), not to be sniffed, rendered or cached.
pub async fn download(dir: &Path, storage_name: &str, name: &str, content_type: &str) -> PageResult<Response> {
    let bytes = tokio::fs::read(dir.join(storage_name)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            tracing::error!(
                file = storage_name,
                "an uploaded file is recorded but missing from the upload directory"
            );
            PageError::NotFound
        } else {
            PageError::Internal(e.into())
        }
    })?;
    let header = |v: &str| HeaderValue::from_str(v).map_err(|e| PageError::Internal(e.into()));
    Ok((
        [
            (header::CONTENT_TYPE, header(content_type)?),
            (header::CONTENT_DISPOSITION, header(&content_disposition(name))?),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// Reads the form's first field, which must be the session's `csrf` token, and refuses
/// the request otherwise (403, nothing read further, nothing kept).
pub async fn check_csrf(multipart: &mut Multipart, me: &Customer, headers: &axum::http::HeaderMap) -> PageResult<()> {
    if !crate::csrf::same_site(headers) {
        return Err(PageError::Forbidden);
    }
    let field = multipart.next_field().await.map_err(|e| PageError::BadRequest(e.body_text()))?;
    let Some(mut field) = field.filter(|f| f.name() == Some("csrf")) else {
        tracing::info!("a portal upload without a form token was refused");
        return Err(PageError::Forbidden);
    };
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| PageError::BadRequest(e.body_text()))? {
        token.extend_from_slice(&chunk);
        if token.len() > MAX_TOKEN_BYTES {
            return Err(PageError::Forbidden);
        }
    }
    let token = String::from_utf8_lossy(&token);
    if !crate::form_token::verify(&me.session_secret, token.trim()) {
        tracing::info!("a portal upload without a valid token was refused");
        return Err(PageError::Forbidden);
    }
    Ok(())
}

/// Reads and discards what is left of the request, up to [`DRAIN_ALLOWANCE`], so a
/// refusal is answered rather than the connection reset mid-upload. Past the allowance
/// it stops; the server then closes the connection after answering.
pub async fn drain(multipart: &mut Multipart) {
    let mut drained: u64 = 0;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_ALLOWANCE {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chunks(std::vec::IntoIter<Bytes>);

    impl ChunkSource for Chunks {
        async fn next_chunk(&mut self) -> Result<Option<Bytes>, UploadError> {
            Ok(self.0.next())
        }
    }

    fn chunks(data: &[u8], size: usize) -> Chunks {
        Chunks(data.chunks(size).map(Bytes::copy_from_slice).collect::<Vec<_>>().into_iter())
    }

    #[test]
    fn text_is_csv_when_csv_is_asked_for() {
        let csv_only = UploadPolicy::new(10, &[FileType::Csv]);
        assert_eq!(csv_only.accept(FileType::Text, "export.txt"), Some(FileType::Csv));
        let both = UploadPolicy::new(10, &[FileType::Text, FileType::Csv]);
        assert_eq!(both.accept(FileType::Text, "export.CSV"), Some(FileType::Csv));
        assert_eq!(both.accept(FileType::Text, "notes.txt"), Some(FileType::Text));
        assert_eq!(UploadPolicy::new(10, &[FileType::Pdf]).accept(FileType::Text, "x.pdf"), None);
        assert_eq!(
            FileType::from_names(&["PDF", ".jpg", "jpeg", "svg", "doc"]),
            [FileType::Pdf, FileType::Jpeg]
        );
    }

    #[test]
    fn names_are_sanitised_and_offered_back_safely() {
        assert_eq!(sanitize_name("C:\\Users\\ana\\Q3 report (final).pdf"), "Q3 report (final).pdf");
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("..hidden\"<x>.pdf"), "hidden__x_.pdf");
        assert_eq!(sanitize_name("résumé\u{202e}.pdf"), "résumé_.pdf");
        assert_eq!(
            content_disposition("résumé 1.pdf"),
            "attachment; filename=\"r_sum_ 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf"
        );
        assert_eq!(size_label(20 * 1024 * 1024), "20 MB");
        assert_eq!(size_label(1536 * 1024), "1.5 MB");
    }

    #[tokio::test]
    async fn a_file_is_stored_under_a_random_name_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let data = [b"%PDF-1.4\n".as_slice(), &[b'x'; 20_000]].concat();
        let policy = UploadPolicy::new(1 << 20, &[FileType::Pdf]);
        let got = receive(&mut chunks(&data, 3000), Some("/tmp/Plan.pdf"), dir.path(), &policy)
            .await
            .unwrap();
        assert_eq!(
            (got.file_type, got.size, got.original_name.as_str()),
            (FileType::Pdf, data.len() as u64, "Plan.pdf")
        );
        assert_eq!(got.storage_name.len(), 32);
        assert_eq!(std::fs::read(&got.path).unwrap(), data);
        let expected: String = ring::digest::digest(&ring::digest::SHA256, &data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got.sha256, expected);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no partial file left");
    }

    #[tokio::test]
    async fn refused_files_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let policy = UploadPolicy::new(10_000, &[FileType::Pdf, FileType::Text]);
        let big = [b"%PDF-1.4\n".as_slice(), &[b'x'; 20_000]].concat();
        let err = receive(&mut chunks(&big, 1000), Some("big.pdf"), dir.path(), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::TooLarge { max_bytes: Some(10_000) }), "{err:?}");
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff";
        let err = receive(&mut chunks(exe, 4), Some("invoice.pdf"), dir.path(), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::NotAllowed { .. }), "{err:?}");
        let sneaky = [vec![b'a'; HEAD_LEN], vec![0u8; 10]].concat();
        let err = receive(&mut chunks(&sneaky, 512), Some("notes.txt"), dir.path(), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::NotAllowed { .. }), "{err:?}");
        let err = receive(&mut chunks(b"", 1), Some("empty.txt"), dir.path(), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::Empty), "{err:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
