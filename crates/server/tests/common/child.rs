//! `ssgwan serve` as a child process that binds `127.0.0.1:0` itself and reports where: the
//! server logs a `listening` event with its `addr` (as a JSON line with `--log-format json`)
//! once the store is migrated and the socket is bound, so that line is the readiness fact.
//! Shared by the cli, api and cluster tests (`#[path]`-included).
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use serde_json::Value;

/// A running `ssgwan serve`; killed (SIGKILL) when dropped unless it has already exited.
pub struct ServerChild {
    pub addr: SocketAddr,
    pub base: String,
    pub process: Child,
    /// Every log line so far (stdout), in order.
    log: Arc<Mutex<Vec<String>>>,
    /// Log lines not yet looked at by [`ServerChild::wait_for_log`].
    lines: mpsc::Receiver<String>,
}

/// The `ssgwan` binary with no `SSGWAN_*` settings from the developer's shell.
pub fn ssgwan() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ssgwan"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SSGWAN_") {
            command.env_remove(key);
        }
    }
    command
}

/// Starts `command` (an `ssgwan serve …` without `--addr` or `--log-format`) on
/// `127.0.0.1:0` with JSON logs, and returns once it logged the address it listens on.
pub fn start_server(mut command: Command) -> ServerChild {
    command
        .args(["--addr", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped());
    let mut process = command.spawn().expect("ssgwan starts");
    let stdout = process.stdout.take().expect("piped stdout");
    let log = Arc::new(Mutex::new(Vec::new()));
    let (sender, lines) = mpsc::channel();
    let kept = log.clone();
    // Reads until the process exits, so the pipe never fills up.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            kept.lock().expect("log lock").push(line.clone());
            let _ = sender.send(line);
        }
    });
    let mut child = ServerChild {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        base: String::new(),
        process,
        log,
        lines,
    };
    let listening = child.wait_for_log(Duration::from_secs(60), |event| {
        event["message"] == "listening"
    });
    child.addr = listening["addr"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {listening}"));
    child.base = format!("http://{}", child.addr);
    child
}

impl ServerChild {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Every log line so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// The next log event (JSON line) that matches, within `within`; panics with the log
    /// otherwise (also when the process exits first).
    pub fn wait_for_log(&mut self, within: Duration, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Ok(event) = serde_json::from_str::<Value>(&line)
                        && matches(&event)
                    {
                        return event;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("no such log line within {within:?}:\n{}", self.log_text())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                    "the server exited ({:?}) before that log line:\n{}",
                    self.process.try_wait(),
                    self.log_text()
                ),
            }
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status()
            .expect("kill ran");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit, within `within`: its stdout closes when it does.
    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("did not exit within {within:?}:\n{}", self.log_text())
                }
            }
        }
        self.process.wait().expect("wait")
    }

    /// SIGKILL: no chance to write anything.
    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends every line `child` writes to stdout (read until it exits, so the pipe never fills).
pub fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    lines
}

/// The next line of `lines` containing `needle`, within `within`; `None` if the process closed
/// its output first (it exited) or the time ran out.
pub fn line_containing(
    lines: &mpsc::Receiver<String>,
    needle: &str,
    within: Duration,
) -> Option<String> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Some(line),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// An s3s-fs server (an S3 that checks SigV4 signatures) on `127.0.0.1:0`; killed on drop.
pub struct S3sFs {
    /// `http://127.0.0.1:<the port it bound>`.
    pub endpoint: String,
    process: Child,
}

/// Starts `binary` serving `root` (buckets are its directories) and returns once it logged
/// the address it listens on.
pub fn start_s3s_fs(
    binary: &str,
    root: &std::path::Path,
    access_key: &str,
    secret_key: &str,
) -> S3sFs {
    let mut process = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(["--access-key", access_key, "--secret-key", secret_key])
        .arg(root)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let lines = stdout_lines(&mut process);
    let mut s3 = S3sFs {
        endpoint: String::new(),
        process,
    };
    let line = line_containing(&lines, "server is running at ", Duration::from_secs(30))
        .expect("s3s-fs says where it listens");
    let at = line.find("http://").expect("an address in the line");
    s3.endpoint = line[at..].trim().to_owned();
    // Keep draining its output.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    s3
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
