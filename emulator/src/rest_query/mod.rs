//! REST `query` / `queryAll` with `nextRecordsUrl` paging: the open cursors the org keeps
//! (`cursor.rs`) and the routes that answer and page them (`routes.rs`).

pub(crate) mod cursor;
pub(crate) mod routes;

pub(crate) use routes::router;
