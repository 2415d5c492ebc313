//! Request bodies shared by several endpoints.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::assoc::Category;
use crate::error::ApiError;
use crate::store::{InlineAssoc, TypeSpec};

/// An id as clients send it: HubSpot's own SDKs mix strings and numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdValue {
    Text(String),
    Num(u64),
}

impl IdValue {
    pub fn text(&self) -> String {
        match self {
            IdValue::Text(s) => s.clone(),
            IdValue::Num(n) => n.to_string(),
        }
    }

    pub fn parse(&self) -> Option<u64> {
        match self {
            IdValue::Text(s) => s.trim().parse().ok(),
            IdValue::Num(n) => Some(*n),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdRef {
    pub id: IdValue,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeInput {
    #[serde(default)]
    pub association_category: Option<Category>,
    pub association_type_id: u32,
}

impl TypeInput {
    pub fn spec(&self) -> TypeSpec {
        (self.association_category, self.association_type_id)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AssocInput {
    pub to: IdRef,
    #[serde(default)]
    pub types: Vec<TypeInput>,
}

impl AssocInput {
    pub fn inline(&self) -> Result<InlineAssoc, ApiError> {
        let to_id = self
            .to
            .id
            .parse()
            .ok_or_else(|| ApiError::validation(format!("{} is not a valid object id", self.to.id.text())))?;
        if self.types.is_empty() {
            return Err(ApiError::validation("associations need at least one type"));
        }
        Ok(InlineAssoc {
            to_id,
            types: self.types.iter().map(TypeInput::spec).collect(),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInput {
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub associations: Vec<AssocInput>,
    #[serde(default)]
    pub object_write_trace_id: Option<String>,
    /// Batch update only.
    #[serde(default)]
    pub id: Option<IdValue>,
}
