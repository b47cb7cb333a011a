//! MITRE ATT&CK (Enterprise) facts: the fourteen tactics, and id and URL shapes.

/// (id, name) of the Enterprise tactics.
pub const TACTICS: &[(&str, &str)] = &[
    ("TA0043", "Reconnaissance"),
    ("TA0042", "Resource Development"),
    ("TA0001", "Initial Access"),
    ("TA0002", "Execution"),
    ("TA0003", "Persistence"),
    ("TA0004", "Privilege Escalation"),
    ("TA0005", "Defense Evasion"),
    ("TA0006", "Credential Access"),
    ("TA0007", "Discovery"),
    ("TA0008", "Lateral Movement"),
    ("TA0009", "Collection"),
    ("TA0011", "Command and Control"),
    ("TA0010", "Exfiltration"),
    ("TA0040", "Impact"),
];

/// Sentinel's tactic names beyond the Enterprise ones written without spaces (pre-ATT&CK and
/// ICS tactics that Sentinel accepts).
pub const SENTINEL_EXTRA_TACTICS: &[&str] = &[
    "PreAttack",
    "ImpairProcessControl",
    "InhibitResponseFunction",
];

pub fn tactic_name(id: &str) -> Option<&'static str> {
    TACTICS.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

pub fn is_tactic_name(name: &str) -> bool {
    TACTICS.iter().any(|(_, n)| *n == name)
}

/// A Sentinel tactic: an Enterprise tactic name without spaces, or one of the extras.
pub fn is_sentinel_tactic(name: &str) -> bool {
    TACTICS
        .iter()
        .any(|(_, n)| n.replace(' ', "").eq_ignore_ascii_case(name))
        || SENTINEL_EXTRA_TACTICS.contains(&name)
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `TA0001`.
pub fn is_tactic_id(id: &str) -> bool {
    id.strip_prefix("TA").is_some_and(|d| digits(d, 4))
}

/// `T1234` (`sub = false`) or `T1234.001` (`sub = true`).
pub fn is_technique_id(id: &str, sub: bool) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    match rest.split_once('.') {
        None => !sub && digits(rest, 4),
        Some((t, s)) => sub && digits(t, 4) && digits(s, 3),
    }
}

/// The reference URL a tactic or technique id should have.
pub fn reference_for(id: &str) -> String {
    if id.starts_with("TA") {
        format!("https://attack.mitre.org/tactics/{id}/")
    } else {
        format!(
            "https://attack.mitre.org/techniques/{}/",
            id.replace('.', "/")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_tactic_id("TA0002"));
        assert!(!is_tactic_id("TA002"));
        assert!(is_technique_id("T1059", false));
        assert!(!is_technique_id("T1059.001", false));
        assert!(is_technique_id("T1059.001", true));
        assert!(!is_technique_id("T1059.01", true));
        assert_eq!(
            reference_for("T1059.001"),
            "https://attack.mitre.org/techniques/T1059/001/"
        );
        assert_eq!(tactic_name("TA0011"), Some("Command and Control"));
        assert!(is_sentinel_tactic("CommandAndControl"));
        assert!(!is_sentinel_tactic("Command and Control"));
    }
}
