//! The CA certificates https connections trust. Like OpenSSL and Go, the system's: the
//! file `SSL_CERT_FILE` names, else the first CA bundle of the usual distributions, plus
//! the files of `SSL_CERT_DIR` (or, without any bundle, of the usual directories). An
//! OTLP endpoint can be given its own CA file instead (`OTEL_EXPORTER_OTLP_CERTIFICATE`),
//! for a collector behind a private CA. Certificates are read from PEM files; what
//! does not parse is skipped.
//!
//! Nothing is compiled in: Mozilla's list as a crate weighed 61 kB of the size-budgeted
//! binary and aged with each release, while a host's store is updated with the host (the
//! container image copies its build stage's bundle).

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// CA bundles, as Go looks for them: Debian, Ubuntu, Arch and Gentoo; Fedora and RHEL 6;
/// openSUSE; RHEL 7 and later; Alpine.
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];
/// Directories of single certificates, read when no bundle exists.
const CERT_DIRS: &[&str] = &["/etc/ssl/certs", "/etc/pki/tls/certs"];
/// Largest certificate file read (a full bundle is about 220 kB).
const MAX_FILE: u64 = 4 << 20;
/// Most files read from one directory.
const MAX_DIR_FILES: usize = 4096;

/// Where an agent's trusted certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trust {
    /// The system's store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, the usual paths).
    System,
    /// Only the certificates of this PEM file.
    File(PathBuf),
}

impl Trust {
    /// The certificates this source names, or why there are none.
    pub(crate) fn load(&self) -> Result<RootCertStore, String> {
        match self {
            Trust::File(path) => {
                let certs =
                    read_pem_file(path).map_err(|e| format!("CA file {}: {e}", path.display()))?;
                store(certs, &format!("CA file {}", path.display()))
            }
            Trust::System => system(
                std::env::var_os("SSL_CERT_FILE"),
                std::env::var_os("SSL_CERT_DIR"),
            ),
        }
    }
}

/// The system store, given the values of `SSL_CERT_FILE` and `SSL_CERT_DIR`.
fn system(
    cert_file: Option<OsString>,
    cert_dir: Option<OsString>,
) -> Result<RootCertStore, String> {
    let mut certs = Vec::new();
    let mut bundle = None;
    match cert_file.filter(|f| !f.is_empty()) {
        Some(file) => {
            let path = PathBuf::from(file);
            certs = read_pem_file(&path)
                .map_err(|e| format!("SSL_CERT_FILE {}: {e}", path.display()))?;
            bundle = Some(path);
        }
        None => {
            for path in BUNDLES.iter().map(Path::new) {
                if let Ok(found) = read_pem_file(path) {
                    certs = found;
                    bundle = Some(path.to_path_buf());
                    break;
                }
            }
        }
    }
    let dirs: Vec<PathBuf> = match cert_dir.filter(|d| !d.is_empty()) {
        Some(dirs) => std::env::split_paths(&dirs).collect(),
        None if bundle.is_none() => CERT_DIRS.iter().map(PathBuf::from).collect(),
        None => Vec::new(),
    };
    for dir in &dirs {
        certs.extend(read_pem_dir(dir));
    }
    store(
        certs,
        "the system store (SSL_CERT_FILE, SSL_CERT_DIR, /etc/ssl/certs/ca-certificates.crt and \
         the other usual bundles)",
    )
}

fn store(certs: Vec<CertificateDer<'static>>, from: &str) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    if store.is_empty() {
        Err(format!("no CA certificate found in {from}"))
    } else {
        Ok(store)
    }
}

fn read_pem_file(path: &Path) -> std::io::Result<Vec<CertificateDer<'static>>> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE)
        .read_to_end(&mut text)?;
    Ok(pem_certificates(&text))
}

/// The certificates of the regular files of `dir` (not its subdirectories).
fn read_pem_dir(dir: &Path) -> Vec<CertificateDer<'static>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .take(MAX_DIR_FILES)
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
        .flat_map(|e| read_pem_file(&e.path()).unwrap_or_default())
        .collect()
}

/// The DER of each `CERTIFICATE` block of a PEM text (RFC 7468); blocks that do not
/// decode are skipped.
pub(crate) fn pem_certificates(text: &[u8]) -> Vec<CertificateDer<'static>> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        rest = &rest[start + BEGIN.len()..];
        let Some(end) = find(rest, END) else { break };
        // A block left unended is skipped, not read into the next one.
        if find(&rest[..end], BEGIN).is_some() {
            continue;
        }
        if let Some(der) = crate::bytes::base64_decode(&rest[..end]).filter(|d| !d.is_empty()) {
            certs.push(CertificateDer::from(der));
        }
        rest = &rest[end + END.len()..];
    }
    certs
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA_DER: &[u8] = include_bytes!("../tests/fixtures/tls/ca.der");
    const CA_PEM: &str = include_str!("../tests/fixtures/tls/ca.pem");
    const OTHER_PEM: &str = include_str!("../tests/fixtures/tls/other-ca.pem");

    #[test]
    fn pem_blocks_give_their_certificates() {
        assert_eq!(
            pem_certificates(CA_PEM.as_bytes()),
            vec![CertificateDer::from(CA_DER.to_vec())],
            "the PEM fixture is the DER fixture"
        );
        let bundle = format!(
            "# a comment\n{CA_PEM}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\
             -----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n\
             -----BEGIN CERTIFICATE-----\nZm9v\n{OTHER_PEM}-----BEGIN CERTIFICATE-----\nZm9v"
        );
        let certs = pem_certificates(bundle.as_bytes());
        assert_eq!(
            certs.len(),
            2,
            "two good blocks; a bad one and two unended ones skipped, the good one after them kept"
        );
        assert_eq!(certs[0].as_ref(), CA_DER);
    }

    #[test]
    fn the_system_store_follows_ssl_cert_file_and_ssl_cert_dir() {
        let dir = std::env::temp_dir().join(format!("tfo-roots-{}", std::process::id()));
        let certs = dir.join("certs");
        std::fs::create_dir_all(&certs).expect("temp dir");
        std::fs::write(certs.join("other.pem"), OTHER_PEM).expect("write");
        std::fs::write(certs.join("junk.txt"), "not a certificate").expect("write");
        std::fs::create_dir_all(certs.join("sub")).expect("subdir");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");

        let file_only = system(Some(fixture.clone().into()), None).expect("a store");
        assert_eq!(file_only.len(), 1, "SSL_CERT_FILE alone");
        let both = system(Some(fixture.into()), Some(certs.clone().into())).expect("a store");
        assert_eq!(
            both.len(),
            2,
            "SSL_CERT_FILE plus the files of SSL_CERT_DIR"
        );

        let missing = dir.join("missing.pem");
        let error = system(Some(missing.into()), None).expect_err("an unreadable file");
        assert!(error.starts_with("SSL_CERT_FILE "), "{error}");
        let junk = system(Some(certs.join("junk.txt").into()), None).expect_err("no certificate");
        assert!(error_names_the_store(&junk), "{junk}");
        assert_eq!(
            Trust::File(certs.join("junk.txt")).load().map(|s| s.len()),
            Err(format!(
                "no CA certificate found in CA file {}",
                certs.join("junk.txt").display()
            )),
            "a CA file of its own says which file had none"
        );
        assert_eq!(
            Trust::File(certs.join("other.pem")).load().map(|s| s.len()),
            Ok(1)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn error_names_the_store(error: &str) -> bool {
        error.starts_with("no CA certificate found in the system store (SSL_CERT_FILE")
    }
}
