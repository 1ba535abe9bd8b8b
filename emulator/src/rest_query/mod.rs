//! REST `query` / `queryAll` with `nextRecordsUrl` paging: the open cursors the org keeps
//! (`cursor.rs`) and the routes that answer and page them (`routes.rs`).

pub mod cursor;
pub mod routes;

pub use cursor::Cursors;
pub use routes::router;
