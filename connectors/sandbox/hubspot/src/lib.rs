//! A local simulator of the hubspot API subset handoff uses.
