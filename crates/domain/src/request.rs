//! Request values parsed at the edge: once one of these exists, it is valid.

use crate::ids::{AssetId, BatchId};

/// Why a request was refused with 400. `Display` is the human message of the
/// contract's `error` field; [`RequestError::code`] is the stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("'preferences' is required.")]
    PreferencesMissing,
    #[error("'preferences' must be a string.")]
    PreferencesNotString,
    #[error("'preferences' must not be empty.")]
    PreferencesEmpty,
    #[error(
        "'preferences' is too long: {chars} characters, at most {} allowed.",
        Preferences::MAX_CHARS
    )]
    PreferencesTooLong { chars: usize },
    #[error("'preferences' must not contain control characters other than tabs and line breaks.")]
    PreferencesControlCharacter,
    #[error("'count' must be an integer.")]
    CountNotInteger,
    #[error("'count' must be between {} and {max}, got {got}.", Count::MIN)]
    CountOutOfRange { got: i128, max: u32 },
    #[error("Unknown statusFilter '{got}': use 'all' or 'approved'.")]
    StatusFilterUnknown { got: String },
    #[error("'limit' must be an integer between 1 and {}.", Limit::MAX)]
    LimitInvalid,
    #[error("'cursor' is not a cursor this service issued.")]
    CursorInvalid,
    #[error("'batchId' is not a batch id.")]
    BatchIdInvalid,
    #[error("'voting' must be one of 'PENDING', 'APPROVED' or 'REJECTED'.")]
    VotingInvalid,
    #[error("'Idempotency-Key' must be 1 to 255 visible ASCII characters.")]
    IdempotencyKeyInvalid,
    #[error("The path does not name a {kind}: {kind} ids start with '{kind}_'.")]
    IdInvalid { kind: &'static str },
    /// A text the service will not make models of (a minor with adult
    /// styling): the message says why.
    #[error("{0}")]
    PreferencesRefused(String),
}

impl RequestError {
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::PreferencesMissing
            | RequestError::PreferencesNotString
            | RequestError::PreferencesEmpty
            | RequestError::PreferencesTooLong { .. }
            | RequestError::PreferencesControlCharacter => "invalid_preferences",
            RequestError::CountNotInteger | RequestError::CountOutOfRange { .. } => "invalid_count",
            RequestError::StatusFilterUnknown { .. } => "invalid_status_filter",
            RequestError::LimitInvalid => "invalid_limit",
            RequestError::CursorInvalid => "invalid_cursor",
            RequestError::BatchIdInvalid => "invalid_batch_id",
            RequestError::VotingInvalid => "invalid_voting",
            RequestError::IdempotencyKeyInvalid => "invalid_idempotency_key",
            RequestError::IdInvalid { .. } => "invalid_id",
            RequestError::PreferencesRefused(_) => "refused_preferences",
        }
    }
}

/// The text describing the wanted models: trimmed, 1–2000 characters, with no
/// control characters but tabs and line breaks (a NUL or an escape sequence is
/// never part of a description, and not every database can store a NUL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences(String);

impl Preferences {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Preferences, RequestError> {
        let t = raw.trim();
        let chars = t.chars().count();
        let control = t
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
        if control {
            Err(RequestError::PreferencesControlCharacter)
        } else if chars == 0 {
            Err(RequestError::PreferencesEmpty)
        } else if chars > Self::MAX_CHARS {
            Err(RequestError::PreferencesTooLong { chars })
        } else {
            Ok(Preferences(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many assets one register-ideas call creates: from 1 to what the
/// kind declares (20 for models and sceneries), the kind's default when
/// absent (10), never clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(u32);

impl Count {
    pub const MIN: u32 = 1;

    /// `requested` (absent: the kind's default), checked against the kind's
    /// declaration.
    pub fn of_kind(requested: Option<i128>, kind: crate::AssetKind) -> Result<Count, RequestError> {
        let declared = kind.declaration();
        match requested {
            None => Ok(Count(declared.default_count)),
            Some(n) if (i128::from(Self::MIN)..=i128::from(declared.max_count)).contains(&n) => {
                Ok(Count(n as u32))
            }
            Some(n) => Err(RequestError::CountOutOfRange {
                got: n,
                max: declared.max_count,
            }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Which models the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "lowercase"))]
pub enum StatusFilter {
    #[default]
    All,
    Approved,
}

impl StatusFilter {
    /// Case-insensitive; absent means `all`.
    pub fn parse(raw: Option<&str>) -> Result<StatusFilter, RequestError> {
        match raw {
            None => Ok(StatusFilter::All),
            Some(s) if s.eq_ignore_ascii_case("all") => Ok(StatusFilter::All),
            Some(s) if s.eq_ignore_ascii_case("approved") => Ok(StatusFilter::Approved),
            Some(s) => Err(RequestError::StatusFilterUnknown {
                got: s.chars().take(64).collect(),
            }),
        }
    }
}

/// Page size of the list: 1–1000, default 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub const MAX: u32 = 1000;
    pub const DEFAULT: Limit = Limit(1000);

    pub fn parse(raw: Option<&str>) -> Result<Limit, RequestError> {
        let Some(s) = raw else {
            return Ok(Self::DEFAULT);
        };
        match s.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Limit(n)),
            _ => Err(RequestError::LimitInvalid),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An id a list can be paged by: read back from a cursor.
pub trait ListedId: Sized + std::fmt::Display {
    fn parse_listed(raw: &str) -> Option<Self>;
}

impl ListedId for AssetId {
    fn parse_listed(raw: &str) -> Option<AssetId> {
        AssetId::parse(raw)
    }
}

impl<K: crate::ids::kind::Kind> ListedId for crate::ids::Id<K> {
    fn parse_listed(raw: &str) -> Option<crate::ids::Id<K>> {
        crate::ids::Id::parse(raw)
    }
}

/// A position in the newest-first list: the `(createdAt, id)` of the last item
/// shown. Encoded as `<ms>.<id>` so that it is opaque enough and URL-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<I = AssetId> {
    pub created_at_ms: i64,
    pub id: I,
}

impl<I: ListedId> Cursor<I> {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_ms, self.id)
    }

    pub fn parse(raw: &str) -> Result<Cursor<I>, RequestError> {
        let (ms, id) = raw.split_once('.').ok_or(RequestError::CursorInvalid)?;
        let created_at_ms: i64 = ms.parse().map_err(|_| RequestError::CursorInvalid)?;
        let id = I::parse_listed(id).ok_or(RequestError::CursorInvalid)?;
        if created_at_ms < 0 {
            return Err(RequestError::CursorInvalid);
        }
        Ok(Cursor { created_at_ms, id })
    }
}

/// Checks the shape of a `batchId` filter so that garbage is a 400, not a silent
/// empty list.
pub fn parse_batch_id(raw: &str) -> Result<BatchId, RequestError> {
    BatchId::parse(raw).ok_or(RequestError::BatchIdInvalid)
}

/// An id from a path: well-formed for its kind, or 400.
pub fn parse_path_id<K: crate::ids::kind::Kind>(
    raw: &str,
) -> Result<crate::ids::Id<K>, RequestError> {
    crate::ids::Id::parse(raw).ok_or(RequestError::IdInvalid {
        kind: K::PREFIX.trim_end_matches('_'),
    })
}

/// Reads an asset's id from a path: an id of `kind`, or the same error a
/// malformed id of another record gets.
pub fn parse_asset_id(raw: &str, kind: crate::AssetKind) -> Result<AssetId, RequestError> {
    AssetId::parse(raw)
        .filter(|id| id.kind() == kind)
        .ok_or(RequestError::IdInvalid {
            kind: kind.declaration().prefix.trim_end_matches('_'),
        })
}

/// Checks a client's `Idempotency-Key` header: 1–255 visible ASCII characters.
pub fn parse_idempotency_key(raw: &[u8]) -> Result<&str, RequestError> {
    let ok = (1..=255).contains(&raw.len()) && raw.iter().all(|b| (0x21..=0x7e).contains(b));
    if ok {
        std::str::from_utf8(raw).map_err(|_| RequestError::IdempotencyKeyInvalid)
    } else {
        Err(RequestError::IdempotencyKeyInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_are_trimmed_and_bounded_in_characters() {
        assert_eq!(Preferences::parse("  hi \n").unwrap().as_str(), "hi");
        assert_eq!(
            Preferences::parse(" \t "),
            Err(RequestError::PreferencesEmpty)
        );
        let ok = "é".repeat(2000);
        assert!(Preferences::parse(&ok).is_ok());
        for bad in ["a\0b", "\u{1b}[31mred", "x\u{7f}", "x\u{85}y"] {
            assert_eq!(
                Preferences::parse(bad),
                Err(RequestError::PreferencesControlCharacter),
                "{bad:?}"
            );
        }
        assert!(Preferences::parse("line one\r\nline\ttwo").is_ok());
        let long = "é".repeat(2001);
        assert_eq!(
            Preferences::parse(&long),
            Err(RequestError::PreferencesTooLong { chars: 2001 })
        );
    }

    #[test]
    fn count_is_never_clamped() {
        use crate::AssetKind;
        for kind in AssetKind::ALL {
            let max = kind.declaration().max_count;
            assert_eq!(Count::of_kind(Some(1), kind).unwrap().get(), 1);
            assert_eq!(Count::of_kind(Some(max.into()), kind).unwrap().get(), max);
            assert_eq!(
                Count::of_kind(None, kind).unwrap().get(),
                kind.declaration().default_count
            );
            for bad in [0, i128::from(max) + 1, -1, i128::from(u64::MAX)] {
                assert_eq!(
                    Count::of_kind(Some(bad), kind),
                    Err(RequestError::CountOutOfRange { got: bad, max })
                );
            }
        }
    }

    #[test]
    fn status_filter_is_case_insensitive_and_strict() {
        assert_eq!(StatusFilter::parse(None), Ok(StatusFilter::All));
        assert_eq!(
            StatusFilter::parse(Some("APPROVED")),
            Ok(StatusFilter::Approved)
        );
        assert_eq!(StatusFilter::parse(Some("All")), Ok(StatusFilter::All));
        assert!(StatusFilter::parse(Some("done")).is_err());
        assert!(StatusFilter::parse(Some("")).is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(
            parse_idempotency_key(b"order-42:retry"),
            Ok("order-42:retry")
        );
        for bad in [
            &b""[..],
            b"has space",
            b"tab\t",
            "é".as_bytes(),
            &[b'a'; 256],
        ] {
            assert!(parse_idempotency_key(bad).is_err());
        }
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(Limit::parse(None).unwrap().get(), 1000);
        assert_eq!(Limit::parse(Some("1")).unwrap().get(), 1);
        for bad in ["0", "1001", "-5", "ten", ""] {
            assert!(Limit::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            created_at_ms: 1_774_015_200_000,
            id: AssetId::parse("model_01abc").unwrap(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Ok(c));
        for bad in [
            "",
            "x.model_1",
            "12",
            "12.batch_1",
            "12.model_a;drop",
            "-1.model_a",
        ] {
            assert!(Cursor::<AssetId>::parse(bad).is_err(), "{bad}");
        }
    }
}
