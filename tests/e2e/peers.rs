//! The real S3, GCS, SageMaker and Vertex AI peers, each started by the test on a free
//! 127.0.0.1 port from what `scripts/peers install` installed (moto, s3s-fs, fake-gcs-server,
//! drongo, and the shims in `tests/peers/` in front of moto and drongo), stopped when dropped.
//! Objects are put and deleted with `tests/peers/client.py` (boto3 for S3), as a user's other
//! tools would.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::repo;

/// Keys moto identifies the caller by (it checks no signature); s3s-fs checks them for real.
pub const ACCESS_KEY: &str = "AKIAFERRYTEST";
pub const SECRET_KEY: &str = "ferry-test-secret-key";

pub struct Peer {
    child: Child,
    pub kind: &'static str,
    pub port: u16,
    /// s3s-fs: the directory its buckets live in.
    pub root: Option<tempfile::TempDir>,
}

impl Peer {
    pub fn moto() -> Peer {
        Peer::start("moto", |cmd, port| {
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        })
    }

    pub fn gcs() -> Peer {
        Peer::start("gcs", |cmd, port| {
            let url = format!("http://127.0.0.1:{port}");
            cmd.args([
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                &port.to_string(),
            ])
            .args([
                "-backend",
                "memory",
                "-external-url",
                &url,
                "-log-level",
                "error",
            ]);
        })
    }

    /// drongo, the Vertex AI REST mock.
    pub fn drongo() -> Peer {
        Peer::start("drongo", |cmd, port| {
            cmd.args(["server", "--host", "127.0.0.1", "--port", &port.to_string()]);
        })
    }

    /// One of the test shims in `tests/peers/` (see their header comments), in front of the
    /// peer at `upstream`: `script --listen PORT --<upstream_flag> URL extra…`.
    pub fn shim(script: &str, upstream_flag: &str, upstream: &Peer, extra: &[&str]) -> Peer {
        let script = repo().join("tests/peers").join(script);
        let upstream = upstream.url();
        Peer::start("python", |cmd, port| {
            cmd.arg(&script)
                .args(["--listen", &port.to_string()])
                .args([upstream_flag, &upstream])
                .args(extra);
        })
    }

    /// s3s-fs, which verifies every request's SigV4 signature against [`SECRET_KEY`].
    pub fn s3s_fs() -> Peer {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().to_owned();
        let mut peer = Peer::start("s3s-fs", |cmd, port| {
            cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(&dir);
        });
        peer.root = Some(root);
        peer
    }

    fn start(kind: &'static str, args: impl FnOnce(&mut Command, u16)) -> Peer {
        let program = peer_path(kind);
        let port = free_port();
        let mut cmd = Command::new(&program);
        args(&mut cmd, port);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let peer = Peer {
            child,
            kind,
            port,
            root: None,
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{kind} did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        peer
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Uploads every file under `dir` to `bucket` (creating it), keys prefixed by `prefix`.
    pub fn put_dir(&self, bucket: &str, dir: &Path, prefix: &str) {
        if self.kind == "s3s-fs" {
            // Its buckets are plain directories; writing them is the fastest upload.
            let target = self.root.as_ref().unwrap().path().join(bucket).join(prefix);
            copy_dir(dir, &target);
            return;
        }
        let cmd = if self.kind == "gcs" {
            "gcs-put"
        } else {
            "s3-put"
        };
        self.client(&[cmd, &self.url(), bucket, dir.to_str().unwrap(), prefix]);
    }

    pub fn delete(&self, bucket: &str, key: &str) {
        let cmd = if self.kind == "gcs" {
            "gcs-delete"
        } else {
            "s3-delete"
        };
        self.client(&[cmd, &self.url(), bucket, key]);
    }

    fn client(&self, args: &[&str]) {
        let status = Command::new(repo().join(".venv/bin/python"))
            .arg(repo().join("tests/peers/client.py"))
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .status()
            .unwrap();
        assert!(status.success(), "client.py {args:?} failed");
    }

    /// Stops the peer at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn peer_path(kind: &str) -> PathBuf {
    let out = Command::new(repo().join("scripts/peers"))
        .args(["path", kind])
        .output()
        .unwrap();
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        out.status.success() && path.exists(),
        "peer {kind} is not installed (run scripts/peers install): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
