//! Generates the cluster's gRPC messages and services from cluster.proto
//! (needs `protoc`: Debian's protobuf-compiler, installed by scripts/setup.sh).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=cluster.proto");
    tonic_prost_build::configure()
        // Malformed input is the caller's fault: INVALID_ARGUMENT, not INTERNAL.
        .codec_path("crate::codec::WireCodec")
        // Object bytes stay `Bytes`: chunks are slices of the stored object.
        .bytes(".wrun.cluster.v1.ObjectChunk.data")
        .bytes(".wrun.cluster.v1.Value.data")
        .compile_protos(&["cluster.proto"], &["."])?;
    Ok(())
}
