//! The model status machine and the voting field.
//!
//! `PENDING → PROCESSING → DONE | FAILED`, and `CANCELLED` for work cancelled before it
//! started. A terminal status never changes again: that is what makes settling a
//! redelivered job a no-op.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ModelStatus {
    Pending,
    Processing,
    Done,
    Failed,
    Cancelled,
}

impl ModelStatus {
    pub const ALL: [ModelStatus; 5] = [
        ModelStatus::Pending,
        ModelStatus::Processing,
        ModelStatus::Done,
        ModelStatus::Failed,
        ModelStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Pending => "PENDING",
            ModelStatus::Processing => "PROCESSING",
            ModelStatus::Done => "DONE",
            ModelStatus::Failed => "FAILED",
            ModelStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<ModelStatus> {
        ModelStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ModelStatus::Done | ModelStatus::Failed | ModelStatus::Cancelled
        )
    }

    /// Whether a model may move from `self` to `next`.
    pub fn can_become(self, next: ModelStatus) -> bool {
        use ModelStatus::*;
        matches!(
            (self, next),
            (Pending, Processing | Done | Failed | Cancelled) | (Processing, Done | Failed)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Voting {
    Pending,
    Approved,
    Rejected,
}

impl Voting {
    pub fn as_str(self) -> &'static str {
        match self {
            Voting::Pending => "PENDING",
            Voting::Approved => "APPROVED",
            Voting::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Voting> {
        [Voting::Pending, Voting::Approved, Voting::Rejected]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_statuses_never_change() {
        for from in ModelStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in ModelStatus::ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn processing_cannot_be_cancelled_or_go_back() {
        assert!(!ModelStatus::Processing.can_become(ModelStatus::Cancelled));
        assert!(!ModelStatus::Processing.can_become(ModelStatus::Pending));
        assert!(ModelStatus::Pending.can_become(ModelStatus::Processing));
        assert!(ModelStatus::Processing.can_become(ModelStatus::Done));
    }

    #[test]
    fn names_round_trip() {
        for s in ModelStatus::ALL {
            assert_eq!(ModelStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(Voting::parse("APPROVED"), Some(Voting::Approved));
        assert_eq!(Voting::parse("approved"), None);
    }

    /// Serialized, a status or a vote is its name.
    #[test]
    fn serde_writes_the_names() {
        for s in ModelStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for v in [Voting::Pending, Voting::Approved, Voting::Rejected] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
    }
}
