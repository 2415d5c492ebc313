//! SOQL tokens, with the column each starts at (for Salesforce-style error messages).

use super::SoqlError;
use crate::util::{parse_date, parse_datetime};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name or keyword, possibly dotted (`Account.Owner.Email`).
    Word(String),
    Str(String),
    Num(f64),
    /// Days since the epoch.
    Date(i64),
    /// Epoch milliseconds.
    DateTime(i64),
    Sym(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based column.
    pub col: usize,
    pub text: String,
}

const SYMS: [&str; 11] = ["<=", ">=", "!=", "<>", "=", "<", ">", "(", ")", ",", ":"];

pub fn lex(q: &str) -> Result<Vec<Token>, SoqlError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if c == '\'' {
            let (s, next) = string(&chars, i).ok_or_else(|| SoqlError::malformed(q, start + 1, "unexpected token: '"))?;
            i = next;
            Tok::Str(s)
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let (t, next) = number_or_date(&chars, i);
            i = next;
            t.ok_or_else(|| SoqlError::malformed(q, start + 1, &format!("unexpected token: {}", slice(&chars, start, next))))?
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            Tok::Word(slice(&chars, start, i))
        } else if let Some(s) = SYMS.iter().find(|s| chars[i..].iter().take(s.len()).copied().eq(s.chars())) {
            i += s.len();
            Tok::Sym(s)
        } else {
            return Err(SoqlError::malformed(q, start + 1, &format!("unexpected token: {c}")));
        };
        out.push(Token {
            tok,
            col: start + 1,
            text: slice(&chars, start, i),
        });
    }
    Ok(out)
}

fn slice(chars: &[char], a: usize, b: usize) -> String {
    chars[a..b.min(chars.len())].iter().collect()
}

/// A quoted string with SOQL escapes (`\'`, `\\`, `\n`, `\t`, `\"`, `\%`, `\_`).
fn string(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\'' => return Some((s, i + 1)),
            '\\' => {
                let n = *chars.get(i + 1)?;
                match n {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    // LIKE escapes stay escaped so the pattern matcher sees them.
                    '%' | '_' => {
                        s.push('\\');
                        s.push(n);
                    }
                    other => s.push(other),
                }
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    None
}

/// A number, a date (`2024-05-01`) or a datetime (`2024-05-01T00:00:00Z`, `…+01:00`).
fn number_or_date(chars: &[char], start: usize) -> (Option<Tok>, usize) {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | ':' | '-' | '+')) {
        // A sign only continues a literal inside a datetime's zone or date; `a-1` is never SOQL anyway.
        i += 1;
    }
    let text = slice(chars, start, i);
    if text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
        if text.len() == 10 {
            return (parse_date(&text).map(Tok::Date), i);
        }
        return (parse_datetime(&text).map(Tok::DateTime), i);
    }
    (text.parse::<f64>().ok().filter(|n| n.is_finite()).map(Tok::Num), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_every_kind_are_recognised() {
        let t = lex("WHERE a >= 2024-05-01T00:00:00Z AND b = 2024-05-01 AND c != 'it\\'s' AND d < -1.5").unwrap();
        let toks: Vec<Tok> = t.into_iter().map(|t| t.tok).collect();
        assert!(matches!(toks[3], Tok::DateTime(1_714_521_600_000)));
        assert!(matches!(toks[7], Tok::Date(19_844)));
        assert_eq!(toks[11], Tok::Str("it's".into()));
        assert_eq!(toks[15], Tok::Num(-1.5));
        assert!(lex("WHERE a = 'open").is_err());
    }
}
