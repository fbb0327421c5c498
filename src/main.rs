//! The `dusk` command-line tool.
//!
//! Today it reports the configuration `compute()` runs with; the distributed runtime adds
//! `dusk scheduler` and `dusk worker`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dusk",
    version,
    about = "dusk: parallel computing with lazy task graphs (Dask for Rust)",
    long_about = "dusk: parallel computing with lazy task graphs (Dask for Rust).\n\n\
        Programs use dusk as a library; this tool inspects its configuration."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the scheduler and settings that `compute()` uses in this environment
    /// (DUSK_SCHEDULER, DUSK_NUM_WORKERS, DUSK_PROGRESS).
    Config,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Config => {
            let scheduler = dusk::config::scheduler()?;
            println!("scheduler: {scheduler:?}");
            println!("threads: {}", scheduler.threads());
            println!(
                "cores: {}",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
            println!("progress: {}", dusk::config::progress_enabled());
        }
    }
    Ok(())
}
