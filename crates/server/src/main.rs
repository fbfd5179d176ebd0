//! `ssgwan`: parses the command line and hands over to the library.

use std::{process::ExitCode, sync::Arc};

use clap::Parser;
use ssgwan_domain::SystemClock;
use ssgwan_server::{
    config::{Cli, Command},
    launch, open_store, shutdown_signal, telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            telemetry::init_logging(args.log_format);
            match tokio::net::TcpListener::bind(args.addr).await {
                Ok(listener) => {
                    launch(&args, listener, Arc::new(SystemClock), shutdown_signal()).await
                }
                Err(e) => Err(anyhow::anyhow!("cannot listen on {}: {e}", args.addr)),
            }
        }
        Command::Seed(args) => {
            telemetry::init_logging(args.log_format);
            match ssgwan_server::seed::seed(&args).await {
                Ok(report) => {
                    tracing::info!(?report, "seeded");
                    eprintln!(
                        "seeded in {:.1} s: {} users, {} challenges, {} places ({} cancelled), {} attendance days ({} achieved), {} messages, {} challenges settled, {} score entries",
                        report.seconds,
                        report.users,
                        report.challenges,
                        report.places,
                        report.cancelled,
                        report.attendance_days,
                        report.achieved,
                        report.messages,
                        report.settled,
                        report.score_entries
                    );
                    Ok(())
                }
                Err(err) => Err(err),
            }
        }
        Command::Admin(args) => {
            telemetry::init_logging(args.target().log_format);
            ssgwan_server::moderation::admin_command(&args).await
        }
        Command::Migrate(args) => {
            telemetry::init_logging(args.log_format);
            open_store(&args.database).await.map(|_| ())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("ssgwan: {err:#}");
            ExitCode::FAILURE
        }
    }
}
