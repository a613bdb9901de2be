//! The external tools of the end-to-end tests, and a local moto server.
//!
//! Tools come from `$TRAILWATCH_VENV/bin` (the Makefile's virtualenv of
//! `requirements-test.txt`) or else `PATH`. A missing tool fails the test with a message
//! saying what to install: under `--features e2e` nothing is skipped silently.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of an executable tool, or a panic that says how to get it.
pub fn tool(name: &str) -> PathBuf {
    if let Some(venv) = std::env::var_os("TRAILWATCH_VENV") {
        let path = PathBuf::from(&venv).join("bin").join(name);
        if path.is_file() {
            return path;
        }
        panic!(
            "`{name}` is not in TRAILWATCH_VENV={}/bin: install the test tools there \
             (pip install -r requirements-test.txt, or `make tools`)",
            PathBuf::from(venv).display()
        );
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` not found: set TRAILWATCH_VENV to a virtualenv holding the tools of \
         requirements-test.txt (moto[server], cargo-lambda), or put `{name}` on PATH"
    );
}

/// A port on the loopback interface that nothing listens on right now.
pub fn free_port() -> u16 {
    // Never the same port twice in one run: between this answer and the child's bind, the
    // system may offer the port again, and two servers of parallel tests would share it.
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("no free loopback port");
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// Waits until something accepts connections on `addr`.
pub fn wait_for(addr: SocketAddr, what: &str, child: &mut Child) {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on {addr}: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not listen on {addr} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A moto server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let mut child = Command::new(tool("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start moto_server");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for(addr, "moto_server", &mut child);
        Moto { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
