//! The settings of who plans what a batch varies (`--planner`).

use std::time::Duration;

use clap::{Args, value_parser};

/// Who plans a batch's ideas, and how to reach a language model that does.
#[derive(Debug, Clone, Args)]
pub struct PlannerArgs {
    /// Who plans what a batch varies: the built-in reading, or a language
    /// model behind an OpenAI-compatible chat completions API, whose answer
    /// is checked against the same rules (the built-in plans when it breaks
    /// one, fails or times out). Its key is read from
    /// MANNEQUIN_PLANNER_API_KEY or OPENAI_API_KEY.
    #[arg(
        long = "planner",
        env = "MANNEQUIN_PLANNER",
        value_enum,
        default_value = "builtin"
    )]
    pub kind: crate::planner::PlannerKind,
    /// The planner's base URL; `/v1/chat/completions` is appended.
    #[arg(
        long = "planner-url",
        env = "MANNEQUIN_PLANNER_URL",
        default_value = "https://api.openai.com"
    )]
    pub url: String,
    /// The planner's model.
    #[arg(
        long = "planner-model",
        env = "MANNEQUIN_PLANNER_MODEL",
        default_value = "gpt-4o-mini"
    )]
    pub model: String,
    /// Seconds a register-ideas call waits for the planner before the
    /// built-in reading plans the batch.
    #[arg(long = "planner-timeout-secs", env = "MANNEQUIN_PLANNER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = value_parser!(u64).range(1..=300))]
    pub timeout_secs: u64,
}

impl PlannerArgs {
    /// The planner's settings, its key from the environment.
    pub fn settings(&self) -> crate::planner::Settings {
        crate::planner::Settings {
            kind: self.kind,
            url: self.url.clone(),
            model: self.model.clone(),
            api_key: std::env::var("MANNEQUIN_PLANNER_API_KEY")
                .or_else(|_| std::env::var("OPENAI_API_KEY"))
                .ok()
                .filter(|k| !k.is_empty())
                .map(Into::into),
            timeout: Duration::from_secs(self.timeout_secs),
        }
    }
}
