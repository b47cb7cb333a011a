use vigil_plan::Span;

/// A plan the executor cannot run, with the span of the node at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExecError {
    pub message: String,
    pub span: Span,
}

impl ExecError {
    pub fn new(message: impl Into<String>, span: Span) -> ExecError {
        ExecError {
            message: message.into(),
            span,
        }
    }
}
