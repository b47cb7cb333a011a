//! A generator of realistic native Azure Activity Log records (diagnostic-settings schema) for
//! benchmarks: routine control-plane traffic with a few percent of VM-extension operations,
//! Start/Success pairs, user and service-principal identities with full claim sets, as Event
//! Hubs delivers them. Deterministic for a given seed. Shared with vigil-runtime's `decode`
//! benchmark, which includes this file by path.

use std::fmt::Write;

/// A small xorshift generator: benchmarks need reproducible data, not quality randomness.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

const OPERATIONS: &[(&str, &str, u64)] = &[
    // (operation, resource type path, weight)
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
        "VIRTUALMACHINES/{vm}",
        20,
    ),
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
        "VIRTUALMACHINES/{vm}",
        10,
    ),
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/DEALLOCATE/ACTION",
        "VIRTUALMACHINES/{vm}",
        8,
    ),
    (
        "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE",
        "NSG-{vm}",
        15,
    ),
    (
        "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
        "STORAGEACCOUNTS/ST{n}",
        20,
    ),
    (
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE",
        "DIAGNOSTICSETTINGS/DS{n}",
        10,
    ),
    (
        "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
        "ROLEASSIGNMENTS/{uuid}",
        4,
    ),
    ("MICROSOFT.KEYVAULT/VAULTS/WRITE", "VAULTS/KV{n}", 5),
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
        "VIRTUALMACHINES/{vm}/EXTENSIONS/{ext}",
        4,
    ),
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/DELETE",
        "VIRTUALMACHINES/{vm}/EXTENSIONS/{ext}",
        1,
    ),
    (
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
        "VIRTUALMACHINES/{vm}",
        1,
    ),
];

const EXTENSIONS: &[&str] = &[
    "CUSTOMSCRIPTEXTENSION",
    "AZUREMONITORWINDOWSAGENT",
    "MDE.WINDOWS",
    "VMACCESSAGENT",
    "DSC",
    "OMSAGENTFORLINUX",
];

/// About `target_bytes` of NDJSON records, a few seconds apart, from 2026-05-18.
pub fn ndjson(target_bytes: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let total: u64 = OPERATIONS.iter().map(|o| o.2).sum();
    let mut out = String::with_capacity(target_bytes + 4096);
    let mut secs: i64 = 1_779_062_400; // 2026-05-18T00:00:00Z
    let sub = "8d2f4b6a-1c3e-4f5a-9b7d-2e6c8a0f4d13";
    let tenant = "5c0e8f3a-6d1b-4a77-9e2c-3b8f1d0a9c41";
    while out.len() < target_bytes {
        let mut pick = rng.below(total);
        let (op, path, _) = OPERATIONS
            .iter()
            .find(|o| {
                if pick < o.2 {
                    true
                } else {
                    pick -= o.2;
                    false
                }
            })
            .copied()
            .unwrap_or(OPERATIONS[0]);
        let vm = format!("VM-{:04}", rng.below(500));
        let ext = EXTENSIONS[rng.below(EXTENSIONS.len() as u64) as usize];
        let tail = path
            .replace("{vm}", &vm)
            .replace("{ext}", ext)
            .replace("{n}", &rng.below(50).to_string())
            .replace("{uuid}", &rng.uuid());
        let provider = op.split('/').take(1).collect::<Vec<_>>()[0];
        let group = format!("RG-{:02}", rng.below(30));
        let resource_id =
            format!("/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/{group}/PROVIDERS/{provider}/{tail}");
        let user = rng.below(3) == 0;
        let principal = rng.uuid();
        let corr = rng.uuid();
        let ip = format!(
            "{}.{}.{}.{}",
            20 + rng.below(200),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        let claims = if user {
            let name = format!("user{:03}@contoso.com", rng.below(200));
            format!(
                r#"{{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/{tenant}/","iat":"1779062400","nbf":"1779062400","exp":"1779066300","ver":"1.0","http://schemas.microsoft.com/identity/claims/tenantid":"{tenant}","http://schemas.microsoft.com/claims/authnmethodsreferences":"pwd,mfa","http://schemas.microsoft.com/identity/claims/objectidentifier":"{principal}","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"{name}","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":"Given","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":"Family","name":"Given Family","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"{name}","appid":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","appidacr":"2","http://schemas.microsoft.com/identity/claims/scope":"user_impersonation","ipaddr":"{ip}"}}"#
            )
        } else {
            format!(
                r#"{{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/{tenant}/","iat":"1779062400","nbf":"1779062400","exp":"1779066300","ver":"1.0","http://schemas.microsoft.com/identity/claims/tenantid":"{tenant}","http://schemas.microsoft.com/identity/claims/objectidentifier":"{principal}","appid":"{}","appidacr":"2","idtyp":"app"}}"#,
                rng.uuid()
            )
        };
        let kind = if user { "User" } else { "ServicePrincipal" };
        let action = op.to_ascii_lowercase();
        let scope = resource_id.to_ascii_lowercase();
        for (result, sig, dur) in [
            ("Start", "Started.", 0),
            ("Success", "Succeeded.OK", 1 + rng.below(30_000)),
        ] {
            let t = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let frac = rng.below(10_000_000);
            let _ = writeln!(
                out,
                r#"{{"time":"{}.{frac:07}Z","resourceId":"{resource_id}","operationName":"{op}","category":"Administrative","resultType":"{result}","resultSignature":"{sig}","durationMs":{dur},"callerIpAddress":"{ip}","correlationId":"{corr}","identity":{{"authorization":{{"scope":"{scope}","action":"{action}","evidence":{{"role":"Contributor","roleAssignmentScope":"/subscriptions/{sub}","roleAssignmentId":"{}","roleDefinitionId":"b24988ac618042a0ab8820f7382dd24c","principalId":"{}","principalType":"{kind}"}}}},"claims":{claims}}},"level":"Information","location":"global","tenantId":"{tenant}","properties":{{"statusCode":"OK","serviceRequestId":"{}","eventCategory":"Administrative","entity":"{scope}","message":"{action}","hierarchy":"{tenant}/{sub}"}}}}"#,
                t.strftime("%Y-%m-%dT%H:%M:%S"),
                rng.uuid().replace('-', ""),
                principal.replace('-', ""),
                rng.uuid(),
            );
            secs += rng.below(3) as i64;
        }
    }
    out.into_bytes()
}
