//! What of an image server's own words a customer may read: only a content
//! refusal's, and even then with anything that looks like a URL, a host, an
//! address, a path, an e-mail address or a key removed. Everything else a
//! server says goes to the log only.

/// What stands in for a removed word.
const REMOVED: &str = "[…]";

/// `text` with every word that could name an internal host, path, address
/// or secret replaced, runs of them joined, and at most `max` characters.
pub fn scrub(text: &str, max: usize) -> String {
    let mut out: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        let core = word.trim_matches(|c: char| {
            matches!(
                c,
                ',' | ';'
                    | ':'
                    | '.'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '"'
                    | '\''
                    | '`'
                    | '<'
                    | '>'
            )
        });
        if revealing(core) {
            if out.last() != Some(&REMOVED) {
                out.push(REMOVED);
            }
        } else {
            out.push(word);
        }
    }
    let joined = out.join(" ");
    match joined.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &joined[..i]),
        None => joined,
    }
}

/// Whether `w` (a word without its surrounding punctuation) may reveal
/// something internal.
fn revealing(w: &str) -> bool {
    if w.is_empty() {
        return false;
    }
    let lower = w.to_ascii_lowercase();
    // URLs, paths, e-mail addresses, Windows drives and home directories.
    if lower.contains("://")
        || w.contains('/')
        || w.contains('\\')
        || w.contains('@')
        || w.starts_with('~')
    {
        return true;
    }
    // Keys and tokens by their well-known prefixes.
    const PREFIXES: &[&str] = &[
        "sk-", "sk_", "pk-", "pk_", "rk-", "rk_", "org-", "proj-", "proj_", "key-", "key_", "r8_",
        "hf_", "mk_live_", "ghp_", "xox", "akia", "bearer",
    ];
    if PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // Addresses: IPv4 (with a port or not) and IPv6.
    let dotted_digits = w.split('.').count() == 4
        && w.split(['.', ':'])
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if dotted_digits || w.matches(':').count() >= 2 {
        return true;
    }
    // host:port
    if let Some((host, port)) = w.rsplit_once(':')
        && !host.is_empty()
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    // Host and file names: letters, digits and hyphens around a dot, the
    // last part a name ("gpu-7.internal", "sdxl.ckpt", "api.example.com").
    let parts: Vec<&str> = w.split('.').collect();
    if parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && parts
            .last()
            .is_some_and(|l| l.len() >= 2 && l.bytes().any(|b| b.is_ascii_alphabetic()))
    {
        return true;
    }
    // Long random-looking tokens: 20 or more letters, digits, '-' or '_'
    // mixing digits and letters.
    w.len() >= 20
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && w.bytes().any(|b| b.is_ascii_digit())
        && w.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_paths_addresses_and_keys_are_removed() {
        let leak = "upstream http://gpu-7.internal:8188/prompt failed: /srv/secret-models/sdxl.ckpt: CUDA OOM";
        assert_eq!(scrub(leak, 300), "upstream […] failed: […] CUDA OOM");
        let key = "Invalid api key sk-live-9f8e7d6c5b4a39281706 for org org-internal";
        assert_eq!(scrub(key, 300), "Invalid api key […] for org […]");
        for word in [
            "10.0.3.7",
            "10.0.3.7:8080",
            "[fe80::1]",
            "gpu-7:8188",
            "C:\\models\\x.ckpt",
            "~/models",
            "ops@example.com",
            "api.example.com",
            "r8_AbCdEf0123456789",
            "Bearer",
            "a1b2c3d4e5f6a7b8c9d0e1",
        ] {
            assert_eq!(scrub(&format!("at {word}."), 300), "at […]", "{word}");
        }
    }

    #[test]
    fn plain_words_stay_and_long_text_is_cut() {
        let refusal = "Your request was rejected by the safety system. It may contain content that is not allowed.";
        assert_eq!(scrub(refusal, 300), refusal);
        assert_eq!(scrub("NSFW content detected", 4), "NSFW…");
        assert_eq!(scrub("  ", 10), "");
    }
}
