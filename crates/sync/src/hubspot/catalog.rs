//! What HubSpot offers to map onto: an object's fields, and the labels a contact can
//! have on a deal (its roles).

use handoff_domain::change::ObjectKind;
use handoff_domain::field_catalog::FieldCatalog;

use super::HubspotCrm;
use super::errors::map_error;
use crate::crm::CrmError;
use crate::describe;

impl HubspotCrm {
    /// The fields of `object` as HubSpot describes its properties.
    pub(super) async fn fields_of(&self, object: ObjectKind) -> Result<FieldCatalog, CrmError> {
        let object_type = Self::object_type(object);
        let properties = self.client.properties(object_type).await.map_err(map_error)?;
        Ok(describe::from_properties(object_type, &properties))
    }

    /// The labels defined between deals and contacts: the contact roles there are.
    pub(super) async fn deal_contact_labels_defined(&self) -> Result<Vec<String>, CrmError> {
        let labels = self.client.association_labels("deals", "contacts").await.map_err(map_error)?;
        Ok(describe::association_labels(&labels))
    }
}
