//! X.509 certificates for C2PA signing, made with rcgen.
//!
//! The C2PA certificate profile asks of a claim-signing certificate: X.509
//! v3, not a CA, key usage `digitalSignature`, an extended key usage that is
//! not `anyExtendedKeyUsage` (we put the C2PA claim-signing purpose
//! 1.3.6.1.4.1.62558.2.1 and `emailProtection`, which older validators
//! expect), and an authority key identifier. Validators refuse self-signed
//! signing certificates, so the leaf is issued by a small local root CA.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use super::keyfile::SecretKey;
use crate::error::{Error, Result};

/// OID arcs of the C2PA claim-signing extended key usage.
pub const C2PA_CLAIM_SIGNING_EKU: [u64; 9] = [1, 3, 6, 1, 4, 1, 62558, 2, 1];

/// How long a new root CA is valid.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// How long a new signing certificate is valid.
pub const LEAF_VALIDITY_DAYS: i64 = 730;

fn rcgen_err(what: &str) -> impl Fn(rcgen::Error) -> Error + '_ {
    move |e| Error::Certificate(format!("{what}: {e}"))
}

fn key_pair(key: &SecretKey) -> Result<KeyPair> {
    let der = key.to_pkcs8_der()?;
    KeyPair::try_from(der.as_slice()).map_err(rcgen_err("cannot load key"))
}

fn dn(common_name: &str, org: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, org);
    dn
}

fn validity(params: &mut CertificateParams, days: i64) {
    // Start an hour back so a slightly slow verifier clock does not reject it.
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

/// A self-signed root CA certificate (PEM) for `name`, keyed by `ca_key`.
pub fn make_root_ca(name: &str, ca_key: &SecretKey) -> Result<String> {
    let kp = key_pair(ca_key)?;
    let params = root_params(name)?;
    let cert = params
        .self_signed(&kp)
        .map_err(rcgen_err("cannot make CA certificate"))?;
    Ok(cert.pem())
}

fn root_params(name: &str) -> Result<CertificateParams> {
    let mut params =
        CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err("bad CA name"))?;
    params.distinguished_name = dn(&format!("{name} local root CA"), "hallmark local CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, CA_VALIDITY_DAYS);
    Ok(params)
}

/// Issue a C2PA claim-signing leaf certificate (PEM) for `leaf_key`, signed
/// by the CA whose certificate is `ca_cert_pem` and secret key `ca_key`.
pub fn issue_leaf(
    name: &str,
    leaf_key: &SecretKey,
    ca_cert_pem: &str,
    ca_key: &SecretKey,
) -> Result<String> {
    let ca_kp = key_pair(ca_key)?;
    let ca_params = CertificateParams::from_ca_cert_pem(ca_cert_pem)
        .map_err(rcgen_err("cannot read CA certificate"))?;
    // Re-signing the CA's own parameters yields an issuer with the same
    // subject and key identifier; only its (unused) signature differs.
    let issuer = ca_params
        .self_signed(&ca_kp)
        .map_err(rcgen_err("CA key does not fit CA certificate"))?;
    check_ca_key_matches(ca_cert_pem, ca_key)?;

    let leaf_kp = key_pair(leaf_key)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err("bad name"))?;
    params.distinguished_name = dn(name, "hallmark signer");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::Other(C2PA_CLAIM_SIGNING_EKU.to_vec()),
        ExtendedKeyUsagePurpose::EmailProtection,
    ];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, LEAF_VALIDITY_DAYS);
    let cert = params
        .signed_by(&leaf_kp, &issuer, &ca_kp)
        .map_err(rcgen_err("cannot issue certificate"))?;
    Ok(cert.pem())
}

/// Refuse a CA key that is not the key of the CA certificate.
fn check_ca_key_matches(ca_cert_pem: &str, ca_key: &SecretKey) -> Result<()> {
    let certs = parse_pem_certs(ca_cert_pem)?;
    let first = certs
        .first()
        .ok_or_else(|| Error::Certificate("no certificate in CA file".into()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(first)
        .map_err(|e| Error::Certificate(format!("cannot parse CA certificate: {e}")))?;
    let spki_key = cert.public_key().subject_public_key.data.as_ref();
    if spki_key != ca_key.verifying_key().as_bytes() {
        return Err(Error::Key(
            "the CA key does not belong to the CA certificate".into(),
        ));
    }
    Ok(())
}

/// Every certificate (DER) in a PEM text, in order.
pub fn parse_pem_certs(pem_text: &str) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(pem_text.as_bytes()) {
        let pem = pem.map_err(|e| Error::Certificate(format!("bad PEM: {e}")))?;
        if pem.label == "CERTIFICATE" {
            out.push(pem.contents);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::ParsedExtension;

    #[test]
    fn leaf_follows_c2pa_profile() {
        let ca = SecretKey::generate();
        let ca_pem = make_root_ca("test", &ca).unwrap();
        let leaf = SecretKey::generate();
        let leaf_pem = issue_leaf("alice", &leaf, &ca_pem, &ca).unwrap();
        let der = parse_pem_certs(&leaf_pem).unwrap().remove(0);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert_eq!(cert.version(), x509_parser::x509::X509Version::V3);
        let ca_der = parse_pem_certs(&ca_pem).unwrap().remove(0);
        let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        // The leaf's signature verifies (strictly) under the CA's Ed25519 key.
        let ca_raw: [u8; 32] = ca_cert
            .public_key()
            .subject_public_key
            .data
            .as_ref()
            .try_into()
            .unwrap();
        let ca_vk = ed25519_dalek::VerifyingKey::from_bytes(&ca_raw).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(cert.signature_value.data.as_ref()).unwrap();
        ca_vk
            .verify_strict(cert.tbs_certificate.as_ref(), &sig)
            .unwrap();
        let mut saw = (false, false, false);
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::KeyUsage(ku) => {
                    assert!(ku.digital_signature() && !ku.key_cert_sign());
                    saw.0 = true;
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    assert!(!eku.any && eku.email_protection);
                    assert!(eku
                        .other
                        .iter()
                        .any(|o| o.to_id_string() == "1.3.6.1.4.1.62558.2.1"));
                    saw.1 = true;
                }
                ParsedExtension::AuthorityKeyIdentifier(_) => saw.2 = true,
                ParsedExtension::BasicConstraints(bc) => assert!(!bc.ca),
                _ => {}
            }
        }
        assert_eq!(saw, (true, true, true));
    }

    #[test]
    fn wrong_ca_key_is_refused() {
        let ca = SecretKey::generate();
        let ca_pem = make_root_ca("test", &ca).unwrap();
        let err = issue_leaf(
            "bob",
            &SecretKey::generate(),
            &ca_pem,
            &SecretKey::generate(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Key(_) | Error::Certificate(_)),
            "{err:?}"
        );
    }
}
