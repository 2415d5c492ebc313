//! A typed hubspot API client.
