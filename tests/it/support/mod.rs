//! What the integration tests share: the binary run as a process and its output read back
//! ([`run`]), the external tools some tests need ([`tools`]), protocol validation with Airbyte's
//! own models ([`protocol`]), the emulator's admin API ([`admin_api`]), the source's and the
//! destination's harnesses around an in-process emulator ([`source`], [`destination`]), the S3
//! server ([`s3s`]), files ([`files`]), the packaging tests' Docker and native emulator
//! ([`packaging`]), and an emulator's runtime and org config ([`org`]).

pub(crate) mod admin_api;
pub(crate) mod destination;
pub(crate) mod files;
pub(crate) mod org;
pub(crate) mod packaging;
pub(crate) mod protocol;
pub(crate) mod run;
pub(crate) mod s3s;
pub(crate) mod source;
pub(crate) mod tools;
