#!/usr/bin/env python3
"""Writes Vigil's bundled example: one day of native Azure Activity Log records for a small
tenant, with a VM-extension attack among routine operations.

The records follow the diagnostic-settings / Event Hubs schema (upper-case `resourceId` and
`operationName` for Administrative events, a Start record and a Success or Failure record
sharing a `correlationId`). Everything here is invented; the output is deterministic.

    python3 tools/gen_examples.py      # rewrites examples/azure-activity/
"""
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

random.seed(20260518)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
TENANT = "5c0e8f3a-6d1b-4a77-9e2c-3b8f1d0a9c41"
SUB = "8d2f4b6a-1c3e-4f5a-9b7d-2e6c8a0f4d13"
DAY = datetime(2026, 5, 18, tzinfo=timezone.utc)


def rid(group, provider, *path):
    return f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{group}/PROVIDERS/{provider}/" + "/".join(path)


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"


USERS = {
    "p.nakamura@contoso.com": ("Priya", "Nakamura", "81.2.69.160"),
    "m.ortiz@contoso.com": ("Mateo", "Ortiz", "81.2.69.142"),
}
SERVICE_PRINCIPALS = {
    # name: (app id, source address)
    "terraform-prod": ("0d6a1f42-2b7e-4c39-8a51-7f3e9b2c6d10", "81.2.69.192"),
    "azure-policy-guestconfig": ("6e3f0c88-4a2b-47d1-9f05-c1b2a3d4e5f6", "20.42.65.92"),
    "backup-orchestrator": ("a9c8b7d6-e5f4-4321-8765-0fedcba98765", "52.168.112.66"),
}


def identity(principal, action, scope):
    if principal in USERS:
        given, sur, _ = USERS[principal]
        oid = str(uuid.uuid5(uuid.NAMESPACE_DNS, principal))
        claims = {
            "aud": "https://management.core.windows.net/",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "ver": "1.0",
            "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
            "appidacr": "2",
            "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
            "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
            "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": principal,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": principal,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": given,
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": sur,
            "name": f"{given} {sur}",
        }
        kind, role = "User", "Contributor"
    else:
        app, _ = SERVICE_PRINCIPALS[principal]
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, principal))
        claims = {
            "aud": "https://management.core.windows.net/",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "ver": "1.0",
            "appid": app,
            "appidacr": "2",
            "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
            "http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
        }
        kind, role = "ServicePrincipal", "Virtual Machine Contributor"
    return {
        "authorization": {
            "scope": scope,
            "action": action,
            "evidence": {
                "role": role,
                "roleAssignmentScope": f"/subscriptions/{SUB}",
                "roleAssignmentId": uuid.uuid5(uuid.NAMESPACE_OID, principal + "ra").hex,
                "roleDefinitionId": uuid.uuid5(uuid.NAMESPACE_OID, role).hex,
                "principalId": oid.replace("-", ""),
                "principalType": kind,
            },
        },
        "claims": claims,
    }


def source_ip(principal, override=None):
    if override:
        return override
    if principal in USERS:
        return USERS[principal][2]
    return SERVICE_PRINCIPALS[principal][1]


def operation(t, principal, op, resource_id, outcome="Success", ip=None, duration=None, status=None):
    """A Start record and its ending record (Success / Failure), or one record for reads."""
    corr = str(uuid.UUID(int=random.getrandbits(128)))
    action = op.lower().replace("microsoft.", "Microsoft.", 1)
    scope = resource_id.lower()
    base = {
        "resourceId": resource_id,
        "operationName": op,
        "category": "Administrative",
        "callerIpAddress": source_ip(principal, ip),
        "correlationId": corr,
        "identity": identity(principal, action, scope),
        "level": "Information",
        "location": "global",
        "tenantId": TENANT,
    }
    props = {
        "eventCategory": "Administrative",
        "entity": resource_id.lower(),
        "message": action,
        "hierarchy": f"{TENANT}/{SUB}",
    }
    out = []
    if not op.endswith("/READ"):
        start = dict(base, time=ts(t), resultType="Start", resultSignature="Started.", durationMs=0,
                     properties=dict(props))
        out.append(start)
    t_end = t + timedelta(seconds=duration if duration is not None else random.randint(2, 40))
    end = dict(
        base,
        time=ts(t_end),
        resultType=outcome,
        resultSignature="Succeeded.OK" if outcome == "Success" else "Failed.Conflict",
        durationMs=int((t_end - t).total_seconds() * 1000),
        properties=dict(props, statusCode=status or ("OK" if outcome == "Success" else "Conflict"),
                        serviceRequestId=str(uuid.UUID(int=random.getrandbits(128)))),
    )
    out.append(end)
    return out


VMS = [("RG-PROD-DATA", "VM-PROD-SQL-01"), ("RG-PROD-WEB", "VM-PROD-WEB-01"), ("RG-PROD-WEB", "VM-PROD-WEB-02"),
       ("RG-BUILD", "VM-BUILD-AGENT-03")]


def vm(group, name, *rest):
    return rid(group, "MICROSOFT.COMPUTE", "VIRTUALMACHINES", name, *rest)


def routine():
    recs = []
    t = DAY + timedelta(hours=6)
    while t < DAY + timedelta(hours=20):
        g, name = random.choice(VMS)
        kind = random.random()
        if kind < 0.25:
            recs += operation(t, "p.nakamura@contoso.com", "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION", vm(g, name))
        elif kind < 0.45:
            recs += operation(t, "terraform-prod", "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE",
                              rid(g, "MICROSOFT.NETWORK", "NETWORKSECURITYGROUPS", f"NSG-{name}"))
        elif kind < 0.60:
            recs += operation(t, "backup-orchestrator", "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
                              rid("RG-BACKUP", "MICROSOFT.STORAGE", "STORAGEACCOUNTS", "STCONTOSOBACKUP01"))
        elif kind < 0.75:
            recs += operation(t, "p.nakamura@contoso.com", "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", vm(g, name))
        elif kind < 0.85:
            # Guest configuration policy deploys monitoring extensions from Microsoft's network.
            recs += operation(t, "azure-policy-guestconfig", "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                              vm(g, name, "EXTENSIONS", "AZUREMONITORWINDOWSAGENT"))
        elif kind < 0.92:
            recs += operation(t, "terraform-prod", "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                              vm(g, name, "EXTENSIONS", "CUSTOMSCRIPTEXTENSION"))
        else:
            recs += operation(t, "p.nakamura@contoso.com", "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/READ",
                              vm(g, name, "EXTENSIONS", "AZUREMONITORWINDOWSAGENT"))
        t += timedelta(seconds=random.randint(60, 600))
    # An administrator installs a monitoring agent by hand (not a script-capable extension).
    recs += operation(DAY + timedelta(hours=10, minutes=12), "p.nakamura@contoso.com",
                      "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                      vm("RG-BUILD", "VM-BUILD-AGENT-03", "EXTENSIONS", "MICROSOFTMONITORINGAGENT"))
    # A failed Custom Script deployment by the same administrator (conflict): no change happened.
    recs += operation(DAY + timedelta(hours=14, minutes=3), "p.nakamura@contoso.com",
                      "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                      vm("RG-BUILD", "VM-BUILD-AGENT-03", "EXTENSIONS", "CUSTOMSCRIPTEXTENSION"), outcome="Failure")
    return recs


def attack():
    """A stolen session of m.ortiz, used from a VPS network late in the evening."""
    ip = "203.0.113.77"
    t = DAY + timedelta(hours=22, minutes=41, seconds=7)
    recs = []
    recs += operation(t, "m.ortiz@contoso.com", "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                      vm("RG-PROD-DATA", "VM-PROD-SQL-01", "EXTENSIONS", "CUSTOMSCRIPTEXTENSION"), ip=ip, duration=108)
    recs += operation(t + timedelta(minutes=6, seconds=23), "m.ortiz@contoso.com",
                      "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", vm("RG-PROD-DATA", "VM-PROD-SQL-01"), ip=ip,
                      duration=41)
    recs += operation(t + timedelta(minutes=11, seconds=3), "m.ortiz@contoso.com",
                      "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                      vm("RG-PROD-WEB", "VM-PROD-WEB-02", "EXTENSIONS", "ENABLEVMACCESS"), ip=ip, duration=65)
    recs += operation(t + timedelta(minutes=23, seconds=40), "m.ortiz@contoso.com",
                      "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/DELETE",
                      vm("RG-PROD-DATA", "VM-PROD-SQL-01", "EXTENSIONS", "CUSTOMSCRIPTEXTENSION"), ip=ip, duration=30)
    return recs


def main():
    out_dir = os.path.join(HERE, "azure-activity")
    os.makedirs(out_dir, exist_ok=True)
    records = sorted(routine() + attack(), key=lambda r: r["time"])
    # Storage-account export: one record per line, as PT1H.json blobs hold them.
    evening = [r for r in records if r["time"] >= "2026-05-18T20"]
    daytime = [r for r in records if r["time"] < "2026-05-18T20"]
    with open(os.path.join(out_dir, "PT1H-2026-05-18-daytime.json"), "w") as f:
        for r in daytime:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    # Event Hubs delivery: a {"records": [...]} envelope.
    with open(os.path.join(out_dir, "eventhub-2026-05-18-evening.json"), "w") as f:
        json.dump({"records": evening}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
