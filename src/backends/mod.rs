//! What a step acts on besides drnode's own API: real directories (OpenLDAP through `ldap3`).

pub mod openldap;
