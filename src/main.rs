//! `switchboard`: the command line. Wiring only; the work is in the crates.

mod admin_cmd;
mod check_cmd;
mod lsp_cmd;
mod run_cmd;
mod simulate_cmd;
mod test_cmd;
mod user_cmd;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Declarative dialplan and IVR engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check dialplans and report every error and warning.
    Check(check_cmd::CheckArgs),
    /// Run the plans' `test` blocks in a simulated office.
    Test(test_cmd::TestArgs),
    /// Walk one call through a plan and print its trace.
    Simulate(simulate_cmd::SimulateArgs),
    /// Run the server: SIP, RTP, voicemail and the HTTP API, reloading plans on save.
    Run(run_cmd::RunArgs),
    /// Manage extensions' SIP passwords.
    User(user_cmd::UserArgs),
    /// Manage who may sign in to the web editor.
    Admin(admin_cmd::AdminArgs),
    /// Serve the language server protocol over standard input and output, for editors.
    Lsp(lsp_cmd::LspArgs),
}

fn main() -> ExitCode {
    // The raw matches keep the order of `simulate --press/--wait`, which the derived
    // structs lose.
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if !matches!(cli.command, Command::Run(_)) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Command::Check(args) => check_cmd::run(args),
        Command::Test(args) => test_cmd::run(args),
        Command::Simulate(args) => {
            let sub = matches
                .subcommand_matches("simulate")
                .expect("the simulate subcommand was parsed");
            simulate_cmd::run(args, sub)
        }
        Command::Run(args) => run_cmd::run(args),
        Command::User(args) => user_cmd::run(args),
        Command::Admin(args) => admin_cmd::run(args),
        Command::Lsp(args) => lsp_cmd::run(args),
    }
}

/// `switchboard simulate | head` should stop quietly when `head` has read enough, as
/// other shell tools do, not panic on the broken pipe: the commands that print reports
/// take the default SIGPIPE action. The server keeps Rust's ignored SIGPIPE, so a phone
/// closing a TCP connection is an error on that connection, never the end of the server.
fn quiet_on_closed_pipe() {
    // SAFETY: called before any thread is started; it only resets one signal's action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
