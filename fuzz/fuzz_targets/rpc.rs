//! Every request a wrun process takes from another, decoded from any bytes
//! (the first byte picks the message), with the conversions its handler
//! applies before anything else. Never a panic.
#![no_main]

use prost::Message;
use wrun_proto::pb;

fn ids(bytes: &[u8]) {
    let _ = wrun_proto::parse_id(bytes, "an id");
}

fn resources(r: &Option<pb::Resources>) {
    if let Some(r) = r {
        let _ = wrun_proto::from_resources(r);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, msg)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => {
            if let Ok(r) = pb::RunTaskRequest::decode(msg) {
                ids(&r.task_id);
                resources(&r.resources);
                if let Some(b) = &r.bundle {
                    ids(&b.group);
                }
            }
        }
        1 => {
            if let Ok(r) = pb::CallActorRequest::decode(msg) {
                ids(&r.actor_id);
                ids(&r.call_id);
            }
        }
        2 => {
            if let Ok(r) = pb::CreateActorRequest::decode(msg) {
                resources(&r.resources);
            }
        }
        3 => {
            if let Ok(r) = pb::JoinRequest::decode(msg) {
                resources(&r.total);
                let _ = wrun_proto::parse_node(&r.node_id);
            }
        }
        4 => {
            if let Ok(r) = pb::HeartbeatRequest::decode(msg) {
                resources(&r.available);
                let _ = wrun_proto::parse_node(&r.node_id);
            }
        }
        5 => {
            if let Ok(r) = pb::GroupRecord::decode(msg) {
                let _ = wrun_proto::from_group(&r);
            }
        }
        6 => {
            if let Ok(r) = pb::RunTaskReply::decode(msg) {
                if let Some(e) = r.error {
                    let _ = wrun_proto::from_error(e);
                }
            }
        }
        7 => {
            if let Ok(r) = pb::FetchObjectRequest::decode(msg) {
                ids(&r.id);
            }
        }
        8 => {
            if let Ok(r) = pb::ReleaseObjectsRequest::decode(msg) {
                for rel in &r.releases {
                    ids(&rel.id);
                }
            }
        }
        9 => {
            if let Ok(r) = pb::SubmitJobRequest::decode(msg) {
                if !r.env.is_empty() {
                    let _ = pb::EnvBundle::decode(r.env.as_slice());
                }
            }
        }
        10 => {
            let _ = pb::CancelRequest::decode(msg);
            let _ = pb::KillActorRequest::decode(msg);
        }
        _ => {
            let _ = pb::ReserveBundlesRequest::decode(msg);
            let _ = pb::CertifyRequest::decode(msg);
        }
    }
});
