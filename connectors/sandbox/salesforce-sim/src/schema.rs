//! The object model: the standard objects handoff uses (Object Reference for the Salesforce Platform) with their fields,
//! plus custom `__c` fields declared in the seed. Lookups are case-insensitive, as in Salesforce.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Field types, as describe names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Picklist,
    Boolean,
    Date,
    Datetime,
    Currency,
    Double,
    Percent,
    Int,
    Email,
    Phone,
    Url,
    Reference,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Currency => "currency",
            FieldType::Double => "double",
            FieldType::Percent => "percent",
            FieldType::Int => "int",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Reference => "reference",
        }
    }

    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            FieldType::Currency | FieldType::Double | FieldType::Percent => "xsd:double",
            FieldType::Int => "xsd:int",
            _ => "xsd:string",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Currency | FieldType::Double | FieldType::Percent | FieldType::Int)
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::Textarea
                | FieldType::Picklist
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Reference
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub ftype: FieldType,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub custom: bool,
    /// Set by the sandbox on create when absent (defaults, derived fields).
    pub defaulted: bool,
    pub picklist: Vec<String>,
    pub restricted: bool,
    pub reference_to: Vec<String>,
    pub relationship: Option<String>,
    pub name_field: bool,
}

impl FieldDef {
    fn new(name: &str, label: &str, ftype: FieldType) -> Self {
        let length = match ftype {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::Textarea => 32_000,
            FieldType::Picklist => 255,
            FieldType::String | FieldType::Email | FieldType::Url => 255,
            FieldType::Phone => 40,
            _ => 0,
        };
        Self {
            name: name.into(),
            label: label.into(),
            ftype,
            length,
            nillable: ftype != FieldType::Boolean,
            createable: true,
            updateable: true,
            custom: name.ends_with("__c"),
            defaulted: ftype == FieldType::Boolean,
            picklist: Vec::new(),
            restricted: false,
            reference_to: Vec::new(),
            relationship: None,
            name_field: false,
        }
    }

    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.defaulted = true;
        self
    }

    fn defaulted(mut self) -> Self {
        self.defaulted = true;
        self
    }

    fn picklist(mut self, values: &[&str]) -> Self {
        self.picklist = values.iter().map(|v| v.to_string()).collect();
        self
    }

    fn refers(mut self, to: &[&str], relationship: &str) -> Self {
        self.reference_to = to.iter().map(|v| v.to_string()).collect();
        self.relationship = Some(relationship.into());
        self
    }

    fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }

    /// Required on create: not nillable, createable and not filled in by the sandbox.
    pub fn required_on_create(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted
    }
}

/// A child relationship, e.g. Opportunity → `OpportunityContactRoles` (OpportunityContactRole.OpportunityId).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRel {
    pub name: String,
    pub child: String,
    pub field: String,
}

#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub fields: Vec<FieldDef>,
    pub children: Vec<ChildRel>,
    by_lower: HashMap<String, usize>,
    rels: HashMap<String, usize>,
}

impl ObjectDef {
    fn new(name: &str, label_plural: &str, key_prefix: &str, fields: Vec<FieldDef>) -> Self {
        let mut all = system_fields();
        all.extend(fields);
        let mut o = Self {
            name: name.into(),
            label: split_camel(name),
            label_plural: label_plural.into(),
            key_prefix: key_prefix.into(),
            fields: Vec::new(),
            children: Vec::new(),
            by_lower: HashMap::new(),
            rels: HashMap::new(),
        };
        for f in all {
            o.add_field(f);
        }
        o
    }

    fn add_field(&mut self, f: FieldDef) {
        let lower = f.name.to_ascii_lowercase();
        if self.by_lower.contains_key(&lower) {
            return;
        }
        let i = self.fields.len();
        if let Some(rel) = &f.relationship {
            self.rels.insert(rel.to_ascii_lowercase(), i);
        }
        self.by_lower.insert(lower, i);
        self.fields.push(f);
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.by_lower.get(&name.to_ascii_lowercase()).and_then(|i| self.fields.get(*i))
    }

    /// The reference field behind a relationship name (`Account` → AccountId).
    pub fn relationship(&self, name: &str) -> Option<&FieldDef> {
        self.rels.get(&name.to_ascii_lowercase()).and_then(|i| self.fields.get(*i))
    }

    pub fn child(&self, name: &str) -> Option<&ChildRel> {
        self.children.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

fn split_camel(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn system_fields() -> Vec<FieldDef> {
    use FieldType as T;
    let user = &["User"];
    vec![
        FieldDef::new("Id", "Record ID", T::Id).required().read_only(),
        FieldDef::new("IsDeleted", "Deleted", T::Boolean).read_only(),
        FieldDef::new("CreatedDate", "Created Date", T::Datetime).required().read_only(),
        FieldDef::new("CreatedById", "Created By ID", T::Reference)
            .required()
            .read_only()
            .refers(user, "CreatedBy"),
        FieldDef::new("LastModifiedDate", "Last Modified Date", T::Datetime)
            .required()
            .read_only(),
        FieldDef::new("LastModifiedById", "Last Modified By ID", T::Reference)
            .required()
            .read_only()
            .refers(user, "LastModifiedBy"),
        FieldDef::new("SystemModstamp", "System Modstamp", T::Datetime)
            .required()
            .read_only(),
    ]
}

pub const STAGES: [(&str, f64, bool, bool); 10] = [
    ("Prospecting", 10.0, false, false),
    ("Qualification", 10.0, false, false),
    ("Needs Analysis", 20.0, false, false),
    ("Value Proposition", 50.0, false, false),
    ("Id. Decision Makers", 60.0, false, false),
    ("Perception Analysis", 70.0, false, false),
    ("Proposal/Price Quote", 75.0, false, false),
    ("Negotiation/Review", 90.0, false, false),
    ("Closed Won", 100.0, true, true),
    ("Closed Lost", 0.0, true, false),
];

pub const CONTACT_ROLES: [&str; 9] = [
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
];

pub const TASK_STATUSES: [&str; 5] = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"];

fn owner() -> FieldDef {
    FieldDef::new("OwnerId", "Owner ID", FieldType::Reference)
        .required()
        .defaulted()
        .refers(&["User"], "Owner")
}

fn account() -> ObjectDef {
    use FieldType as T;
    let types = ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"];
    let industries = [
        "Technology",
        "Finance",
        "Healthcare",
        "Manufacturing",
        "Retail",
        "Education",
        "Other",
    ];
    ObjectDef::new(
        "Account",
        "Accounts",
        "001",
        vec![
            FieldDef::new("Name", "Account Name", T::String).required().name_field(),
            FieldDef::new("Type", "Account Type", T::Picklist).picklist(&types),
            FieldDef::new("Industry", "Industry", T::Picklist).picklist(&industries),
            FieldDef::new("Website", "Website", T::Url),
            FieldDef::new("Phone", "Account Phone", T::Phone),
            FieldDef::new("BillingCity", "Billing City", T::String),
            FieldDef::new("BillingCountry", "Billing Country", T::String),
            FieldDef::new("AnnualRevenue", "Annual Revenue", T::Currency),
            FieldDef::new("NumberOfEmployees", "Employees", T::Int),
            FieldDef::new("Description", "Account Description", T::Textarea),
            owner(),
        ],
    )
}

fn contact() -> ObjectDef {
    use FieldType as T;
    ObjectDef::new(
        "Contact",
        "Contacts",
        "003",
        vec![
            FieldDef::new("AccountId", "Account ID", T::Reference).refers(&["Account"], "Account"),
            FieldDef::new("FirstName", "First Name", T::String),
            FieldDef::new("LastName", "Last Name", T::String).required(),
            FieldDef::new("Name", "Full Name", T::String).required().read_only().name_field(),
            FieldDef::new("Email", "Email", T::Email),
            FieldDef::new("Phone", "Business Phone", T::Phone),
            FieldDef::new("Title", "Title", T::String),
            owner(),
        ],
    )
}

fn opportunity() -> ObjectDef {
    use FieldType as T;
    let stages: Vec<&str> = STAGES.iter().map(|s| s.0).collect();
    let mut stage = FieldDef::new("StageName", "Stage", T::Picklist).required().picklist(&stages);
    stage.restricted = true;
    ObjectDef::new(
        "Opportunity",
        "Opportunities",
        "006",
        vec![
            FieldDef::new("AccountId", "Account ID", T::Reference).refers(&["Account"], "Account"),
            FieldDef::new("Name", "Name", T::String).required().name_field(),
            FieldDef::new("Description", "Description", T::Textarea),
            stage,
            FieldDef::new("Amount", "Amount", T::Currency),
            FieldDef::new("Probability", "Probability (%)", T::Percent).defaulted(),
            FieldDef::new("CloseDate", "Close Date", T::Date).required(),
            FieldDef::new("Type", "Opportunity Type", T::Picklist).picklist(&["New Business", "Existing Business"]),
            FieldDef::new("NextStep", "Next Step", T::String),
            FieldDef::new("LeadSource", "Lead Source", T::Picklist).picklist(&["Web", "Phone Inquiry", "Partner Referral", "Other"]),
            FieldDef::new("IsClosed", "Closed", T::Boolean).read_only(),
            FieldDef::new("IsWon", "Won", T::Boolean).read_only(),
            owner(),
        ],
    )
}

fn contact_role() -> ObjectDef {
    use FieldType as T;
    let mut opp = FieldDef::new("OpportunityId", "Opportunity ID", T::Reference)
        .required()
        .refers(&["Opportunity"], "Opportunity");
    opp.updateable = false;
    let mut role = FieldDef::new("Role", "Role", T::Picklist).picklist(&CONTACT_ROLES);
    role.length = 40;
    ObjectDef::new(
        "OpportunityContactRole",
        "Opportunity Contact Role",
        "00K",
        vec![
            opp,
            FieldDef::new("ContactId", "Contact ID", T::Reference)
                .required()
                .refers(&["Contact"], "Contact"),
            role,
            FieldDef::new("IsPrimary", "Primary", T::Boolean),
        ],
    )
}

fn user() -> ObjectDef {
    use FieldType as T;
    ObjectDef::new(
        "User",
        "Users",
        "005",
        vec![
            FieldDef::new("Username", "Username", T::String).required(),
            FieldDef::new("FirstName", "First Name", T::String),
            FieldDef::new("LastName", "Last Name", T::String).required(),
            FieldDef::new("Name", "Full Name", T::String).required().read_only().name_field(),
            FieldDef::new("Email", "Email", T::Email).required(),
            FieldDef::new("Alias", "Alias", T::String).required().defaulted(),
            FieldDef::new("Title", "Title", T::String),
            FieldDef::new("IsActive", "Active", T::Boolean),
        ],
    )
}

fn task() -> ObjectDef {
    use FieldType as T;
    let mut status = FieldDef::new("Status", "Status", T::Picklist)
        .required()
        .defaulted()
        .picklist(&TASK_STATUSES);
    status.length = 40;
    ObjectDef::new(
        "Task",
        "Tasks",
        "00T",
        vec![
            FieldDef::new("WhoId", "Name ID", T::Reference).refers(&["Contact"], "Who"),
            FieldDef::new("WhatId", "Related To ID", T::Reference).refers(&["Opportunity", "Account"], "What"),
            FieldDef::new("Subject", "Subject", T::String).name_field(),
            FieldDef::new("ActivityDate", "Due Date Only", T::Date),
            status,
            FieldDef::new("Priority", "Priority", T::Picklist)
                .required()
                .defaulted()
                .picklist(&["High", "Normal", "Low"]),
            FieldDef::new("Description", "Description", T::Textarea),
            FieldDef::new("IsClosed", "Closed", T::Boolean).read_only(),
            FieldDef::new("AccountId", "Account ID", T::Reference)
                .read_only()
                .refers(&["Account"], "Account"),
            owner(),
        ],
    )
}

/// A custom field declared in the seed (`[[salesforce.custom_fields]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    pub object: String,
    /// API name; `__c` is appended when missing.
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub ftype: FieldType,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
}

impl Schema {
    pub fn new(custom: &[CustomField]) -> Self {
        let mut objects = vec![account(), contact(), opportunity(), contact_role(), user(), task()];
        for c in custom {
            let Some(o) = objects.iter_mut().find(|o| o.name.eq_ignore_ascii_case(&c.object)) else {
                tracing::warn!("custom field {} names unknown object {}", c.name, c.object);
                continue;
            };
            let name = if c.name.ends_with("__c") {
                c.name.clone()
            } else {
                format!("{}__c", c.name)
            };
            let mut f = FieldDef::new(&name, &c.label, c.ftype);
            f.custom = true;
            f.picklist = c.values.clone();
            f.restricted = c.restricted;
            if c.ftype == FieldType::Percent {
                f.length = 0;
            }
            o.add_field(f);
        }
        let rels = [
            ("Account", "Contacts", "Contact", "AccountId"),
            ("Account", "Opportunities", "Opportunity", "AccountId"),
            ("Opportunity", "OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"),
            ("Contact", "OpportunityContactRoles", "OpportunityContactRole", "ContactId"),
            ("Opportunity", "Tasks", "Task", "WhatId"),
            ("Contact", "Tasks", "Task", "WhoId"),
        ];
        for (parent, name, child, field) in rels {
            if let Some(o) = objects.iter_mut().find(|o| o.name == parent) {
                o.children.push(ChildRel {
                    name: name.into(),
                    child: child.into(),
                    field: field.into(),
                });
            }
        }
        Self { objects }
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.objects.iter().position(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// The object an id belongs to, by its key prefix.
    pub fn object_of_id(&self, id: &str) -> Option<usize> {
        let prefix = id.get(..3)?;
        self.objects.iter().position(|o| o.key_prefix == prefix)
    }
}
