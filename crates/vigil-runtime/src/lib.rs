//! Vigil's rule runtime: the engine (rules compiled against one row layout, the decoder with
//! projection pushdown and the literal prefilter), the simulated-clock schedule, and Kibana-shaped
//! alerts. `hunt` replays rule schedules over historical records; `query` runs one ad-hoc query
//! over them.

pub mod alert;
pub mod engine;
pub mod executor;
pub mod explain;
pub mod hunt;
pub mod prefilter;
pub mod query;
pub mod schedule;
pub mod state;
pub mod store;
pub mod suppression;

pub use alert::Alert;
pub use engine::{Engine, EngineOptions, EngineRule, NotRun};
pub use hunt::{HuntError, HuntOptions, HuntReport, finish_session, hunt, hunt_inputs};
pub use query::{QueryOutput, QueryRow, query};
