//! A recursive-descent parser for the SOQL subset (issue 3): field lists with parent paths,
//! one level of child subqueries, WHERE with comparisons, IN, LIKE, AND/OR/NOT and parentheses,
//! ORDER BY, LIMIT and OFFSET, plus `COUNT()`.

use super::SoqlError;
use super::lex::{Tok, Token, lex};

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(i64),
    DateTime(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A dotted field path as written, with its column.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub parts: Vec<String>,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(Path, Op, Lit),
    In(Path, Vec<Lit>, bool),
    Like(Path, String, bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub path: Path,
    pub desc: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Field(Path),
    Sub(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub items: Vec<Item>,
    pub count: bool,
    pub from: String,
    pub from_col: usize,
    pub filter: Option<Cond>,
    pub order: Vec<Order>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

pub fn parse(q: &str) -> Result<Query, SoqlError> {
    let tokens = lex(q)?;
    let mut p = Parser { q, tokens, pos: 0 };
    let query = p.query()?;
    if let Some(t) = p.peek() {
        return Err(p.unexpected(t.clone()));
    }
    Ok(query)
}

struct Parser<'a> {
    q: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(&self, t: Token) -> SoqlError {
        SoqlError::malformed(self.q, t.col, &format!("unexpected token: {}", t.text))
    }

    fn eof(&self) -> SoqlError {
        let col = self.q.chars().count() + 1;
        SoqlError::malformed(self.q, col, "unexpected token: <EOF>")
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) {
            return Ok(());
        }
        Err(match self.peek() {
            Some(t) => self.unexpected(t.clone()),
            None => self.eof(),
        })
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Sym(x), .. }) if *x == s)
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), SoqlError> {
        if self.is_sym(s) {
            self.pos += 1;
            return Ok(());
        }
        Err(match self.peek() {
            Some(t) => self.unexpected(t.clone()),
            None => self.eof(),
        })
    }

    fn word(&mut self) -> Result<(String, usize), SoqlError> {
        match self.next() {
            Some(Token {
                tok: Tok::Word(w), col, ..
            }) if !is_reserved(&w) => Ok((w, col)),
            Some(t) => Err(self.unexpected(t)),
            None => Err(self.eof()),
        }
    }

    fn path(&mut self) -> Result<Path, SoqlError> {
        let (w, col) = self.word()?;
        if w.split('.').any(str::is_empty) {
            return Err(SoqlError::malformed(self.q, col, &format!("unexpected token: {w}")));
        }
        Ok(Path {
            parts: w.split('.').map(str::to_string).collect(),
            col,
        })
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let (items, count) = self.items()?;
        self.expect_kw("FROM")?;
        let (from, from_col) = self.word()?;
        let filter = if self.eat_kw("WHERE") { Some(self.or()?) } else { None };
        let order = if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            self.orders()?
        } else {
            Vec::new()
        };
        let limit = if self.eat_kw("LIMIT") { Some(self.count_lit()?) } else { None };
        let offset = if self.eat_kw("OFFSET") { Some(self.count_lit()?) } else { None };
        Ok(Query {
            items,
            count,
            from,
            from_col,
            filter,
            order,
            limit,
            offset,
        })
    }

    fn items(&mut self) -> Result<(Vec<Item>, bool), SoqlError> {
        if self.is_kw("COUNT") && matches!(self.tokens.get(self.pos + 1), Some(Token { tok: Tok::Sym("("), .. })) {
            self.pos += 1;
            self.expect_sym("(")?;
            self.expect_sym(")")?;
            return Ok((Vec::new(), true));
        }
        let mut items = Vec::new();
        loop {
            if self.is_sym("(") {
                self.pos += 1;
                let sub = self.query()?;
                self.expect_sym(")")?;
                items.push(Item::Sub(Box::new(sub)));
            } else {
                let p = self.path()?;
                if self.is_sym("(") {
                    // Aggregates and functions (COUNT(Id), MAX(…), toLabel(…)) are outside the subset.
                    return Err(SoqlError::malformed(
                        self.q,
                        p.col,
                        &format!("unexpected token: {}(", p.parts.join(".")),
                    ));
                }
                items.push(Item::Field(p));
            }
            if !self.is_sym(",") {
                return Ok((items, false));
            }
            self.pos += 1;
        }
    }

    fn orders(&mut self) -> Result<Vec<Order>, SoqlError> {
        let mut out = Vec::new();
        loop {
            let path = self.path()?;
            let desc = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            // Salesforce: ascending puts nulls first, descending puts them last, unless told.
            let mut nulls_last = desc;
            if self.eat_kw("NULLS") {
                if self.eat_kw("LAST") {
                    nulls_last = true;
                } else {
                    self.expect_kw("FIRST")?;
                    nulls_last = false;
                }
            }
            out.push(Order { path, desc, nulls_last });
            if !self.is_sym(",") {
                return Ok(out);
            }
            self.pos += 1;
        }
    }

    fn count_lit(&mut self) -> Result<usize, SoqlError> {
        match self.next() {
            Some(Token { tok: Tok::Num(n), .. }) if n >= 0.0 && n.fract() == 0.0 && n < 1e12 => Ok(n as usize),
            Some(t) => Err(self.unexpected(t)),
            None => Err(self.eof()),
        }
    }

    fn or(&mut self) -> Result<Cond, SoqlError> {
        let mut parts = vec![self.and()?];
        while self.eat_kw("OR") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::Or(parts) })
    }

    fn and(&mut self) -> Result<Cond, SoqlError> {
        let mut parts = vec![self.not()?];
        while self.eat_kw("AND") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::And(parts) })
    }

    fn not(&mut self) -> Result<Cond, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        if self.is_sym("(") {
            self.pos += 1;
            let c = self.or()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Cond, SoqlError> {
        let path = self.path()?;
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            self.expect_sym("(")?;
            let mut values = vec![self.literal()?];
            while self.is_sym(",") {
                self.pos += 1;
                values.push(self.literal()?);
            }
            self.expect_sym(")")?;
            return Ok(Cond::In(path, values, negated));
        }
        if self.eat_kw("LIKE") {
            return match self.next() {
                Some(Token { tok: Tok::Str(s), .. }) => Ok(Cond::Like(path, s, negated)),
                Some(t) => Err(self.unexpected(t)),
                None => Err(self.eof()),
            };
        }
        if negated {
            return Err(match self.peek() {
                Some(t) => self.unexpected(t.clone()),
                None => self.eof(),
            });
        }
        let op = match self.next() {
            Some(Token { tok: Tok::Sym(s), .. }) if op_of(s).is_some() => op_of(s).unwrap_or(Op::Eq),
            Some(t) => return Err(self.unexpected(t)),
            None => return Err(self.eof()),
        };
        Ok(Cond::Cmp(path, op, self.literal()?))
    }

    fn literal(&mut self) -> Result<Lit, SoqlError> {
        match self.next() {
            Some(Token { tok, text, col }) => match tok {
                Tok::Str(s) => Ok(Lit::Str(s)),
                Tok::Num(n) => Ok(Lit::Num(n)),
                Tok::Date(d) => Ok(Lit::Date(d)),
                Tok::DateTime(ms) => Ok(Lit::DateTime(ms)),
                Tok::Word(w) if w.eq_ignore_ascii_case("null") => Ok(Lit::Null),
                Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
                Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
                _ => Err(self.unexpected(Token { tok, text, col })),
            },
            None => Err(self.eof()),
        }
    }
}

fn op_of(s: &str) -> Option<Op> {
    Some(match s {
        "=" => Op::Eq,
        "!=" | "<>" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        _ => return None,
    })
}

fn is_reserved(w: &str) -> bool {
    const RESERVED: [&str; 16] = [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE", "NULLS",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polling_query_with_a_subquery_parses() {
        let q = parse(
            "SELECT Id, Account.Name, (SELECT ContactId, Role FROM OpportunityContactRoles WHERE IsPrimary = true) \
             FROM Opportunity WHERE (SystemModstamp >= 2026-01-01T00:00:00Z AND NOT StageName IN ('Closed Lost')) OR Name LIKE 'Acme%' \
             ORDER BY SystemModstamp ASC, Id DESC NULLS FIRST LIMIT 10",
        )
        .unwrap();
        assert_eq!(q.items.len(), 3);
        assert!(matches!(q.items[2], Item::Sub(_)));
        assert!(matches!(q.filter, Some(Cond::Or(_))));
        assert_eq!(q.order.len(), 2);
        assert!(q.order[1].desc && !q.order[1].nulls_last);
        assert_eq!(q.limit, Some(10));
    }

    #[test]
    fn malformed_queries_report_the_unexpected_token() {
        let e = parse("SELECT Id FRM Account").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(e.message.contains("unexpected token: FRM"), "{}", e.message);
        assert!(parse("SELECT Id FROM Account WHERE").is_err());
        assert!(parse("SELECT FROM Account").is_err());
        assert!(parse("SELECT Id FROM Account LIMIT -1").is_err());
        assert!(parse("").is_err());
        assert!(parse("SELECT COUNT() FROM Account").unwrap().count);
    }
}
