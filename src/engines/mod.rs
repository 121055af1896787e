//! The engines: one folder per kind of replicated system, each implementing `crate::engine`.

pub(crate) mod bench;
pub mod drnode;
pub mod ds389;
pub mod etcd;
pub mod openldap;
pub mod registry;
pub mod samba;
pub mod skeleton;

pub use registry::load_inventory;
