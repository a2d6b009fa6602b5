//! The batch driver: walk folders, check every file in parallel, write JSON
//! lines, never abort on one bad file.
//!
//! Not built yet: see the check/scan issue.
