//! A local simulator of the Salesforce API subset handoff uses.
