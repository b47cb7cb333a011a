//! Which Elastic fields can be checked, and which are known.
//!
//! Vigil bundles ECS, the Azure activity-log integration and Elastic Defend's process fields.
//! Rules also read integrations Vigil has no schema for (`winlog.*`, `powershell.*`,
//! `azure.signinlogs.*`, Defend's `file.Ext.*`): a field there is neither known nor unknown, so
//! it is not reported.

use vigil_schema::Schema;

/// Whether the bundled schemas cover the field's namespace, so that not knowing it means
/// something.
pub fn checkable(schema: &Schema, name: &str) -> bool {
    let root = name.split('.').next().unwrap_or(name);
    if root == "azure" {
        // Only the activity-log integration (and its shared `azure.resource.*`) is bundled.
        return name.starts_with("azure.activitylogs.") || name.starts_with("azure.resource.");
    }
    if !schema.is_known(root) {
        return false;
    }
    // Elastic Defend's custom `Ext` objects differ by data stream (`process.Ext.api` is in API
    // events only, not in the process fields bundled): report a field under `Ext` only when its
    // parent object is bundled, so a misspelt leaf is caught and another stream's object is not.
    if name.contains(".Ext.") {
        return name
            .rsplit_once('.')
            .is_some_and(|(parent, _)| schema.is_object_path(parent));
    }
    true
}

/// Whether a field is declared, allowing Elasticsearch multi-fields (`.text`, `.caseless`) of a
/// declared field,
/// and any key below a `flattened` field.
pub fn known(schema: &Schema, name: &str) -> bool {
    if schema.is_known(name) {
        return true;
    }
    // Any key below a `flattened` field (`azure.activitylogs.properties.*`) is valid.
    let flattened = name
        .match_indices('.')
        .any(|(i, _)| schema.field_type(&name[..i]) == Some(vigil_event::DataType::Flattened));
    if flattened {
        return true;
    }
    match name.rsplit_once('.') {
        Some((parent, "text" | "caseless" | "keyword")) => schema.is_known(parent),
        _ => false,
    }
}
