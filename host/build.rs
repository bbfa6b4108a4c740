//! Generates the cluster's gRPC messages and services from proto/cluster.proto
//! (needs `protoc`: Debian's protobuf-compiler, installed by scripts/setup.sh).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/cluster.proto");
    tonic_prost_build::configure().compile_protos(&["proto/cluster.proto"], &["proto"])?;
    Ok(())
}
