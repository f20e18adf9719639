//! Protocol revisions we serve and the rules that differ between them.

use std::fmt;

/// One MCP protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// `2024-11-05`, the first handshake revision.
    V2024_11_05,
    /// `2025-03-26`: batches, tool annotations, audio, completions capability.
    V2025_03_26,
    /// `2025-06-18`: titles, `outputSchema`, `structuredContent`; batches removed.
    V2025_06_18,
    /// `2025-11-25`: icons, input validation errors as `isError` results.
    V2025_11_25,
    /// `2026-07-28`: no handshake, per-request `_meta`, `server/discover`.
    V2026_07_28,
}

impl Version {
    /// Handshake revisions, oldest first.
    pub const LEGACY: [Version; 4] = [
        Version::V2024_11_05,
        Version::V2025_03_26,
        Version::V2025_06_18,
        Version::V2025_11_25,
    ];
    /// Revisions served through per-request `_meta`.
    pub const MODERN: [Version; 1] = [Version::V2026_07_28];
    /// What `initialize` answers when the client asks for a revision we do not serve.
    pub const LATEST_LEGACY: Version = Version::V2025_11_25;

    /// The revision's date string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2024_11_05 => "2024-11-05",
            Version::V2025_03_26 => "2025-03-26",
            Version::V2025_06_18 => "2025-06-18",
            Version::V2025_11_25 => "2025-11-25",
            Version::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a revision date string.
    pub fn parse(s: &str) -> Option<Version> {
        Self::LEGACY
            .into_iter()
            .chain(Self::MODERN)
            .find(|v| v.as_str() == s)
    }

    /// All revisions we serve, oldest first.
    pub fn all() -> impl Iterator<Item = Version> {
        Self::LEGACY.into_iter().chain(Self::MODERN)
    }

    /// Stateless revision (no `initialize`).
    pub fn is_modern(self) -> bool {
        self >= Version::V2026_07_28
    }

    /// JSON-RPC batches are part of this revision.
    pub fn has_batches(self) -> bool {
        self == Version::V2025_03_26
    }

    /// Tool annotations exist.
    pub fn has_annotations(self) -> bool {
        self >= Version::V2025_03_26
    }

    /// `title`, `outputSchema` and `structuredContent` exist.
    pub fn has_titles_and_structured(self) -> bool {
        self >= Version::V2025_06_18
    }

    /// Tool input validation failures are `isError` results, not `-32602` (SEP-1303).
    pub fn validation_is_tool_error(self) -> bool {
        self >= Version::V2025_11_25
    }

    /// The `completions` server capability exists (2025-03-26+).
    pub fn has_completions_capability(self) -> bool {
        self >= Version::V2025_03_26
    }

    /// `Implementation.description` and `websiteUrl` exist.
    pub fn has_implementation_description(self) -> bool {
        self >= Version::V2025_11_25
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The legacy answer to `initialize`: echo a supported handshake revision, otherwise the latest.
pub fn negotiate(requested: &str) -> Version {
    Version::LEGACY
        .into_iter()
        .find(|v| v.as_str() == requested)
        .unwrap_or(Version::LATEST_LEGACY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_supported_and_falls_back_to_latest_legacy() {
        let cases = [
            ("2024-11-05", "2024-11-05"),
            ("2025-03-26", "2025-03-26"),
            ("2025-06-18", "2025-06-18"),
            ("2025-11-25", "2025-11-25"),
            ("2026-07-28", "2025-11-25"),
            ("1999-01-01", "2025-11-25"),
            ("", "2025-11-25"),
        ];
        for (asked, answered) in cases {
            assert_eq!(
                negotiate(asked).as_str(),
                answered,
                "initialize asking {asked:?}"
            );
        }
    }

    #[test]
    fn feature_gates_follow_the_changelogs() {
        assert!(Version::V2025_03_26.has_batches());
        assert!(!Version::V2024_11_05.has_batches() && !Version::V2025_06_18.has_batches());
        assert!(!Version::V2025_06_18.validation_is_tool_error());
        assert!(Version::V2025_11_25.validation_is_tool_error());
        assert!(Version::V2026_07_28.is_modern() && !Version::V2025_11_25.is_modern());
        assert!(!Version::V2024_11_05.has_completions_capability());
        assert!(Version::V2025_03_26.has_completions_capability());
        assert_eq!(Version::parse("2026-07-28"), Some(Version::V2026_07_28));
        assert_eq!(Version::parse("2026-07-29"), None);
    }
}
