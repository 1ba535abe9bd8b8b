//! Compiles `proto/pubsub_api.proto` (Salesforce's Pub/Sub API, `eventbus.v1`) into the Rust
//! code the connector and the emulator include: `proto/generated/client/` (messages and the
//! client, for the connector) and `proto/generated/server/` (messages, server and client, for
//! the emulator).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = proto_dir.join("pubsub_api.proto");
    for (folder, server) in [("client", false), ("server", true)] {
        let out_dir = proto_dir.join("generated").join(folder);
        std::fs::create_dir_all(&out_dir)?;
        let descriptors = protox::compile([&file], [&proto_dir])?;
        tonic_prost_build::configure()
            .build_server(server)
            .build_client(true)
            .out_dir(&out_dir)
            .compile_fds(descriptors)?;
        println!("wrote {}", out_dir.join("eventbus.v1.rs").display());
    }
    Ok(())
}
