//! A small, bounded XML element tree over quick-xml's namespace-aware reader.
//!
//! Outbound Messages are small SOAP documents, so building a tree and then walking it is
//! simpler to get right than a streaming state machine. The reader is used defensively:
//! document type declarations are refused outright (no DTD, so no entity expansion
//! tricks), only the five predefined entities and character references are resolved,
//! and depth and element count are bounded so hostile input costs little.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::OutboundError;

/// SOAP envelopes nest a few levels; anything deeper is not an Outbound Message.
const MAX_DEPTH: usize = 16;
/// 100 notifications with a few hundred fields each stay far below this.
const MAX_ELEMENTS: usize = 200_000;

#[derive(Debug, Default)]
pub(crate) struct Element {
    pub ns: Option<String>,
    pub local: String,
    pub attrs: Vec<Attribute>,
    /// Character data directly inside this element, entities resolved.
    pub text: String,
    pub children: Vec<Element>,
}

#[derive(Debug)]
pub(crate) struct Attribute {
    pub ns: Option<String>,
    pub local: String,
    pub value: String,
}

impl Element {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    pub fn attr(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.local == local && a.ns.as_deref() == Some(ns))
            .map(|a| a.value.as_str())
    }

    pub fn child_elements<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local == local)
    }
}

/// Parses a whole document into its root element.
pub(crate) fn parse_document(input: &str) -> Result<Element, OutboundError> {
    let mut reader = NsReader::from_str(input);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| OutboundError::Xml(e.to_string()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(OutboundError::Xml("content after the root element".into()));
            }
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(OutboundError::TooLarge);
                }
                stack.push(open_element(&reader, &start)?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(OutboundError::TooLarge);
                }
                let element = open_element(&reader, &start)?;
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // The reader checks that end names match, so a pop always has a partner.
                let element = stack.pop().ok_or_else(|| OutboundError::Xml("unexpected end tag".into()))?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content())?,
            Event::CData(data) => push_text(&mut stack, &data.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference)?;
                push_text(&mut stack, &resolved)?;
            }
            Event::DocType(_) => return Err(OutboundError::DocType),
            Event::Decl(decl) => check_declaration(&decl)?,
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(OutboundError::Xml("unclosed element at end of input".into()));
    }
    root.ok_or_else(|| OutboundError::Xml("no root element".into()))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), OutboundError> {
    match stack.last_mut() {
        Some(current) => current.text.push_str(text),
        // Only whitespace may surround the root element.
        None if text.trim().is_empty() => {}
        None => return Err(OutboundError::Xml("text outside the root element".into())),
    }
    Ok(())
}

fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, OutboundError> {
    if let Some(ch) = reference.resolve_char_ref().map_err(|e| OutboundError::Xml(e.to_string()))? {
        return Ok(ch.to_string());
    }
    let name: &str = reference;
    resolve_xml_entity(name)
        .map(str::to_owned)
        .ok_or_else(|| OutboundError::UnknownEntity(truncate(name, 40)))
}

fn check_declaration(decl: &quick_xml::events::BytesDecl<'_>) -> Result<(), OutboundError> {
    // The body was decoded as UTF-8; a document claiming another encoding was not meant
    // to be read that way.
    match decl.encoding() {
        None => Ok(()),
        Some(Ok(encoding)) if encoding.eq_ignore_ascii_case("utf-8") => Ok(()),
        Some(_) => Err(OutboundError::Xml("only UTF-8 documents are accepted".into())),
    }
}

fn open_element(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<Element, OutboundError> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let mut element = Element {
        ns: namespace(ns)?,
        local: local.as_ref().to_owned(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| OutboundError::Xml(e.to_string()))?;
        let key: &str = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let (ns, local) = reader.resolver().resolve_attribute(attr.key);
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| OutboundError::Xml(e.to_string()))?;
        element.attrs.push(Attribute {
            ns: namespace(ns)?,
            local: local.as_ref().to_owned(),
            value: value.into_owned(),
        });
    }
    Ok(element)
}

fn namespace(result: ResolveResult<'_>) -> Result<Option<String>, OutboundError> {
    match result {
        ResolveResult::Bound(ns) => Ok(Some(ns.as_ref().to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => Err(OutboundError::Xml(format!("undeclared namespace prefix {}", truncate(&prefix, 40)))),
    }
}

/// Cuts attacker-supplied text before it goes into an error message.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    let mut out: String = s.chars().take(max_chars).collect();
    if s.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}
