//! TURN credentials checked by a real coturn: the server's REST credentials get an allocation
//! and relay packets; a tampered one is refused.

use std::process::{Command, Stdio};

use crate::support::{spawn_app_at, test_args};

/// Kills the TURN server when the test ends.
struct Coturn(std::process::Child);

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn uclient(port: u16, username: &str, password: &str) -> (bool, String) {
    let output = Command::new("turnutils_uclient")
        .args([
            "-y",
            "-n",
            "2",
            "-u",
            username,
            "-w",
            password,
            "-p",
            &port.to_string(),
            "127.0.0.1",
        ])
        .output()
        .expect("turnutils_uclient runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.success() && log.contains("Total lost packets 0"),
        log,
    )
}

#[tokio::test]
async fn turn_credentials_from_the_api_get_a_real_coturn_allocation() {
    if Command::new("turnserver")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "coturn is missing: scripts/test.sh installs it"
        );
        eprintln!("skipping: coturn (turnserver) is not installed; scripts/test.sh installs it");
        return;
    }
    let port = free_port();
    let secret = "coturn-test-secret";
    let mut coturn = Coturn(
        Command::new("turnserver")
            .args([
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                "--no-tls",
                "--no-dtls",
                "--no-cli",
                "--allow-loopback-peers",
                "--use-auth-secret",
                "--realm=ssgwan.test",
            ])
            .arg(format!("--listening-port={port}"))
            .arg(format!("--static-auth-secret={secret}"))
            .args(["--min-port=49300", "--max-port=49400"])
            // Verbose, to stdout: it says when its UDP listener is open.
            .args(["-v", "--log-file=stdout"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver starts"),
    );
    let coturn_log = crate::child::stdout_lines(&mut coturn.0);
    let turn_url = format!("turn:127.0.0.1:{port}?transport=udp");
    let dir = tempfile::tempdir().expect("dir");
    let args = test_args(
        &dir,
        &[
            "--dev-login",
            "--turn-urls",
            &turn_url,
            "--turn-secret",
            secret,
        ],
    );
    // coturn checks the credential's expiry against its own clock: run the server at the real now.
    let app = spawn_app_at(dir, args, &jiff::Timestamp::now().to_string()).await;
    let token = app.login("caller").await;
    let (_, body) = app.get("/api/rtc/ice-servers", Some(&token)).await;
    let turn = &body["iceServers"][0];
    let username = turn["username"].as_str().expect("username").to_owned();
    let credential = turn["credential"].as_str().expect("credential").to_owned();

    assert!(
        crate::child::line_containing(
            &coturn_log,
            "UDP listener opened on",
            std::time::Duration::from_secs(20)
        )
        .is_some(),
        "coturn did not open its UDP listener within 20 s"
    );
    // Keep draining its output.
    std::thread::spawn(move || while coturn_log.recv().is_ok() {});
    let attempt = uclient(port, &username, &credential);
    assert!(
        attempt.0,
        "allocation with the API's credentials failed:\n{}",
        attempt.1
    );
    let (tampered, log) = uclient(port, &username, "not-the-credential");
    assert!(!tampered, "a wrong credential was accepted:\n{log}");
    drop(coturn);
}
