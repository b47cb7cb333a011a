//! Vigil's rule runtime: the engine (rules compiled against one row layout, the decoder with
//! projection pushdown and the literal prefilter), the simulated-clock schedule, and Kibana-shaped
//! alerts. `hunt` replays rule schedules over historical records.

pub mod alert;
pub mod engine;
pub mod hunt;
pub mod prefilter;
pub mod schedule;

pub use alert::Alert;
pub use engine::{Engine, EngineOptions, EngineRule, NotRun};
pub use hunt::{HuntOptions, HuntReport, hunt};
