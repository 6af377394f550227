//! Self-signed certificates made with openssl.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A self-signed certificate for 127.0.0.1 and localhost, and a CA that did not sign it.
pub struct TlsFiles {
    pub dir: tempfile::TempDir,
}

impl TlsFiles {
    #[must_use]
    pub fn create() -> TlsFiles {
        let dir = tempfile::tempdir().unwrap();
        for (name, san) in [
            ("server", "IP:127.0.0.1,DNS:localhost"),
            ("other", "DNS:other.example"),
        ] {
            let status = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=redis-test",
                ])
                .arg("-keyout")
                .arg(dir.path().join(format!("{name}.key")))
                .arg("-out")
                .arg(dir.path().join(format!("{name}.pem")))
                .args(["-addext", &format!("subjectAltName={san}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "openssl could not make a certificate");
        }
        // Readable from inside the runtime, whoever runs redis-server there.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::set_permissions(
                entry.unwrap().path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o644),
            )
            .unwrap();
        }
        TlsFiles { dir }
    }

    #[must_use]
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    #[must_use]
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// A CA that did not sign the server's certificate.
    #[must_use]
    pub fn wrong_ca(&self) -> PathBuf {
        self.dir.path().join("other.pem")
    }
}
