//! A typed salesforce API client.
