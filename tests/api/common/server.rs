//! The real `sightline` binary, started on a random loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed when dropped.
pub struct TestServer {
    pub base_url: String,
    child: Child,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The lines logged on stderr, when started with [`TestServer::start_logged`].
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestServer {
    /// Starts `sightline serve` on `database_url` and waits until it listens.
    pub fn start(database_url: &str) -> TestServer {
        TestServer::start_with(database_url, &[])
    }

    pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> TestServer {
        TestServer::spawn(database_url, &["serve"], env)
    }

    /// Starts `sightline` with `args` (e.g. `["serve", "--demo"]`).
    pub fn start_args(database_url: &str, args: &[&str]) -> TestServer {
        TestServer::spawn(database_url, args, &[])
    }

    /// Starts `sightline serve` with `env` and keeps what it logs on stderr (see
    /// [`TestServer::log_lines`]) instead of passing it through.
    pub fn start_logged(database_url: &str, env: &[(&str, &str)]) -> TestServer {
        TestServer::spawn_with(database_url, &["serve"], env, true)
    }

    /// Every line logged on stderr so far (only for [`TestServer::start_logged`]).
    pub fn log_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    fn spawn(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> TestServer {
        TestServer::spawn_with(database_url, args, env, false)
    }

    fn spawn_with(
        database_url: &str,
        args: &[&str],
        env: &[(&str, &str)],
        capture_stderr: bool,
    ) -> TestServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
            .args(args)
            .env("SIGHTLINE_DATABASE_URL", database_url)
            .env("SIGHTLINE_ADDR", "127.0.0.1:0")
            .env("SIGHTLINE_LOG", "warn")
            // Fixtures stamped on fixed dates must not age out under the retention job
            // while a test runs; tests of retention set their own.
            .env("SIGHTLINE_RETENTION_DAYS", "3650")
            // A digest would reach every test's webhook receiver; tests of digests set
            // their own.
            .env("SIGHTLINE_DIGESTS", "none")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("the sightline binary starts");
        let logged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let keep = logged.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    keep.lock().unwrap().push(line);
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = printed.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("Sightline listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
                keep.lock().unwrap().push(line);
            }
        });
        let base_url = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("sightline did not report its address within 120 s");
            }
        };
        TestServer {
            base_url,
            child,
            stdout: printed,
            stderr: logged,
        }
    }

    /// The first line printed on stdout that starts with `prefix`, waiting up to 10 s.
    pub fn printed_line(&self, prefix: &str) -> Option<String> {
        for _ in 0..100 {
            if let Some(line) = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return Some(line.clone());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// Waits for the process to end by itself.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("server exits")
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().expect("server exits")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestServer {
    /// Sends SIGTERM and waits up to `bound` for the process to exit: its status, or
    /// `None` if it still runs (it is killed when `self` drops).
    pub fn terminate_within(&mut self, bound: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let until = std::time::Instant::now() + bound;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("the server's status") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}
