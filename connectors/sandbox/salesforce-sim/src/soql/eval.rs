//! Resolving a parsed query against the schema (INVALID_FIELD/INVALID_TYPE errors) and running it
//! over the store: index-driven candidates for `Id`/reference equality, one pass of filtering, one
//! sort. Nothing is quadratic in the number of records.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::SoqlError;
use super::parse::{Cond, Item, Lit, Op, Path, Query, parse};
use crate::ids;
use crate::schema::FieldType;
use crate::store::{Record, Store};
use crate::util::{parse_date, parse_datetime};

/// A field path resolved against the schema: reference hops, then the field.
#[derive(Debug, Clone)]
pub struct FieldRef {
    /// (reference field, canonical relationship name) per hop.
    pub hops: Vec<(String, String)>,
    pub field: String,
    pub ftype: FieldType,
}

#[derive(Debug, Clone)]
pub struct SubQuery {
    /// Canonical child relationship name, e.g. `OpportunityContactRoles`.
    pub name: String,
    pub child: usize,
    pub parent_field: String,
    pub select: Vec<FieldRef>,
    filter: Option<CCond>,
    order: Vec<(FieldRef, bool, bool)>,
    limit: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum Selected {
    Field(FieldRef),
    Sub(SubQuery),
}

#[derive(Debug, Clone)]
enum CCond {
    And(Vec<CCond>),
    Or(Vec<CCond>),
    Not(Box<CCond>),
    Cmp(FieldRef, Op, Lit),
    In(FieldRef, Vec<Lit>, bool),
    Like(FieldRef, Vec<char>, bool),
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub object: usize,
    pub select: Vec<Selected>,
    pub count: bool,
    /// queryAll: deleted records are included.
    pub all: bool,
    filter: Option<CCond>,
    order: Vec<(FieldRef, bool, bool)>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// A typed value for comparison and sorting.
#[derive(Debug, Clone, PartialEq)]
enum V<'a> {
    Null,
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    /// Epoch milliseconds (dates at midnight UTC), so dates and datetimes compare.
    Time(i64),
}

pub fn compile(q: &str, store: &Store, all: bool) -> Result<Compiled, SoqlError> {
    let parsed = parse(q)?;
    let object = store
        .schema
        .index_of(&parsed.from)
        .ok_or_else(|| SoqlError::invalid_type(q, parsed.from_col, &format!("sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", parsed.from)))?;
    let cx = Cx { q, store };
    let mut select = Vec::new();
    for item in &parsed.items {
        match item {
            Item::Field(p) => select.push(Selected::Field(cx.field(object, p)?)),
            Item::Sub(sub) => select.push(Selected::Sub(cx.sub(object, sub)?)),
        }
    }
    Ok(Compiled {
        object,
        select,
        count: parsed.count,
        all,
        filter: parsed.filter.as_ref().map(|c| cx.cond(object, c)).transpose()?,
        order: cx.orders(object, &parsed)?,
        limit: parsed.limit,
        offset: parsed.offset,
    })
}

struct Cx<'a> {
    q: &'a str,
    store: &'a Store,
}

impl Cx<'_> {
    fn field(&self, object: usize, p: &Path) -> Result<FieldRef, SoqlError> {
        let schema = &self.store.schema;
        let mut current = vec![object];
        let mut hops = Vec::new();
        let (last, rels) = p
            .parts
            .split_last()
            .ok_or_else(|| SoqlError::malformed(self.q, p.col, "unexpected token"))?;
        for (i, rel) in rels.iter().enumerate() {
            // `SELECT Opportunity.Name FROM Opportunity` may name the queried object first.
            if i == 0
                && rel.eq_ignore_ascii_case(&schema.objects[object].name)
                && rels.len() + 1 == p.parts.len()
                && hops.is_empty()
                && schema.objects[object].relationship(rel).is_none()
            {
                continue;
            }
            let Some(f) = current.iter().find_map(|o| schema.objects[*o].relationship(rel)) else {
                return Err(SoqlError::invalid_field(
                    self.q,
                    p.col,
                    &format!(
                        "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                    ),
                ));
            };
            hops.push((f.name.clone(), f.relationship.clone().unwrap_or_default()));
            current = f.reference_to.iter().filter_map(|t| schema.index_of(t)).collect();
        }
        let Some(f) = current.iter().find_map(|o| schema.objects[*o].field(last)) else {
            let entity = current.first().map_or("", |o| schema.objects[*o].name.as_str());
            return Err(SoqlError::invalid_field(
                self.q,
                p.col,
                &format!(
                    "No such column '{last}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        };
        Ok(FieldRef {
            hops,
            field: f.name.clone(),
            ftype: f.ftype,
        })
    }

    fn sub(&self, object: usize, sub: &Query) -> Result<SubQuery, SoqlError> {
        let parent = &self.store.schema.objects[object];
        let Some(rel) = parent.child(&sub.from) else {
            return Err(SoqlError::invalid_type(
                self.q,
                sub.from_col,
                &format!(
                    "Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                    sub.from
                ),
            ));
        };
        let child = self.store.schema.index_of(&rel.child).unwrap_or(object);
        let mut select = Vec::new();
        for item in &sub.items {
            match item {
                Item::Field(p) => select.push(self.field(child, p)?),
                Item::Sub(_) => return Err(SoqlError::malformed(self.q, sub.from_col, "unexpected token: (")),
            }
        }
        if sub.count {
            return Err(SoqlError::malformed(self.q, sub.from_col, "unexpected token: COUNT"));
        }
        Ok(SubQuery {
            name: rel.name.clone(),
            child,
            parent_field: rel.field.clone(),
            select,
            filter: sub.filter.as_ref().map(|c| self.cond(child, c)).transpose()?,
            order: self.orders(child, sub)?,
            limit: sub.limit,
        })
    }

    fn orders(&self, object: usize, q: &Query) -> Result<Vec<(FieldRef, bool, bool)>, SoqlError> {
        q.order
            .iter()
            .map(|o| Ok((self.field(object, &o.path)?, o.desc, o.nulls_last)))
            .collect()
    }

    fn cond(&self, object: usize, c: &Cond) -> Result<CCond, SoqlError> {
        Ok(match c {
            Cond::And(v) => CCond::And(v.iter().map(|c| self.cond(object, c)).collect::<Result<_, _>>()?),
            Cond::Or(v) => CCond::Or(v.iter().map(|c| self.cond(object, c)).collect::<Result<_, _>>()?),
            Cond::Not(c) => CCond::Not(Box::new(self.cond(object, c)?)),
            Cond::Cmp(p, op, lit) => {
                let f = self.field(object, p)?;
                self.check_lit(&f, p, lit)?;
                let lit = id_literal(&f, lit);
                CCond::Cmp(f, *op, lit)
            }
            Cond::In(p, lits, neg) => {
                let f = self.field(object, p)?;
                for l in lits {
                    self.check_lit(&f, p, l)?;
                }
                let lits = lits.iter().map(|l| id_literal(&f, l)).collect();
                CCond::In(f, lits, *neg)
            }
            Cond::Like(p, pattern, neg) => {
                let f = self.field(object, p)?;
                if !f.ftype.is_text() {
                    return Err(SoqlError::invalid_field(
                        self.q,
                        p.col,
                        &format!("invalid operator on {} field: LIKE", f.ftype.name()),
                    ));
                }
                CCond::Like(f, pattern.to_lowercase().chars().collect(), *neg)
            }
        })
    }

    /// Salesforce rejects literals of the wrong type for the field (INVALID_FIELD).
    fn check_lit(&self, f: &FieldRef, p: &Path, lit: &Lit) -> Result<(), SoqlError> {
        let t = f.ftype;
        let ok = match lit {
            Lit::Null => true,
            Lit::Str(_) => t.is_text(),
            Lit::Num(_) => t.is_numeric(),
            Lit::Bool(_) => t == FieldType::Boolean,
            Lit::Date(_) | Lit::DateTime(_) => matches!(t, FieldType::Date | FieldType::Datetime),
        };
        if ok {
            return Ok(());
        }
        let quoted = if matches!(lit, Lit::Str(_)) {
            " and should not be enclosed in quotes"
        } else {
            ""
        };
        Err(SoqlError::invalid_field(
            self.q,
            p.col,
            &format!(
                "value of filter criterion for field '{}' must be of type {}{quoted}",
                f.field,
                t.name()
            ),
        ))
    }
}

/// 15-character ids in filters on id fields match their 18-character form, as in Salesforce.
fn id_literal(f: &FieldRef, lit: &Lit) -> Lit {
    match lit {
        Lit::Str(s) if s.len() == 15 && matches!(f.ftype, FieldType::Id | FieldType::Reference) => {
            Lit::Str(ids::normalize(s).unwrap_or_else(|| s.clone()))
        }
        other => other.clone(),
    }
}

impl Compiled {
    /// Ids of the matching records, filtered, sorted, offset and limited.
    pub fn run(&self, store: &Store) -> Vec<String> {
        let visible = |r: &&Record| self.all || r.deleted_ms.is_none();
        let matches = |r: &&Record| self.filter.as_ref().is_none_or(|c| eval(store, r, c));
        let mut rows: Vec<&Record> = match self.candidates(store) {
            Some(c) => c.into_iter().filter(visible).filter(matches).collect(),
            None => store.tables[self.object].records.values().filter(visible).filter(matches).collect(),
        };
        sort(store, &mut rows, &self.order);
        let offset = self.offset.unwrap_or(0);
        let limit = self.limit.unwrap_or(usize::MAX);
        rows.into_iter().skip(offset).take(limit).map(|r| r.id.clone()).collect()
    }

    /// Records picked through an index when the filter is a conjunction with `Id = …`, `Id IN (…)`
    /// or the same on a reference field; `None` means a full scan.
    fn candidates<'s>(&self, store: &'s Store) -> Option<Vec<&'s Record>> {
        let conjuncts: Vec<&CCond> = match self.filter.as_ref()? {
            CCond::And(v) => v.iter().collect(),
            c => vec![c],
        };
        for c in conjuncts {
            let (f, lits) = match c {
                CCond::Cmp(f, Op::Eq, l) => (f, std::slice::from_ref(l)),
                CCond::In(f, l, false) => (f, l.as_slice()),
                _ => continue,
            };
            if !f.hops.is_empty() || !(f.field == "Id" || store.is_indexed(self.object, &f.field)) {
                continue;
            }
            let mut ids: Vec<String> = lits
                .iter()
                .filter_map(|l| match l {
                    Lit::Str(s) => ids::normalize(s),
                    _ => None,
                })
                .collect();
            ids.sort();
            ids.dedup();
            let table = &store.tables[self.object];
            let mut out: Vec<&Record> = if f.field == "Id" {
                ids.iter().filter_map(|id| table.records.get(id)).collect()
            } else {
                ids.iter().flat_map(|id| store.children(self.object, &f.field, id)).collect()
            };
            out.sort_by(|a, b| a.id.cmp(&b.id));
            out.dedup_by(|a, b| a.id == b.id);
            return Some(out);
        }
        None
    }

    /// Rows of a child subquery for one parent.
    pub fn children<'s>(&self, store: &'s Store, sub: &SubQuery, parent: &str) -> Vec<&'s Record> {
        let mut rows: Vec<&Record> = store
            .children(sub.child, &sub.parent_field, parent)
            .filter(|r| self.all || r.deleted_ms.is_none())
            .filter(|r| sub.filter.as_ref().is_none_or(|c| eval(store, r, c)))
            .collect();
        sort(store, &mut rows, &sub.order);
        rows.truncate(sub.limit.unwrap_or(usize::MAX));
        rows
    }
}

/// The record a path's hops lead to (`None` when a reference is empty or dangling).
pub fn follow<'s>(store: &'s Store, rec: &'s Record, hops: &[(String, String)]) -> Option<&'s Record> {
    let mut cur = rec;
    for (field, _) in hops {
        let id = cur.text(field)?;
        cur = store.by_id(id)?.1;
    }
    Some(cur)
}

fn typed<'s>(store: &'s Store, rec: &'s Record, f: &FieldRef) -> V<'s> {
    let Some(r) = follow(store, rec, &f.hops) else { return V::Null };
    if let Some(ms) = r.system_ms(&f.field) {
        return V::Time(ms);
    }
    let raw = match f.field.as_str() {
        "Id" => return V::Str(Cow::Borrowed(&r.id)),
        "IsDeleted" => return V::Bool(r.deleted_ms.is_some()),
        "CreatedById" => return V::Str(Cow::Borrowed(&r.created_by)),
        "LastModifiedById" => return V::Str(Cow::Borrowed(&r.modified_by)),
        name => r.fields.get(name),
    };
    let Some(v) = raw else {
        return if f.ftype == FieldType::Boolean { V::Bool(false) } else { V::Null };
    };
    match f.ftype {
        FieldType::Boolean => V::Bool(v.as_bool().unwrap_or(false)),
        FieldType::Date => v.as_str().and_then(parse_date).map_or(V::Null, |d| V::Time(d * 86_400_000)),
        FieldType::Datetime => v.as_str().and_then(parse_datetime).map_or(V::Null, V::Time),
        t if t.is_numeric() => v.as_f64().map_or(V::Null, V::Num),
        _ => v.as_str().map_or(V::Null, |s| V::Str(Cow::Borrowed(s))),
    }
}

fn lit_value(l: &Lit) -> V<'_> {
    match l {
        Lit::Null => V::Null,
        Lit::Bool(b) => V::Bool(*b),
        Lit::Num(n) => V::Num(*n),
        Lit::Str(s) => V::Str(Cow::Borrowed(s)),
        Lit::Date(d) => V::Time(d * 86_400_000),
        Lit::DateTime(ms) => V::Time(*ms),
    }
}

/// Orders two non-null values of the same kind; text compares case-insensitively, as SOQL does.
fn cmp_values(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Str(x), V::Str(y)) => Some(cmp_ci(x, y)),
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    let la = a.chars().flat_map(char::to_lowercase);
    let lb = b.chars().flat_map(char::to_lowercase);
    la.cmp(lb)
}

fn compare(v: &V, op: Op, l: &Lit) -> bool {
    let lv = lit_value(l);
    match (v, &lv) {
        (V::Null, V::Null) => op == Op::Eq,
        (V::Null, _) | (_, V::Null) => op == Op::Ne,
        _ => match cmp_values(v, &lv) {
            Some(o) => match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
            },
            None => op == Op::Ne,
        },
    }
}

fn eval(store: &Store, rec: &Record, c: &CCond) -> bool {
    match c {
        CCond::And(v) => v.iter().all(|c| eval(store, rec, c)),
        CCond::Or(v) => v.iter().any(|c| eval(store, rec, c)),
        CCond::Not(c) => !eval(store, rec, c),
        CCond::Cmp(f, op, l) => compare(&typed(store, rec, f), *op, l),
        CCond::In(f, lits, neg) => {
            let v = typed(store, rec, f);
            let found = lits.iter().any(|l| compare(&v, Op::Eq, l));
            // NOT IN never matches a null field, as in SQL.
            if *neg { !found && v != V::Null } else { found }
        }
        CCond::Like(f, pattern, neg) => match typed(store, rec, f) {
            V::Str(s) => {
                let text: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
                like(&text, pattern) != *neg
            }
            _ => false,
        },
    }
}

/// SOQL LIKE: `%` any run, `_` one character, `\%` and `\_` literal. Iterative with one
/// backtrack point, so it is linear-ish rather than exponential.
fn like(text: &[char], pat: &[char]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let (pc, escaped) = match pat.get(p) {
            Some('\\') => (pat.get(p + 1).copied(), true),
            other => (other.copied(), false),
        };
        let step = if escaped { 2 } else { 1 };
        match pc {
            Some('%') if !escaped => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(c) if (c == '_' && !escaped) || c == text[t] => {
                t += 1;
                p += step;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|c| *c == '%')
}

fn sort(store: &Store, rows: &mut Vec<&Record>, order: &[(FieldRef, bool, bool)]) {
    if order.is_empty() {
        return;
    }
    // Keys are computed once per row: n log n comparisons, n path walks.
    let mut keyed: Vec<(Vec<V>, &Record)> = rows
        .iter()
        .map(|r| (order.iter().map(|(f, _, _)| typed(store, r, f)).collect(), *r))
        .collect();
    keyed.sort_by(|(a, ra), (b, rb)| {
        for (i, (_, desc, nulls_last)) in order.iter().enumerate() {
            let o = match (&a[i], &b[i]) {
                (V::Null, V::Null) => Ordering::Equal,
                (V::Null, _) => {
                    if *nulls_last {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (_, V::Null) => {
                    if *nulls_last {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (x, y) => {
                    let o = cmp_values(x, y).unwrap_or(Ordering::Equal);
                    if *desc { o.reverse() } else { o }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        ra.id.cmp(&rb.id)
    });
    *rows = keyed.into_iter().map(|(_, r)| r).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn like_patterns_match_as_in_soql() {
        assert!(like(&l("acme corp"), &l("acme%")));
        assert!(like(&l("acme corp"), &l("%corp")));
        assert!(like(&l("acme corp"), &l("a_me%")));
        assert!(!like(&l("acme corp"), &l("acme")));
        assert!(like(&l("50%"), &l("50\\%")));
        assert!(!like(&l("505"), &l("50\\%")));
        assert!(like(&l(""), &l("%")));
    }
}
