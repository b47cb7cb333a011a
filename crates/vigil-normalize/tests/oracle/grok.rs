//! Grok as the Elasticsearch `grok` processor runs it: `%{NAME:field}` references are expanded
//! from the processor's `pattern_definitions` (and the two built-in patterns the Azure pipeline
//! uses), the processor's patterns are tried as one alternation `(?:p1)|(?:p2)`, and the match is
//! a search (unanchored), not a full match.
//!
//! Elasticsearch compiles with Joni (Oniguruma, Ruby syntax): leftmost-first backtracking, `.`
//! stops at a newline and `$` matches at the end of any line. `fancy-regex` has the same
//! leftmost-first semantics and supports the negative lookahead the shared pipeline's `NAME`
//! uses; `(?m)` gives Ruby's `$`. `\w` and `\b` are Unicode-aware in both.
//!
//! Capture names may hold dots (`azure.resource.group`), which regex group names cannot, so
//! groups are numbered and mapped back to fields.

use std::sync::LazyLock;

use fancy_regex::Regex;

/// Elasticsearch's built-in grok patterns used by the pipeline (legacy and `ecs-v1` agree).
const BUILTIN: &[(&str, &str)] = &[
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    (
        "HOSTNAME",
        r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)",
    ),
];

/// One compiled grok processor.
pub(crate) struct Grok {
    alternatives: Vec<Alternative>,
}

struct Alternative {
    regex: Regex,
    /// Group name in the regex → target field.
    captures: Vec<(String, String)>,
}

impl Grok {
    /// Compiles `patterns` with `definitions` (name → regex). Fails on an unknown pattern name or
    /// a regex the engine rejects.
    pub(crate) fn new(patterns: &[&str], definitions: &[(&str, &str)]) -> Result<Grok, String> {
        let alternatives = patterns
            .iter()
            .map(|p| {
                let mut captures = Vec::new();
                let expanded = expand(p, definitions, &mut captures, 0)?;
                let regex = Regex::new(&format!("(?m){expanded}")).map_err(|e| e.to_string())?;
                Ok(Alternative { regex, captures })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Grok { alternatives })
    }

    /// The fields of the first match: the leftmost match start over all patterns, the earlier
    /// pattern on a tie (which is what the alternation `(?:p1)|(?:p2)` finds). Groups that did
    /// not take part in the match are left out.
    pub(crate) fn captures(&self, text: &str) -> Option<Vec<(String, String)>> {
        let mut best = None;
        for alt in &self.alternatives {
            // A backtracking limit hit counts as no match; the processors ignore failures.
            let Ok(Some(caps)) = alt.regex.captures(text) else {
                continue;
            };
            let start = caps.get(0).map_or(usize::MAX, |m| m.start());
            if best
                .as_ref()
                .is_none_or(|(s, _, _): &(usize, _, _)| start < *s)
            {
                best = Some((start, caps, alt));
            }
        }
        let (_, caps, alt) = best?;
        Some(
            alt.captures
                .iter()
                .filter_map(|(group, field)| {
                    caps.name(group)
                        .map(|m| (field.clone(), m.as_str().to_string()))
                })
                .collect(),
        )
    }
}

/// Replaces `%{NAME}` and `%{NAME:field}` with the definition, recursively.
fn expand(
    pattern: &str,
    definitions: &[(&str, &str)],
    captures: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<String, String> {
    if depth > 16 {
        return Err("grok pattern definitions nest too deeply".into());
    }
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated %{{ in {pattern}"))?;
        let reference = &after[..end];
        let (name, field) = match reference.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (reference, None),
        };
        let definition = definitions
            .iter()
            .chain(BUILTIN)
            .find(|(n, _)| *n == name)
            .map(|(_, d)| *d)
            .ok_or_else(|| {
                format!("Unable to find pattern [{name}] in Grok's pattern dictionary")
            })?;
        let inner = expand(definition, definitions, captures, depth + 1)?;
        match field {
            Some(field) => {
                let group = format!("g{}", captures.len());
                out.push_str(&format!("(?P<{group}>{inner})"));
                captures.push((group, field.to_string()));
            }
            None => out.push_str(&format!("(?:{inner})")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

const SUBID: &str = r"(\{){0,1}[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}(\}){0,1}";
/// `PROVIDERNAME` of the third and fifth groks.
const PROVIDERNAME_STRICT: &str = r"([A-Za-z])\w+.([A-Za-z])\w+\/([A-Za-z][^\/])\w+";

/// A grok of the shared pipeline's resource-id chain, with the condition it runs under.
pub(crate) struct ChainStep {
    pub grok: Grok,
    /// Runs only while `azure.subscription_id` is unset (all steps but the first).
    pub unless_subscription: bool,
}

/// The shared pipeline's groks on `azure.resource_id`, in order (the `azure-shared-pipeline`
/// version 1b08d3b5). Each tries an upper-case and a camel-case spelling of the id.
pub(crate) static RESOURCE_ID_CHAIN: LazyLock<Result<Vec<ChainStep>, String>> = LazyLock::new(
    || {
        let step = |patterns: &[&str], defs: &[(&str, &str)], unless_subscription| {
            Grok::new(patterns, defs).map(|grok| ChainStep {
                grok,
                unless_subscription,
            })
        };
        Ok(vec![
            // Event Hubs authorization rules.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}/RESOURCEGROUPS/%{GROUPID:azure.resource.group}/PROVIDERS/%{PROVIDERNAME:azure.resource.provider}/NAMESPACES/%{NAMESPACE:azure.resource.namespace}/AUTHORIZATIONRULES/%{RULE:azure.resource.authorization_rule}",
                    "/subscriptions/%{SUBID:azure.subscription_id}/resourceGroups/%{GROUPID:azure.resource.group}/providers/%{PROVIDERNAME:azure.resource.provider}/namespaces/%{NAMESPACE:azure.resource.namespace}/authorizationRules/%{RULE:azure.resource.authorization_rule}",
                ],
                &[
                    ("SUBID", SUBID),
                    ("GROUPID", ".+"),
                    ("PROVIDERNAME", ".+"),
                    ("NAMESPACE", ".+"),
                    ("RULE", ".+"),
                ],
                false,
            )?,
            // Resource in a group, the name not containing AUTHORIZATIONRULES.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}/RESOURCEGROUPS/%{GROUPID:azure.resource.group}/PROVIDERS/%{PROVIDERNAME:azure.resource.provider}/%{NAME:azure.resource.name}",
                    "/subscriptions/%{SUBID:azure.subscription_id}/resourceGroups/%{GROUPID:azure.resource.group}/providers/%{PROVIDERNAME:azure.resource.provider}/%{NAME:azure.resource.name}",
                ],
                &[
                    ("SUBID", SUBID),
                    ("GROUPID", ".+"),
                    (
                        "PROVIDERNAME",
                        r"([A-Za-z])\w+.([A-Za-z])\w+/([A-Za-z])\w+.",
                    ),
                    ("NAME", "((?!AUTHORIZATIONRULES).)*$"),
                ],
                true,
            )?,
            // Resource in a group, any name.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}/RESOURCEGROUPS/%{GROUPID:azure.resource.group}/PROVIDERS/%{PROVIDERNAME:azure.resource.provider}/%{NAME:azure.resource.name}",
                    "/subscriptions/%{SUBID:azure.subscription_id}/resourceGroups/%{GROUPID:azure.resource.group}/providers/%{PROVIDERNAME:azure.resource.provider}/%{NAME:azure.resource.name}",
                ],
                &[
                    ("SUBID", SUBID),
                    ("GROUPID", ".+"),
                    ("PROVIDERNAME", PROVIDERNAME_STRICT),
                    ("NAME", ".+"),
                ],
                true,
            )?,
            // Anything after a providers segment (no subscription id: tenant-level ids).
            step(
                &[
                    "/providers/%{PROVIDER:azure.resource.provider}",
                    "/PROVIDERS/%{PROVIDER:azure.resource.provider}",
                ],
                &[("PROVIDER", ".+")],
                true,
            )?,
            // Subscription-level provider.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}/PROVIDERS/%{PROVIDERNAME:azure.resource.provider}",
                    "/subscriptions/%{SUBID:azure.subscription_id}/providers/%{PROVIDERNAME:azure.resource.provider}",
                ],
                &[("SUBID", SUBID), ("PROVIDERNAME", PROVIDERNAME_STRICT)],
                true,
            )?,
            // Resource group.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}/RESOURCEGROUPS/%{GROUPID:azure.resource.group}",
                    "/subscriptions/%{SUBID:azure.subscription_id}/resourceGroups/%{GROUPID:azure.resource.group}",
                ],
                &[("SUBID", SUBID), ("GROUPID", ".+")],
                true,
            )?,
            // Subscription.
            step(
                &[
                    "/SUBSCRIPTIONS/%{SUBID:azure.subscription_id}",
                    "/subscriptions/%{SUBID:azure.subscription_id}",
                ],
                &[("SUBID", SUBID)],
                true,
            )?,
        ])
    },
);

/// The default pipeline's grok on the caller's name claim: `user@domain`.
pub(crate) static USER_AT_DOMAIN: LazyLock<Result<Grok, String>> =
    LazyLock::new(|| Grok::new(&["%{USERNAME:user.name}@%{HOSTNAME:user.domain}"], &[]));

/// Runs the resource-id chain on a string id as the shared pipeline does, returning the fields
/// it sets in order (a later step may overwrite an earlier step's field).
pub(crate) fn resource_id_fields(id: &str) -> Vec<(String, String)> {
    let Ok(chain) = &*RESOURCE_ID_CHAIN else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for step in chain {
        let has_subscription = out.iter().any(|(f, _)| f == "azure.subscription_id");
        if step.unless_subscription && has_subscription {
            continue;
        }
        if let Some(caps) = step.grok.captures(id) {
            for (field, value) in caps {
                out.retain(|(f, _)| *f != field);
                out.push((field, value));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(id: &str) -> Vec<(String, String)> {
        let mut f = resource_id_fields(id);
        f.sort();
        f
    }

    fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    const SUB: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn patterns_compile() {
        assert!(
            RESOURCE_ID_CHAIN.is_ok(),
            "{:?}",
            RESOURCE_ID_CHAIN.as_ref().err()
        );
        assert!(USER_AT_DOMAIN.is_ok());
    }

    // Our own restatement of the VM-extension cases: the greedy group backtracks to the one
    // PROVIDERS segment, and the provider's trailing `.` eats the last letter of the type.
    #[test]
    fn vm_extension_ids() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1/EXTENSIONS/CUSTOMSCRIPT",
                "VIRTUALMACHINES/VM1/EXTENSIONS/CUSTOMSCRIPT",
            ),
            (
                "RG-HAT6H48Q",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM-HAT6H48Q/EXTENSIONS/CUSTOMSCRIPTEXTENSION-STRATUS-EXAMPLE",
                "VIRTUALMACHINES/VM-HAT6H48Q/EXTENSIONS/CUSTOMSCRIPTEXTENSION-STRATUS-EXAMPLE",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS",
                "VMSS1/EXTENSIONS/DSC",
                "VIRTUALMACHINESCALESETS/VMSS1/EXTENSIONS/DSC",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1",
                "VIRTUALMACHINES/VM1",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1/RUNCOMMANDS/MYRUNCMD",
                "VIRTUALMACHINES/VM1/RUNCOMMANDS/MYRUNCMD",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS",
                "VMSS1/VIRTUALMACHINES/0",
                "VIRTUALMACHINESCALESETS/VMSS1/VIRTUALMACHINES/0",
            ),
        ];
        for (group, provider, name, tail) in cases {
            let id = format!(
                "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{group}/PROVIDERS/MICROSOFT.COMPUTE/{tail}"
            );
            assert_eq!(
                fields(&id),
                expect(&[
                    ("azure.resource.group", group),
                    ("azure.resource.name", name),
                    ("azure.resource.provider", provider),
                    ("azure.subscription_id", SUB),
                ]),
                "{id}"
            );
        }
    }

    #[test]
    fn camel_case_ids() {
        let id = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/CustomScriptExtension"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                ("azure.resource.group", "rg"),
                (
                    "azure.resource.name",
                    "vm1/extensions/CustomScriptExtension"
                ),
                (
                    "azure.resource.provider",
                    "Microsoft.Compute/virtualMachines"
                ),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    // `resourcegroups` in lower case matches neither spelling of the group patterns: only the
    // bare `/providers/` grok and then the subscription grok apply.
    #[test]
    fn lower_case_resourcegroups_falls_through() {
        let id = format!(
            "/subscriptions/{SUB}/resourcegroups/SecuraAllRG/providers/Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                (
                    "azure.resource.provider",
                    "Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"
                ),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    #[test]
    fn authorization_rules() {
        let id = format!(
            "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/SA-HEMA/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/AZURELSEVENTS/AUTHORIZATIONRULES/ROOTMANAGESHAREDACCESSKEY"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                (
                    "azure.resource.authorization_rule",
                    "ROOTMANAGESHAREDACCESSKEY"
                ),
                ("azure.resource.group", "SA-HEMA"),
                ("azure.resource.namespace", "AZURELSEVENTS"),
                ("azure.resource.provider", "MICROSOFT.EVENTHUB"),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    #[test]
    fn subscription_and_tenant_level_ids() {
        assert_eq!(
            fields(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.domainRegistration"
            )),
            expect(&[
                ("azure.resource.provider", "Microsoft.domainRegistration"),
                ("azure.subscription_id", SUB),
            ])
        );
        assert_eq!(
            fields("/TeNaNtS/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/PrOvIdErS/Microsoft.aadiam"),
            vec![]
        );
        assert_eq!(
            fields("/tenants/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/providers/Microsoft.aadiam"),
            expect(&[("azure.resource.provider", "Microsoft.aadiam")])
        );
        assert_eq!(
            fields(&format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG")),
            expect(&[
                ("azure.resource.group", "RG"),
                ("azure.subscription_id", SUB)
            ])
        );
        assert_eq!(
            fields(&format!("/subscriptions/{{{SUB}}}")),
            expect(&[("azure.subscription_id", &format!("{{{SUB}}}"))])
        );
        assert_eq!(fields("not an id"), vec![]);
    }

    // The search is unanchored: a prefix before the id does not stop the match.
    #[test]
    fn unanchored_search() {
        assert_eq!(
            fields(&format!("x/SUBSCRIPTIONS/{SUB}")),
            expect(&[("azure.subscription_id", SUB)])
        );
    }

    #[test]
    fn user_at_domain() {
        let Ok(g) = &*USER_AT_DOMAIN else { panic!() };
        let get = |s: &str| {
            g.captures(s).map(|mut c| {
                c.sort();
                c
            })
        };
        assert_eq!(
            get("john.doe@contoso.onmicrosoft.com"),
            Some(expect(&[
                ("user.domain", "contoso.onmicrosoft.com"),
                ("user.name", "john.doe")
            ]))
        );
        assert_eq!(
            get("Jane Doe <jane@x.com>"),
            Some(expect(&[("user.domain", "x.com"), ("user.name", "jane")]))
        );
        assert_eq!(get("John Doe"), None);
        assert_eq!(get("josé@x.com"), None);
        assert_eq!(
            get("live.com#user@outlook.com"),
            Some(expect(&[
                ("user.domain", "outlook.com"),
                ("user.name", "user")
            ]))
        );
    }
}
