use std::process::ExitCode;

use clap::Parser;
use mannequin::app::{self, Overrides};
use mannequin::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

/// mimalloc: per-thread free lists instead of glibc's arenas, which the
/// listing spent a quarter of its time in (malloc, free and their locks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_env("MANNEQUIN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("mannequin: {e}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    mannequin::install_crypto();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args, true).await,
        Command::Worker(args) => serve(args, false).await,
        Command::Migrate(db) => {
            init_logs(db.log_format);
            match app::open_store(&db).await {
                Ok(_) => {
                    println!("{}", serde_json::json!({"migrated": true}));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Admin(cmd) => match mannequin::admin::run(cmd).await {
            Ok((json, ok)) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json).unwrap_or_default()
                );
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                println!("{}", serde_json::json!({"error": e.to_string()}));
                fail(e)
            }
        },
        Command::Models(args) => match mannequin::client::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Bench(args) => match mannequin::bench::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::BenchFill(args) => match mannequin::bench::fill(&args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Preview(args) => match mannequin::preview::preview(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::FakeImageServer(args) => match mannequin::fake_image_server::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
    }
}

async fn serve(args: mannequin::config::ServeArgs, api: bool) -> ExitCode {
    init_logs(args.db.log_format);
    let stop = app::shutdown_signal();
    let mut running = match app::start(&args, api, Overrides::default()).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if let Some(b) = &running.bootstrap {
        println!(
            "Created the starter account {} with {} credits.",
            b.account_id, b.credits
        );
        println!("Its API key, shown only this once:");
        println!();
        println!("    {}", b.api_key);
        println!();
    }
    if api {
        println!("mannequin is listening on {}", running.base_url());
    } else if let Some(w) = &running.worker {
        println!("mannequin worker {} is running", w.id);
    }
    stop.await;
    tracing::info!("shutting down");
    running.begin_shutdown();
    running.wait().await;
    ExitCode::SUCCESS
}
