//! Endpoint process and file telemetry in the shape of Elastic Defend's
//! `logs-endpoint.events.*` documents: Elastic Defend documents as they are, Sysmon records
//! mapped as Elastic's Windows integration maps them ([`sysmon_to_ecs`]), and the lineage
//! (`process.Ext.ancestry`, entity ids) rebuilt where the source lacks it ([`ProcessTree`]).

use vigil_event::Value;

use crate::ancestry::ProcessTree;
use crate::sysmon::sysmon_to_ecs;

/// Which endpoint source a decoded record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointFormat {
    /// An Elastic Defend document (`logs-endpoint.events.*`).
    ElasticDefend,
    /// A Sysmon record: a Winlogbeat / Elastic Agent `winlog` document or an EVTX record as
    /// JSON (`Event.System`, `Event.EventData`).
    Sysmon,
}

/// Classifies an endpoint record; `None` for anything else.
pub fn detect_endpoint(doc: &Value) -> Option<EndpointFormat> {
    let str_at = |p: &str| crate::sysmon::at(doc, p).and_then(Value::as_str);
    if crate::sysmon::at(doc, "Event.System").is_some()
        || str_at("winlog.channel")
            .is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"))
        || str_at("winlog.provider_name")
            .is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon"))
    {
        return Some(EndpointFormat::Sysmon);
    }
    let defend = str_at("data_stream.dataset").is_some_and(|d| d.starts_with("endpoint."))
        || str_at("agent.type") == Some("endpoint")
        || str_at("event.module") == Some("endpoint");
    defend.then_some(EndpointFormat::ElasticDefend)
}

/// The ECS document for an endpoint record, with lineage filled in from `tree` (which it
/// updates), or `None` when the record is not one Vigil maps (another Sysmon event id, another
/// source). Records must come in time order.
pub fn endpoint_to_ecs(doc: Value, tree: &mut ProcessTree) -> Option<Value> {
    let mut out = match detect_endpoint(&doc)? {
        EndpointFormat::ElasticDefend => doc,
        EndpointFormat::Sysmon => sysmon_to_ecs(&doc)?,
    };
    tree.observe(&mut out);
    Some(out)
}
