//! `ca_certificate`: extra certificate authorities trusted for every Salesforce and S3
//! connection, on top of the built-in (webpki) roots.
//!
//! Companies route connectors through TLS-inspecting proxies that sign with their own CA, or
//! run S3-compatible stores behind a private CA. A connector image run as shipped (by the Airbyte
//! platform or a test harness) cannot have its OS trust store changed, so the CA comes with the
//! config, as Airbyte's database connectors take theirs.

use std::fmt;

use super::ConfigError;

/// One or more PEM certificates, checked to be well-formed X.509 when the config is read.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificates {
    /// The PEM text as given (certificates are public: this is not a secret).
    pem: String,
    /// How many `CERTIFICATE` blocks it holds (at least one).
    count: usize,
}

impl fmt::Debug for CaCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCertificates({} certificate(s))", self.count)
    }
}

const EXPECTED: &str = "expected one or more PEM certificates \
    (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";

impl CaCertificates {
    /// Parses the `key` setting: `None` when absent or blank, an error naming `key` when the
    /// text holds no certificate, a malformed PEM block, or a block that is not a certificate.
    pub(crate) fn parse(key: &str, text: Option<&str>) -> Result<Option<Self>, ConfigError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let certificates = reqwest::Certificate::from_pem_bundle(text.as_bytes())
            .map_err(|_| ConfigError::new(key, format!("{EXPECTED}; a PEM block is malformed")))?;
        if certificates.is_empty() {
            return Err(ConfigError::new(
                key,
                format!("{EXPECTED}; found no CERTIFICATE block"),
            ));
        }
        // The trust store parses each certificate when a client is built: do it now, so a block
        // that is valid base64 but not a certificate fails here, naming the key.
        let count = certificates.len();
        for (index, certificate) in certificates.into_iter().enumerate() {
            reqwest::Client::builder()
                .use_rustls_tls()
                .tls_built_in_root_certs(false)
                .add_root_certificate(certificate)
                .build()
                .map_err(|_| {
                    ConfigError::new(
                        key,
                        format!(
                            "{EXPECTED}; certificate {} of {count} is not a valid X.509 certificate",
                            index + 1
                        ),
                    )
                })?;
        }
        Ok(Some(CaCertificates {
            pem: text.to_string(),
            count,
        }))
    }

    /// The PEM text (for object_store's client options).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Never true: a parsed value holds at least one certificate.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The certificates for `reqwest::ClientBuilder::add_root_certificate`.
    pub fn certificates(&self) -> Vec<reqwest::Certificate> {
        // Parsed successfully in `parse`, so this cannot fail.
        reqwest::Certificate::from_pem_bundle(self.pem.as_bytes()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate (public test material, made with openssl).
    pub(crate) const TEST_CA: &str = include_str!("testdata/test_ca.pem");

    #[test]
    fn absent_or_blank_is_none() {
        assert_eq!(CaCertificates::parse("ca_certificate", None).unwrap(), None);
        assert_eq!(
            CaCertificates::parse("ca_certificate", Some("  \n")).unwrap(),
            None
        );
    }

    #[test]
    fn one_or_more_certificates_parse() {
        let one = CaCertificates::parse("ca_certificate", Some(TEST_CA))
            .unwrap()
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one.certificates().len(), 1);
        let two = format!("{TEST_CA}\n{TEST_CA}");
        let two = CaCertificates::parse("ca_certificate", Some(&two))
            .unwrap()
            .unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(format!("{two:?}"), "CaCertificates(2 certificate(s))");
    }

    /// The error for `pem`, which must start with the key and contain each of `needles`.
    fn assert_refused(pem: &str, needles: &[&str]) {
        let error = CaCertificates::parse("ca_certificate", Some(pem))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("ca_certificate: "), "{error}");
        for needle in needles {
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn bad_pem_names_the_key() {
        assert_refused(
            "not a certificate",
            &[
                "ca_certificate: expected one or more PEM certificates",
                "found no CERTIFICATE block",
            ],
        );
        assert_refused(&TEST_CA.replacen("MII", "M!I", 1), &["malformed"]);
        assert_refused(
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
            &["certificate 1 of 1 is not a valid X.509 certificate"],
        );
    }
}
