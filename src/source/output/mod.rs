//! A stream's protocol output: RECORD and STATE lines ([`emitter`]), a query's records with the
//! STATE checkpoints between them ([`checkpoint`]), the interface the fetch stage hands records
//! through ([`sink`]), and the per-stream state read back from
//! `--state` and emitted ([`state`]).

pub(crate) mod checkpoint;
pub(crate) mod emitter;
pub(crate) mod sink;
pub(crate) mod state;
