#![deny(unsafe_code)]

use std::process::ExitCode;

use mannequin::app::{self, Overrides};
use mannequin::config::LogFormat;
use mannequin_domain::AssetKind;

use cli::{Cli, Command};

mod bench;
mod cli;
mod client;
mod fake_image_server;
mod preview;
mod products;
mod settings;
use tracing_subscriber::EnvFilter;

/// mimalloc: per-thread free lists instead of glibc's arenas, which the
/// listing spent a quarter of its time in (malloc, free and their locks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// No transparent huge pages for this process. The allocator's arena is one
/// large aligned mapping; with huge pages, a 64 KiB page touched makes 2 MiB
/// resident, and which 2 MiB stay resident depends on timing: 256 photo shoots
/// in flight peaked anywhere between 220 and 400 MiB with them and at 195 MiB
/// without (docs/performance.md, eleventh pass), listing and registering a
/// little faster too. On Linux the flag covers the kernel's `always` mode as
/// well as the allocator's own advice in `madvise` mode; elsewhere, nothing.
#[allow(unsafe_code)]
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) takes no pointers and
    // changes one flag of this process; it fails only on kernels without it.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_env("MANNEQUIN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour(terminal, std::env::var_os("NO_COLOR").as_deref()))
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

/// Whether text logs are coloured: only on a terminal, and not when
/// `NO_COLOR` holds anything (no-color.org). A file or a pipe gets plain text.
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("mannequin: {e}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    no_transparent_huge_pages();
    mannequin::install_crypto();
    let parsed = match settings::parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match parsed.cli.command {
        Command::Serve(args) => serve(*args, true).await,
        Command::Worker(process) => {
            let api = settings::api_defaults(parsed.file.as_ref());
            serve(
                mannequin::config::ServeArgs {
                    api,
                    process: *process,
                },
                false,
            )
            .await
        }
        Command::Config(cli::ConfigCommand::Check(_)) => {
            print!("{}", settings::check(&parsed));
            ExitCode::SUCCESS
        }
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
                // A database without mannequin's tables: a usage error.
                match e.downcast_ref::<mannequin::admin::NoSchema>() {
                    Some(_) => {
                        eprintln!("mannequin: {e}");
                        ExitCode::from(2)
                    }
                    None => fail(e),
                }
            }
        },
        Command::Models(args) => match client::run(AssetKind::Model, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Sceneries(args) => match client::run(AssetKind::Scenery, args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Products(args) => match products::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Bench(args) => match bench::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::BenchFill(args) => match bench::fill(&args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Preview(args) => match preview::preview(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::FakeImageServer(args) => match fake_image_server::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Openapi(args) => {
            println!("{}", mannequin::http::openapi_document(&args.public_url));
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "mannequin", &mut script);
            printed(Ok(script))
        }
        Command::Man { out: Some(dir) } => {
            let written = std::fs::create_dir_all(&dir)
                .and_then(|()| {
                    clap_mangen::generate_to(<Cli as clap::CommandFactory>::command(), &dir)
                })
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())));
            printed(
                written
                    .map(|()| format!("manual pages written to {}\n", dir.display()).into_bytes()),
            )
        }
        Command::Man { out: None } => {
            let mut page = Vec::new();
            let cmd = <Cli as clap::CommandFactory>::command();
            printed(clap_mangen::Man::new(cmd).render(&mut page).map(|()| page))
        }
    }
}

/// Writes `text` to stdout; a reader that stopped early (`| head`) is not a
/// failure.
fn printed(text: std::io::Result<Vec<u8>>) -> ExitCode {
    let written = text.and_then(|t| std::io::Write::write_all(&mut std::io::stdout().lock(), &t));
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

async fn serve(args: mannequin::config::ServeArgs, api: bool) -> ExitCode {
    init_logs(args.db.log_format);
    // Connections are files: take all the process may have.
    mannequin::http::server::raise_open_file_limit();
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
        println!("    {}", mannequin::ExposeSecret::expose_secret(&b.api_key));
        println!();
    }
    if let Some(addr) = running.metrics_addr {
        println!("Metrics for operators: http://{addr}/metrics");
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

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(
            colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR is unset"
        );
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
