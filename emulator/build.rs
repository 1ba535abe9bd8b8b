//! Compiles the Pub/Sub API's wire contract (`proto/pubsub_api.proto` at the workspace root)
//! with protox, a pure-Rust proto compiler, so a machine with only the Rust toolchain builds it
//! (no `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../proto");
    let file = format!("{proto_dir}/pubsub_api.proto");
    println!("cargo:rerun-if-changed={file}");
    let descriptors = protox::compile([&file], [proto_dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        // The client is for the emulator's own tests.
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
