//! A local simulator of the salesforce API subset handoff uses.
