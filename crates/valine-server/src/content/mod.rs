//! Content owned by users: profiles (with links), settings, search. Validation happens
//! here, once, on the way in; routes adapt it to HTTP.

pub mod profile;
pub mod search;
pub mod settings;
