//! What the adapters read with each deal, beyond their defaults, because a workflow
//! uses it.

/// What the workflows on one connection need read with each deal, beyond what the
/// adapter reads anyway: the API calls for users and company contacts are made only
/// when some workflow uses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DealReads {
    /// Record fields (and Salesforce lookup paths) the workflows read.
    pub fields: Vec<String>,
    /// User-lookup fields whose CRM user (id, email, name) the change carries.
    pub user_fields: Vec<String>,
    /// Read every contact of the deal's company (`company_contacts = true`).
    pub company_contacts: bool,
}

impl DealReads {
    /// Adds what one more workflow reads: fields and user fields not listed yet.
    pub fn add(&mut self, fields: impl IntoIterator<Item = String>, user_fields: impl IntoIterator<Item = String>, company_contacts: bool) {
        for f in fields {
            if !self.fields.contains(&f) {
                self.fields.push(f);
            }
        }
        for f in user_fields {
            if !self.user_fields.contains(&f) {
                self.user_fields.push(f);
            }
        }
        self.company_contacts |= company_contacts;
    }
}
