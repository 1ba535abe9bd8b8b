//! A Salesforce API emulator, faithful to Salesforce's documented behaviour.
