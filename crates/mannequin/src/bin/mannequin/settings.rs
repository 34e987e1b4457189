//! `--config FILE`: a TOML file holding any setting the flags and variables
//! hold, under the flag's name (`listen = "0.0.0.0:8080"`,
//! `credits-per-model = 10`, `cors-origins = ["https://shop.example"]`).
//!
//! The file's values become the flags' defaults, so the order is the one
//! people expect: a flag beats its variable, the variable beats the file, the
//! file beats the built-in default. One file may serve every process of an
//! installation: a setting another command takes (`listen` read by `worker`)
//! is left to that command; a name no command takes is refused, as is a value
//! its flag would refuse.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// The commands whose settings a file holds: the service's own.
const SERVICE_COMMANDS: [&str; 5] = ["serve", "worker", "migrate", "admin", "config"];

/// The variable naming the file when `--config` does not.
pub const VARIABLE: &str = "MANNEQUIN_CONFIG";

/// A settings file, read.
pub struct File {
    pub path: PathBuf,
    /// Each setting's values (one, or several for an array), by flag name.
    values: BTreeMap<String, Vec<String>>,
}

impl File {
    pub fn names(&self) -> BTreeSet<&str> {
        self.values.keys().map(String::as_str).collect()
    }
}

/// The command line parsed with the settings file's values as defaults, the
/// matches it was read from, and the file.
pub struct Parsed {
    pub cli: Cli,
    pub matches: ArgMatches,
    pub file: Option<File>,
}

/// Parses the process's arguments. A file that cannot be read, or names an
/// unknown setting, is an error that names the file; clap's own errors (and
/// `--help`) exit as clap does.
pub fn parse() -> Result<Parsed, String> {
    parse_from(std::env::args_os().collect())
}

fn parse_from(args: Vec<OsString>) -> Result<Parsed, String> {
    let path = named_file(&args);
    let file = path.map(|p| read(&p)).transpose()?;
    let mut cmd = Cli::command();
    if let Some(file) = &file {
        cmd = with_defaults(cmd, file)?;
    }
    let matches = cmd.try_get_matches_from(args).unwrap_or_else(|e| e.exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Ok(Parsed { cli, matches, file })
}

/// `--config FILE` or `--config=FILE` anywhere on the line, else the variable.
fn named_file(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os(VARIABLE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn read(path: &Path) -> Result<File, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {shown}: {e}"))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("--config {shown}: not TOML: {e}"))?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        let name = key.replace('_', "-");
        let scalar = |v: &toml::Value| match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Float(f) => Some(f.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            toml::Value::Datetime(d) => Some(d.to_string()),
            toml::Value::Array(_) | toml::Value::Table(_) => None,
        };
        let list = match &value {
            toml::Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
            v => scalar(v).map(|s| vec![s]),
        };
        let list = list.ok_or_else(|| {
            format!(
                "--config {shown}: '{key}' holds a table; settings are top-level `name = value` lines"
            )
        })?;
        values.insert(name, list);
    }
    Ok(File {
        path: path.to_path_buf(),
        values,
    })
}

/// Every flag (by its long name) of `cmd` and its subcommands, and whether
/// it takes several values.
fn flags(cmd: &clap::Command, into: &mut BTreeMap<String, bool>) {
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            let many = arg.get_value_delimiter().is_some()
                || matches!(arg.get_action(), clap::ArgAction::Append);
            into.insert(long.to_string(), many);
        }
    }
    for sub in cmd.get_subcommands() {
        flags(sub, into);
    }
}

/// `cmd` with the file's values as the service commands' defaults.
fn with_defaults(cmd: clap::Command, file: &File) -> Result<clap::Command, String> {
    let mut known = BTreeMap::new();
    for sub in cmd.get_subcommands() {
        if SERVICE_COMMANDS.contains(&sub.get_name()) {
            flags(sub, &mut known);
        }
    }
    for (name, values) in &file.values {
        let shown = file.path.display();
        match known.get(name) {
            Some(_) if matches!(name.as_str(), "config" | "help") => {
                return Err(format!(
                    "--config {shown}: '{name}' cannot be set in a file"
                ));
            }
            None => {
                return Err(format!(
                    "--config {shown}: '{name}' is not a setting (settings are the flags of `mannequin serve --help`, `worker`, `migrate` and `admin`, without the dashes)"
                ));
            }
            Some(false) if values.len() != 1 => {
                return Err(format!(
                    "--config {shown}: '{name}' takes one value, not a list"
                ));
            }
            Some(_) => {}
        }
    }
    fn apply(mut cmd: clap::Command, file: &File) -> clap::Command {
        let ids: Vec<(clap::Id, String)> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| (a.get_id().clone(), l.to_string())))
            .collect();
        for (id, long) in ids {
            if let Some(values) = file.values.get(&long) {
                let values: Vec<clap::builder::OsStr> =
                    values.iter().map(|v| v.clone().into()).collect();
                cmd = cmd.mut_arg(id, |a| a.default_values(values));
            }
        }
        let subs: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for sub in subs {
            cmd = cmd.mut_subcommand(sub, |s| apply(s, file));
        }
        cmd
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| SERVICE_COMMANDS.contains(&n.as_str()))
        .collect();
    let mut cmd = cmd;
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, |s| apply(s, file));
    }
    Ok(cmd)
}

/// The API's settings for a `worker` process (it runs none of the API, but
/// shares its settings): variables, the file, defaults, as `serve` reads them.
pub fn api_defaults(file: Option<&File>) -> mannequin::config::ApiArgs {
    let mut cmd = Cli::command();
    if let Some(file) = file {
        // Already checked when the command line was parsed.
        cmd = with_defaults(cmd, file).unwrap_or_else(|_| Cli::command());
    }
    let matches = cmd
        .try_get_matches_from(["mannequin", "serve"])
        .unwrap_or_else(|e| e.exit());
    match Cli::from_arg_matches(&matches)
        .unwrap_or_else(|e| e.exit())
        .command
    {
        crate::cli::Command::Serve(args) => args.api,
        _ => unreachable!("parsed as serve"),
    }
}

/// `mannequin config check`: every setting of `serve` (a worker's are
/// among them) as it takes effect, as TOML a settings file may hold, each
/// with where it came from; secrets and the passwords in URLs redacted.
pub fn check(parsed: &Parsed) -> String {
    let from_file = parsed.file.as_ref().map(File::names).unwrap_or_default();
    let Some(("config", config)) = parsed.matches.subcommand() else {
        return String::new();
    };
    let Some(("check", m)) = config.subcommand() else {
        return String::new();
    };
    let cmd = Cli::command();
    let check = cmd
        .find_subcommand("config")
        .and_then(|c| c.find_subcommand("check"))
        .expect("config check is a command");
    let mut out = String::new();
    if let Some(file) = &parsed.file {
        out.push_str(&format!("# settings file: {}\n", file.path.display()));
    }
    for arg in check.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "config") {
            continue;
        }
        let id = arg.get_id().as_str();
        let raw: Vec<String> = m
            .get_raw(id)
            .map(|v| v.map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let source = match m.value_source(id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "variable",
            Some(ValueSource::DefaultValue) if from_file.contains(long) => "file",
            Some(_) => "default",
            None => {
                out.push_str(&format!("# {long}: unset\n"));
                continue;
            }
        };
        let secret = arg.is_hide_env_values_set();
        let shown: Vec<String> = raw
            .iter()
            .map(|v| {
                let v = if secret {
                    "[redacted]".to_string()
                } else {
                    without_password(v)
                };
                format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            })
            .collect();
        let value = match shown.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        out.push_str(&format!("{long} = {value}  # {source}\n"));
    }
    out
}

/// A URL's password replaced: `scheme://user:***@host`.
fn without_password(v: &str) -> String {
    let Some((scheme, rest)) = v.split_once("://") else {
        return v.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return v.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted_and_the_rest_kept() {
        assert_eq!(
            without_password("postgres://app:s3cret@db:5432/mannequin"),
            "postgres://app:***@db:5432/mannequin"
        );
        assert_eq!(without_password("nats://db:4222"), "nats://db:4222");
        assert_eq!(without_password("redis://me@host"), "redis://me@host");
        assert_eq!(without_password("127.0.0.1:8080"), "127.0.0.1:8080");
    }

    #[test]
    fn the_file_is_named_by_the_flag_before_the_variable() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            named_file(&args(&["mannequin", "serve", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            named_file(&args(&["mannequin", "worker", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
