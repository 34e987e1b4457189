//! `mannequin admin`'s commands and their arguments.

use clap::{Args, Subcommand};

use super::DbArgs;

/// The database an admin command works on. It must hold mannequin's tables
/// already unless `--create` is given, so that a mistyped `--data-dir` or URL
/// is refused (exit code 2) instead of answered from a new, empty database.
#[derive(Debug, Clone, Args)]
pub struct AdminDb {
    #[command(flatten)]
    pub db: DbArgs,
    /// Create the database and its tables if it holds none yet (as `serve`
    /// and `migrate` do).
    #[arg(long)]
    pub create: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts: list, create, disable, enable.
    #[command(subcommand)]
    Account(AccountCommand),
    /// API keys: create, list, revoke.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Credits: grant (or remove), show.
    #[command(subcommand)]
    Credits(CreditsCommand),
    /// An account's ledger, newest entry first.
    Ledger {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
        /// How many entries.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Check the credit invariants over the whole database; exit 0 only if they hold.
    Audit(AdminDb),
    /// Copy the SQLite database (a consistent snapshot, while the service
    /// serves and writes) and the images on local disk into an empty folder;
    /// exit 0 only if every image the copy names is in it.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// The folder to write; made if missing, refused if it holds anything.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restore a backup into a data directory that holds no database and no
    /// images yet; checks the database's integrity and every image.
    Restore {
        #[command(flatten)]
        db: DbArgs,
        /// The folder `admin backup --to` wrote.
        #[arg(long)]
        from: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Every account with its balance (and when it was disabled, if it was).
    List {
        #[command(flatten)]
        db: AdminDb,
    },
    /// Create an account; prints its id. Give it a key with `admin key create`.
    Create {
        #[command(flatten)]
        db: AdminDb,
        /// A name for people (the console shows it).
        #[arg(long)]
        name: String,
        /// Credits granted at creation.
        #[arg(long, default_value_t = 0)]
        credits: i64,
    },
    /// Disable an account: its keys are refused (401) by every server within
    /// about a second, then its models no worker has started are cancelled
    /// and refunded. Models already generating finish.
    Disable {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
    },
    /// Enable a disabled account: its keys that are not revoked or expired
    /// work again.
    Enable {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Mint a key for an account; prints it once (only its hash is stored).
    Create {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
        /// content.read, content.register, webhooks.manage or keys.manage; repeat for
        /// several (default: all).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// RFC 3339 time after which the key stops working.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// An account's keys: ids, scopes, creation, expiry and revocation (never
    /// the secrets).
    List {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
    },
    /// Revoke a key: running servers refuse it within about a second.
    Revoke {
        #[command(flatten)]
        db: AdminDb,
        /// The key's id (`keyId` when it was created: the part of the key
        /// between `mk_live_` and the dot).
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CreditsCommand {
    /// Add credits (a negative amount is an adjustment that removes them).
    Grant {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
        #[arg(long, allow_hyphen_values = true)]
        amount: i64,
    },
    /// An account's balances: available, reserved and consumed.
    Show {
        #[command(flatten)]
        db: AdminDb,
        /// The account (`acct_…`).
        #[arg(long)]
        account: String,
    },
}
