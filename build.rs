//! Compiles the Pub/Sub API's wire contract (`proto/pubsub_api.proto`) into the client the
//! source's Change Data Capture reads with, using protox, a pure-Rust proto compiler (no
//! `protoc` needed on the build machine).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/proto");
    let file = format!("{proto_dir}/pubsub_api.proto");
    println!("cargo:rerun-if-changed={file}");
    let descriptors = protox::compile([&file], [proto_dir])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
