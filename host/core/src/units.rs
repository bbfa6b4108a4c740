//! Sizes and durations as people write them, one parser for the CLI and the
//! manifests: `64M`, `64MB`, `64 MiB`, `1.5G` (powers of 1024, as memory
//! limits are meant) and `250ms`, `1.5s`, `2m`, `1h`.

use std::time::Duration;

/// A size or duration that does not parse, with examples of what does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a size.
    #[error("expected a size such as 1048576, \"64K\", \"64M\", \"64MB\" or \"2G\"; got \"{0}\"")]
    Size(String),
    /// Not a duration.
    #[error("expected a duration such as \"250ms\", \"10s\", \"1.5m\" or \"1h\"; got \"{0}\"")]
    Duration(String),
}

/// `"64M"` → 67108864. K, M, G, T with or without `B` or `iB` are powers of
/// 1024; a bare number is bytes.
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(s.trim())
        .map_err(|_| UnitError::Size(s.to_string()))
}

/// `"1.5s"` → 1500 ms. Units ms, s, m (minutes), h and longer; a bare
/// number is refused (seconds or milliseconds?).
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    humantime::parse_duration(s.trim()).map_err(|_| UnitError::Duration(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_the_spellings_people_use() {
        for (s, n) in [
            ("1048576", 1u64 << 20),
            ("64K", 64 << 10),
            ("256M", 256 << 20),
            ("256MB", 256 << 20),
            ("256 MiB", 256 << 20),
            ("2G", 2 << 30),
            ("1.5G", 3 << 29),
        ] {
            assert_eq!(parse_size(s), Ok(n), "{s}");
        }
        assert!(parse_size("12Q").unwrap_err().to_string().contains("64M"));
    }

    #[test]
    fn durations_take_fractions_and_every_unit() {
        for (s, d) in [
            ("250ms", Duration::from_millis(250)),
            ("1.5s", Duration::from_millis(1500)),
            ("2m", Duration::from_secs(120)),
            ("1.5m", Duration::from_secs(90)),
            ("1h", Duration::from_secs(3600)),
        ] {
            assert_eq!(parse_duration(s), Ok(d), "{s}");
        }
        assert!(parse_duration("soon")
            .unwrap_err()
            .to_string()
            .contains("250ms"));
        assert!(parse_duration("10").is_err(), "a bare number says no unit");
    }
}
