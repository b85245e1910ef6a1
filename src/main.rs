use std::process::ExitCode;

use clap::Parser;
use sightline::config::{Cli, Command};
use sightline::{Error, commands, server, store::Store, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on, never a panic trace.
            eprintln!("sightline: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command.unwrap_or_default() {
        Command::Serve(args) => server::serve(&cli.config, &args).await,
        Command::Demo(args) => commands::demo(&cli.config, &args).await,
        Command::Rollup(args) => commands::rebuild_rollups(&cli.config, &args).await,
        Command::Prune(args) => commands::prune(&cli.config, &args).await,
        Command::CreateAdmin(args) => commands::create_admin(&cli.config, &args).await,
        Command::ApiKey(command) => commands::api_key(&cli.config, command).await,
        Command::Price(command) => commands::price(&cli.config, command).await,
        Command::Migrate => {
            let store = Store::connect(&cli.config.database_url).await?;
            store.migrate().await?;
            store.close().await;
            println!("database is up to date");
            Ok(())
        }
    }
}
