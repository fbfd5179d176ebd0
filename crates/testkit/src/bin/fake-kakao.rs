//! `fake-kakao`: runs the test kit's fake Kakao OAuth server by hand, for manual runs and
//! browser tests, until Ctrl-C.
//!
//! ```text
//! fake-kakao [--port N] [--client-id ID] [--client-secret SECRET] [--redirect-uri URI]
//! ```
//!
//! Each option may also come from the environment (`FAKE_KAKAO_PORT`, `FAKE_KAKAO_CLIENT_ID`,
//! `FAKE_KAKAO_CLIENT_SECRET`, `FAKE_KAKAO_REDIRECT_URI`); arguments win. Options take their
//! value as the next argument or after `=` (`--port=9091`). It listens on 127.0.0.1 only and
//! prints its base URL (the first stdout line) so scripts can read it; every authorization is
//! granted to the default user (id 1001, "카카오친구").
//!
//! Point the server at it with, for example:
//!
//! ```text
//! SSGWAN_KAKAO_CLIENT_ID=fake-client-id \
//! SSGWAN_KAKAO_AUTH_URL=http://127.0.0.1:9091/oauth/authorize \
//! SSGWAN_KAKAO_TOKEN_URL=http://127.0.0.1:9091/oauth/token \
//! SSGWAN_KAKAO_USER_URL=http://127.0.0.1:9091/v2/user/me ssgwan serve
//! ```

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool whose output is its base URL"
)]

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use ssgwan_testkit::{FakeKakao, FakeKakaoConfig};

const USAGE: &str =
    "usage: fake-kakao [--port N] [--client-id ID] [--client-secret SECRET] [--redirect-uri URI]
  env: FAKE_KAKAO_PORT, FAKE_KAKAO_CLIENT_ID, FAKE_KAKAO_CLIENT_SECRET, FAKE_KAKAO_REDIRECT_URI
  defaults: port 0 (any free port), client id fake-client-id, no client secret,
            redirect URI http://localhost:8080/api/auth/kakao/callback";

/// Settings after arguments and environment are combined.
struct Options {
    port: u16,
    config: FakeKakaoConfig,
}

/// Reads options from the environment, then overrides them from the arguments.
/// `Ok(None)` means `--help` was asked for.
fn parse_options() -> Result<Option<Options>, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut port = env("FAKE_KAKAO_PORT");
    let mut client_id = env("FAKE_KAKAO_CLIENT_ID");
    let mut client_secret = env("FAKE_KAKAO_CLIENT_SECRET");
    let mut redirect_uri = env("FAKE_KAKAO_REDIRECT_URI");

    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let slot = match name.as_str() {
            "--port" => &mut port,
            "--client-id" => &mut client_id,
            "--client-secret" => &mut client_secret,
            "--redirect-uri" => &mut redirect_uri,
            _ => return Err(format!("unknown argument: {name}")),
        };
        let value = match inline_value {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        *slot = Some(value);
    }

    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .map_err(|e| format!("invalid port {port:?}: {e}"))?,
        None => 0,
    };
    Ok(Some(Options {
        port,
        config: FakeKakaoConfig {
            client_id: client_id.unwrap_or_else(|| "fake-client-id".to_owned()),
            client_secret,
            redirect_uri: redirect_uri
                .unwrap_or_else(|| "http://localhost:8080/api/auth/kakao/callback".to_owned()),
        },
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fake-kakao: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let client_id = options.config.client_id.clone();
    let redirect_uri = options.config.redirect_uri.clone();
    let has_secret = options.config.client_secret.is_some();
    let kakao = match FakeKakao::start_on(options.config, addr).await {
        Ok(kakao) => kakao,
        Err(error) => {
            eprintln!("fake-kakao: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };

    println!("{}", kakao.base_url());
    eprintln!("fake Kakao OAuth server (Ctrl-C to stop)");
    eprintln!("  client id:     {client_id}");
    eprintln!(
        "  client secret: {}",
        if has_secret { "required" } else { "none" }
    );
    eprintln!("  redirect uri:  {redirect_uri}");
    eprintln!("  authorize:     {}", kakao.auth_url());
    eprintln!("  token:         {}", kakao.token_url());
    eprintln!("  user:          {}", kakao.user_url());

    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("fake-kakao: cannot wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    drop(kakao);
    ExitCode::SUCCESS
}
