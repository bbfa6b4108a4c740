// Map-reduce word count over a generated text, like examples/rust/wordcount
// and examples/python/wordcount (the same generator, so all print the same):
//
//   wrun submit wordcount.wasm
//   # -> {"words": 20000, "distinct": 50, "top": [["and", 825], ["the", 802], ...]}
//
// The driver puts the chunks in the object store; map tasks receive a chunk
// by reference (the host resolves it before they run); one reduce task
// receives the partial counts as references (passed on, not fetched) and gets
// them itself. The driver checks the result against a local count.
#include <algorithm>
#include <map>
#include <sstream>

#include <wrun/wrun.hpp>

using Counts = std::map<std::string, int64_t>;

constexpr const char* kVocabulary[] = {
    "the",  "of",    "and",  "to",   "in",   "a",    "is",   "that", "for",   "it",
    "as",   "was",   "with", "be",   "by",   "on",   "not",  "he",   "this",  "are",
    "or",   "his",   "from", "at",   "which", "but", "have", "an",   "had",   "they",
    "you",  "were",  "their", "one", "all",  "we",   "can",  "her",  "has",   "there",
    "been", "if",    "more", "when", "will", "would", "who", "so",   "no",    "wasm"};
constexpr size_t kWords = 20'000;
constexpr size_t kChunks = 16;

// xorshift64*, as in the Rust example.
uint64_t xorshift(uint64_t& state) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

// kWords words, skewed towards the vocabulary's start, in kChunks chunks.
std::vector<std::string> generate() {
    uint64_t state = 0x5EED;
    std::vector<std::string> words;
    for (size_t i = 0; i < kWords; ++i) {
        uint64_t r = xorshift(state);
        words.push_back(kVocabulary[std::min(r % 50, (r >> 32) % 50)]);
    }
    size_t size = (kWords + kChunks - 1) / kChunks;
    std::vector<std::string> chunks;
    for (size_t i = 0; i < kWords; i += size) {
        std::string chunk;
        for (size_t j = i; j < std::min(i + size, kWords); ++j) {
            if (j > i) chunk += ' ';
            chunk += words[j];
        }
        chunks.push_back(std::move(chunk));
    }
    return chunks;
}

Counts count_local(const std::string& text) {
    Counts counts;
    std::istringstream in(text);
    for (std::string w; in >> w;) ++counts[w];
    return counts;
}

// Counts the words of one chunk.
Counts count_words(std::string chunk) { return count_local(chunk); }
WRUN_TASK(count_words);

// Gets the partial counts (references) and merges them.
wrun::Result<Counts> merge(std::vector<wrun::ObjectRef<Counts>> parts) {
    auto got = wrun::get(parts);
    if (!got) return wrun::fail(got.error());
    Counts total;
    for (auto& part : *got)
        for (auto& [w, n] : part) total[w] += n;
    return total;
}
WRUN_TASK(merge);

wrun::Result<wrun::Value> job_main(std::vector<std::string>) {
    auto chunks = generate();
    std::vector<wrun::ObjectRef<Counts>> parts;
    for (auto& c : chunks) {
        auto stored = wrun::put(c);
        if (!stored) return wrun::fail(stored.error());
        auto part = wrun::task(count_words).remote(*stored);
        if (!part) return wrun::fail(part.error());
        parts.push_back(std::move(*part));
    }
    // The list of references is passed as it is: `merge` gets them itself.
    auto merged = wrun::task(merge).remote(parts);
    if (!merged) return wrun::fail(merged.error());
    auto counts = wrun::get(*merged);
    if (!counts) return wrun::fail(counts.error());
    std::string all;
    for (auto& c : chunks) all += c + " ";
    if (*counts != count_local(all)) return wrun::fail("remote word counts differ from the local count");

    std::vector<std::pair<std::string, int64_t>> top(counts->begin(), counts->end());
    std::sort(top.begin(), top.end(), [](auto& a, auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    top.resize(std::min<size_t>(5, top.size()));
    int64_t words = 0;
    for (auto& [_, n] : *counts) words += n;
    wrun::RefTable none;
    return wrun::Value(wrun::Map{
        {"words", words},
        {"distinct", static_cast<uint64_t>(counts->size())},
        {"top", wrun::to_value(top, none)},
    });
}
WRUN_MAIN(job_main);
