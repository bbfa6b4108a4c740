//! Map-reduce word count over a generated text.
//!
//! The driver puts the text's chunks in the object store; map tasks receive a
//! chunk by reference (resolved by the host before they run); one reduce task
//! receives the map results as references (passed on, not fetched) and gets
//! them itself. The driver checks the result against a local count.

use std::collections::BTreeMap;

use serde::Serialize;
use wrun::prelude::*;

const VOCABULARY: [&str; 50] = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "wasm",
];
const WORDS: usize = 20_000;
const CHUNKS: usize = 16;

type Counts = BTreeMap<String, u64>;

/// xorshift64*: a small deterministic PRNG.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// `WORDS` words drawn from `VOCABULARY`, skewed towards its start so the top
/// words are distinct, one space apart, in `CHUNKS` chunks.
fn generate() -> Vec<String> {
    let mut state = 0x5eed_u64;
    let words: Vec<&str> = (0..WORDS)
        .map(|_| {
            let r = xorshift(&mut state);
            // Minimum of two draws: lower indices are likelier.
            let i = (r % 50).min((r >> 32) % 50) as usize;
            VOCABULARY[i]
        })
        .collect();
    words
        .chunks(WORDS.div_ceil(CHUNKS))
        .map(|c| c.join(" "))
        .collect()
}

fn count(text: &str) -> Counts {
    let mut counts = Counts::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_string()).or_default() += 1;
    }
    counts
}

/// Counts the words of one chunk.
#[wrun::task]
fn map(chunk: String) -> Counts {
    count(&chunk)
}

/// Gets the partial counts and merges them.
#[wrun::task]
fn reduce(parts: Vec<ObjectRef<Counts>>) -> wrun::Result<Counts> {
    let mut total = Counts::new();
    for part in wrun::get_all(&parts)? {
        for (w, n) in part {
            *total.entry(w).or_default() += n;
        }
    }
    Ok(total)
}

#[derive(Serialize)]
struct Summary {
    words: u64,
    distinct: usize,
    top: Vec<(String, u64)>,
}

fn main(_args: Vec<String>) -> wrun::Result<Summary> {
    let chunks = generate();
    let maps = chunks
        .iter()
        .map(|c| map::remote(&wrun::put(c)?))
        .collect::<wrun::Result<Vec<_>>>()?;
    let counts = reduce::remote(maps)?.get()?;

    let local = count(&chunks.join(" "));
    if counts != local {
        return Err(Error::application(
            "remote word counts differ from the local count",
        ));
    }
    let mut top: Vec<(String, u64)> = counts.iter().map(|(w, n)| (w.clone(), *n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    Ok(Summary {
        words: counts.values().sum(),
        distinct: counts.len(),
        top,
    })
}

wrun::export_job!(main = main, tasks = [map, reduce]);
