//! Vigil's own rule pack (`rules/` in the repository), compiled into the binary so that
//! `vigil hunt` works without `--rules` from any directory.

use crate::{Loaded, load_text};

/// (path relative to `rules/`, text) of every built-in rule.
const FILES: &[(&str, &str)] = &[
    (
        "azure/defense_evasion_vm_extension_removed_after_deployment.toml",
        include_str!(
            "../../../rules/azure/defense_evasion_vm_extension_removed_after_deployment.toml"
        ),
    ),
    (
        "azure/execution_extension_handler_executable_drop.yaml",
        include_str!("../../../rules/azure/execution_extension_handler_executable_drop.yaml"),
    ),
    (
        "azure/execution_linux_guest_agent_suspicious_descendant.toml",
        include_str!("../../../rules/azure/execution_linux_guest_agent_suspicious_descendant.toml"),
    ),
    (
        "azure/execution_vm_extension_write_with_guest_agent_activity.yaml",
        include_str!(
            "../../../rules/azure/execution_vm_extension_write_with_guest_agent_activity.yaml"
        ),
    ),
    (
        "azure/execution_vm_script_or_run_command_by_person.yaml",
        include_str!("../../../rules/azure/execution_vm_script_or_run_command_by_person.yaml"),
    ),
    (
        "azure/execution_windows_extension_handler_suspicious_descendant.toml",
        include_str!(
            "../../../rules/azure/execution_windows_extension_handler_suspicious_descendant.toml"
        ),
    ),
    (
        "azure/persistence_vm_extension_first_seen_for_vm.toml",
        include_str!("../../../rules/azure/persistence_vm_extension_first_seen_for_vm.toml"),
    ),
    (
        "azure/persistence_vm_extension_rewritten_by_user.toml",
        include_str!("../../../rules/azure/persistence_vm_extension_rewritten_by_user.toml"),
    ),
    (
        "azure/persistence_vm_extension_unusual_source_asn.toml",
        include_str!("../../../rules/azure/persistence_vm_extension_unusual_source_asn.toml"),
    ),
    (
        "azure/persistence_vm_script_extension_write.toml",
        include_str!("../../../rules/azure/persistence_vm_script_extension_write.toml"),
    ),
];

/// Loads the built-in rules.
pub fn load() -> Loaded {
    let mut out = Loaded::default();
    for (path, text) in FILES {
        match load_text(&format!("builtin:rules/{path}"), text) {
            Ok(Some(r)) => out.rules.push(r),
            Ok(None) => {}
            Err(e) => out.errors.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_under_rules_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if crate::is_rule_file(&p) {
                    on_disk.push(p.strip_prefix(&dir).unwrap().display().to_string());
                }
            }
        }
        on_disk.sort();
        let mut built_in: Vec<String> = super::FILES.iter().map(|(p, _)| p.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in, "add new rule files to builtin::FILES");
        let loaded = super::load();
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    }
}
